#pragma once
// Shape of a dense float32 tensor, up to 6 dimensions; NCHW is the convention for images and feature maps.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace preimage {

class Shape {
 public:
  static constexpr int kMaxDims = 6;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  static Shape of(const int64_t* dims, int ndim);

  int ndim() const { return ndim_; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i < 0 ? i + ndim_ : i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(i < 0 ? i + ndim_ : i)]; }
  int64_t numel() const;
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "[1, 3, 227, 227]"

  // NCHW accessors; they check that the shape is 4-d.
  int64_t n() const { return dim4(0); }
  int64_t c() const { return dim4(1); }
  int64_t h() const { return dim4(2); }
  int64_t w() const { return dim4(3); }

 private:
  int64_t dim4(int i) const;
  int ndim_ = 0;
  std::array<int64_t, kMaxDims> dims_{};
};

}  // namespace preimage
