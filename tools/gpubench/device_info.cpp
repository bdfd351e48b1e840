#include "tools/gpubench/device_info.h"

#include <vector>

#include <cuda_runtime_api.h>

#include "engine/cuda_check.h"
#include "tools/gpubench/timing.h"

namespace preimage::gpubench {
namespace {

// FP32 lanes (CUDA cores) per SM, from the CUDA C++ Programming Guide's "Arithmetic Instructions" throughput table
// (32-bit floating-point add, multiply, multiply-add per clock per SM).
int fp32_lanes(int major, int minor, bool* known) {
  *known = true;
  if (major == 6 && minor == 0) return 64;
  if (major == 7) return 64;
  if (major == 8 && minor == 0) return 64;
  if (major == 5 || major == 6 || major == 8 || major == 9 || major == 10 || major == 12) return 128;
  *known = false;
  return 128;
}

// Device-to-device copy of 1 GiB: bytes read + bytes written over the median time of 10 copies (2 warm-ups).
double measure_copy_gbps(long long l2_bytes) {
  const size_t bytes = size_t(1) << 30;
  void* a = nullptr;
  void* b = nullptr;
  PI_CUDA_CHECK(cudaMalloc(&a, bytes));
  double gbps = 0;
  try {
    PI_CUDA_CHECK(cudaMalloc(&b, bytes));
    PI_CUDA_CHECK(cudaMemset(a, 1, bytes));
    Timer timer(l2_bytes);
    const Stats s = timer.measure([&] { PI_CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, nullptr)); },
                                  2, 10, false);
    gbps = 2.0 * double(bytes) / (s.median_ms * 1e-3) / 1e9;
  } catch (...) {
    (void)cudaFree(a);
    if (b) (void)cudaFree(b);
    throw;
  }
  PI_CUDA_CHECK(cudaFree(a));
  PI_CUDA_CHECK(cudaFree(b));
  return gbps;
}

}  // namespace

DeviceInfo query_device() {
  DeviceInfo d;
  PI_CUDA_CHECK(cudaGetDevice(&d.index));
  cudaDeviceProp prop{};
  PI_CUDA_CHECK(cudaGetDeviceProperties(&prop, d.index));
  d.name = prop.name;
  d.cc_major = prop.major;
  d.cc_minor = prop.minor;
  d.memory_gib = double(prop.totalGlobalMem) / double(1ull << 30);
  int v = 0;
  PI_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, d.index));
  d.sm_count = v;
  PI_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrClockRate, d.index));  // kHz
  d.clock_ghz = double(v) / 1e6;
  PI_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrL2CacheSize, d.index));
  d.l2_bytes = v;
  PI_CUDA_CHECK(cudaRuntimeGetVersion(&d.runtime_version));
  PI_CUDA_CHECK(cudaDriverGetVersion(&d.driver_version));
  d.fp32_lanes_per_sm = fp32_lanes(d.cc_major, d.cc_minor, &d.lanes_known);
  d.fp32_peak_gflops = double(d.sm_count) * d.fp32_lanes_per_sm * 2.0 * d.clock_ghz;
  d.copy_gbps = measure_copy_gbps(d.l2_bytes);
  return d;
}

nlohmann::json to_json(const DeviceInfo& d) {
  return {{"index", d.index},
          {"name", d.name},
          {"compute_capability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor)},
          {"sm_count", d.sm_count},
          {"clock_ghz", d.clock_ghz},
          {"fp32_lanes_per_sm", d.fp32_lanes_per_sm},
          {"fp32_lanes_known", d.lanes_known},
          {"fp32_peak_gflops", d.fp32_peak_gflops},
          {"l2_bytes", d.l2_bytes},
          {"memory_gib", d.memory_gib},
          {"copy_gbps_measured", d.copy_gbps},
          {"cuda_runtime_version", d.runtime_version},
          {"cuda_driver_version", d.driver_version}};
}

}  // namespace preimage::gpubench
