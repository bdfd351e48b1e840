// Batched inversion on `--device cuda` (solvers/preimage.h invert_batch; docs/preimage.md "Batched inversion"): the
// whole batch stays on the device, an iteration makes no device->host copy (one read-back every readback_every
// iterations, as for one image), and each sample's result is the one of inverting it alone on the device and on the
// CPU. The emulated build runs these in CI; [gpu] runs them on a real GPU.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "engine/copy_stats.h"
#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "features/representation.h"
#include "parity.h"
#include "solvers/preimage.h"

using namespace preimage;
using namespace preimage::test;

namespace {

// N different gray windows [N, 1, S, S] of the photo, minus mid-grey (the shallow invert's domain), on the host.
Tensor windows(int n, int size) {
  const Tensor img = read_image("/usr/lib/python3/dist-packages/skimage/data/astronaut.png", ImageChannels::gray);
  Tensor out = Tensor::empty(Shape{n, 1, size, size});
  for (int i = 0; i < n; ++i)
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x)
        out.data()[(i * size + y) * size + x] =
            img.data()[(60 * i + 4 * y + 100) * img.shape()[3] + 80 + 4 * x + 30 * i] - 128.0f;
  return out;
}

struct Run {
  solvers::BatchResult batch;
  std::vector<solvers::PreimageResult> alone;
};

// Inverts the windows together and one by one on `device`, HOGb or DSIFT, C = 20, 12 iterations, jitter 2.
Run run_on(Device device, const std::string& rep, const Tensor& x0, int readback_every,
           const std::function<void(int, const solvers::ObjectiveTerms&)>& progress = {}) {
  const features::Representation r = features::make_representation(rep, {});
  const int64_t n = x0.shape()[0];
  const Tensor x0d = x0.to(device);
  Tensor phi0;
  {
    Tape t(device);
    phi0 = Tensor::copy_of(t.value(r.phi(t, t.leaf(x0d.view(), false))));
  }
  solvers::ObjectiveParams p;
  p.C = 20;
  p.jitter = 2;
  solvers::SolverParams s;
  s.iterations = 12;
  s.readback_every = readback_every;
  solvers::BatchProblem b;
  b.phi = r.phi;
  const View phi0v = phi0.view();
  b.phi0 = &phi0v;
  b.image_shape = x0.shape();
  for (int64_t i = 0; i < n; ++i) b.seeds.push_back(11 + static_cast<uint64_t>(i));
  Run out;
  out.batch = solvers::invert_batch(b, p, s, progress);
  for (int64_t i = 0; i < n && !progress; ++i) {
    solvers::PreimageProblem pb;
    pb.phi = r.phi;
    const View phi0i = phi0.view().batch(i);
    pb.phi0 = &phi0i;
    pb.image_shape = Shape{1, 1, x0.shape()[2], x0.shape()[3]};
    solvers::SolverParams si = s;
    si.seed = b.seeds[static_cast<size_t>(i)];
    out.alone.push_back(solvers::invert(pb, p, si));
  }
  return out;
}

}  // namespace

TEST_CASE("device batch: HOGb and DSIFT batches on cuda equal each sample alone and the CPU's batch",
          "[gpu][device_batch]") {
  // The HOG and DSIFT kernels treat samples independently and the loss is normalised per sample, so within one
  // device the batch is each inversion alone bit for bit, in the emulated build and on a GPU (same kernels, same
  // per-sample reduction trees). Against the CPU the bounds are those of the single-image end-to-end test (atol 1e-3
  // pixel: a GPU's FMA contraction in the regulariser and optimiser kernels).
  const Tensor x0 = windows(3, 28);  // DSIFT's default frame is 25 pixels
  for (const std::string rep : {"hogb", "dsift"}) {
    INFO(rep);
    const Run cuda = run_on(Device::cuda, rep, x0, 4);
    const Run cpu = run_on(Device::cpu, rep, x0, 1);
    REQUIRE(cuda.batch.images.device() == Device::cuda);
    const Tensor images = cuda.batch.images.to(Device::cpu);
    for (int64_t i = 0; i < 3; ++i) {
      INFO("sample " << i);
      const Tensor alone = cuda.alone[static_cast<size_t>(i)].image.to(Device::cpu);
      CHECK(std::memcmp(images.view().batch(i).data, alone.data(), sizeof(float) * alone.numel()) == 0);
      CHECK(cuda.batch.final_terms[static_cast<size_t>(i)].total ==
            cuda.alone[static_cast<size_t>(i)].final_terms.total);
      CHECK(std::memcmp(cpu.batch.images.view().batch(i).data, cpu.alone[static_cast<size_t>(i)].image.data(),
                        sizeof(float) * alone.numel()) == 0);
    }
    require_close(images.to_vector(), cpu.batch.images.to_vector(), 1e-3, 0.0);
  }
}

TEST_CASE("device batch: a batched iteration on cuda makes no device->host copy; each read-back makes one",
          "[gpu][device_batch]") {
  // 3 samples, 12 iterations read back every 4: between two read-backs the engine copies device->host once (the
  // [4, 4] term log of the batch's summed terms), as for one image.
  const Tensor x0 = windows(3, 24);
  std::vector<uint64_t> at;
  int expected = 1;
  run_on(Device::cuda, "hogb", x0, 4, [&](int it, const solvers::ObjectiveTerms&) {
    REQUIRE(it == expected);
    ++expected;
    if ((it - 1) % 4 == 0) at.push_back(device_to_host_copies());
  });
  REQUIRE(expected == 13);
  REQUIRE(at.size() == 3u);
  CHECK(at[1] - at[0] == 1u);
  CHECK(at[2] - at[1] == 1u);
}
