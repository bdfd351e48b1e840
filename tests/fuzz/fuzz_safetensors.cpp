// libFuzzer target: every reader of safetensors files a user hands us: the container (weights/safetensors.h), and
// on top of it a CNN network file (weights/model_weights.h), a decoder file (weights/decoder_file.h) and a
// train-decoder checkpoint (solvers/decoder_trainer.h). A rejected input must throw preimage::Error; a crash, a
// sanitizer report or any other exception (json's, std::stoll's, bad_alloc from a size taken on trust) is a
// finding.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "tests/fuzz/fuzz_input.h"
#include "solvers/decoder_trainer.h"
#include "weights/decoder_file.h"
#include "weights/model_weights.h"
#include "weights/safetensors.h"

namespace {
template <class F>
void refused_or_read(F&& read) {
  try {
    read();
  } catch (const preimage::Error&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = preimage::fuzz::input_file(data, size, ".safetensors");
  refused_or_read([&] { preimage::read_safetensors(path); });
  refused_or_read([&] { preimage::weights::load_network(path); });
  refused_or_read([&] { preimage::weights::load_decoder(path); });
  refused_or_read([&] {
    nlohmann::json config;
    preimage::solvers::load_checkpoint(path, &config);
  });
  return 0;
}
