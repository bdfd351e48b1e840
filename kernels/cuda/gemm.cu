// SGEMM for kernels/cuda/gemm.h: the tiled main loop of kernels/cuda/gemm_mainloop.cuh over plain strided row-major
// matrices. Each transpose combination is its own instantiation, so the operand strides along k are compile-time
// facts and the loads run along each matrix's contiguous axis (coalesced).
#include "kernels/cuda/gemm.h"

#include "engine/error.h"
#include "kernels/cuda/gemm_mainloop.cuh"
#include "kernels/cuda/launch.h"

namespace preimage::kernels::cuda {

namespace {

template <bool TransA, bool TransB>
struct StridedGemm {
  int m, n, k;
  const float* a;  // [M, lda] or [K, lda]
  const float* b;  // [K, ldb] or [N, ldb]
  float* c;        // [M, ldc]
  int64_t lda, ldb, ldc;
  float beta;
  const float* bias_rows;  // [M] or null
  const float* bias_cols;  // [N] or null

  struct Bound {
    StridedGemm g;
    int m, n, k_begin, k_end;
    static constexpr bool a_along_k = !TransA;  // A[row, k] contiguous in k unless stored transposed
    static constexpr bool b_along_k = TransB;
    using ARow = int64_t;  // offset of A[row, 0]
    using BCol = int64_t;  // offset of B[0, col]
    using CCol = int;
    __device__ ARow a_row(int row) const { return TransA ? row : row * g.lda; }
    __device__ float a(ARow base, int kk) const { return g.a[base + (TransA ? kk * g.lda : kk)]; }
    __device__ BCol b_col(int col) const { return TransB ? col * g.ldb : col; }
    __device__ float b(BCol base, int kk) const { return g.b[base + (TransB ? kk : kk * g.ldb)]; }
    __device__ CCol c_col(int col) const { return col; }
    __device__ void store(int row, CCol col, float acc) const {
      float* out = g.c + row * g.ldc + col;
      float v = acc;
      if (g.bias_rows) v += g.bias_rows[row];
      if (g.bias_cols) v += g.bias_cols[col];
      if (g.beta != 0.0f) v += g.beta * *out;
      *out = v;
    }
  };
  __device__ Bound bind(int) const { return Bound{*this, m, n, 0, k}; }
};

template <class Tile, bool TransA, bool TransB>
void launch(const SgemmArgs& s, cudaStream_t stream) {
  const StridedGemm<TransA, TransB> problem{static_cast<int>(s.m), static_cast<int>(s.n), static_cast<int>(s.k),
                                            s.a, s.b, s.c, s.lda, s.ldb, s.ldc, s.beta, s.bias_rows, s.bias_cols};
  PI_LAUNCH((tiled_gemm_kernel<Tile, StridedGemm<TransA, TransB>>), gemm_grid<Tile>(s.m, s.n, 1), Tile::threads, 0,
            stream)(problem);
  PI_CUDA_CHECK_LAUNCH("tiled_gemm_kernel (sgemm)");
}

template <class Tile>
void launch_tile(const SgemmArgs& s, cudaStream_t stream) {
  if (s.trans_a)
    s.trans_b ? launch<Tile, true, true>(s, stream) : launch<Tile, true, false>(s, stream);
  else
    s.trans_b ? launch<Tile, false, true>(s, stream) : launch<Tile, false, false>(s, stream);
}

}  // namespace

void sgemm(const SgemmArgs& s, cudaStream_t stream, GemmTileChoice tile) {
  PI_CHECK(s.m >= 0 && s.n >= 0 && s.k >= 0, "sgemm: negative size ", s.m, "x", s.n, "x", s.k);
  // The tile loop indexes rows, columns and k with int; offsets are 64-bit.
  constexpr int64_t int_max = 2147483647;
  PI_CHECK(s.m <= int_max && s.n <= int_max && s.k <= int_max, "sgemm: size ", s.m, "x", s.n, "x", s.k,
           " exceeds 2^31 - 1 in one dimension; split the product");
  PI_CHECK(s.lda >= (s.trans_a ? s.m : s.k) && s.ldb >= (s.trans_b ? s.k : s.n) && s.ldc >= s.n,
           "sgemm: leading dimensions lda ", s.lda, ", ldb ", s.ldb, ", ldc ", s.ldc, " are smaller than the rows");
  if (s.m == 0 || s.n == 0) return;
  if (use_tile128(tile, s.m, s.n, 1))
    launch_tile<GemmTile<128, 128>>(s, stream);
  else
    launch_tile<GemmTile<64, 64>>(s, stream);
}

}  // namespace preimage::kernels::cuda
