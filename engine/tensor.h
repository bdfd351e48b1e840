#pragma once
// Tensor owns its memory (move-only); View is a cheap non-owning window (pointer, shape, strides, device).
// Kernels take Views. Dense float32, row-major, NCHW for images and feature maps.
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "engine/device.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace preimage {

struct View {
  float* data = nullptr;
  Shape shape;
  std::array<int64_t, Shape::kMaxDims> strides{};  // in elements
  Device device = Device::cpu;

  View() = default;
  View(float* data, const Shape& shape, Device device);  // contiguous strides

  int64_t numel() const { return shape.numel(); }
  bool contiguous() const;
  // Sample i of the leading (batch) dimension, as a contiguous view of shape[1:] with a leading 1.
  View batch(int64_t i) const;
  // Same memory, another shape with the same element count; requires contiguity.
  View reshape(const Shape& s) const;
  float& at(int64_t i) const { return data[i]; }  // flat index, contiguous views only (host)
};

class Tensor {
 public:
  Tensor() = default;
  static Tensor empty(const Shape& shape, Device device = Device::cpu);
  static Tensor zeros(const Shape& shape, Device device = Device::cpu);
  static Tensor full(const Shape& shape, float value, Device device = Device::cpu);
  static Tensor from(const std::vector<float>& values, const Shape& shape);  // host
  static Tensor copy_of(const View& v);  // explicit copy on the same device

  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  const Shape& shape() const { return shape_; }
  int64_t numel() const { return shape_.numel(); }
  Device device() const { return storage_.device(); }
  bool defined() const { return storage_.data() != nullptr; }
  float* data() { return storage_.data(); }
  const float* data() const { return storage_.data(); }

  View view() const { return View(storage_.data(), shape_, storage_.device()); }
  operator View() const { return view(); }

  Tensor clone() const;               // same device
  Tensor to(Device device) const;     // explicit copy between devices (a copy even when device matches)
  std::vector<float> to_vector() const;  // host copy of the elements
  // Reinterprets the shape in place (same element count).
  void reshape_(const Shape& s);

 private:
  Tensor(Storage storage, const Shape& shape) : storage_(std::move(storage)), shape_(shape) {}
  Storage storage_;
  Shape shape_;
};

// Checks used by every kernel launcher; each throws preimage::Error naming the op and the offending operands.
void check_same_device(const char* op, std::initializer_list<const View*> views);
void check_shape(const char* op, const char* what, const View& v, const Shape& expected);
void check_ndim(const char* op, const char* what, const View& v, int ndim);
void check_contiguous(const char* op, const char* what, const View& v);
void check_same_shape(const char* op, const View& a, const View& b);

}  // namespace preimage
