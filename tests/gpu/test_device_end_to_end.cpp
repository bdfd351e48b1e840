// `--device cuda` end to end (docs/device.md): whole inversions on Device::cuda (the emulated device in the
// PREIMAGE_CUDA_EMULATION build, the GPU with [gpu]) against the same inversions on the CPU, and the solver's promise
// that an iteration reads nothing back from the device: the objective's terms come back only at the read-backs
// (SolverParams::readback_every), one copy each. Sizes are small: the emulator runs every CUDA thread on the host.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "engine/copy_stats.h"
#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "features/hog.h"
#include "layers/models.h"
#include "parity.h"
#include "solvers/cnn_preimage.h"
#include "solvers/preimage.h"
#ifdef PREIMAGE_CUDA_EMULATION
#include "engine/cuda_emu/emulator.h"
#endif

using namespace preimage;
using namespace preimage::test;

namespace {

const char* const kPhoto = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

Tensor photo(int size, ImageChannels channels) {
  const Tensor img = read_image(kPhoto, channels);
  return resize_bilinear(center_square(img.view()).view(), size, size);
}

Tensor minus(const Tensor& x, float v) {
  Tensor y = x.clone();
  for (int64_t i = 0; i < y.numel(); ++i) y.data()[i] -= v;
  return y;
}

std::vector<float> host_values(const Tensor& t) { return t.to_vector(); }


// The gray photo minus the mid-grey (the shallow `invert`'s domain), its HOG on `device`, and an inversion there.
struct HogCase {
  features::HogParams hp;
  Tensor x0;  // host, [1, 1, S, S]
  explicit HogCase(int size) : x0(minus(photo(size, ImageChannels::gray), 128.0f)) {}

  solvers::PreimageResult invert(Device device, const solvers::ObjectiveParams& p, const solvers::SolverParams& s,
                                 const std::function<void(int, const solvers::ObjectiveTerms&)>& progress = {}) const {
    const Tensor x0d = x0.to(device);
    const Tensor phi0 = features::hog_forward(x0d.view(), hp);
    const View phi0v = phi0.view();
    solvers::PreimageProblem pb;
    const features::HogParams h = hp;
    pb.phi = [h](Tape& t, Var x) { return features::hog(t, x, h); };
    pb.phi0 = &phi0v;
    pb.image_shape = x0.shape();
    return solvers::invert(pb, p, s, progress);
  }
};

void check_traces_close(const solvers::PreimageResult& cuda, const solvers::PreimageResult& cpu, double rtol) {
  REQUIRE(cuda.trace.size() == cpu.trace.size());
  for (size_t i = 0; i < cpu.trace.size(); ++i) {
    INFO("iteration " << cpu.trace[i].iteration << ": E cuda " << cuda.trace[i].terms.total << ", cpu "
                      << cpu.trace[i].terms.total);
    CHECK(cuda.trace[i].iteration == cpu.trace[i].iteration);
    CHECK(std::abs(cuda.trace[i].terms.total - cpu.trace[i].terms.total) <=
          rtol * std::abs(cpu.trace[i].terms.total));
  }
}

}  // namespace

TEST_CASE("device end to end: a 40x40 HOG inversion on cuda gives the CPU's result", "[gpu][device_e2e]") {
  // 40x40 gray photo, HOG UoCTTI cell 8 (5x5 cells), C = 20, 20 iterations of Algorithm 1 with the B+ projection.
  // The CUDA HOG kernels are bit-exact with the CPU reference (no FMA, gathers instead of atomics) and the
  // regularisers, the loss and the AdaGrad step accumulate in double with fixed reduction trees: in the emulated
  // build the two runs agree bit for bit (max difference 0). On a GPU nvcc may contract a * b + c into an FMA in
  // the regulariser and optimiser kernels, a last-bit difference per step; atol 1e-3 pixel (pixels are 0..255
  // minus 128) and 1e-5 relative in the objective allow that and nothing more.
  const HogCase hog(40);
  solvers::ObjectiveParams p;
  p.C = 20;
  solvers::SolverParams s;
  s.iterations = 20;
  s.seed = 3;
  const solvers::PreimageResult cpu = hog.invert(Device::cpu, p, s);
  const solvers::PreimageResult cuda = hog.invert(Device::cuda, p, s);
  REQUIRE(cuda.image.device() == Device::cuda);
  const std::vector<float> a = host_values(cuda.image), r = host_values(cpu.image);
  WARN("HOG 40x40, 20 iterations: max |x_cuda - x_cpu| = " << max_abs_diff(a, r) << " (pixel units), E cuda "
                                                          << cuda.final_terms.total << ", cpu "
                                                          << cpu.final_terms.total);
  require_close(a, r, 1e-3, 0.0);
  check_traces_close(cuda, cpu, 1e-5);
  CHECK(std::abs(cuda.final_terms.total - cpu.final_terms.total) <= 1e-5 * std::abs(cpu.final_terms.total));
  // The run did something: the objective fell.
  CHECK(cpu.trace.back().terms.total < 0.9 * cpu.trace.front().terms.total);
}

TEST_CASE("device end to end: a random reduced AlexNet relu1 inversion on cuda gives the CPU's result",
          "[gpu][device_e2e]") {
  // A random-weight AlexNet (reduced head) on a 35x35 RGB crop: relu1 is 7x7x96. C = 300 and T = 1 (the paper's
  // relu1 settings), 20 iterations plus a 5-iteration final stage. The CUDA convolution is an implicit GEMM whose
  // float sums run in another order than the CPU's im2col + Eigen GEMM (parity tests: about 1e-6 relative per
  // output), and ReLU's kink can switch a unit on one side only. Measured in the emulated build: 4.6e-5 pixel after
  // 25 AdaGrad steps (objective equal to 6 digits); the bounds, 5e-3 pixel (0..255 scale) and 1e-4 relative in the
  // objective, leave two orders of magnitude for a GPU's FMA contraction.
  layers::ModelOptions mo;
  mo.fc_width = 16;
  mo.num_classes = 10;
  layers::Network net_cpu = layers::make_model("alexnet", mo), net_cuda = layers::make_model("alexnet", mo);
  layers::init_random(net_cpu, 0);
  layers::init_random(net_cuda, 0);
  net_cuda.to(Device::cuda);
  REQUIRE(net_cuda.device() == Device::cuda);
  const Tensor image = photo(35, ImageChannels::rgb);
  const Tensor x0 = net_cpu.preprocess(image.view());

  auto run = [&](const layers::Network& net) {
    const Device device = net.device();
    Tape t(device);
    const Tensor x0d = x0.to(device);
    const Tensor phi0 = Tensor::copy_of(t.value(net.forward(t, t.leaf(x0d.view(), false), "relu1")));
    const View phi0v = phi0.view();
    solvers::PreimageProblem pb;
    pb.phi = solvers::layer_representation(net, "relu1");
    pb.phi0 = &phi0v;
    pb.image_shape = x0.shape();
    solvers::ObjectiveParams p;
    p.C = solvers::default_C(net, "relu1");
    p.jitter = solvers::default_jitter(net, "relu1");
    solvers::SolverParams s;
    s.iterations = 20;
    s.seed = 5;
    return solvers::invert_two_stage(pb, p, s, solvers::FinalStage{5, 0.1f});
  };
  const solvers::PreimageResult cpu = run(net_cpu);
  const solvers::PreimageResult cuda = run(net_cuda);
  REQUIRE(cuda.image.device() == Device::cuda);
  const std::vector<float> a = host_values(cuda.image), r = host_values(cpu.image);
  WARN("AlexNet relu1 35x35, 20 + 5 iterations: max |x_cuda - x_cpu| = "
       << max_abs_diff(a, r) << " (pixel units), E cuda " << cuda.final_terms.total << ", cpu "
       << cpu.final_terms.total);
  require_close(a, r, 5e-3, 0.0);
  check_traces_close(cuda, cpu, 1e-4);
  CHECK(cpu.trace.back().terms.total < 0.9 * cpu.trace.front().terms.total);
}

namespace {

// Copy counters at each progress call: the engine's device->host copies (copy_floats) and, in the emulated build,
// every cudaMemcpy from device to host memory (kernels included) and every explicit synchronisation.
struct Counts {
  uint64_t engine = 0, raw = 0, syncs = 0;
};
Counts counts_now() {
  Counts c;
  c.engine = device_to_host_copies();
#ifdef PREIMAGE_CUDA_EMULATION
  const emu::HostWaitCounts w = emu::host_wait_counts();
  c.raw = w.device_to_host_copies;
  c.syncs = w.synchronizations;
#endif
  return c;
}

// Runs a HOG inversion on cuda with read-backs every `every` iterations and returns, per read-back after the
// first, the copies made since the previous read-back (its iterations plus the read-back itself).
struct ReadbackCopies {
  std::vector<int> batch_first;  // first iteration reported by each read-back
  std::vector<Counts> between;   // copies from the previous read-back to this one (inclusive of this one)
};
ReadbackCopies copies_between_readbacks(solvers::LossKind loss, int iterations, int every) {
  const HogCase hog(24);
  solvers::ObjectiveParams p;
  p.C = 20;
  p.loss = loss;
  p.Z = 1.0f;
  p.jitter = 2;  // exercise the crop and the host-drawn offsets
  solvers::SolverParams s;
  s.iterations = iterations;
  s.readback_every = every;
  ReadbackCopies out;
  std::vector<Counts> at;  // counters at the first progress call of each read-back
  int expected = 1;
  hog.invert(Device::cuda, p, s, [&](int it, const solvers::ObjectiveTerms&) {
    REQUIRE(it == expected);  // every iteration reported once, in order
    ++expected;
    if ((it - 1) % every == 0) {
      at.push_back(counts_now());
      out.batch_first.push_back(it);
    }
  });
  REQUIRE(expected == iterations + 1);
  for (size_t k = 1; k < at.size(); ++k)
    out.between.push_back({at[k].engine - at[k - 1].engine, at[k].raw - at[k - 1].raw, at[k].syncs - at[k - 1].syncs});
  return out;
}

}  // namespace

TEST_CASE("device end to end: an iteration on cuda makes no device->host copy; each read-back makes one",
          "[gpu][device_e2e]") {
  // 24x24 HOG inversion, 16 iterations read back every 4 (plus jitter 2): between two read-backs the engine may
  // copy device->host exactly once, the read-back of the [4, 4] term log. The inner-product loss (activation
  // maximisation, caricatures) goes through no kernel that reads back, so in the emulated build the runtime's own
  // count of device->host cudaMemcpy calls must be exactly 1 as well.
  const ReadbackCopies rc = copies_between_readbacks(solvers::LossKind::inner_product, 16, 4);
  REQUIRE(rc.batch_first == std::vector<int>{1, 5, 9, 13});
  WARN("inner-product HOG inversion, iterations 5-8 and their read-back: " << rc.between[0].engine
       << " engine device->host copies, " << rc.between[0].raw << " runtime device->host copies, "
       << rc.between[0].syncs << " explicit synchronisations (emulated build only; 0 counted on a GPU)");
  for (size_t k = 0; k < rc.between.size(); ++k) {
    INFO("iterations " << rc.batch_first[k + 1] << "-" << rc.batch_first[k + 1] + 3 << " and their read-back: "
                       << rc.between[k].engine << " engine copies, " << rc.between[k].raw
                       << " runtime device->host copies, " << rc.between[k].syncs << " synchronisations");
    CHECK(rc.between[k].engine == 1);
#ifdef PREIMAGE_CUDA_EMULATION
    CHECK(rc.between[k].raw == 1);
    CHECK(rc.between[k].syncs == 0);  // no host wait either (fills and the backward seed are asynchronous)
#endif
  }
  // The normalised L2 loss (inversion) makes no engine copy either.
  const ReadbackCopies l2 = copies_between_readbacks(solvers::LossKind::l2, 8, 4);
  REQUIRE(l2.between.size() == 1u);
  CHECK(l2.between[0].engine == 1);
}

#ifdef PREIMAGE_CUDA_EMULATION
TEST_CASE("device end to end: the normalised L2 loss on cuda makes no device->host copy per iteration",
          "[gpu][device_e2e]") {
  // The zero-target check of the normalised loss happens once before the loop (solvers/preimage.cpp), not in the
  // CUDA launchers, which would need a device->host copy per call (2 per iteration).
  const ReadbackCopies l2 = copies_between_readbacks(solvers::LossKind::l2, 8, 4);
  REQUIRE(l2.between.size() == 1u);
  INFO("runtime device->host copies over 4 iterations and one read-back: " << l2.between[0].raw
                                                                           << ", synchronisations: "
                                                                           << l2.between[0].syncs);
  CHECK(l2.between[0].raw == 1);
  CHECK(l2.between[0].syncs == 0);
}
#endif

TEST_CASE("device end to end: NaN on cuda is reported at its iteration, found at the read-back",
          "[gpu][device_e2e][errors]") {
  // phi = NaN * x: the objective is NaN from iteration 1; with read-backs every 5 iterations the solver finds it
  // after iteration 5 and names iteration 1 and the range it read.
  const Tensor x0 = minus(photo(16, ImageChannels::gray), 128.0f);
  const Tensor phi0 = Tensor::full(x0.shape(), 1.0f, Device::cuda);
  const View phi0v = phi0.view();
  solvers::PreimageProblem pb;
  pb.phi = [](Tape& t, Var x) { return ops::scale(t, x, NAN); };
  pb.phi0 = &phi0v;
  pb.image_shape = x0.shape();
  solvers::SolverParams s;
  s.iterations = 12;
  s.readback_every = 5;
  int reported = 0;
  REQUIRE_THROWS_WITH(
      solvers::invert(pb, solvers::ObjectiveParams{}, s, [&](int, const solvers::ObjectiveTerms&) { ++reported; }),
      Catch::Contains("became nan at iteration 1 ") && Catch::Contains("iterations 1-5"));
  CHECK(reported == 0);
}
