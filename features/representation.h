#pragma once
// The shallow representations by name, as the tools use them: how to extract features (the VLFeat-exact path),
// the differentiable version for inversion, a renderer for looking at them, and the input check.
//   hog      HOG UoCTTI (31 channels), hard orientation assignment
//   hogb     HOG UoCTTI with bilinear orientation assignment ("HOGb", IJCV Table 4)
//   hog-dt   HOG DalalTriggs (36 channels)
//   dsift    dense SIFT, Gaussian window (flat window with --flat-window)
//   lbp      uniform LBP, 58 channels (not differentiable)
//   sift-grid  sparse SIFT keypoints scattered into a W/4 x H/4 x 133 grid (not differentiable)
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/tape.h"

namespace preimage::features {

struct RepresentationOptions {
  int cell_size = 8;       // HOG cell; LBP cell
  int orientations = 9;    // HOG orientations
  int dsift_step = 4;      // DSIFT frame step (pixels)
  int dsift_bin = 8;       // DSIFT bin size (pixels); IJCV sect. 5.1 uses 8
  bool flat_window = false;
  int lbp_cell = 16;       // LBP cell (Dosovitskiy & Brox: 16)
};

struct Representation {
  std::string name;
  bool differentiable = false;
  bool gray_input = true;  // computed on the gray image (the papers invert gray images)
  std::function<Tensor(const View& image)> extract;       // image [1,C,H,W] 0..255 -> features [1,D,h,w]
  std::function<Var(Tape&, Var image)> phi;               // differentiable features (empty if not)
  // Picture of the features of an image of the given shape, [1,C,h,w] 0..255 (empty: no renderer).
  std::function<Tensor(const View& features, const Shape& image)> render;
  std::function<void(const Shape& image)> check_image;    // throws preimage::Error if the image is unusable
  nlohmann::json params;                                  // resolved parameters, for config.json / metadata
};

const std::vector<std::string>& representation_names();
// Throws preimage::Error for an unknown name (listing the known ones) or invalid options.
Representation make_representation(const std::string& name, const RepresentationOptions& options);

}  // namespace preimage::features
