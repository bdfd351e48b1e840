// [gpu] SIMT semantics the CUDA emulator must reproduce (engine/cuda_emu, docs/cuda_emulation.md), probed by the
// kernels of tests/gpu/simt_probes.cu. On a real GPU the same tests check the hardware agrees with what the
// emulator was built to model; the [emulator] cases check diagnostics only the emulator gives.
#include <catch2/catch.hpp>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "engine/cuda_check.h"
#include "engine/tensor.h"
#include "simt_probes.h"

#ifdef PREIMAGE_CUDA_EMULATION
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

using namespace preimage;
namespace simt = preimage::test::simt;

namespace {

// A device buffer of T, move-only, filled from / read back to the host.
template <typename T> class DeviceBuffer {
 public:
  explicit DeviceBuffer(const std::vector<T>& init) : n_(init.size()) {
    PI_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n_ * sizeof(T)));
    PI_CUDA_CHECK(cudaMemcpy(p_, init.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  explicit DeviceBuffer(size_t n, T fill = T()) : DeviceBuffer(std::vector<T>(n, fill)) {}
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return p_; }
  std::vector<T> host() const {
    std::vector<T> h(n_);
    PI_CUDA_CHECK(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }

 private:
  size_t n_;
  T* p_ = nullptr;
};

}  // namespace

TEST_CASE("__syncthreads orders shared-memory writes and reads across a block of 1024 threads", "[gpu][simt]") {
  for (unsigned threads : {1024u, 100u, 1u}) {
    for (int rounds : {1, 5}) {
      INFO("threads " << threads << ", rounds " << rounds);
      DeviceBuffer<int> out(threads, -7);
      simt::barrier_rotate(out.get(), threads, rounds);
      const std::vector<int> h = out.host();
      for (unsigned t = 0; t < threads; ++t) {
        INFO("thread " << t);
        REQUIRE(h[t] == static_cast<int>((t + rounds) % threads) + rounds);
      }
    }
  }
}

TEST_CASE("static shared memory is per block: tree sums over a 3-D grid of blocks", "[gpu][simt]") {
  for (unsigned threads : {128u, 1024u}) {
    const unsigned gx = 3, gy = 2, gz = 2, blocks = gx * gy * gz;
    std::vector<float> x(blocks * threads);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7) % 13);  // integers: sums are exact
    DeviceBuffer<float> dx(x), sums(blocks, -1.0f);
    simt::block_tree_sum(dx.get(), sums.get(), gx, gy, gz, threads);
    const std::vector<float> h = sums.host();
    for (unsigned b = 0; b < blocks; ++b) {
      const float expect = std::accumulate(x.begin() + b * threads, x.begin() + (b + 1) * threads, 0.0f);
      INFO("threads " << threads << ", block " << b);
      REQUIRE(h[b] == expect);
    }
  }
}

TEST_CASE("warp shuffles, votes and reductions follow the CUDA definitions", "[gpu][simt]") {
  const unsigned threads = 64;
  DeviceBuffer<int> out(threads * simt::kShuffleProbes, -1);
  simt::shuffles(out.get(), threads);
  const std::vector<int> h = out.host();
  for (unsigned t = 0; t < threads; ++t) {
    const int lane = static_cast<int>(t % 32);
    const int* o = h.data() + t * simt::kShuffleProbes;
    INFO("thread " << t);
    CHECK(o[0] == 30);
    CHECK(o[1] == (lane & ~7) + ((lane + 1) & 7));
    CHECK(o[2] == (lane >= 2 ? lane - 2 : lane));
    CHECK(o[3] == ((lane % 16) + 5 < 16 ? lane + 5 : lane));
    CHECK(o[4] == (lane ^ 1));
    CHECK(o[5] == 496);
    CHECK(static_cast<unsigned>(o[6]) == 0xaaaaaaaau);
    CHECK(o[7] == 1);
    CHECK(o[8] == 0);
    if (lane == 0) CHECK(o[9] == 496);
    CHECK(o[10] == 496);
    CHECK(o[11] == 30);
  }
}

TEST_CASE("dynamic shared memory, including above 48 KiB with the attribute", "[gpu][simt]") {
  const unsigned blocks = 5, threads = 200;  // 200: the last warp of each block is partial
  std::vector<float> x(blocks * threads);
  std::iota(x.begin(), x.end(), 0.0f);
  DeviceBuffer<float> dx(x), dy(x.size(), 0.0f);
  auto check = [&] {
    const std::vector<float> h = dy.host();
    for (unsigned b = 0; b < blocks; ++b)
      for (unsigned t = 0; t < threads; ++t) REQUIRE(h[b * threads + t] == x[b * threads + threads - 1 - t]);
  };
  simt::dynamic_reverse(dx.get(), dy.get(), blocks, threads, threads, false);
  check();
  const unsigned big = 64 * 1024 / sizeof(float);  // 64 KiB: needs cudaFuncSetAttribute
  REQUIRE_THROWS_WITH(simt::dynamic_reverse(dx.get(), dy.get(), blocks, threads, big, false),
                      Catch::Contains("cudaErrorInvalidValue"));
  simt::dynamic_reverse(dx.get(), dy.get(), blocks, threads, big, true);
  check();
}

TEST_CASE("atomics from every thread of many blocks", "[gpu][simt]") {
  const unsigned blocks = 7, threads = 96, n = blocks * threads;
  DeviceBuffer<float> fsum(1, 0.0f);
  DeviceBuffer<int> isum(1, 0), imax(1, -5), cas(1, 0);
  DeviceBuffer<unsigned> count(1, 0u);
  simt::atomics(fsum.get(), isum.get(), imax.get(), count.get(), cas.get(), blocks, threads);
  int expect_max = -5;
  for (unsigned g = 0; g < n; ++g) expect_max = std::max(expect_max, static_cast<int>((37 * g) % 1001));
  const int expect_sum = static_cast<int>(n * (n - 1) / 2);
  CHECK(fsum.host()[0] == static_cast<float>(n));
  CHECK(isum.host()[0] == expect_sum);
  CHECK(imax.host()[0] == expect_max);
  CHECK(count.host()[0] == n);
  CHECK(cas.host()[0] == expect_sum);
}

TEST_CASE("3-D blocks and grids: built-in variables and x-fastest warps", "[gpu][simt]") {
  const unsigned bx = 8, by = 5, bz = 2, gx = 2, gy = 3, gz = 2;  // 80 threads: warps 0-1 full, warp 2 partial
  const unsigned threads = bx * by * bz, blocks = gx * gy * gz;
  DeviceBuffer<int> out(4 * threads * blocks, -1);
  simt::indices_3d(out.get(), bx, by, bz, gx, gy, gz);
  const std::vector<int> h = out.host();
  for (unsigned z = 0; z < gz; ++z)
    for (unsigned y = 0; y < gy; ++y)
      for (unsigned x = 0; x < gx; ++x)
        for (unsigned tz = 0; tz < bz; ++tz)
          for (unsigned ty = 0; ty < by; ++ty)
            for (unsigned tx = 0; tx < bx; ++tx) {
              const unsigned b = x + gx * (y + gy * z), t = tx + bx * (ty + by * tz);
              const int* o = h.data() + 4 * (b * threads + t);
              INFO("block " << b << ", thread " << t);
              REQUIRE(o[0] == static_cast<int>(tx + 10 * ty + 100 * tz));
              REQUIRE(o[1] == static_cast<int>(x + 10 * y + 100 * z));
              REQUIRE(o[2] == static_cast<int>(bx + 10 * by + 100 * bz + 1000 * gx + 10000 * gy + 100000 * gz));
              REQUIRE(o[3] == static_cast<int>(t / 32 * 32));
            }
}

TEST_CASE("__syncthreads_count, _and and _or vote over the block", "[gpu][simt]") {
  const unsigned threads = 100;
  DeviceBuffer<int> out(4, -1);
  simt::barrier_votes(out.get(), threads);
  const std::vector<int> h = out.host();
  CHECK(h[0] == 34);
  CHECK(h[1] == 1);
  CHECK(h[2] == 1);
  CHECK(h[3] == 0);
}

TEST_CASE("an invalid launch configuration is reported at the launch", "[gpu][simt][errors]") {
  DeviceBuffer<int> out(2048, 0);
  REQUIRE_THROWS_WITH(simt::launch_too_many_threads(out.get()), Catch::Contains("cudaErrorInvalidConfiguration") &&
                                                                     Catch::Contains("write_one_kernel"));
  REQUIRE(cudaGetLastError() == cudaSuccess);  // not sticky
  REQUIRE(out.host()[0] == 0);
}

#ifdef PREIMAGE_CUDA_EMULATION
TEST_CASE("emulator: a host pointer passed to a kernel is an illegal address", "[gpu][simt][emulator][errors]") {
  std::vector<int> host(32, 0);
  REQUIRE_THROWS_WITH(simt::barrier_rotate(host.data(), 32, 1),
                      Catch::Contains("cudaErrorIllegalAddress") && Catch::Contains("not in a live device allocation"));
}

TEST_CASE("emulator: divergent barriers are reported as a deadlock", "[gpu][simt][emulator][errors]") {
  DeviceBuffer<int> out(32, 0);
  REQUIRE_THROWS_WITH(simt::divergent_deadlock(out.get()),
                      Catch::Contains("cudaErrorLaunchFailure") && Catch::Contains("deadlock") &&
                          Catch::Contains("__syncwarp"));
  // The emulator recovers: the next launch works.
  simt::barrier_rotate(out.get(), 32, 2);
  REQUIRE(out.host()[0] == 4);  // (0 + 2) % 32 + 2
}

TEST_CASE("emulator: fresh device memory is poisoned with NaN", "[gpu][simt][emulator]") {
  Tensor t = Tensor::empty(Shape{5}, Device::cuda);
  for (float v : t.to_vector()) REQUIRE(std::isnan(v));
}

TEST_CASE("emulator: copies must name the right sides", "[gpu][simt][emulator][errors]") {
  DeviceBuffer<float> d(4, 0.0f);
  std::vector<float> h(8, 1.0f);
  REQUIRE(cudaMemcpy(d.get(), h.data(), 4 * sizeof(float), cudaMemcpyDeviceToHost) == cudaErrorInvalidValue);
  REQUIRE(std::string(cudaGetErrorString(cudaErrorInvalidValue)).find("is device memory") != std::string::npos);
  REQUIRE(cudaMemcpy(d.get(), h.data(), 5 * sizeof(float), cudaMemcpyHostToDevice) == cudaErrorInvalidValue);  // overrun
  (void)cudaGetLastError();
}

namespace {
// Runs `crash` in a child process; returns its stderr after requiring that it died of SIGSEGV.
template <typename F> std::string stderr_of_segfaulting_child(F crash) {
  int pipe_fd[2];
  REQUIRE(pipe(pipe_fd) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    dup2(pipe_fd[1], STDERR_FILENO);
    close(pipe_fd[0]);
    const int null_fd = open("/dev/null", O_WRONLY);  // Catch2's crash report from the child is noise here
    dup2(null_fd, STDOUT_FILENO);
    crash();
    _exit(0);
  }
  close(pipe_fd[1]);
  std::string err;
  char buf[512];
  for (ssize_t k; (k = read(pipe_fd[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<size_t>(k));
  close(pipe_fd[0]);
  int status = 0;
  waitpid(child, &status, 0);
  INFO("child stderr: " << err);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGSEGV);
  return err;
}
}  // namespace

TEST_CASE("emulator: host code touching device memory crashes with a diagnosis", "[gpu][simt][emulator][errors]") {
  Tensor t = Tensor::zeros(Shape{4}, Device::cuda);
  const std::string err = stderr_of_segfaulting_child([&] {
    volatile float v = t.data()[0];  // a host read of a Device::cuda pointer
    (void)v;
  });
  REQUIRE(err.find("host code dereferenced emulated device memory") != std::string::npos);
}

TEST_CASE("emulator: a kernel thread overflowing its stack hits a guard page", "[gpu][simt][emulator][errors]") {
  DeviceBuffer<int> out(1, 0);
  const std::string err = stderr_of_segfaulting_child([&] { simt::stack_overflow(out.get()); });
  REQUIRE(err.find("overflowed its fiber stack") != std::string::npos);
}
#endif
