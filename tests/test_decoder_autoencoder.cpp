// Autoencoder training (`train-decoder --finetune-encoder`, seed 002 sect. 4.2) and the encoder-activation cache
// (`--feature-cache`): solvers/decoder_trainer.h Encoder, solvers/decoder_data.h WindowPool.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "engine/threads.h"
#include "layers/models.h"
#include "solvers/decoder_data.h"
#include "solvers/decoder_trainer.h"
#include "support.h"
#include "synthetic_photos.h"
#include "weights/decoder_file.h"

using namespace preimage;
using preimage::test::flat;
using preimage::test::synthetic_photos;
namespace fs = std::filesystem;

namespace {
// AlexNet with random weights at a 67 x 67 nominal input (pool1 7 x 7, pool5 1 x 1) and a narrow head.
layers::Network tiny_alexnet() {
  layers::ModelOptions o;
  o.fc_width = 8;
  o.num_classes = 10;
  o.input_size = 67;
  layers::Network net = layers::make_model("alexnet", o);
  layers::init_random(net, 3);
  return net;
}

// The network's input domain as a representation: batches then carry x = window - mean (autoencoder training).
features::Representation input_of(const layers::Network& net) {
  features::Representation r;
  r.name = "cnn-input";
  r.gray_input = false;
  r.extract = [&net](const View& rgb) { return net.preprocess(rgb); };
  return r;
}

solvers::TrainerState autoencoder_state(const layers::Network& net) {
  solvers::TrainerState s;
  s.decoder = layers::Decoder(layers::decoder_table("alexnet-conv1", 96), 1.0 / 16, Shape{96, 7, 7});
  s.decoder.init_he(5);
  s.adam = solvers::adam_state_for(s.decoder.parameters());
  s.encoder = solvers::make_encoder(net, "pool1");
  return s;
}
}  // namespace

TEST_CASE("feature cache: batches are copies of the pool's windows, whatever the workers", "[decoders][data][cache]") {
  const solvers::PhotoSet set = synthetic_photos(3, 150, 200);
  const features::Representation rep = features::make_representation("hog", {});
  const solvers::WindowPool pool(set, rep, 64, 5, 7, 0, 1, int64_t(1) << 30);
  CHECK(pool.size() == 7);
  std::vector<int64_t> used;
  for (int64_t k = 0; k < 40; ++k) used.push_back(pool.index_of(k));
  for (int64_t j : used) CHECK((j >= 0 && j < 7));
  std::sort(used.begin(), used.end());
  CHECK(std::unique(used.begin(), used.end()) - used.begin() >= 5);  // 40 draws reach most of the 7 windows

  const solvers::Batch b = pool.batch(4, 3);
  for (int64_t i = 0; i < 4; ++i) {
    const int64_t j = pool.index_of(3 * 4 + i);
    const Tensor window = solvers::cut_window(set, solvers::draw_window(set, 64, 5, j), 64);
    const Tensor f = solvers::window_features(rep, window.view());
    CHECK(Tensor::copy_of(b.features.view().batch(i)).to_vector() == f.to_vector());
    CHECK(Tensor::copy_of(b.images.view().batch(i)).to_vector() == window.to_vector());
  }
  // Three workers fill the same pool; the stream serves its batches in order.
  const solvers::WindowPool pool3(set, rep, 64, 5, 7, 0, 3, int64_t(1) << 30);
  solvers::BatchStream stream(set, rep, 64, 4, 5, 2, 2, 2, 0, &pool3);
  for (int64_t index = 2; index < 5; ++index) {
    const solvers::Batch got = stream.next();
    CHECK(got.index == index);
    CHECK(got.features.to_vector() == pool.batch(4, index).features.to_vector());
    CHECK(got.images.to_vector() == pool.batch(4, index).images.to_vector());
  }
  // Bounded: a pool over the limit is refused before it is allocated, saying how large it would be.
  CHECK_THROWS_WITH(solvers::WindowPool(set, rep, 64, 5, 1000, 0, 1, int64_t(1) << 20),
                    Catch::Contains("over the limit of 1 MiB"));
}

TEST_CASE("autoencoder: the encoder's gradients match finite differences of the loss", "[decoders][train][autoencoder]") {
  set_num_threads(1);
  const layers::Network net = tiny_alexnet();
  const solvers::PhotoSet set = synthetic_photos(2, 90, 100);
  const solvers::Batch batch = solvers::make_batch(set, input_of(net), 67, 2, 7, 0, 56);
  REQUIRE(batch.features.shape() == Shape{2, 3, 67, 67});
  solvers::TrainerState s = autoencoder_state(net);
  const solvers::BatchGradients g = solvers::batch_gradients(s, batch, Device::cpu);
  REQUIRE(g.encoder.size() == 2);  // conv1 is the only weighted layer up to pool1
  CHECK(s.encoder.names == std::vector<std::string>{"conv1.weight", "conv1.bias"});
  // Central differences of the loss along directions in the encoder's parameter space: the gradient's own
  // (slope |g|) and a fixed pseudo-random one (slope <g, d>). The loss is summed in float, so single entries are
  // too noisy to difference; a whole direction moves it well above the rounding.
  std::vector<std::vector<float>> grads;
  for (const Tensor& t : g.encoder) grads.push_back(t.to_vector());
  double gnorm = 0;
  for (const auto& v : grads)
    for (float x : v) gnorm += double(x) * x;
  gnorm = std::sqrt(gnorm);
  REQUIRE(gnorm > 0);
  std::vector<std::vector<float>> dirs[2];
  for (size_t p = 0; p < grads.size(); ++p) {
    dirs[0].push_back(grads[p]);
    for (float& x : dirs[0].back()) x = static_cast<float>(x / gnorm);
    std::vector<float> r(grads[p].size());
    for (size_t k = 0; k < r.size(); ++k) r[k] = static_cast<float>(std::sin(1.7 * double(k) + 0.3 * double(p)));
    dirs[1].push_back(r);
  }
  for (int which : {0, 1}) {
    double dn = 0, slope = 0;
    for (size_t p = 0; p < grads.size(); ++p)
      for (size_t k = 0; k < grads[p].size(); ++k) {
        dn += double(dirs[which][p][k]) * dirs[which][p][k];
        slope += double(dirs[which][p][k]) * grads[p][k];
      }
    const double h = 1e-3 / std::sqrt(dn);  // a step of norm 1e-3 (the weights' norm is ~3)
    auto loss_at = [&](double t) {
      solvers::TrainerState moved = autoencoder_state(net);
      for (size_t p = 0; p < grads.size(); ++p)
        for (size_t k = 0; k < grads[p].size(); ++k)
          moved.encoder.params[p].data()[k] = s.encoder.params[p].data()[k] + float(t * dirs[which][p][k]);
      return solvers::batch_gradients(moved, batch, Device::cpu).loss;
    };
    const double fd = (loss_at(h) - loss_at(-h)) / (2 * h);
    INFO((which == 0 ? "gradient direction" : "fixed direction") << ": autodiff slope " << slope
                                                                  << ", finite difference " << fd);
    CHECK(std::abs(fd - slope) <= 0.02 * std::abs(slope));
  }
}

TEST_CASE("autoencoder: a step trains the encoder's copy, and resuming is bit for bit", "[decoders][train][autoencoder]") {
  set_num_threads(1);
  const layers::Network net = tiny_alexnet();
  const std::vector<float> network_weights = net.parameters().at("conv1.weight").to_vector();
  const solvers::PhotoSet set = synthetic_photos(3, 90, 100);
  const features::Representation rep = input_of(net);
  auto run = [&](solvers::TrainerState& s, int64_t until, std::vector<double>* losses) {
    while (s.step < until)
      losses->push_back(solvers::train_step(s, solvers::make_batch(set, rep, 67, 2, 4, s.step, 56),
                                            kernels::AdamParams{}, 1e-3f, Device::cpu).loss);
  };
  solvers::TrainerState a = autoencoder_state(net);
  const std::vector<float> before = flat(a.encoder.params);
  std::vector<double> la, lb;
  run(a, 4, &la);
  CHECK(flat(a.encoder.params) != before);
  CHECK(a.encoder.adam.step == 4);
  CHECK(net.parameters().at("conv1.weight").to_vector() == network_weights);  // the network itself is untouched

  solvers::TrainerState b = autoencoder_state(net);
  run(b, 2, &lb);
  const std::string path = (fs::temp_directory_path() / "preimage_autoencoder_ckpt.safetensors").string();
  solvers::save_checkpoint(path, b, {{"finetune_encoder", true}});
  nlohmann::json cfg;
  solvers::TrainerState c = solvers::load_checkpoint(path, &cfg);
  fs::remove(path);
  CHECK_FALSE(c.encoder.defined());  // the caller attaches the network
  CHECK(c.encoder.names == b.encoder.names);
  c.encoder.net = &net;
  c.encoder.output_layer = "pool1";
  run(c, 4, &lb);
  CHECK(la == lb);
  CHECK(flat(a.encoder.params) == flat(c.encoder.params));
  CHECK(flat(a.encoder.adam.m) == flat(c.encoder.adam.m));
  CHECK(flat(a.decoder.parameters()) == flat(c.decoder.parameters()));
}

TEST_CASE("decoder input scale: features are scaled before the first layer, and files keep it", "[decoders][file]") {
  layers::Decoder d(layers::decoder_table("alexnet-conv1", 96), 1.0 / 16, Shape{96, 7, 7});
  d.init_he(2);
  Tensor f = Tensor::empty(Shape{1, 96, 7, 7});
  for (int64_t i = 0; i < f.numel(); ++i) f.data()[i] = float(40.0 * std::sin(0.37 * double(i)) + 50.0);
  Tensor f4 = f.clone();
  for (int64_t i = 0; i < f4.numel(); ++i) f4.data()[i] *= 0.25f;
  const std::vector<float> plain = solvers::decode_batch(d, f4.view(), Device::cpu).to_vector();
  d.set_input_scale(0.25f);
  CHECK(solvers::decode_batch(d, f.view(), Device::cpu).to_vector() == plain);
  CHECK_THROWS_WITH(d.set_input_scale(0.0f), Catch::Contains("positive finite"));

  weights::DecoderFile df;
  df.decoder = std::move(d);
  df.representation = "hog";  // a shallow record keeps the file minimal; the scale is the decoder's
  df.image_size = 56;
  const std::string path = (fs::temp_directory_path() / "preimage_scaled_decoder.safetensors").string();
  weights::save_decoder(path, df);
  const weights::DecoderFile back = weights::load_decoder(path);
  fs::remove(path);
  CHECK(back.decoder.input_scale() == 0.25f);
  CHECK(solvers::decode_batch(back.decoder, f.view(), Device::cpu).to_vector() == plain);
}
