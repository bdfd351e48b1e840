#pragma once
// Internals shared by the emulated runtime (cuda_runtime_emu.cpp) and the SIMT scheduler (simt.cpp).
#include <cstdint>
#include <mutex>
#include <string>

#include <cuda_runtime_api.h>

namespace preimage::emu {

// Every runtime call and every launch holds this: the emulator models one device executing one thing at a time,
// and `__shared__` statics may only be used by one block at a time.
std::recursive_mutex& emulator_mutex();

// Records a failure as CUDA does: cudaGetLastError returns (and clears) it, and cudaGetErrorString(code) appends
// `detail`, the emulator's diagnosis. Returns code.
cudaError_t record_error(cudaError_t code, const std::string& detail);

bool valid_stream(cudaStream_t stream);  // 0, the legacy/per-thread handles, or a live stream
int max_dynamic_shared(const void* kernel);  // 48 KiB unless raised with cudaFuncSetAttribute

// Where the host waited for the device, counted since the program started (tests/gpu/test_device_end_to_end.cpp
// checks that a solver iteration makes no device->host copy): cudaMemcpy/cudaMemcpyAsync from device to host
// memory, and explicit waits (cudaStreamSynchronize, cudaDeviceSynchronize, cudaEventSynchronize).
struct HostWaitCounts {
  uint64_t device_to_host_copies = 0;
  uint64_t synchronizations = 0;
};
HostWaitCounts host_wait_counts();

constexpr int kDefaultDynamicShared = 48 * 1024;
constexpr int kMaxDynamicShared = 227 * 1024;  // H100 opt-in limit

}  // namespace preimage::emu
