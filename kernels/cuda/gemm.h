#pragma once
// Our SGEMM on the device (kernels/cuda/gemm.cu, tiled main loop in kernels/cuda/gemm_mainloop.cuh), strict FP32,
// row-major like the rest of the engine:
//   C[M, N] = op(A)[M, K] op(B)[K, N] + beta C + bias_rows[M] (per row) + bias_cols[N] (per column)
// op(A) = A stored [M, lda] (trans_a false) or A^T with A stored [K, lda] (trans_a true); B likewise ([K, ldb] or
// [N, ldb]). beta == 0 never reads C (it may hold garbage); biases may be null. Used by kernels/cuda/linear.cu.
#include <cstdint>

#include <cuda_runtime_api.h>


namespace preimage::kernels::cuda {

// Which block tile a launcher uses (kernels/cuda/gemm_mainloop.cuh): automatic picks 128 x 128 (256 threads, 8 x 8
// per thread) when that still gives the GPU enough blocks, else 64 x 64 (64 threads). Tests force each one.
enum class GemmTileChoice { automatic, tile64, tile128 };

struct SgemmArgs {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;  // [M, lda] or, transposed, [K, lda]
  int64_t lda = 0;
  bool trans_a = false;
  const float* b = nullptr;  // [K, ldb] or, transposed, [N, ldb]
  int64_t ldb = 0;
  bool trans_b = false;
  float* c = nullptr;  // [M, ldc]
  int64_t ldc = 0;
  float beta = 0.0f;
  const float* bias_rows = nullptr;  // [M] or null
  const float* bias_cols = nullptr;  // [N] or null
};

void sgemm(const SgemmArgs& args, cudaStream_t stream = nullptr, GemmTileChoice tile = GemmTileChoice::automatic);

}  // namespace preimage::kernels::cuda
