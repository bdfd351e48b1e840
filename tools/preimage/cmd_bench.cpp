// `preimage bench`: our CUDA kernels against cuDNN and cuBLAS, with the protocol of DESIGN.md "Benchmarks":
// correctness against the CPU launchers first, then warm-up and CUDA-event timings (median, p10, p90), L2 hot and
// cold, GFLOP/s or GB/s, % of the device's peak, ratio to the library with the algorithm it chose. The case table
// is tools/preimage/bench_cases.h; the GPU side is tools/gpubench (linked only into the real CUDA build, with
// cuBLAS and cuDNN). Without a GPU, and in the emulated build, the command says so and exits 0 having measured and
// written nothing: there is nothing wrong with the request, only nothing to time it on (docs/benchmarks.md).
#include <cstdio>
#include <memory>
#include <sstream>

#include "engine/error.h"
#include "tools/preimage/bench_cases.h"
#include "tools/preimage/commands.h"

#if defined(PREIMAGE_GPU_BENCH)
#include "engine/cuda_check.h"
#include "tools/gpubench/run_bench.h"
#endif

namespace preimage::tools {
namespace {

std::vector<std::string> split_commas(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    std::stringstream ss(item);
    std::string part;
    while (std::getline(ss, part, ','))
      if (!part.empty()) out.push_back(part);
  }
  return out;
}

int run_bench(const bench::BenchOptions& o) {
  PI_CHECK(o.runs >= 1, "bench: --runs must be at least 1, got ", o.runs);
  PI_CHECK(o.warmup >= 0, "bench: --warmup must be >= 0, got ", o.warmup);
  for (int64_t b : o.batches) PI_CHECK(b >= 1, "bench: --batch must be at least 1, got ", b);
  const std::vector<bench::BenchCase> cases = bench::filter_cases(bench::make_cases(o.batches), o.patterns);
  PI_CHECK(!cases.empty(), "bench: no case matches --cases; run `preimage bench --list` for the names");
  if (o.list) {
    for (const bench::BenchCase& c : cases)
      std::printf("%s%s%s\n", c.name.c_str(), c.note.empty() ? "" : "  # ", c.note.c_str());
    return 0;
  }
#if defined(PREIMAGE_GPU_BENCH)
  if (cuda::device_count() == 0) {
    std::printf("preimage bench: no CUDA GPU present (cudaGetDeviceCount found none); nothing was measured and no "
                "JSON was written. Run it on a machine with an NVIDIA GPU.\n");
    return 0;
  }
  return gpubench::run_gpu_bench(cases, o);
#else
  std::printf("preimage bench: no GPU present: this build runs the CUDA kernels on the SIMT emulator "
              "(PREIMAGE_CUDA_EMULATION=ON), which cannot be timed; nothing was measured and no JSON was written. "
              "Build without -DPREIMAGE_CUDA_EMULATION and run it on a machine with an NVIDIA GPU.\n");
  return 0;
#endif
}

}  // namespace

void register_bench(CLI::App& app) {
  auto o = std::make_shared<bench::BenchOptions>();
  auto patterns = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Time our CUDA kernels against cuDNN/cuBLAS (correctness first, median/p10/p90 of CUDA-event timings, L2 hot "
      "and cold, % of peak). Needs an NVIDIA GPU; without one it says so and exits 0 (docs/benchmarks.md)");
  cmd->add_option("--cases", *patterns,
                  "run only cases whose name contains one of these substrings (comma-separated or repeated), "
                  "e.g. alexnet.conv1,sgemm");
  cmd->add_option("--batch", o->batches,
                  "batch sizes of the batched cases (default: 1 and 64 for the networks' layers, 64 for the "
                  "decoder); comma-separated or repeated")
      ->delimiter(',');
  cmd->add_option("--json", o->json, "also write every result as JSON to this file");
  cmd->add_option("--runs", o->runs, "timed runs per measurement (L2 hot and L2 cold each)")->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed warm-up runs before the hot measurement")->capture_default_str();
  cmd->add_flag("--quick", o->quick, "at most 5 timed runs and 2 warm-ups (a smoke run, not for reporting)");
  cmd->add_flag("--list", o->list, "print the names of the selected cases and exit (no GPU needed)");
  cmd->callback([o, patterns] {
    o->patterns = split_commas(*patterns);
    set_exit_code(run_bench(*o));
  });
}

}  // namespace preimage::tools
