#pragma once
// Owning float32 memory on one device. RAII and move-only: copying device memory by accident is a performance
// bug, so copies are explicit (Storage::copy_from, Tensor::clone / Tensor::to).
#include <cstddef>

#include "engine/device.h"

namespace preimage {

class Storage {
 public:
  Storage() = default;
  Storage(size_t count, Device device);  // uninitialised; host memory is 64-byte aligned
  ~Storage();
  Storage(Storage&& o) noexcept;
  Storage& operator=(Storage&& o) noexcept;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  float* data() const { return data_; }
  size_t size() const { return count_; }
  Device device() const { return device_; }

 private:
  void release() noexcept;
  float* data_ = nullptr;
  size_t count_ = 0;
  Device device_ = Device::cpu;
};

// Copies count floats between any two devices (host<->device, device<->device, host<->host).
void copy_floats(float* dst, Device dst_device, const float* src, Device src_device, size_t count);
// Sets count floats to value on the given device.
void fill_floats(float* dst, Device device, float value, size_t count);

}  // namespace preimage
