// Shape ops: concat along channels, crop (jitter), reshape / flatten. Gradient checks of the references, PyTorch
// golden comparisons through the tape ops, hand-made examples and bad inputs.
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "kernels/shape_ops.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

namespace {
std::vector<float> values(const View& v) { return std::vector<float>(v.data, v.data + v.numel()); }
}  // namespace

TEST_CASE("concat_channels reference gradient matches finite differences", "[shape_ops][gradcheck]") {
  // x_i [2, C_i, 3, 5] with C = 1, 3, 2 -> y [2, 6, 3, 5]
  const std::vector<int64_t> channels = {1, 3, 2};
  const int64_t n = 2, inner = 3 * 5;
  GradCheckOp op;
  for (size_t i = 0; i < channels.size(); ++i) {
    op.inputs.push_back(random_vector(static_cast<size_t>(n * channels[i] * inner), 10 + i));
    op.differentiable.push_back(true);
  }
  op.output_size = static_cast<size_t>(n * 6 * inner);
  op.forward = [=](auto& x, double* y) { kernels::ref::concat_dim1_forward(x, channels, n, inner, y); };
  op.backward = [=](auto&, const double* d_y, auto& d_x) {
    kernels::ref::concat_dim1_backward(d_y, channels, n, inner, d_x);
  };
  GradCheckResult r = grad_check(op);
  INFO(r.worst);
  CHECK(r.checked == static_cast<size_t>(n * 6 * inner));
  CHECK(r.max_error < 1e-8);
}

TEST_CASE("crop reference gradient matches finite differences", "[shape_ops][gradcheck]") {
  struct Case { int64_t n, c, H, W, top, left, h, w; };
  for (Case k : {Case{2, 3, 7, 9, 2, 3, 4, 5}, Case{2, 1, 5, 4, 0, 1, 5, 3}, Case{1, 3, 3, 3, 2, 2, 1, 1}}) {
    GradCheckOp op;
    op.inputs = {random_vector(static_cast<size_t>(k.n * k.c * k.H * k.W), 5)};
    op.differentiable = {true};
    op.output_size = static_cast<size_t>(k.n * k.c * k.h * k.w);
    op.forward = [=](auto& x, double* y) {
      kernels::ref::crop_forward(x[0], y, k.n * k.c, k.H, k.W, k.top, k.left, k.h, k.w);
    };
    op.backward = [=](auto&, const double* d_y, auto& d_x) {
      kernels::ref::crop_backward(d_y, d_x[0], k.n * k.c, k.H, k.W, k.top, k.left, k.h, k.w);
    };
    GradCheckResult r = grad_check(op);
    INFO(r.worst);
    CHECK(r.checked == op.inputs[0].size());
    CHECK(r.max_error < 1e-8);
  }
}

TEST_CASE("concat_channels matches torch.cat forward and backward", "[shape_ops][golden]") {
  Golden g = read_golden("concat_channels");
  Tensor x0 = golden_tensor(g, "x0"), x1 = golden_tensor(g, "x1"), x2 = golden_tensor(g, "x2");
  Tape t;
  std::vector<Var> xs = {t.leaf(x0.view(), true), t.leaf(x1.view(), true), t.leaf(x2.view(), true)};
  Var y = ops::concat_channels(t, xs);
  Tensor y_ref = golden_tensor(g, "y");
  REQUIRE(t.shape(y) == y_ref.shape());
  CHECK(values(t.value(y)) == y_ref.to_vector());  // a copy: exact
  Var loss = ops::sum(t, ops::mul(t, y, t.constant(golden_tensor(g, "d_y"))));
  t.backward(loss);
  for (int i = 0; i < 3; ++i) {
    Tensor ref = golden_tensor(g, "d_x" + std::to_string(i));
    CHECK(values(t.grad(xs[static_cast<size_t>(i)])) == ref.to_vector());
  }
}

TEST_CASE("crop matches torch slicing forward and backward", "[shape_ops][golden]") {
  Golden g = read_golden("crop");
  Tensor x = golden_tensor(g, "x");
  const int64_t top = static_cast<int64_t>(golden_scalar(g, "top"));
  const int64_t left = static_cast<int64_t>(golden_scalar(g, "left"));
  Tensor y_ref = golden_tensor(g, "y");
  Tape t;
  Var xv = t.leaf(x.view(), true);
  Var y = ops::crop(t, xv, top, left, y_ref.shape().h(), y_ref.shape().w());
  CHECK(values(t.value(y)) == y_ref.to_vector());
  Var loss = ops::sum(t, ops::mul(t, y, t.constant(golden_tensor(g, "d_y"))));
  t.backward(loss);
  CHECK(values(t.grad(xv)) == golden_tensor(g, "d_x").to_vector());
}

TEST_CASE("concat_channels gives no gradient to constants and still splits correctly", "[shape_ops]") {
  // a [1, 1, 1, 2] constant, b [1, 2, 1, 2] variable; y = [a; b] along channels, L = sum(w * y)
  Tensor a = Tensor::from({1, 2}, Shape{1, 1, 1, 2});
  Tensor b = Tensor::from({3, 4, 5, 6}, Shape{1, 2, 1, 2});
  Tape t;
  Var av = t.leaf(a.view(), false);
  Var bv = t.leaf(b.view(), true);
  Var y = ops::concat_channels(t, {av, bv});
  CHECK(values(t.value(y)) == std::vector<float>{1, 2, 3, 4, 5, 6});
  Var w = t.constant(Tensor::from({10, 20, 30, 40, 50, 60}, Shape{1, 3, 1, 2}));
  t.backward(ops::sum(t, ops::mul(t, y, w)));
  CHECK(!t.has_grad(av));
  CHECK(values(t.grad(bv)) == std::vector<float>{30, 40, 50, 60});
  // b twice: [b; b] collects both slices' gradients
  t.zero_grad();
  Var yy = ops::concat_channels(t, {bv, bv});
  Var w2 = t.constant(Tensor::from({1, 2, 3, 4, 10, 20, 30, 40}, Shape{1, 4, 1, 2}));
  t.backward(ops::sum(t, ops::mul(t, yy, w2)));
  CHECK(values(t.grad(bv)) == std::vector<float>{11, 22, 33, 44});
}

TEST_CASE("concat_channels of 2-d [N, C] inputs", "[shape_ops]") {
  Tensor a = Tensor::from({1, 2, 3, 4}, Shape{2, 2});  // rows are samples
  Tensor b = Tensor::from({5, 6}, Shape{2, 1});
  Tape t;
  Var y = ops::concat_channels(t, {t.leaf(a.view(), false), t.leaf(b.view(), false)});
  CHECK(t.shape(y) == Shape({2, 3}));
  CHECK(values(t.value(y)) == std::vector<float>{1, 2, 5, 3, 4, 6});
}

TEST_CASE("crop picks the window and scatters its gradient back", "[shape_ops]") {
  // x [1, 1, 3, 4] = 0..11 row-major; window rows 1-2, columns 1-2 -> {5, 6, 9, 10}
  std::vector<float> xs(12);
  for (int i = 0; i < 12; ++i) xs[static_cast<size_t>(i)] = static_cast<float>(i);
  Tensor x = Tensor::from(xs, Shape{1, 1, 3, 4});
  Tape t;
  Var xv = t.leaf(x.view(), true);
  Var y = ops::crop(t, xv, 1, 1, 2, 2);
  CHECK(values(t.value(y)) == std::vector<float>{5, 6, 9, 10});
  // two crops of the same x: gradients of overlapping windows add up
  Var y2 = ops::crop(t, xv, 0, 1, 2, 2);  // {1, 2, 5, 6}
  t.backward(ops::add(t, ops::sum(t, y), ops::sum(t, y2)));
  CHECK(values(t.grad(xv)) == std::vector<float>{0, 1, 1, 0, 0, 2, 2, 0, 0, 1, 1, 0});
}

TEST_CASE("reshape and flatten keep the elements and pass the gradient through", "[shape_ops]") {
  Tensor x = random_tensor(Shape{2, 3, 2, 5}, 3);
  Tensor w = random_tensor(Shape{2, 30}, 4);
  Tape t;
  Var xv = t.leaf(x.view(), true);
  Var f = ops::flatten(t, xv);
  CHECK(t.shape(f) == Shape({2, 30}));
  CHECK(t.op(f) == Op::reshape);
  CHECK(values(t.value(f)) == x.to_vector());
  Var r = ops::reshape(t, xv, Shape{6, 10});
  CHECK(t.shape(r) == Shape({6, 10}));
  CHECK(values(t.value(r)) == x.to_vector());
  // L = sum(w * flatten(x)) + 2 sum(reshape(x)) -> dL/dx = w (as [2, 3, 2, 5]) + 2
  Var L = ops::add(t, ops::sum(t, ops::mul(t, f, t.constant(w.clone()))),
                   ops::scale(t, ops::sum(t, r), 2.0f));
  t.backward(L);
  const std::vector<float> g = values(t.grad(xv)), wv = w.to_vector();
  REQUIRE(g.size() == wv.size());
  for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(wv[i] + 2.0f).margin(1e-6));
}

TEST_CASE("shape ops reject bad operands", "[shape_ops][errors]") {
  Tape t;
  Tensor x = Tensor::zeros(Shape{2, 3, 5, 7});
  Var xv = t.leaf(x.view(), true);
  SECTION("crop out of bounds") {
    CHECK_THROWS_WITH(ops::crop(t, xv, 2, 0, 4, 7), Catch::Contains("outside the 5x7 input"));
    CHECK_THROWS_WITH(ops::crop(t, xv, 0, 1, 5, 7), Catch::Contains("outside"));
    CHECK_THROWS_WITH(ops::crop(t, xv, -1, 0, 2, 2), Catch::Contains("outside"));
    CHECK_THROWS_WITH(ops::crop(t, xv, 0, 0, 0, 2), Catch::Contains("must be positive"));
    Tensor flat = Tensor::zeros(Shape{2, 35});
    CHECK_THROWS_WITH(ops::crop(t, t.leaf(flat.view(), false), 0, 0, 1, 1), Catch::Contains("must be 4-d"));
  }
  SECTION("concat of mismatched N, H or W") {
    Tensor other_n = Tensor::zeros(Shape{1, 3, 5, 7});
    Tensor other_h = Tensor::zeros(Shape{2, 1, 4, 7});
    Tensor other_w = Tensor::zeros(Shape{2, 1, 5, 6});
    Tensor other_nd = Tensor::zeros(Shape{2, 3, 35});
    for (Tensor* bad : {&other_n, &other_h, &other_w, &other_nd}) {
      Var b = t.leaf(bad->view(), false);
      CHECK_THROWS_WITH(ops::concat_channels(t, {xv, b}), Catch::Contains("every dim except dim 1"));
    }
    CHECK_THROWS_WITH(ops::concat_channels(t, {}), Catch::Contains("no inputs"));
  }
  SECTION("reshape to another element count") {
    CHECK_THROWS_WITH(ops::reshape(t, xv, Shape{2, 104}), Catch::Contains("210 elements"));
  }
  SECTION("launcher output of the wrong shape") {
    Tensor y = Tensor::zeros(Shape{2, 3, 2, 3});
    CHECK_THROWS_WITH(kernels::crop_forward(x, y, 4, 5), Catch::Contains("outside"));
    Tensor y2 = Tensor::zeros(Shape{2, 4, 5, 7});
    CHECK_THROWS_WITH(kernels::concat_channels_forward({x.view()}, y2), Catch::Contains("output has shape"));
  }
}
