// `train-decoder --device cuda` at the level of its step (solvers::train_step, solvers::decode_batch): the same
// decoder trained a few steps on Device::cuda (the emulated device in the PREIMAGE_CUDA_EMULATION build, the GPU
// with [gpu]) and on the CPU from the same He initialisation and batch. Every op of a step has its own parity test
// (conv2d, conv_transpose2d, linear, leaky ReLU, concat_channels, the elementwise MSE, Adam); this checks that they
// are wired together on the device: the decoder's parameters and Adam moments live there, the gradients reach every
// parameter, and nothing silently falls back to the host. Sizes are tiny: the emulator runs every CUDA thread.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/rng.h"
#include "features/representation.h"
#include "layers/decoders.h"
#include "parity.h"
#include "solvers/decoder_trainer.h"
#include "synthetic_photos.h"

using namespace preimage;
using namespace preimage::test;

namespace {

solvers::TrainerState fresh_state(const std::string& table, double width, const Shape& input, Device device) {
  solvers::TrainerState s;
  s.decoder = layers::Decoder(layers::decoder_table(table), width, input);
  s.decoder.init_he(3);
  s.decoder.to(device);
  s.adam = solvers::adam_state_for(s.decoder.parameters());  // moments on the parameters' device
  return s;
}

std::vector<float> flat(const std::vector<Tensor>& ts) {
  std::vector<float> out;
  for (const Tensor& t : ts) {
    const std::vector<float> v = Tensor::copy_of(t.view()).to(Device::cpu).to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// Trains `steps` steps on each device and compares. Tolerances: the device kernels sum in another order than the CPU
// references (tiled GEMMs, split reductions), so the loss agrees to float rounding through the network (~1e-6
// relative; rtol 1e-4 leaves room, a wrong or missing gradient changes the loss after one step by far more). Adam's
// step is lr * m / (sqrt(v) + eps), about lr * sign(g) at the start: where a gradient component is within rounding of
// zero the two devices may step it in opposite directions, so a parameter can differ by up to 2 lr per step; the
// weights are therefore compared with atol 2 * lr * steps, and the bulk must agree far tighter (median difference
// below 1e-3 of that bound).
void check_training_matches(const std::string& table, double width, const solvers::Batch& batch, int steps) {
  const Shape& fs = batch.features.shape();
  const Shape input = fs.ndim() == 2 ? Shape{fs[1]} : Shape{fs[1], fs[2], fs[3]};
  solvers::TrainerState cpu = fresh_state(table, width, input, Device::cpu);
  solvers::TrainerState gpu = fresh_state(table, width, input, Device::cuda);
  REQUIRE(gpu.decoder.parameters().front().device() == Device::cuda);
  REQUIRE(gpu.adam.m.front().device() == Device::cuda);
  const float lr = 1e-3f;
  for (int i = 0; i < steps; ++i) {
    const solvers::StepResult a = solvers::train_step(cpu, batch, kernels::AdamParams{}, lr, Device::cpu);
    const solvers::StepResult b = solvers::train_step(gpu, batch, kernels::AdamParams{}, lr, Device::cuda);
    INFO(table << " step " << i + 1 << ": loss cpu " << a.loss << ", cuda " << b.loss << "; gradient norm cpu "
               << a.grad_norm << ", cuda " << b.grad_norm);
    CHECK(std::abs(b.loss - a.loss) <= 1e-4 * a.loss);
    CHECK(std::abs(b.grad_norm - a.grad_norm) <= 1e-3 * a.grad_norm);
  }
  CHECK(gpu.step == steps);
  CHECK(gpu.adam.step == steps);
  const std::vector<float> wc = flat(cpu.decoder.parameters()), wg = flat(gpu.decoder.parameters());
  REQUIRE(wc.size() == wg.size());
  std::vector<double> d(wc.size());
  for (size_t i = 0; i < wc.size(); ++i) d[i] = std::abs(double(wg[i]) - wc[i]);
  const double bound = 2.0 * lr * steps;
  std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
  const double median = d[d.size() / 2];
  const double worst = *std::max_element(d.begin(), d.end());
  INFO(table << ": " << wc.size() << " parameters, |w_cuda - w_cpu| median " << median << ", max " << worst);
  CHECK(worst <= bound);
  CHECK(median <= 1e-3 * bound);
  // The reconstructions of the trained decoders (the decode path) agree as the losses do.
  const Tensor rc = solvers::decode_batch(cpu.decoder, batch.features.view(), Device::cpu);
  const Tensor rg = solvers::decode_batch(gpu.decoder, batch.features.view(), Device::cuda);
  require_close(rg.to_vector(), rc.to_vector(), 1e-2, 1e-3);
}

}  // namespace

TEST_CASE("device decoder training: HOG decoder (two streams, up-convolutions) steps on cuda match the CPU",
          "[gpu][device_e2e][decoders]") {
  // Table 2 at width 1/16 on two 64 x 64 synthetic photos: HOG [2, 31, 8, 8] -> [2, 3, 64, 64].
  const solvers::PhotoSet set = synthetic_photos(2, 64, 64);
  const features::Representation rep = features::make_representation("hog", {});
  check_training_matches("hog", 1.0 / 16, solvers::make_validation_batch(set, rep, 64), 3);
}

TEST_CASE("device decoder training: FC8 decoder (fully connected, reshape) steps on cuda match the CPU",
          "[gpu][device_e2e][decoders]") {
  // Table 6 at width 1/32: [2, 1000] -> fc 128 x 3 -> 8 x 4 x 4 -> [2, 3, 128, 128]; features are random unit-scale
  // scores, targets the synthetic photos at 128 x 128.
  const solvers::PhotoSet set = synthetic_photos(2, 128, 128);
  solvers::Batch batch;
  batch.features = Tensor::empty(Shape{2, 1000});
  for (int64_t i = 0; i < batch.features.numel(); ++i) batch.features.data()[i] = philox_normal(7, uint64_t(i));
  batch.images = Tensor::empty(Shape{2, 3, 128, 128});
  for (int p = 0; p < 2; ++p)
    std::copy_n(set.photos[p].rgb.data(), 3 * 128 * 128, batch.images.data() + p * 3 * 128 * 128);
  check_training_matches("alexnet-fc8", 1.0 / 32, batch, 3);
}
