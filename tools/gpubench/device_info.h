#pragma once
// What the benchmark reports about the GPU it ran on, and the peaks its percentages are taken against:
//   FP32 peak = SMs * FP32 lanes per SM * 2 (an FMA is two flops) * the peak (boost) clock the driver reports;
//   memory peak = a measured device-to-device cudaMemcpy (bytes read + bytes written per second), not the
//   data-sheet figure, so "% of peak" for a memory-bound kernel says how close it gets to a plain copy.
#include <string>

#include <nlohmann/json.hpp>

namespace preimage::gpubench {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  double clock_ghz = 0;          // cudaDevAttrClockRate (peak, kHz) / 1e6
  int fp32_lanes_per_sm = 0;
  bool lanes_known = true;       // false: architecture not in our table, 128 assumed
  double fp32_peak_gflops = 0;
  long long l2_bytes = 0;
  double memory_gib = 0;
  double copy_gbps = 0;          // measured device-to-device copy, GB/s (1e9 bytes)
  int runtime_version = 0, driver_version = 0;
};

// Reads the properties of the current device and measures the copy bandwidth (a 1 GiB copy, median of 10).
DeviceInfo query_device();
nlohmann::json to_json(const DeviceInfo& d);

}  // namespace preimage::gpubench
