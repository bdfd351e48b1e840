#include "engine/storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "engine/copy_stats.h"
#include "engine/cuda_check.h"
#include "engine/error.h"
#include "kernels/cuda/fill.h"

namespace preimage {

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::cpu;
  if (name == "cuda") return Device::cuda;
  fail("unknown device '", name, "': use cpu or cuda");
}

Storage::Storage(size_t count, Device device) : count_(count), device_(device) {
  if (count == 0) return;
  PI_CHECK(count <= std::numeric_limits<size_t>::max() / sizeof(float), "allocation of ", count,
           " floats overflows");
  const size_t bytes = count * sizeof(float);
  if (device == Device::cpu) {
    const size_t rounded = (bytes + 63) / 64 * 64;
    data_ = static_cast<float*>(std::aligned_alloc(64, rounded));
    PI_CHECK(data_ != nullptr, "out of host memory allocating ", bytes, " bytes");
  } else {
    void* p = nullptr;
    PI_CUDA_CHECK(cudaMalloc(&p, bytes));
    data_ = static_cast<float*>(p);
  }
}

Storage::~Storage() { release(); }

Storage::Storage(Storage&& o) noexcept : data_(o.data_), count_(o.count_), device_(o.device_) {
  o.data_ = nullptr;
  o.count_ = 0;
}

Storage& Storage::operator=(Storage&& o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_;
    count_ = o.count_;
    device_ = o.device_;
    o.data_ = nullptr;
    o.count_ = 0;
  }
  return *this;
}

void Storage::release() noexcept {
  if (!data_) return;
  if (device_ == Device::cpu)
    std::free(data_);
  else
    cudaFree(data_);  // never throw from a destructor
  data_ = nullptr;
}

namespace {
std::atomic<uint64_t> g_device_to_host_copies{0};
}

uint64_t device_to_host_copies() { return g_device_to_host_copies.load(); }

void copy_floats(float* dst, Device dst_device, const float* src, Device src_device, size_t count) {
  if (count == 0) return;
  if (dst_device == Device::cpu && src_device != Device::cpu) ++g_device_to_host_copies;
  if (dst_device == Device::cpu && src_device == Device::cpu) {
    std::memcpy(dst, src, count * sizeof(float));
    return;
  }
  cudaMemcpyKind kind = dst_device == Device::cpu   ? cudaMemcpyDeviceToHost
                        : src_device == Device::cpu ? cudaMemcpyHostToDevice
                                                    : cudaMemcpyDeviceToDevice;
  PI_CUDA_CHECK(cudaMemcpy(dst, src, count * sizeof(float), kind));
}

void fill_floats(float* dst, Device device, float value, size_t count) {
  if (count == 0) return;
  if (device == Device::cpu) {
    for (size_t i = 0; i < count; ++i) dst[i] = value;
    return;
  }
  // No synchronisation: every op runs on the legacy default stream, so later kernels and copies see the fill in
  // order, and the host never reads device memory except through a copy.
  kernels::cuda::fill(dst, value, count);
}

}  // namespace preimage
