#pragma once
// Shapes shared by the convolution-family tests (test_conv2d.cpp, test_conv_transpose2d.cpp): odd sizes, strides
// 1-4 (different per axis), asymmetric padding, groups = 2 (AlexNet conv2/4/5), 1x1 and 11x11 kernels, with and
// without bias, and cases that take the im2col path's no-unrolling shortcut (1x1, stride 1, no padding).
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "kernels/dispatch.h"

namespace preimage::test {

struct Conv2dCase {
  std::string name;
  Shape x, w;
  bool bias;
  kernels::Conv2dParams p;  // stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right, groups
};

inline std::vector<Conv2dCase> conv2d_cases() {
  return {
      {"3x3 pad 1", Shape{2, 3, 7, 9}, Shape{4, 3, 3, 3}, true, {1, 1, 1, 1, 1, 1, 1}},
      {"groups 2, stride 2, asymmetric pad", Shape{1, 4, 11, 10}, Shape{6, 2, 3, 2}, true, {2, 2, 0, 1, 1, 0, 2}},
      {"11x11 stride 4 (AlexNet conv1)", Shape{1, 3, 23, 25}, Shape{2, 3, 11, 11}, true, {4, 4, 0, 0, 0, 0, 1}},
      {"1x1 stride 3, groups 2, asymmetric pad", Shape{2, 4, 6, 5}, Shape{4, 2, 1, 1}, true, {3, 3, 1, 0, 2, 1, 2}},
      {"5x4 stride 3x2, asymmetric pad", Shape{1, 2, 9, 11}, Shape{3, 2, 5, 4}, true, {3, 2, 2, 0, 1, 3, 1}},
      {"1x1 no unrolling, no bias", Shape{1, 2, 5, 5}, Shape{2, 2, 1, 1}, false, {1, 1, 0, 0, 0, 0, 1}},
      {"1x1 no unrolling, groups 2", Shape{2, 4, 3, 7}, Shape{6, 2, 1, 1}, true, {1, 1, 0, 0, 0, 0, 2}},
  };
}

struct ConvTranspose2dCase {
  std::string name;
  Shape x, w;
  bool bias;
  kernels::ConvTranspose2dParams p;  // strides, pads (t, b, l, r), out_pad_h, out_pad_w, groups
};

inline std::vector<ConvTranspose2dCase> conv_transpose2d_cases() {
  return {
      {"4x4 stride 2 pad 1 (2x up-convolution)", Shape{2, 3, 4, 5}, Shape{3, 2, 4, 4}, true,
       {2, 2, 1, 1, 1, 1, 0, 0, 1}},
      {"groups 2, stride 2x3, asymmetric pad, out_pad", Shape{1, 4, 5, 4}, Shape{4, 3, 3, 2}, true,
       {2, 3, 0, 1, 1, 0, 1, 2, 2}},
      {"11x11 stride 4, out_pad", Shape{1, 2, 3, 3}, Shape{2, 2, 11, 11}, true, {4, 4, 3, 2, 4, 5, 3, 1, 1}},
      {"1x1 stride 3, groups 2", Shape{2, 4, 4, 3}, Shape{4, 1, 1, 1}, true, {3, 3, 1, 0, 0, 2, 2, 1, 2}},
      {"1x1 no unrolling, no bias", Shape{1, 2, 5, 5}, Shape{2, 2, 1, 1}, false, {1, 1, 0, 0, 0, 0, 0, 0, 1}},
      {"1x1 no unrolling, groups 2", Shape{2, 4, 3, 7}, Shape{4, 3, 1, 1}, true, {1, 1, 0, 0, 0, 0, 0, 0, 2}},
  };
}

}  // namespace preimage::test


namespace preimage::test {

// Sets the launchers' CPU path for one scope and restores the previous one (tests share the process-wide setting).
class CpuPathScope {
 public:
  explicit CpuPathScope(kernels::CpuPath path) : saved_(kernels::cpu_path()) { kernels::set_cpu_path(path); }
  ~CpuPathScope() { kernels::set_cpu_path(saved_); }
  CpuPathScope(const CpuPathScope&) = delete;
  CpuPathScope& operator=(const CpuPathScope&) = delete;

 private:
  kernels::CpuPath saved_;
};

}  // namespace preimage::test
