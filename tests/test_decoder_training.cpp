// The decoder trainer (solvers/adam.h, lr_schedule.h, decoder_data.h, decoder_trainer.h; weights/decoder_file.h):
// Adam against torch.optim.Adam, the schedule, data determinism across worker counts, overfitting one batch,
// checkpoint/resume bit-exactness, decoder files, and the normalised error.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <unistd.h>

#include "engine/error.h"
#include "engine/threads.h"
#include "features/dsift.h"
#include "features/representation.h"
#include "solvers/adam.h"
#include "solvers/decoder_data.h"
#include "solvers/decoder_trainer.h"
#include "solvers/lr_schedule.h"
#include "support.h"
#include "synthetic_photos.h"
#include "weights/decoder_file.h"
#include "weights/safetensors.h"

using namespace preimage;
using preimage::test::flat;
using preimage::test::synthetic_photos;
namespace fs = std::filesystem;

namespace {
std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("preimage_test_" + std::to_string(::getpid()) + "_" + name)).string();
}
}  // namespace

TEST_CASE("decoder Adam matches torch.optim.Adam step for step under the schedule", "[decoders][adam][golden]") {
  const test::Golden g = test::read_golden("adam_decoder");
  std::vector<Tensor> params;
  params.push_back(test::golden_tensor(g, "x0"));
  params.push_back(test::golden_tensor(g, "y0"));
  solvers::AdamState s = solvers::adam_state_for(params);
  const Tensor lr = test::golden_tensor(g, "lr");
  const int steps = static_cast<int>(lr.numel());
  for (int t = 1; t <= steps; ++t) {
    INFO("step " << t);
    // The schedule itself is part of the golden: the same rates as the C++ integer arithmetic.
    REQUIRE(solvers::decoder_learning_rate(1e-2f, t, steps) == Approx(lr.data()[t - 1]).epsilon(1e-6));
    const Tensor gx = test::golden_tensor(g, "gx" + std::to_string(t)), gy = test::golden_tensor(g, "gy" + std::to_string(t));
    solvers::adam_update(params, s, {gx.view(), gy.view()}, kernels::AdamParams{}, lr.data()[t - 1]);
    const Tensor wx = test::golden_tensor(g, "x" + std::to_string(t)), wy = test::golden_tensor(g, "y" + std::to_string(t));
    // float32 on both sides, the same formula with operations in a different order: a few ulps of |x| ~ 1-2.
    // An update without bias correction is off by ~2e-2 at step 1, a wrong beta by >1e-4 within a few steps.
    CHECK(test::tolerance_ratio(params[0].data(), wx.data(), size_t(wx.numel()), 2e-6, 1e-6) <= 1.0);
    CHECK(test::tolerance_ratio(params[1].data(), wy.data(), size_t(wy.numel()), 2e-6, 1e-6) <= 1.0);
  }
  CHECK(s.step == steps);
}

TEST_CASE("decoder learning rate: constant for 70 %, then halved each tenth", "[decoders][schedule]") {
  CHECK(solvers::decoder_learning_rate(1.0f, 1, 100) == 1.0f);
  CHECK(solvers::decoder_learning_rate(1.0f, 70, 100) == 1.0f);
  CHECK(solvers::decoder_learning_rate(1.0f, 71, 100) == 0.5f);
  CHECK(solvers::decoder_learning_rate(1.0f, 81, 100) == 0.25f);
  CHECK(solvers::decoder_learning_rate(1.0f, 100, 100) == 0.125f);
  CHECK(solvers::decoder_learning_rate(1.0f, 1, 1) == 1.0f);
  CHECK_THROWS_AS(solvers::decoder_learning_rate(1.0f, 0, 10), Error);
  CHECK_THROWS_AS(solvers::decoder_learning_rate(1.0f, 11, 10), Error);
}

TEST_CASE("decoder data: the same batches whatever the number of workers", "[decoders][data]") {
  const solvers::PhotoSet set = synthetic_photos(3, 150, 200);
  const features::Representation rep = features::make_representation("hog", {});
  std::vector<std::vector<float>> reference;
  for (int64_t b = 2; b < 7; ++b) {
    const solvers::Batch batch = solvers::make_batch(set, rep, 64, 3, 5, b);
    std::vector<float> v = batch.features.to_vector(), im = batch.images.to_vector();
    v.insert(v.end(), im.begin(), im.end());
    reference.push_back(v);
  }
  for (int workers : {1, 3}) {
    INFO(workers << " workers");
    solvers::BatchStream stream(set, rep, 64, 3, 5, 2, workers, 2);
    for (size_t i = 0; i < reference.size(); ++i) {
      const solvers::Batch b = stream.next();
      CHECK(b.index == int64_t(i) + 2);
      std::vector<float> v = b.features.to_vector(), im = b.images.to_vector();
      v.insert(v.end(), im.begin(), im.end());
      CHECK(v == reference[i]);
    }
  }
  // Another seed draws other windows; batches differ from each other.
  const solvers::Batch other = solvers::make_batch(set, rep, 64, 3, 6, 2);
  CHECK(other.images.to_vector() != solvers::make_batch(set, rep, 64, 3, 5, 2).images.to_vector());
  CHECK(reference[0] != reference[1]);
}

TEST_CASE("decoder data: dense SIFT of a window is one frame per 4 x 4 cell", "[decoders][data]") {
  const features::Representation rep = features::make_representation("dsift", {});  // bin 8, step 4
  for (int64_t s : {64, 128}) {
    Tensor rgb = Tensor::empty(Shape{1, 3, s, s});
    for (int64_t i = 0; i < rgb.numel(); ++i) rgb.data()[i] = float((i * 37) % 251);
    const Tensor f = solvers::window_features(rep, rgb.view());
    CHECK(f.shape() == Shape{1, 128, s / 4, s / 4});
    // Padded by 10 before (3 * 8 + 1 - 4 = 21 in all): frame k's centre in window pixels lies in cell [4k, 4k + 3].
    kernels::DsiftParams p;
    const features::DsiftGeometry g = features::dsift_geometry(s + 21, s + 21, p);
    for (int64_t k : {int64_t(0), s / 8, s / 4 - 1}) {
      const double c = features::dsift_frame_center_x(g, k) - 10;
      CHECK(c >= 4.0 * double(k));
      CHECK(c <= 4.0 * double(k) + 3);
    }
  }
}

TEST_CASE("decoder data: windows stay inside the photo and cover the scale range", "[decoders][data]") {
  const solvers::PhotoSet set = synthetic_photos(2, 150, 200);
  int64_t smallest = 1 << 30, largest = 0;
  for (int64_t k = 0; k < 400; ++k) {
    const solvers::WindowDraw d = solvers::draw_window(set, 64, 9, k);
    const Shape& s = set.photos[size_t(d.photo)].rgb.shape();
    REQUIRE(d.side >= 64);
    REQUIRE(d.top >= 0);
    REQUIRE(d.left >= 0);
    REQUIRE(d.top + d.side <= s[2]);
    REQUIRE(d.left + d.side <= s[3]);
    smallest = std::min(smallest, d.side);
    largest = std::max(largest, d.side);
  }
  CHECK(smallest < 70);
  CHECK(largest > 140);
}

TEST_CASE("decoder data: unreadable images are skipped and counted, mostly bad folders refused",
          "[decoders][data][errors]") {
  const std::string good = std::string(PREIMAGE_TEST_DATA) + "/tiny_7x7.png";
  const std::string bad = std::string(PREIMAGE_TEST_DATA) + "/corrupt/truncated.png";
  // tiny_7x7 is smaller than a 64 crop: skipped with the reason.
  CHECK_THROWS_WITH(solvers::load_photos({good, bad}, 64, 192, 1, "--data"), Catch::Contains("none of the 2 images"));
  const solvers::PhotoSet ok = solvers::load_photos({good}, 4, 192, 1, "--data");
  CHECK(ok.photos.size() == 1);
  CHECK_THROWS_WITH(solvers::load_photos({good, bad, bad}, 4, 192, 2, "--data"),
                    Catch::Contains("2 of 3 images are unreadable"));
  std::vector<std::string> train, val;
  CHECK_THROWS_WITH(solvers::split_by_file({good}, 0.1, &train, &val), Catch::Contains("too few"));
  solvers::split_by_file({"a", "b", "c", "d"}, 0.5, &train, &val);
  CHECK(val == std::vector<std::string>{"b", "d"});
}

TEST_CASE("a tiny decoder overfits one batch", "[decoders][train][overfit]") {
  set_num_threads(1);
  const solvers::PhotoSet set = synthetic_photos(2, 64, 64);
  const features::Representation rep = features::make_representation("hog", {});
  const solvers::Batch batch = solvers::make_validation_batch(set, rep, 64);  // the two photos, [2, 31, 8, 8]
  solvers::TrainerState s;
  s.decoder = layers::Decoder(layers::decoder_table("hog"), 1.0 / 8, Shape{31, 8, 8});
  s.decoder.init_he(1);
  s.adam = solvers::adam_state_for(s.decoder.parameters());
  const double first = solvers::train_step(s, batch, kernels::AdamParams{}, 3e-3f, Device::cpu).loss;
  double last = first;
  for (int i = 0; i < 300; ++i) last = solvers::train_step(s, batch, kernels::AdamParams{}, 3e-3f, Device::cpu).loss;
  INFO("loss " << first << " -> " << last);
  // 300 steps take the mean squared error from ~0.4 (target units) to ~0.009, 2.3 % of the start (6 grey levels
  // RMS, mostly at the discs' edges); a decoder whose up-convolutions do not learn (their weight gradient dropped)
  // ends above 10 % of the start.
  CHECK(last < 0.03 * first);
  CHECK(s.step == 301);
  CHECK(s.adam.step == 301);
}

TEST_CASE("a non-finite loss stops the step before the weights change", "[decoders][train][errors]") {
  const solvers::PhotoSet set = synthetic_photos(2, 64, 64);
  const features::Representation rep = features::make_representation("hog", {});
  solvers::Batch batch = solvers::make_validation_batch(set, rep, 64);
  batch.features.data()[3] = std::nanf("");
  solvers::TrainerState s;
  s.decoder = layers::Decoder(layers::decoder_table("hog"), 1.0 / 16, Shape{31, 8, 8});
  s.decoder.init_he(1);
  s.adam = solvers::adam_state_for(s.decoder.parameters());
  const std::vector<float> before = flat(s.decoder.parameters());
  CHECK_THROWS_WITH(solvers::train_step(s, batch, kernels::AdamParams{}, 1e-3f, Device::cpu),
                    Catch::Contains("step 1: the loss is not finite"));
  CHECK(flat(s.decoder.parameters()) == before);
  CHECK(s.step == 0);
}

TEST_CASE("decoder checkpoint: 6 steps straight equal 3 + save + load + 3, bit for bit", "[decoders][train][resume]") {
  set_num_threads(1);
  const solvers::PhotoSet set = synthetic_photos(3, 100, 120);
  const features::Representation rep = features::make_representation("lbp", {});
  auto fresh = [] {
    solvers::TrainerState s;
    s.decoder = layers::Decoder(layers::decoder_table("lbp"), 1.0 / 16, Shape{58, 4, 4});
    s.decoder.init_he(2);
    s.adam = solvers::adam_state_for(s.decoder.parameters());
    return s;
  };
  auto run = [&](solvers::TrainerState& s, int64_t until, std::vector<double>* losses) {
    while (s.step < until) {
      const float lr = solvers::decoder_learning_rate(1e-3f, s.step + 1, 6);
      losses->push_back(
          solvers::train_step(s, solvers::make_batch(set, rep, 64, 2, 4, s.step), kernels::AdamParams{}, lr,
                              Device::cpu).loss);
    }
  };
  solvers::TrainerState a = fresh();
  std::vector<double> la, lb;
  run(a, 6, &la);
  solvers::TrainerState b = fresh();
  run(b, 3, &lb);
  const std::string path = temp_path("ckpt.safetensors");
  const nlohmann::json cfg = {{"lr", 1e-3}, {"seed", 4}};
  solvers::save_checkpoint(path, b, cfg);
  nlohmann::json cfg2;
  solvers::TrainerState c = solvers::load_checkpoint(path, &cfg2);
  fs::remove(path);
  CHECK(cfg2 == cfg);
  CHECK(c.step == 3);
  run(c, 6, &lb);
  CHECK(la == lb);
  CHECK(flat(a.decoder.parameters()) == flat(c.decoder.parameters()));
  CHECK(flat(a.adam.m) == flat(c.adam.m));
  CHECK(flat(a.adam.v) == flat(c.adam.v));

  const std::vector<std::string> d = solvers::config_differences(cfg, {{"lr", 2e-3}, {"seed", 4}, {"batch", 8}});
  REQUIRE(d.size() == 2);
  CHECK(d[0].find("batch: not in the checkpoint") != std::string::npos);
  CHECK(d[1] == "lr: checkpoint 0.001, now 0.002");
}

TEST_CASE("decoder files round-trip and are validated on load", "[decoders][file]") {
  weights::DecoderFile d;
  d.decoder = layers::Decoder(layers::decoder_table("hog"), 1.0 / 16, Shape{31, 8, 8});
  d.decoder.init_he(5);
  d.representation = "hog";
  d.image_size = 64;
  const std::string path = temp_path("decoder.safetensors");
  weights::save_decoder(path, d);
  const weights::DecoderFile e = weights::load_decoder(path);
  CHECK(e.decoder.table().name == "hog");
  CHECK(e.decoder.width() == 1.0 / 16);
  CHECK(e.image_size == 64);
  CHECK(e.representation == "hog");
  CHECK(flat(e.decoder.parameters()) == flat(d.decoder.parameters()));

  // A tensor of the wrong shape, a missing tensor, a non-finite value, an inconsistent image size.
  SafetensorsFile f = read_safetensors(path);
  auto rewrite = [&](const std::map<std::string, Tensor>& tensors, std::map<std::string, std::string> meta) {
    std::vector<std::pair<std::string, View>> v;
    for (const auto& [n, t] : tensors) v.emplace_back(n, t.view());
    write_safetensors(path, v, meta);
  };
  {
    std::map<std::string, Tensor> t;
    for (const auto& [n, x] : f.tensors) t.emplace(n, n == "convA1.weight" ? Tensor::zeros(Shape{2, 31, 5, 5}) : x.clone());
    rewrite(t, f.metadata);
    CHECK_THROWS_WITH(weights::load_decoder(path), Catch::Contains("'convA1.weight' has shape [2, 31, 5, 5]"));
  }
  {
    std::map<std::string, Tensor> t;
    for (const auto& [n, x] : f.tensors)
      if (n != "convJ2.bias") t.emplace(n, x.clone());
    rewrite(t, f.metadata);
    CHECK_THROWS_WITH(weights::load_decoder(path), Catch::Contains("'convJ2.bias' of decoder hog is missing"));
  }
  {
    std::map<std::string, Tensor> t;
    for (const auto& [n, x] : f.tensors) t.emplace(n, x.clone());
    t.at("convB1.weight").data()[7] = INFINITY;
    rewrite(t, f.metadata);
    CHECK_THROWS_WITH(weights::load_decoder(path), Catch::Contains("non-finite value at element 7"));
  }
  {
    std::map<std::string, Tensor> t;
    for (const auto& [n, x] : f.tensors) t.emplace(n, x.clone());
    auto meta = f.metadata;
    meta["preimage.image_size"] = "128";
    rewrite(t, meta);
    CHECK_THROWS_WITH(weights::load_decoder(path), Catch::Contains("produces 64x64 images but preimage.image_size says 128"));
  }
  fs::remove(path);
}

TEST_CASE("normalised reconstruction error: mean error over mean pairwise distance", "[decoders][metrics]") {
  // Three 1-pixel "images" on a line at 0, 3, 6 (x 3 channels identical): pairwise distances 3, 6, 3 (x sqrt 3).
  Tensor x = Tensor::from({0, 0, 0, 3, 3, 3, 6, 6, 6}, Shape{3, 3, 1, 1});
  Tensor r = Tensor::from({1, 1, 1, 3, 3, 3, 4, 4, 4}, Shape{3, 3, 1, 1});
  const solvers::ReconstructionErrors e = solvers::reconstruction_errors(x.view(), r.view());
  const double s3 = std::sqrt(3.0);
  REQUIRE(e.per_image.size() == 3);
  CHECK(e.per_image[0] == Approx(s3));
  CHECK(e.per_image[1] == Approx(0.0));
  CHECK(e.per_image[2] == Approx(2 * s3));
  CHECK(e.mean_pairwise == Approx(4 * s3));
  CHECK(e.normalised == Approx(1.0 / 4.0));
}
