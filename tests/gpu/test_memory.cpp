// [gpu] Device memory round trips through the real CUDA runtime.
#include <catch2/catch.hpp>

#include "engine/tensor.h"

using namespace preimage;

TEST_CASE("cuda tensors round-trip through device memory", "[gpu]") {
  Tensor h = Tensor::from({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor d = h.to(Device::cuda);
  REQUIRE(d.device() == Device::cuda);
  Tensor z = Tensor::zeros(Shape{2, 3}, Device::cuda);
  REQUIRE(z.to_vector() == std::vector<float>(6, 0.0f));
  REQUIRE(d.to(Device::cpu).to_vector() == h.to_vector());
  REQUIRE(d.clone().to_vector() == h.to_vector());
}
