#pragma once
// Conversion of published weights (MatConvNet .mat, torchvision .pth, ONNX) to the native safetensors file: runs
// tools/convert_weights.py with Debian's Python on the model definition, then loads the written file with the C++
// reader and the definition (weights/model_weights.h). A file that fails that validation is removed, so a failed
// conversion never leaves an output behind. docs/weights.md lists the official files.
#include <string>

#include "layers/models.h"

namespace preimage::weights {

struct ConvertOptions {
  std::string input, output;
  std::string model;                   // alexnet, caffenet, vgg-m, vgg-vd-16 (aliases accepted)
  layers::ModelOptions model_options;  // reduced heads for tests/fine-tuned files
  std::string format = "auto";         // auto, matconvnet, torchvision, onnx
  std::string preset = "auto";         // preprocessing for ONNX files: auto, caffe, torchvision
  std::string mean;                    // "R,G,B" override of the mean pixel, or empty
  std::string python = "/usr/bin/python3";
  std::string script;                  // tools/convert_weights.py; empty: find_converter_script("")
};

// Converts and validates; returns the loaded network. Throws preimage::Error with the converter's message.
layers::Network convert_weights(const ConvertOptions& options);

// Where tools/convert_weights.py is: $PREIMAGE_CONVERTER if set, else next to or above the running executable
// (build trees inside the source tree: <src>/<build>/preimage -> <src>/tools/convert_weights.py), else
// `source_hint`/tools/convert_weights.py. Throws if none exists.
std::string find_converter_script(const std::string& source_hint);

}  // namespace preimage::weights
