#pragma once
// A network's weights in the native safetensors format (weights/safetensors.h), with full validation against the
// model definition (layers/models.h). Layout and metadata (written by tools/convert_weights.py; docs/weights.md):
//   tensors   "<layer>.weight": conv [out, in/groups, kh, kw]; fc [out, in*kh*kw] (input flattened C, H, W)
//             "<layer>.bias": [out]
//             "preimage.mean_image": [3, H, W] (optional; the mean image, channels in input_order, 0-255 scale)
//   metadata  preimage.model        alexnet | caffenet | vgg-m | vgg-vd-16 (required)
//             preimage.fc_width     fc6/fc7 width (default 4096)   preimage.num_classes  fc8 width (default 1000)
//             preimage.input_size   "[h, w]" (default: the model's)
//             preimage.input_order  "RGB" | "BGR": the channel order conv1 expects (default RGB)
//             preimage.mean         "[m0, m1, m2]" in input_order, 0-255 (required unless preimage.mean_image)
//             preimage.input_scale  "[s0, s1, s2]" or "s": network input = (pixel - mean) * scale (default 1)
// Loading folds input_order and input_scale into conv1's weights (layers/network.h: every loaded network takes
// RGB, 0-255, mean-subtracted images) and converts the mean to RGB.
#include <map>
#include <string>

#include "layers/network.h"
#include "weights/safetensors.h"

namespace preimage::weights {

// Reads and validates `path`: every expected tensor present with its exact shape, no unexpected tensor, finite
// values, well-formed metadata. Errors name the file, the tensor and both shapes. With expected_model non-empty
// the file must hold that model (aliases accepted).
layers::Network load_network(const std::string& path, const std::string& expected_model = "");
// The same from an already-read file (`path` is only used in messages).
layers::Network network_from_file(SafetensorsFile file, const std::string& path,
                                  const std::string& expected_model = "");

// Writes a network (e.g. a random-weight one) in the native layout. The parameters as held (channel order and
// scale already folded into conv1) are written with input_order RGB and scale 1; the mean pixel, or the mean
// image as preimage.mean_image.
void save_network(const std::string& path, const layers::Network& net,
                  const std::map<std::string, std::string>& extra_metadata = {});

}  // namespace preimage::weights
