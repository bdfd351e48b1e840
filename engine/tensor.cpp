#include "engine/tensor.h"

#include "engine/error.h"

namespace preimage {

View::View(float* d, const Shape& s, Device dev) : data(d), shape(s), device(dev) {
  int64_t stride = 1;
  for (int i = s.ndim() - 1; i >= 0; --i) {
    strides[static_cast<size_t>(i)] = stride;
    stride *= s[i];
  }
}

bool View::contiguous() const {
  int64_t stride = 1;
  for (int i = shape.ndim() - 1; i >= 0; --i) {
    if (shape[i] != 1 && strides[static_cast<size_t>(i)] != stride) return false;
    stride *= shape[i];
  }
  return true;
}

View View::batch(int64_t i) const {
  PI_CHECK(shape.ndim() >= 1, "batch(): a 0-d view has no batch dimension");
  PI_CHECK(i >= 0 && i < shape[0], "batch index ", i, " out of range for shape ", shape.str());
  PI_CHECK(contiguous(), "batch(): view is not contiguous");
  Shape s = shape;
  s[0] = 1;
  return View(data + i * strides[0], s, device);
}

View View::reshape(const Shape& s) const {
  PI_CHECK(s.numel() == shape.numel(), "cannot reshape ", shape.str(), " to ", s.str(), ": element counts differ");
  PI_CHECK(contiguous(), "reshape(): view is not contiguous");
  return View(data, s, device);
}

Tensor Tensor::empty(const Shape& shape, Device device) {
  return Tensor(Storage(static_cast<size_t>(shape.numel()), device), shape);
}

Tensor Tensor::zeros(const Shape& shape, Device device) { return full(shape, 0.0f, device); }

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, device);
  fill_floats(t.data(), device, value, static_cast<size_t>(t.numel()));
  return t;
}

Tensor Tensor::from(const std::vector<float>& values, const Shape& shape) {
  PI_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "Tensor::from: ", values.size(),
           " values for shape ", shape.str());
  Tensor t = empty(shape, Device::cpu);
  copy_floats(t.data(), Device::cpu, values.data(), Device::cpu, values.size());
  return t;
}

Tensor Tensor::copy_of(const View& v) {
  PI_CHECK(v.contiguous(), "copy_of: view is not contiguous");
  Tensor t = empty(v.shape, v.device);
  copy_floats(t.data(), v.device, v.data, v.device, static_cast<size_t>(v.numel()));
  return t;
}

Tensor Tensor::clone() const { return copy_of(view()); }

Tensor Tensor::to(Device device) const {
  Tensor t = empty(shape_, device);
  copy_floats(t.data(), device, data(), this->device(), static_cast<size_t>(numel()));
  return t;
}

std::vector<float> Tensor::to_vector() const {
  std::vector<float> v(static_cast<size_t>(numel()));
  copy_floats(v.data(), Device::cpu, data(), device(), v.size());
  return v;
}

void Tensor::reshape_(const Shape& s) {
  PI_CHECK(s.numel() == shape_.numel(), "cannot reshape ", shape_.str(), " to ", s.str(),
           ": element counts differ");
  shape_ = s;
}

void check_same_device(const char* op, std::initializer_list<const View*> views) {
  const View* first = nullptr;
  for (const View* v : views) {
    if (!v || !v->data) continue;
    if (!first) {
      first = v;
    } else if (v->device != first->device) {
      fail(op, ": operands are on different devices (", device_name(first->device), " and ",
           device_name(v->device), "); copy explicitly with Tensor::to()");
    }
  }
}

void check_shape(const char* op, const char* what, const View& v, const Shape& expected) {
  if (v.shape != expected) fail(op, ": ", what, " has shape ", v.shape.str(), ", expected ", expected.str());
}

void check_ndim(const char* op, const char* what, const View& v, int ndim) {
  if (v.shape.ndim() != ndim)
    fail(op, ": ", what, " must be ", ndim, "-d, got shape ", v.shape.str());
}

void check_contiguous(const char* op, const char* what, const View& v) {
  if (!v.contiguous()) fail(op, ": ", what, " must be contiguous");
}

void check_same_shape(const char* op, const View& a, const View& b) {
  if (a.shape != b.shape) fail(op, ": shapes differ, ", a.shape.str(), " vs ", b.shape.str());
}

}  // namespace preimage
