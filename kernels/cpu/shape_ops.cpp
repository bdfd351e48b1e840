// CPU reference for kernels/shape_ops.h (torch.cat(dim=1); basic slicing x[:, :, t:t+h, l:l+w]).
#include "kernels/shape_ops.h"

namespace preimage::kernels::ref {

template <typename T>
void concat_dim1_forward(const std::vector<const T*>& xs, const std::vector<int64_t>& channels, int64_t n,
                         int64_t inner, T* y) {
  int64_t total = 0;
  for (int64_t c : channels) total += c;
  for (int64_t b = 0; b < n; ++b) {
    int64_t offset = 0;  // first output channel of input i
    for (size_t i = 0; i < xs.size(); ++i) {
      const int64_t block = channels[i] * inner;  // one sample of x_i is contiguous, and so is its slot in y
      const T* src = xs[i] + b * block;
      T* dst = y + (b * total + offset) * inner;
      for (int64_t k = 0; k < block; ++k) dst[k] = src[k];
      offset += channels[i];
    }
  }
}

template <typename T>
void concat_dim1_backward(const T* d_y, const std::vector<int64_t>& channels, int64_t n, int64_t inner,
                          const std::vector<T*>& d_xs) {
  int64_t total = 0;
  for (int64_t c : channels) total += c;
  for (int64_t b = 0; b < n; ++b) {
    int64_t offset = 0;
    for (size_t i = 0; i < d_xs.size(); ++i) {
      const int64_t block = channels[i] * inner;
      if (d_xs[i]) {
        const T* src = d_y + (b * total + offset) * inner;
        T* dst = d_xs[i] + b * block;
        for (int64_t k = 0; k < block; ++k) dst[k] += src[k];
      }
      offset += channels[i];
    }
  }
}

template <typename T>
void crop_forward(const T* x, T* y, int64_t nc, int64_t H, int64_t W, int64_t top, int64_t left, int64_t h,
                  int64_t w) {
  for (int64_t p = 0; p < nc; ++p)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) y[(p * h + i) * w + j] = x[(p * H + top + i) * W + left + j];
}

template <typename T>
void crop_backward(const T* d_y, T* d_x, int64_t nc, int64_t H, int64_t W, int64_t top, int64_t left, int64_t h,
                   int64_t w) {
  for (int64_t p = 0; p < nc; ++p)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) d_x[(p * H + top + i) * W + left + j] += d_y[(p * h + i) * w + j];
}

#define PI_INSTANTIATE(T)                                                                                     \
  template void concat_dim1_forward<T>(const std::vector<const T*>&, const std::vector<int64_t>&, int64_t,    \
                                       int64_t, T*);                                                          \
  template void concat_dim1_backward<T>(const T*, const std::vector<int64_t>&, int64_t, int64_t,              \
                                        const std::vector<T*>&);                                              \
  template void crop_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t); \
  template void crop_backward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);
PI_INSTANTIATE(float)
PI_INSTANTIATE(double)
#undef PI_INSTANTIATE

}  // namespace preimage::kernels::ref
