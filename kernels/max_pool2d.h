#pragma once
// Max pooling, NCHW. Padding is -inf (padded cells never win). Output size:
//   floor mode (PyTorch default):  Ho = (H + pt + pb - kh) / sh + 1
//   ceil mode (Caffe):             Ho = ceil((H + pt + pb - kh) / sh) + 1, then, as Caffe and PyTorch do, the last
//                                   window is dropped if it would start inside the bottom/right padding only.
//                                   Exactly: in ceil mode, if (Ho - 1) * sh >= H + pt then Ho -= 1 (likewise Wo).
//                                   This is PyTorch's rule (ceil_mode=True, any padding); Caffe applies it only
//                                   when pad != 0, which differs only when kernel < stride (Caffe then pools an
//                                   empty window). With explicit padding the rule measures from the real image,
//                                   not from an F.pad-ed one. docs/ops/pooling.md has worked examples.
// MatConvNet files carry explicit asymmetric padding instead of ceil mode: both are expressible here.
// Validation: kernel and stride >= 1, 0 <= each pad < kernel (wider padding would give windows with no input
// cell), padded input at least one kernel; so every window holds at least one real input cell.
// Ties: the first maximum in row-major window order wins (forward records nothing; backward recomputes argmax).
// Backward accumulates into d_x.
#include "engine/tensor.h"

namespace preimage::kernels {

struct MaxPool2dParams {
  int kernel_h = 2, kernel_w = 2;
  int stride_h = 2, stride_w = 2;
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  bool ceil_mode = false;
};

struct MaxPool2dGeometry {
  int64_t n, c, h, w, ho, wo;
  MaxPool2dParams p;
};
MaxPool2dGeometry max_pool2d_geometry(const char* op, const Shape& x, const MaxPool2dParams& p);

namespace ref {
template <typename T> void max_pool2d_forward(const MaxPool2dGeometry& g, const T* x, T* y);
template <typename T> void max_pool2d_backward(const MaxPool2dGeometry& g, const T* x, const T* d_y, T* d_x);
}  // namespace ref

void max_pool2d_forward(const View& x, const View& y, const MaxPool2dParams& p);
void max_pool2d_backward(const View& x, const View& d_y, const View& d_x, const MaxPool2dParams& p);

}  // namespace preimage::kernels
