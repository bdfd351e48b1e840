// conv2d's Winograd F(2x2, 3x3) path (kernels/cpu/conv2d_winograd.cpp) against the reference computed in double
// on VGG-like shapes, thread-count independence, and the launcher's dispatch to it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "each_isa.h"
#include "engine/threads.h"
#include "kernels/conv2d.h"
#include "kernels/dispatch.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;
using kernels::Conv2dParams;

namespace {
// Error bound, relative to the magnitude of the sum: |y - y_exact| <= kTol * sum |w| |x| (the same convolution of
// the absolute values, + |b|). Float GEMMs over C*9 products give a few 2^-24 of that magnitude; F(2x2, 3x3)'s
// transforms add at most a few more roundings of values up to 4x (input) and 9x (output) larger than the terms,
// all with coefficients 0, +-1, 1/2. Measured worst ratio on these shapes: 2.5e-7 (about 2 ulps); 2e-6
// (~32 ulps) leaves headroom, while a wrong tile offset, transform coefficient or padding gives O(1).
constexpr double kTol = 2e-6;

struct Case {
  std::string name;
  Shape x, w;
  bool bias;
  Conv2dParams p;
};

std::vector<double> abs_of(const std::vector<double>& v) {
  std::vector<double> a(v.size());
  std::transform(v.begin(), v.end(), a.begin(), [](double e) { return std::fabs(e); });
  return a;
}

// Worst |a - exact| / (magnitude + tiny) over all elements.
double worst_ratio(const float* a, const std::vector<double>& exact, const std::vector<double>& magnitude) {
  double worst = 0;
  for (size_t i = 0; i < exact.size(); ++i)
    worst = std::max(worst, std::fabs(a[i] - exact[i]) / (magnitude[i] + 1e-30));
  return worst;
}

std::vector<Case> cases() {
  return {
      {"VGG conv3-like 64->64, 56x56 (several tile blocks, last partial)", Shape{1, 64, 56, 56},
       Shape{64, 64, 3, 3}, true, Conv2dParams::symmetric(1, 1)},
      {"VGG conv5-like 512->64, 14x14", Shape{1, 512, 14, 14}, Shape{64, 512, 3, 3}, true,
       Conv2dParams::symmetric(1, 1)},
      {"64->512, odd 15x15", Shape{1, 64, 15, 15}, Shape{512, 64, 3, 3}, false, Conv2dParams::symmetric(1, 1)},
      {"96->128, odd 27x29 (partial tiles), 2 samples", Shape{2, 96, 27, 29}, Shape{128, 96, 3, 3}, true,
       Conv2dParams::symmetric(1, 1)},
      {"16->24, 15x13, asymmetric pad", Shape{1, 16, 15, 13}, Shape{24, 16, 3, 3}, false, {1, 1, 0, 2, 1, 0, 1}},
      {"20->16, no padding", Shape{2, 20, 9, 11}, Shape{16, 20, 3, 3}, true, Conv2dParams::symmetric(1, 0)},
      {"17->18, pad 2 top/left, 3 bottom/right", Shape{1, 17, 7, 8}, Shape{18, 17, 3, 3}, true,
       {1, 1, 2, 3, 2, 3, 1}},
      {"3->64, 31x30 (VGG conv1_1-like: 3 rows in the input gradient's GEMMs)", Shape{1, 3, 31, 30},
       Shape{64, 3, 3, 3}, true, Conv2dParams::symmetric(1, 1)},
      {"3->5 (below the dispatch threshold), 1x1 map", Shape{1, 3, 1, 1}, Shape{5, 3, 3, 3}, true,
       Conv2dParams::symmetric(1, 1)},
  };
}
}  // namespace

TEST_CASE("conv2d Winograd path matches the reference in double", "[conv2d][fastpath][winograd]") {
  PREIMAGE_EACH_CPU_ISA();
  const int saved_threads = num_threads();
  uint64_t seed = 500;
  for (const Case& c : cases()) {
    INFO(c.name);
    const kernels::Conv2dGeometry g = kernels::conv2d_geometry("test", c.x, c.w, c.p);
    REQUIRE(kernels::winograd::applies(g));
    const Shape ys{g.n, g.k, g.ho, g.wo};
    const std::vector<double> x = random_vector(static_cast<size_t>(c.x.numel()), seed++);
    const std::vector<double> w = random_vector(static_cast<size_t>(c.w.numel()), seed++);
    const std::vector<double> d_y = random_vector(static_cast<size_t>(ys.numel()), seed++);
    const std::vector<double> b = c.bias ? random_vector(static_cast<size_t>(g.k), seed++) : std::vector<double>();
    const std::vector<double> dx_start = random_vector(static_cast<size_t>(c.x.numel()), seed++);
    const double* bp = c.bias ? b.data() : nullptr;

    // Exact (double) results and the magnitudes sum |w||x| they are measured against.
    std::vector<double> y_exact(static_cast<size_t>(ys.numel())), y_mag(y_exact.size());
    kernels::ref::conv2d_forward<double>(g, x.data(), w.data(), bp, y_exact.data());
    const std::vector<double> abs_b = abs_of(b);
    kernels::ref::conv2d_forward<double>(g, abs_of(x).data(), abs_of(w).data(), c.bias ? abs_b.data() : nullptr,
                                         y_mag.data());
    std::vector<double> dx_exact = dx_start, dx_mag = abs_of(dx_start);
    kernels::ref::conv2d_backward<double>(g, x.data(), w.data(), d_y.data(), dx_exact.data(), nullptr, nullptr);
    kernels::ref::conv2d_backward<double>(g, x.data(), abs_of(w).data(), abs_of(d_y).data(), dx_mag.data(), nullptr,
                                          nullptr);

    const std::vector<float> xf = to_float(x), wf = to_float(w), dyf = to_float(d_y), bf = to_float(b);
    std::vector<float> y1, dx1;
    for (int threads : {1, 2}) {
      INFO("threads " << threads);
      set_num_threads(threads);
      std::vector<float> y(y_exact.size());
      kernels::cpu_kernels().winograd_conv2d_forward(g, xf.data(), wf.data(), c.bias ? bf.data() : nullptr, y.data());
      const double ry = worst_ratio(y.data(), y_exact, y_mag);
      INFO("forward: worst |y - exact| / sum|w||x| = " << ry);
      CHECK(ry <= kTol);
      // d_x starts non-zero, so a path that overwrites instead of accumulating fails.
      std::vector<float> dx = to_float(dx_start);
      kernels::cpu_kernels().winograd_conv2d_backward_input(g, wf.data(), dyf.data(), dx.data());
      const double rdx = worst_ratio(dx.data(), dx_exact, dx_mag);
      INFO("input gradient: worst |d_x - exact| / sum|w||d_y| = " << rdx);
      CHECK(rdx <= kTol);
      // Each GEMM runs on one thread and the transforms are per element, so the thread count changes nothing.
      if (threads == 1) {
        y1 = y, dx1 = dx;
      } else {
        CHECK(y == y1);
        CHECK(dx == dx1);
      }
    }
  }
  set_num_threads(saved_threads);
}

TEST_CASE("conv2d launcher sends 3x3 stride-1 convolutions with deep enough GEMMs to Winograd",
          "[conv2d][fastpath][winograd]") {
  PREIMAGE_EACH_CPU_ISA();
  struct Dispatch {
    Case c;
    bool forward, input_gradient;  // expected on the Winograd path
  };
  const Dispatch dispatches[] = {
      {{"32->16 3x3 pad 1, 20x20", Shape{1, 32, 20, 20}, Shape{16, 32, 3, 3}, true, Conv2dParams::symmetric(1, 1)},
       true, true},
      {{"32->16 3x3 pad 1, 19x20: map too small", Shape{1, 32, 19, 20}, Shape{16, 32, 3, 3}, true,
        Conv2dParams::symmetric(1, 1)},
       false, false},
      // Forward GEMM depth 8; the input gradient's depth is the 32 filters (VGG's conv1_1 is 3 -> 64).
      {{"8->32: too few input channels", Shape{1, 8, 20, 20}, Shape{32, 8, 3, 3}, true,
        Conv2dParams::symmetric(1, 1)},
       false, true},
      {{"32->8: too few filters", Shape{1, 32, 20, 20}, Shape{8, 32, 3, 3}, true, Conv2dParams::symmetric(1, 1)},
       false, false},
      {{"stride 2", Shape{1, 32, 44, 44}, Shape{32, 32, 3, 3}, true, Conv2dParams::symmetric(2, 1)}, false, false},
      {{"groups 2", Shape{1, 32, 22, 22}, Shape{32, 16, 3, 3}, true, Conv2dParams::symmetric(1, 1, 2)}, false,
       false},
      {{"5x5", Shape{1, 32, 22, 22}, Shape{32, 32, 5, 5}, true, Conv2dParams::symmetric(1, 2)}, false, false},
  };
  uint64_t seed = 600;
  for (const Dispatch& d : dispatches) {
    const Case& c = d.c;
    INFO(c.name);
    const kernels::Conv2dGeometry g = kernels::conv2d_geometry("test", c.x, c.w, c.p);
    const Shape ys{g.n, g.k, g.ho, g.wo};
    Tensor x = random_tensor(c.x, seed++), w = random_tensor(c.w, seed++), d_y = random_tensor(ys, seed++);
    Tensor b = random_tensor(Shape{g.k}, seed++);
    Tensor y_launch = Tensor::empty(ys), y_direct = Tensor::empty(ys);
    Tensor dx_launch = random_tensor(c.x, 7), dw_launch = random_tensor(c.w, 8), db_launch = random_tensor(Shape{g.k}, 9);
    Tensor dx_direct = dx_launch.clone(), dw_direct = dw_launch.clone(), db_direct = db_launch.clone();
    kernels::set_cpu_path(kernels::CpuPath::fast);
    kernels::conv2d_forward(x.view(), w.view(), b.view(), y_launch.view(), c.p);
    kernels::conv2d_backward(x.view(), w.view(), d_y.view(), dx_launch.view(), dw_launch.view(), db_launch.view(),
                             c.p);
    // The launcher's result is bit-identical to the path it should have picked; the weight and bias gradients
    // always come from im2col.
    if (d.forward)
      kernels::cpu_kernels().winograd_conv2d_forward(g, x.data(), w.data(), b.data(), y_direct.data());
    else
      kernels::cpu_kernels().im2col_conv2d_forward(g, x.data(), w.data(), b.data(), y_direct.data());
    if (d.input_gradient) {
      kernels::cpu_kernels().winograd_conv2d_backward_input(g, w.data(), d_y.data(), dx_direct.data());
      kernels::cpu_kernels().im2col_conv2d_backward(g, x.data(), w.data(), d_y.data(), nullptr, dw_direct.data(),
                                       db_direct.data());
    } else {
      kernels::cpu_kernels().im2col_conv2d_backward(g, x.data(), w.data(), d_y.data(), dx_direct.data(), dw_direct.data(),
                                       db_direct.data());
    }
    auto same = [](const Tensor& a, const Tensor& r) {
      return std::equal(a.data(), a.data() + a.numel(), r.data());
    };
    CHECK(same(y_launch, y_direct));
    CHECK(same(dx_launch, dx_direct));
    CHECK(same(dw_launch, dw_direct));
    CHECK(same(db_launch, db_direct));
  }
}
