// [gpu] Device parity of our SGEMM (kernels/cuda/gemm.cu, main loop kernels/cuda/gemm_mainloop.cuh) against a
// double-precision product computed here. Sizes straddle the 64 and 128 block tiles and the 8-deep k-step (1, 7,
// 33, 65, 129, ...), with every transpose combination, padded leading dimensions, beta = 1 and both biases, and
// both block tiles forced.
// Tolerance: operands are uniform in [-1, 1], so each output is a K-term sum of products |ab| <= 1 whose float
// rounding error grows like sqrt(K) * 2^-24 * (typical partial sum, ~sqrt(K / 9)); atol = 1e-5 * sqrt(K + 1) is
// >= 10x that for the sizes here (and covers nvcc's FMA contraction), while one wrong, missing or doubled product
// term (|ab| ~ 0.25 on average) is far outside it.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "kernels/cuda/gemm.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

namespace {
struct GemmCase {
  int64_t m, n, k;
  bool trans_a, trans_b;
  int64_t pad;  // extra elements per stored row (leading dimension = row length + pad)
  bool accumulate, bias;
};

// Expected C in double from the same float inputs, following kernels/cuda/gemm.h's definition.
std::vector<float> expected(const GemmCase& c, const std::vector<float>& a, int64_t lda, const std::vector<float>& b,
                            int64_t ldb, const std::vector<float>& c0, int64_t ldc, const std::vector<float>& br,
                            const std::vector<float>& bc) {
  std::vector<float> out = c0;
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < c.n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < c.k; ++p) {
        const double av = c.trans_a ? a[p * lda + i] : a[i * lda + p];
        const double bv = c.trans_b ? b[j * ldb + p] : b[p * ldb + j];
        acc += av * bv;
      }
      if (c.bias) acc += double(br[i]) + double(bc[j]);
      if (c.accumulate) acc += c0[i * ldc + j];
      out[i * ldc + j] = static_cast<float>(acc);
    }
  return out;
}

void run_case(const GemmCase& c, kernels::cuda::GemmTileChoice tile, uint64_t seed) {
  INFO("m " << c.m << " n " << c.n << " k " << c.k << " trans_a " << c.trans_a << " trans_b " << c.trans_b
            << " pad " << c.pad << " accumulate " << c.accumulate << " bias " << c.bias << " tile "
            << static_cast<int>(tile));
  const int64_t a_rows = c.trans_a ? c.k : c.m, a_cols = c.trans_a ? c.m : c.k;
  const int64_t b_rows = c.trans_b ? c.n : c.k, b_cols = c.trans_b ? c.k : c.n;
  const int64_t lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = c.n + c.pad;
  Tensor a = random_tensor(Shape{a_rows, lda}, seed), b = random_tensor(Shape{b_rows, ldb}, seed + 1);
  Tensor c0 = random_tensor(Shape{c.m, ldc}, seed + 2);
  Tensor br = random_tensor(Shape{c.m}, seed + 3), bc = random_tensor(Shape{c.n}, seed + 4);
  Tensor da = a.to(Device::cuda), db = b.to(Device::cuda), dc = c0.to(Device::cuda);
  Tensor dbr = br.to(Device::cuda), dbc = bc.to(Device::cuda);

  kernels::cuda::SgemmArgs s;
  s.m = c.m, s.n = c.n, s.k = c.k;
  s.a = da.data(), s.lda = lda, s.trans_a = c.trans_a;
  s.b = db.data(), s.ldb = ldb, s.trans_b = c.trans_b;
  s.c = dc.data(), s.ldc = ldc, s.beta = c.accumulate ? 1.0f : 0.0f;
  if (c.bias) s.bias_rows = dbr.data(), s.bias_cols = dbc.data();
  kernels::cuda::sgemm(s, nullptr, tile);

  std::vector<float> want = expected(c, a.to_vector(), lda, b.to_vector(), ldb, c0.to_vector(), ldc,
                                     br.to_vector(), bc.to_vector());
  std::vector<float> got = dc.to_vector();
  // The padding columns of C must be left alone.
  require_close(got, want, 1e-5 * std::sqrt(double(c.k + 3)), 1e-5);
}
}  // namespace

TEST_CASE("cuda sgemm equals a double-precision product for all transposes and edge sizes",
          "[gpu][parity][gemm]") {
  const std::vector<int64_t> sizes[] = {{1, 1, 1}, {7, 33, 65}, {65, 7, 33}, {33, 65, 7}, {129, 70, 9}, {1, 130, 17}};
  uint64_t seed = 100;
  for (const auto& mnk : sizes)
    for (int t = 0; t < 4; ++t)
      for (auto tile : {kernels::cuda::GemmTileChoice::tile64, kernels::cuda::GemmTileChoice::tile128}) {
        const bool odd = (t + mnk[0]) % 2 == 1;  // vary padding / beta / bias across the combinations
        run_case(GemmCase{mnk[0], mnk[1], mnk[2], (t & 1) != 0, (t & 2) != 0, odd ? 3 : 0, odd, !odd}, tile,
                 seed += 10);
      }
}

TEST_CASE("cuda sgemm with K = 0 writes the bias and beta C only", "[gpu][parity][gemm]") {
  run_case(GemmCase{9, 5, 0, false, true, 1, true, true}, kernels::cuda::GemmTileChoice::automatic, 7);
}
