// Launcher for kernels/lbp.h.
#include "kernels/lbp.h"

#include "kernels/cuda/lbp.h"
#include "kernels/dispatch.h"

namespace preimage::kernels {

Shape lbp_output_shape(const Shape& image, int cell) {
  PI_CHECK(image.ndim() == 4, "lbp: image must be [N, 1, H, W], got ", image.str());
  PI_CHECK(image[1] == 1, "lbp: image has ", image[1], " channels; LBP takes a gray image [N, 1, H, W] ",
           "(convert with rgb_to_gray)");
  PI_CHECK(cell >= 1, "lbp: cell size must be >= 1, got ", cell);
  PI_CHECK(image[2] >= cell && image[3] >= cell, "lbp: image ", image[2], "x", image[3],
           " is smaller than one ", cell, "x", cell, " cell; use a larger image or a smaller cell size");
  return Shape{image[0], kLbpBins, image[2] / cell, image[3] / cell};
}

void lbp_forward(const View& image, const View& out, int cell) {
  check_same_device("lbp", {&image, &out});
  check_contiguous("lbp", "image", image);
  check_contiguous("lbp", "output", out);
  check_shape("lbp", "output", out, lbp_output_shape(image.shape, cell));
  const int64_t H = image.shape[2], W = image.shape[3];
  if (image.device == Device::cuda) return cuda::lbp_forward(image.shape[0], H, W, cell, image.data, out.data);
  const int64_t out_size = out.numel() / image.shape[0];
  for (int64_t n = 0; n < image.shape[0]; ++n)
    ref::lbp_forward(image.data + n * H * W, out.data + n * out_size, H, W, cell);
}

}  // namespace preimage::kernels
