#include "engine/shape.h"

#include "engine/error.h"

namespace preimage {

Shape::Shape(std::initializer_list<int64_t> dims) {
  PI_CHECK(dims.size() <= static_cast<size_t>(kMaxDims), "shape has ", dims.size(), " dimensions, at most ",
           kMaxDims, " are supported");
  for (int64_t d : dims) {
    PI_CHECK(d >= 0, "negative dimension ", d, " in a shape");
    dims_[static_cast<size_t>(ndim_++)] = d;
  }
}

Shape Shape::of(const int64_t* dims, int ndim) {
  PI_CHECK(ndim >= 0 && ndim <= kMaxDims, "shape has ", ndim, " dimensions, at most ", kMaxDims, " supported");
  Shape s;
  for (int i = 0; i < ndim; ++i) {
    PI_CHECK(dims[i] >= 0, "negative dimension ", dims[i], " in a shape");
    s.dims_[static_cast<size_t>(i)] = dims[i];
  }
  s.ndim_ = ndim;
  return s;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < ndim_; ++i) n *= dims_[static_cast<size_t>(i)];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (ndim_ != o.ndim_) return false;
  for (int i = 0; i < ndim_; ++i)
    if (dims_[static_cast<size_t>(i)] != o.dims_[static_cast<size_t>(i)]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < ndim_; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[static_cast<size_t>(i)]);
  }
  return s + "]";
}

int64_t Shape::dim4(int i) const {
  PI_CHECK(ndim_ == 4, "expected an NCHW (4-d) shape, got ", str());
  return dims_[static_cast<size_t>(i)];
}

}  // namespace preimage
