// Tensor, View, Storage: ownership, views, copies, shape checks.
#include <catch2/catch.hpp>

#include <type_traits>

#include "engine/cuda_check.h"
#include "engine/tensor.h"
#include "kernels/elementwise.h"

using namespace preimage;

static_assert(!std::is_copy_constructible_v<Tensor>, "Tensor must be move-only");
static_assert(!std::is_copy_constructible_v<Storage>, "Storage must be move-only");
static_assert(std::is_nothrow_move_constructible_v<Tensor>, "Tensor moves must not throw");

TEST_CASE("tensors own memory and move without copying", "[tensor]") {
  Tensor a = Tensor::from({1, 2, 3, 4, 5, 6}, Shape{1, 2, 1, 3});
  const float* p = a.data();
  Tensor b = std::move(a);
  REQUIRE(b.data() == p);
  REQUIRE(b.shape() == Shape({1, 2, 1, 3}));
  REQUIRE(b.shape().c() == 2);
  REQUIRE(reinterpret_cast<uintptr_t>(b.data()) % 64 == 0);
  Tensor c = b.clone();
  REQUIRE(c.data() != b.data());
  REQUIRE(c.to_vector() == b.to_vector());
}

TEST_CASE("views slice batches and reshape without copying", "[tensor]") {
  Tensor t = Tensor::from({0, 1, 2, 3, 4, 5, 6, 7}, Shape{2, 2, 2});
  View v = t.view();
  REQUIRE(v.contiguous());
  View b1 = v.batch(1);
  REQUIRE(b1.data == t.data() + 4);
  REQUIRE(b1.shape == Shape({1, 2, 2}));
  REQUIRE(v.reshape(Shape{4, 2}).data == t.data());
  REQUIRE_THROWS_WITH(v.reshape(Shape{3, 3}), Catch::Contains("element counts differ"));
  REQUIRE_THROWS_WITH(v.batch(2), Catch::Contains("out of range"));
}

TEST_CASE("shape accessors and errors", "[tensor][errors]") {
  REQUIRE(Shape({2, 3, 4}).numel() == 24);
  REQUIRE(Shape{}.numel() == 1);
  REQUIRE(Shape({2, 3}).str() == "[2, 3]");
  REQUIRE_THROWS_WITH(Shape({2, 3}).h(), Catch::Contains("NCHW"));
  REQUIRE_THROWS_WITH(Shape({2, -1}), Catch::Contains("negative"));
  REQUIRE_THROWS_WITH(Tensor::from({1, 2, 3}, Shape{2, 2}), Catch::Contains("3 values"));
}

TEST_CASE("kernels refuse operands on different devices or shapes", "[tensor][errors]") {
  Tensor a = Tensor::zeros(Shape{4});
  Tensor b = Tensor::zeros(Shape{4});
  View on_gpu = b.view();
  on_gpu.device = Device::cuda;  // pretend: the launcher must refuse before touching memory
  REQUIRE_THROWS_WITH(kernels::add_into(a.view(), on_gpu), Catch::Contains("different devices"));
  Tensor c = Tensor::zeros(Shape{5});
  REQUIRE_THROWS_WITH(kernels::add_into(a.view(), c.view()), Catch::Contains("shapes differ"));
  REQUIRE_THROWS_WITH(parse_device("tpu"), Catch::Contains("unknown device"));
}

TEST_CASE("CUDA allocation without a GPU fails with a clear message", "[tensor][errors]") {
  if (cuda::device_count() > 0) return;  // covered by the [gpu] tests on a real device
  REQUIRE_THROWS_WITH(Tensor::zeros(Shape{16}, Device::cuda), Catch::Contains("cudaMalloc"));
}
