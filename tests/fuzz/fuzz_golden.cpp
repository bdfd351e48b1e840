// libFuzzer target: the golden-file reader of the tests (tests/support.h read_golden_file; the PyTorch reference
// tensors). A rejected input must throw preimage::Error; anything else is a finding.
#include <cstdint>

#include "engine/error.h"
#include "tests/fuzz/fuzz_input.h"
#include "support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = preimage::fuzz::input_file(data, size, ".bin");
  try {
    preimage::test::read_golden_file(path);
  } catch (const preimage::Error&) {
  }
  return 0;
}
