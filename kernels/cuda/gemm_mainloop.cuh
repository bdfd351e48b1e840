#pragma once
// The tiled SGEMM main loop shared by kernels/cuda/gemm.cu and the implicit-GEMM convolutions
// (kernels/cuda/conv2d_implicit_gemm.cu). Include after kernels/cuda/launch.h. Design notes: docs/cuda_kernels.md.
//
// One block computes a BM x BN tile of C[M, N] = sum_k A[M, k] B[k, N] over k in [k_begin, k_end), BK = 8 at a time:
//   * (BM/8) x (BN/8) threads, each owning an 8 x 8 micro-tile split into 2 x 2 quadrants of 4 x 4 (rows
//     ty*4.. and BM/2 + ty*4.., columns likewise), so one warp's float4 shared-memory reads hit distinct banks;
//   * A and B tiles staged through shared memory stored k-major ([BK][BM + 4], [BK][BN + 4]: the +4 pad keeps
//     both the transposing stores and the float4 reads free of bank conflicts and 16-byte aligned);
//   * double buffering: the next tile's global loads are issued into registers before the current tile's 512 FMAs,
//     stored into the other shared buffer after them, with one __syncthreads per k-step;
//   * operands come from a Problem object (plain strided matrices, or an implicit im2col view of a tensor), which
//     says along which axis neighbouring threads should load (its contiguous axis, for coalescing) and where each
//     C element goes (the epilogue). Out-of-range elements load as 0, so M, N and K need no padding.
//
// A Problem is bound per blockIdx.z (group, residue class, split-K slice) and provides
//   int m, n, k_begin, k_end;                      (the slice of the GEMM this z computes)
//   static constexpr bool a_along_k, b_along_k;    (true: consecutive threads load consecutive k)
//   ARow a_row(int row); float a(const ARow&, int k);   (called only for row < m, k in [k_begin, k_end))
//   BCol b_col(int col); float b(const BCol&, int k);
//   CCol c_col(int col); void store(int row, const CCol&, float acc);   (only for row < m, col < n)
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/launch.h"

// nvcc unrolls the fixed-trip loops below on request; g++ (the emulated build) would warn about the pragma.
#ifdef PREIMAGE_CUDA_EMULATION
#define PI_GEMM_UNROLL
#else
#define PI_GEMM_UNROLL _Pragma("unroll")
#endif

namespace preimage::kernels::cuda {

constexpr int kGemmTileK = 8;

template <int BM, int BN>
struct GemmTile {
  static_assert(BM % 16 == 0 && BN % 16 == 0, "micro-tile quadrants need BM, BN multiples of 16");
  static constexpr int bm = BM, bn = BN, bk = kGemmTileK;
  static constexpr int threads_x = BN / 8, threads_y = BM / 8, threads = threads_x * threads_y;
  static constexpr int loads_a = BM * bk / threads, loads_b = BN * bk / threads;  // elements per thread per k-step
  static_assert(loads_a * threads == BM * bk && loads_b * threads == BN * bk, "tile must split evenly");
  static_assert(threads % BM == 0 && threads % BN == 0 && threads % bk == 0, "load mappings need these");
};

// Position (row or column within the tile, k within the k-step) of a thread's j-th load of one operand tile of
// `extent` x BK elements; along_k puts consecutive threads on consecutive k.
template <int Extent, int Threads, bool AlongK>
__device__ __forceinline__ void tile_load_position(int tid, int j, int& outer, int& k) {
  const int idx = tid + j * Threads;
  if (AlongK) {
    k = idx % kGemmTileK;
    outer = idx / kGemmTileK;
  } else {
    outer = idx % Extent;
    k = idx / Extent;
  }
}

// The block's tile of the bound problem p: rows [row0, row0 + BM), columns [col0, col0 + BN). Every thread of the
// block must call it (it has barriers). tid: the thread's linear index in the block.
template <class Tile, class Bound>
__device__ __forceinline__ void gemm_block_tile(const Bound& p, int row0, int col0, int tid) {
  constexpr int BM = Tile::bm, BN = Tile::bn, BK = Tile::bk, T = Tile::threads;
  constexpr int LA = Tile::loads_a, LB = Tile::loads_b;
  __shared__ __align__(16) float a_s[2][BK][BM + 4];
  __shared__ __align__(16) float b_s[2][BK][BN + 4];

  // Loads: each thread always fetches the same rows/columns (only k moves), so their index decomposition is done
  // once here.
  typename Bound::ARow a_info[LA];
  typename Bound::BCol b_info[LB];
  int a_r[LA], a_k[LA], b_c[LB], b_k[LB];
  bool a_ok[LA], b_ok[LB];
  PI_GEMM_UNROLL
  for (int j = 0; j < LA; ++j) {
    tile_load_position<BM, T, Bound::a_along_k>(tid, j, a_r[j], a_k[j]);
    a_ok[j] = row0 + a_r[j] < p.m;
    if (a_ok[j]) a_info[j] = p.a_row(row0 + a_r[j]);
  }
  PI_GEMM_UNROLL
  for (int j = 0; j < LB; ++j) {
    tile_load_position<BN, T, Bound::b_along_k>(tid, j, b_c[j], b_k[j]);
    b_ok[j] = col0 + b_c[j] < p.n;
    if (b_ok[j]) b_info[j] = p.b_col(col0 + b_c[j]);
  }
  float ra[LA], rb[LB];
  auto fetch = [&](int k0) {
    PI_GEMM_UNROLL
    for (int j = 0; j < LA; ++j) {
      const int k = k0 + a_k[j];
      ra[j] = a_ok[j] && k < p.k_end ? p.a(a_info[j], k) : 0.0f;
    }
    PI_GEMM_UNROLL
    for (int j = 0; j < LB; ++j) {
      const int k = k0 + b_k[j];
      rb[j] = b_ok[j] && k < p.k_end ? p.b(b_info[j], k) : 0.0f;
    }
  };
  auto stash = [&](int buf) {
    PI_GEMM_UNROLL
    for (int j = 0; j < LA; ++j) a_s[buf][a_k[j]][a_r[j]] = ra[j];
    PI_GEMM_UNROLL
    for (int j = 0; j < LB; ++j) b_s[buf][b_k[j]][b_c[j]] = rb[j];
  };

  const int tx = tid % Tile::threads_x, ty = tid / Tile::threads_x;
  float acc[8][8];
  PI_GEMM_UNROLL
  for (int i = 0; i < 8; ++i)
    PI_GEMM_UNROLL
    for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;

  int buf = 0;
  if (p.k_begin < p.k_end) {
    fetch(p.k_begin);
    stash(0);
  }
  __syncthreads();
  for (int k0 = p.k_begin; k0 < p.k_end; k0 += BK) {
    const bool more = k0 + BK < p.k_end;
    if (more) fetch(k0 + BK);  // in flight during the FMAs below
    PI_GEMM_UNROLL
    for (int k = 0; k < BK; ++k) {
      const float4 a_lo = *reinterpret_cast<const float4*>(&a_s[buf][k][ty * 4]);
      const float4 a_hi = *reinterpret_cast<const float4*>(&a_s[buf][k][BM / 2 + ty * 4]);
      const float4 b_lo = *reinterpret_cast<const float4*>(&b_s[buf][k][tx * 4]);
      const float4 b_hi = *reinterpret_cast<const float4*>(&b_s[buf][k][BN / 2 + tx * 4]);
      const float av[8] = {a_lo.x, a_lo.y, a_lo.z, a_lo.w, a_hi.x, a_hi.y, a_hi.z, a_hi.w};
      const float bv[8] = {b_lo.x, b_lo.y, b_lo.z, b_lo.w, b_hi.x, b_hi.y, b_hi.z, b_hi.w};
      PI_GEMM_UNROLL
      for (int i = 0; i < 8; ++i)
        PI_GEMM_UNROLL
        for (int j = 0; j < 8; ++j) acc[i][j] += av[i] * bv[j];
    }
    if (more) stash(buf ^ 1);  // the barrier ending the previous step guarantees nobody still reads buf ^ 1
    __syncthreads();
    buf ^= 1;
  }

  // Epilogue: micro-tile quadrant (qi, qj) element (i, j) is C row row0 + qi*BM/2 + ty*4 + i, column likewise.
  PI_GEMM_UNROLL
  for (int j = 0; j < 8; ++j) {
    const int col = col0 + (j / 4) * (BN / 2) + tx * 4 + j % 4;
    if (col >= p.n) continue;
    const typename Bound::CCol c_info = p.c_col(col);
    PI_GEMM_UNROLL
    for (int i = 0; i < 8; ++i) {
      const int row = row0 + (i / 4) * (BM / 2) + ty * 4 + i % 4;
      if (row < p.m) p.store(row, c_info, acc[i][j]);
    }
  }
}

// grid: x = column tiles, y = row tiles, z = problem slices (problem.bind(z) returns the Bound for slice z).
template <class Tile, class Problem>
__global__ void __launch_bounds__(Tile::threads) tiled_gemm_kernel(Problem problem) {
  const typename Problem::Bound p = problem.bind(static_cast<int>(blockIdx.z));
  const int row0 = static_cast<int>(blockIdx.y) * Tile::bm, col0 = static_cast<int>(blockIdx.x) * Tile::bn;
  if (row0 >= p.m || col0 >= p.n) return;  // whole block: slices of a launch may be smaller than its grid
  gemm_block_tile<Tile>(p, row0, col0, static_cast<int>(threadIdx.x));
}

// Launch geometry for a problem of at most max_m x max_n per slice.
template <class Tile>
inline dim3 gemm_grid(int64_t max_m, int64_t max_n, int64_t slices) {
  return dim3(static_cast<unsigned>((max_n + Tile::bn - 1) / Tile::bn),
              static_cast<unsigned>((max_m + Tile::bm - 1) / Tile::bm), static_cast<unsigned>(slices));
}

inline bool use_tile128(GemmTileChoice choice, int64_t max_m, int64_t max_n, int64_t slices) {
  if (choice != GemmTileChoice::automatic) return choice == GemmTileChoice::tile128;
  // 264 = two blocks for each of an H100's 132 SMs.
  const int64_t blocks128 = ((max_m + 127) / 128) * ((max_n + 127) / 128) * slices;
  return blocks128 >= 264;
}

}  // namespace preimage::kernels::cuda
