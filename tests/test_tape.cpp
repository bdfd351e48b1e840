// Autodiff tape: recording, gradient accumulation semantics, requires_grad propagation, op table.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "engine/op_table.h"
#include "engine/ops.h"

using namespace preimage;

TEST_CASE("op table has a unique name for every op", "[tape]") {
  std::set<std::string> names;
  for (int i = 0; i < op_count(); ++i) names.insert(op_name(static_cast<Op>(i)));
  REQUIRE(static_cast<int>(names.size()) == op_count());
  REQUIRE(names.count("invalid") == 0);
  REQUIRE(std::string(op_name(Op::conv2d)) == "conv2d");
}

TEST_CASE("backward of a composite gives the chain rule and accumulates", "[tape]") {
  // L = sum(a * b + 3 a) -> dL/da = b + 3, dL/db = a
  Tensor a = Tensor::from({1, -2, 3}, Shape{3});
  Tensor b = Tensor::from({4, 5, -6}, Shape{3});
  Tape t;
  Var av = t.leaf(a.view(), true);
  Var bv = t.leaf(b.view(), true);
  Var L = ops::sum(t, ops::add(t, ops::mul(t, av, bv), ops::scale(t, av, 3.0f)));
  REQUIRE(t.item(L) == Approx(1 * 4 - 2 * 5 - 3 * 6 + 3 * (1 - 2 + 3)));
  t.backward(L);
  const std::vector<float> ga(t.grad(av).data, t.grad(av).data + 3);
  const std::vector<float> gb(t.grad(bv).data, t.grad(bv).data + 3);
  REQUIRE(ga == std::vector<float>{7, 8, -3});
  REQUIRE(gb == std::vector<float>{1, -2, 3});
  // Gradients accumulate: a second backward doubles them; zero_grad resets.
  t.backward(L);
  REQUIRE(t.grad(av).data[0] == 14.0f);
  t.zero_grad();
  REQUIRE(t.grad(av).data[0] == 0.0f);
}

TEST_CASE("a variable used twice receives both contributions", "[tape]") {
  Tensor a = Tensor::from({2}, Shape{1});
  Tape t;
  Var av = t.leaf(a.view(), true);
  Var L = ops::sum(t, ops::mul(t, av, av));  // a^2 -> 2a
  t.backward(L);
  REQUIRE(t.grad(av).data[0] == 4.0f);
}

TEST_CASE("no gradient flows to leaves that do not require it", "[tape]") {
  Tensor a = Tensor::from({1, 2}, Shape{2});
  Tensor m = Tensor::from({0, 1}, Shape{2});
  Tape t;
  Var av = t.leaf(a.view(), true);
  Var mv = t.leaf(m.view(), false);
  Var L = ops::mean(t, ops::masked_mul(t, av, mv));
  t.backward(L);
  REQUIRE(!t.has_grad(mv));
  REQUIRE(t.grad(av).data[0] == 0.0f);
  REQUIRE(t.grad(av).data[1] == 0.5f);
  REQUIRE_THROWS_WITH(t.backward(av), Catch::Contains("scalar"));
  Tape t2;
  Var c = t2.constant(Tensor::from({1}, Shape{1}));
  REQUIRE_THROWS_WITH(t2.backward(ops::sum(t2, c)), Catch::Contains("requires_grad"));
  REQUIRE_THROWS_WITH(t2.value(Var{99}), Catch::Contains("does not belong"));
}
