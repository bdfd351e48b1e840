// The driver of `preimage bench` on a GPU (tools/gpubench/run_bench.h): the protocol of DESIGN.md "Benchmarks".
#include "tools/gpubench/run_bench.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "engine/cuda_check.h"
#include "engine/error.h"
#include "engine/storage.h"
#include "tools/gpubench/device_info.h"
#include "tools/gpubench/jobs.h"
#include "tools/gpubench/timing.h"
#include "tools/preimage/run_common.h"

namespace preimage::gpubench {
namespace {
using nlohmann::json;
using tools::bench::BenchCase;
using tools::bench::BenchOptions;
using tools::bench::Family;

struct Check {
  std::string status;  // "ok", "FAILED", "no kernel", "error"
  double error = 0;
  std::string message;
};

bool is_no_kernel(const Error& e) { return std::string(e.what()).find("no CUDA kernel") != std::string::npos; }

std::vector<float> read_device(const View& v) {
  std::vector<float> h(static_cast<size_t>(v.numel()));
  copy_floats(h.data(), Device::cpu, v.data, Device::cuda, h.size());
  return h;
}

// max |a - r| / max |r| (max_normalised) or ||a - r|| / ||r|| (l2_relative); NaN anywhere counts as infinite.
double difference(const float* a, const float* r, size_t n, Metric m) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = std::fabs(double(a[i]) - double(r[i]));
    if (std::isnan(d)) return INFINITY;
    if (m == Metric::max_normalised) {
      num = std::max(num, d);
      den = std::max(den, std::fabs(double(r[i])));
    } else {
      num += d * d;
      den += double(r[i]) * r[i];
    }
  }
  if (m == Metric::l2_relative) num = std::sqrt(num), den = std::sqrt(den);
  return den > 0 ? num / den : num;
}

// Our CUDA launcher and the CPU launcher on the first check_batch samples of the same inputs.
Check check(Job& j) {
  Check c;
  try {
    for (Device d : {Device::cuda, Device::cpu}) {
      const View out = j.result->side(d, j.check_batch);
      fill_floats(out.data, d, 0.0f, static_cast<size_t>(out.numel()));  // backward launchers accumulate
    }
    j.call(Device::cuda, j.check_batch);
    PI_CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<float> ours = read_device(j.result->side(Device::cuda, j.check_batch));
    j.call(Device::cpu, j.check_batch);
    c.error = difference(ours.data(), j.result->side(Device::cpu, j.check_batch).data, ours.size(), j.metric);
    c.status = c.error <= j.tolerance ? "ok" : "FAILED";
  } catch (const Error& e) {
    c.status = is_no_kernel(e) ? "no kernel" : "error";
    c.message = e.what();
  }
  return c;
}

// Full-size result of one call (outputs zeroed first), for the comparison with the library.
std::vector<float> full_result(const View& out, const std::function<void()>& run) {
  fill_floats(out.data, Device::cuda, 0.0f, static_cast<size_t>(out.numel()));
  run();
  PI_CUDA_CHECK(cudaDeviceSynchronize());
  return read_device(out);
}

json rates(const BenchCase& c, const Job& j, const Stats& s, const DeviceInfo& dev) {
  json r;
  const double flops = tools::bench::case_flops(c), sec = s.median_ms * 1e-3;
  if (sec <= 0) return r;
  if (flops > 0) {
    r["gflops"] = flops / sec / 1e9;
    r["pct_fp32_peak"] = 100.0 * flops / sec / 1e9 / dev.fp32_peak_gflops;
  } else if (j.bytes > 0) {
    r["gbps"] = j.bytes / sec / 1e9;
    r["pct_copy_bandwidth"] = 100.0 * j.bytes / sec / 1e9 / dev.copy_gbps;
  }
  return r;
}

std::string shape_list(const Shape& s) {
  std::string out = s.str();
  return out;
}

void print_header() {
  std::printf("%-40s %-9s %22s %10s %14s %7s %10s %10s %8s  %s\n", "case", "check", "ours hot ms [p10-p90]",
              "cold ms", "rate", "%peak", "lib hot", "lib cold", "lib/ours", "library algorithm");
}

void print_row(const json& r) {
  auto num = [&](const json& o, const char* key, const char* fmt) -> std::string {
    if (!o.is_object() || !o.contains(key) || !o[key].is_number()) return "-";
    char b[64];
    std::snprintf(b, sizeof b, fmt, o[key].get<double>());
    return b;
  };
  const json& ours = r.value("ours", json::object());
  const json& lib = r.value("baseline", json::object());
  std::string hot = "-", rate = "-", pct = "-";
  if (ours.contains("hot")) {
    char b[64];
    std::snprintf(b, sizeof b, "%.4f [%.4f-%.4f]", ours["hot"]["median_ms"].get<double>(),
                  ours["hot"]["p10_ms"].get<double>(), ours["hot"]["p90_ms"].get<double>());
    hot = b;
    const json& rt = ours["rates_hot"];
    if (rt.contains("gflops")) rate = num(rt, "gflops", "%.0f GFLOP/s"), pct = num(rt, "pct_fp32_peak", "%.1f");
    if (rt.contains("gbps")) rate = num(rt, "gbps", "%.0f GB/s"), pct = num(rt, "pct_copy_bandwidth", "%.1f");
  }
  std::string cold = ours.contains("cold") ? num(ours["cold"], "median_ms", "%.4f") : "-";
  std::string lhot = lib.contains("hot") ? num(lib["hot"], "median_ms", "%.4f") : "-";
  std::string lcold = lib.contains("cold") ? num(lib["cold"], "median_ms", "%.4f") : "-";
  std::string algo = lib.value("algorithm", lib.contains("error") ? "error: see JSON" : r.value("no_baseline", ""));
  std::printf("%-40s %-9s %22s %10s %14s %7s %10s %10s %8s  %s\n", r["name"].get<std::string>().c_str(),
              r["check"]["status"].get<std::string>().c_str(), hot.c_str(), cold.c_str(), rate.c_str(), pct.c_str(),
              lhot.c_str(), lcold.c_str(), num(r, "speedup_vs_baseline_hot", "%.2fx").c_str(), algo.c_str());
  if (r["check"].contains("message"))
    std::printf("    %s\n", r["check"]["message"].get<std::string>().c_str());
  std::fflush(stdout);
}

json run_case(const BenchCase& c, const BenchOptions& o, int warmup, int runs, const DeviceInfo& dev,
              const Libraries& libs, Timer& timer, bool* failed) {
  json r = {{"name", c.name},
            {"family", tools::bench::family_name(c.family)},
            {"direction", tools::bench::direction_name(c.direction)},
            {"batch", c.batch},
            {"x", shape_list(c.x)},
            {"flops", tools::bench::case_flops(c)}};
  if (c.w.ndim() > 0) r["w"] = shape_list(c.w);
  if (!c.note.empty()) r["note"] = c.note;
  Job j;
  make_job(c, j);
  if (j.bytes > 0) r["bytes"] = j.bytes;

  const Check chk = check(j);
  r["check"] = {{"status", chk.status},
                {"metric", j.metric == Metric::max_normalised ? "max|ours-ref|/max|ref|" : "||ours-ref||/||ref||"},
                {"error", chk.error},
                {"tolerance", j.tolerance},
                {"samples", j.check_batch},
                {"reference", "CPU launcher, same inputs"}};
  if (!chk.message.empty()) r["check"]["message"] = chk.message;
  if (chk.status == "FAILED" || chk.status == "error") *failed = true;

  const bool ours_ok = chk.status == "ok";
  const View out = j.result->side(Device::cuda, j.batch);
  std::vector<float> ours_full;
  if (ours_ok) {
    auto fn = [&] { j.call(Device::cuda, j.batch); };
    ours_full = full_result(out, fn);
    const Stats hot = timer.measure(fn, warmup, runs, false), cold = timer.measure(fn, 1, runs, true);
    r["ours"] = {{"hot", to_json(hot)}, {"cold", to_json(cold)}, {"rates_hot", rates(c, j, hot, dev)},
                 {"rates_cold", rates(c, j, cold, dev)}};
  }
  if (!j.make_baseline) {
    r["no_baseline"] = j.no_baseline_reason;
    return r;
  }
  try {
    std::unique_ptr<Baseline> b = j.make_baseline(libs);
    auto fn = [&] { b->run(); };
    const View bout(j.baseline_out.data(), j.baseline_out.shape(), Device::cuda);
    const std::vector<float> lib_full = full_result(bout, fn);
    const Stats hot = timer.measure(fn, warmup, runs, false), cold = timer.measure(fn, 1, runs, true);
    r["baseline"] = {{"library", b->library}, {"call", b->call},     {"algorithm", b->algorithm},
                     {"math", b->math},       {"hot", to_json(hot)}, {"cold", to_json(cold)}};
    if (ours_ok) {
      r["baseline"]["difference_to_ours"] =
          difference(ours_full.data(), lib_full.data(), ours_full.size(), Metric::max_normalised);
      r["speedup_vs_baseline_hot"] = hot.median_ms / r["ours"]["hot"]["median_ms"].get<double>();
      r["speedup_vs_baseline_cold"] = cold.median_ms / r["ours"]["cold"]["median_ms"].get<double>();
    }
  } catch (const Error& e) {
    r["baseline"] = {{"error", e.what()}};
  }
  (void)o;
  return r;
}

// Geometric mean of lib/ours over the convolution cases (all three directions) at one batch size.
json conv_summary(const json& cases) {
  std::map<int64_t, std::pair<double, int>> acc;  // batch -> (sum of logs, count)
  for (const json& r : cases) {
    const std::string fam = r.value("family", "");
    if ((fam != "conv2d" && fam != "conv_transpose2d") || !r.contains("speedup_vs_baseline_hot")) continue;
    auto& a = acc[r["batch"].get<int64_t>()];
    a.first += std::log(r["speedup_vs_baseline_hot"].get<double>());
    a.second += 1;
  }
  json s = json::object();
  for (const auto& [batch, a] : acc)
    s["batch_" + std::to_string(batch)] = {{"geomean_speedup_vs_cudnn_hot", std::exp(a.first / a.second)},
                                           {"cases", a.second}};
  return s;
}

}  // namespace

int run_gpu_bench(const std::vector<BenchCase>& cases, const BenchOptions& o) {
  // Belt and braces for "strict FP32": this variable can only disable TF32 in cuDNN and cuBLAS, never enable it;
  // it is read when the libraries initialise, which happens below.
  setenv("NVIDIA_TF32_OVERRIDE", "0", 1);
  const int runs = o.quick ? std::min(o.runs, 5) : o.runs;
  const int warmup = o.quick ? std::min(o.warmup, 2) : o.warmup;

  const DeviceInfo dev = query_device();
  std::printf("device: %s (sm_%d%d), %d SMs at %.3f GHz, L2 %.1f MiB, %.1f GiB\n", dev.name.c_str(), dev.cc_major,
              dev.cc_minor, dev.sm_count, dev.clock_ghz, double(dev.l2_bytes) / (1 << 20), dev.memory_gib);
  std::printf("peaks: FP32 %.0f GFLOP/s (%d SMs x %d lanes%s x 2 x clock), copy %.0f GB/s (measured D2D)\n",
              dev.fp32_peak_gflops, dev.sm_count, dev.fp32_lanes_per_sm, dev.lanes_known ? "" : " (assumed)",
              dev.copy_gbps);
  Libraries libs;
  std::printf("libraries: cuDNN %s (CUDNN_FMA_MATH), cuBLAS %s (CUBLAS_DEFAULT_MATH); TF32 off everywhere\n",
              libs.cudnn_version().c_str(), libs.cublas_version().c_str());
  std::printf("protocol: %d warm-up, %d timed runs (CUDA events), L2 hot and cold; lib/ours > 1: ours faster\n\n",
              warmup, runs);
  print_header();

  Timer timer(dev.l2_bytes);
  json results = json::array();
  bool failed = false;
  for (const BenchCase& c : cases) {
    json r;
    try {
      r = run_case(c, o, warmup, runs, dev, libs, timer, &failed);
    } catch (const Error& e) {
      r = {{"name", c.name}, {"check", {{"status", "error"}, {"message", e.what()}}}};
      failed = true;
    }
    print_row(r);
    results.push_back(r);
  }
  const json summary = conv_summary(results);
  std::printf("\nconvolutions, geometric mean of cuDNN time / our time (L2 hot):");
  if (summary.empty()) std::printf(" none timed");
  for (const auto& [k, v] : summary.items())
    std::printf("  %s %.3fx (%d cases)", k.c_str(), v["geomean_speedup_vs_cudnn_hot"].get<double>(),
                v["cases"].get<int>());
  std::printf("\n");

  if (!o.json.empty()) {
    json out = tools::run_record("bench");
    out["device"] = to_json(dev);
    out["libraries"] = {{"cudnn", libs.cudnn_version()},
                        {"cudnn_math", "CUDNN_FMA_MATH"},
                        {"cublas", libs.cublas_version()},
                        {"cublas_math", "CUBLAS_DEFAULT_MATH"},
                        {"NVIDIA_TF32_OVERRIDE", "0"}};
    out["protocol"] = {{"warmup", warmup},
                       {"runs", runs},
                       {"timing", "cudaEventElapsedTime around each call, legacy default stream"},
                       {"l2_cold", "cudaMemsetAsync of max(2 x L2, 64 MiB) before each cold run, outside the timing"},
                       {"math", "strict FP32 on both sides; TF32 not compared"}};
    out["cases"] = results;
    out["summary"] = {{"conv", summary}};
    tools::write_json(o.json, out);
    std::printf("wrote %s\n", o.json.c_str());
  }
  return failed ? 1 : 0;
}

}  // namespace preimage::gpubench
