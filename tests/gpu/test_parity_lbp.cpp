// [gpu] Device parity of kernels/cuda/lbp.cu against the CPU reference (kernels/cpu/lbp.cpp). Same float expressions
// in the same order (each cell sums its pixels in raster order; round-to-nearest intrinsics, no FMA) and sqrtf and
// division are correctly rounded on every device, so the histograms must match EXACTLY (atol = rtol = 0). Images are
// quantised to 4 levels so that neighbours often equal the centre (the strict > of the pattern bits).
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/lbp.h"
#include "parity.h"

using namespace preimage;
using test::random_tensor;
using test::require_close;

TEST_CASE("cuda lbp forward equals the CPU reference", "[gpu][parity][lbp]") {
  const std::vector<Shape> shapes = {Shape{1, 1, 35, 43}, Shape{2, 1, 17, 23}, Shape{1, 1, 8, 8}};
  for (int cell : {8, 6, 3}) {
    for (const Shape& s : shapes) {
      for (int quantised = 0; quantised < 2; ++quantised) {
        INFO("cell " << cell << ", image " << s.str() << (quantised ? ", quantised" : ", continuous"));
        Tensor x = random_tensor(s, 61, 0.0f, 1.0f);
        if (quantised)
          for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = std::round(x.data()[i] * 3.0f);
        const Shape os = kernels::lbp_output_shape(s, cell);
        Tensor out = Tensor::empty(os), dout = Tensor::empty(os, Device::cuda), dx = x.to(Device::cuda);
        kernels::lbp_forward(x, out, cell);
        kernels::lbp_forward(dx, dout, cell);
        require_close(dout.to_vector(), out.to_vector(), 0, 0);
      }
    }
  }
}
