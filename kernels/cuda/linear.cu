// kernels/cuda/linear.h as three SGEMMs (kernels/cuda/gemm.h) and a column sum:
//   y   = x w^T + b        [N, O] = [N, I] . [O, I]^T
//   d_x += d_y w           [N, I] = [N, O] . [O, I]
//   d_w += d_y^T x         [O, I] = [N, O]^T . [N, I]
//   d_b += column sums of d_y (conv2d's per-channel sum with one pixel per channel)
#include "kernels/cuda/linear.h"

#include "kernels/cuda/conv2d.h"

namespace preimage::kernels::cuda {

void linear_forward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* b, float* y,
                    cudaStream_t stream, GemmTileChoice tile) {
  SgemmArgs s;
  s.m = n, s.n = out, s.k = in;
  s.a = x, s.lda = in;
  s.b = w, s.ldb = in, s.trans_b = true;
  s.c = y, s.ldc = out;
  s.bias_cols = b;
  sgemm(s, stream, tile);
}

void linear_backward(int64_t n, int64_t in, int64_t out, const float* x, const float* w, const float* d_y,
                     float* d_x, float* d_w, float* d_b, cudaStream_t stream, GemmTileChoice tile) {
  if (d_x) {
    SgemmArgs s;
    s.m = n, s.n = in, s.k = out;
    s.a = d_y, s.lda = out;
    s.b = w, s.ldb = in;
    s.c = d_x, s.ldc = in, s.beta = 1.0f;
    sgemm(s, stream, tile);
  }
  if (d_w) {
    SgemmArgs s;
    s.m = out, s.n = in, s.k = n;
    s.a = d_y, s.lda = out, s.trans_a = true;
    s.b = x, s.ldb = in;
    s.c = d_w, s.ldc = in, s.beta = 1.0f;
    sgemm(s, stream, tile);
  }
  if (d_b) channel_sum_accumulate(n, out, 1, d_y, d_b, stream);
}

}  // namespace preimage::kernels::cuda
