#pragma once
// safetensors: the native weight and feature file format (https://huggingface.co/docs/safetensors format spec):
//   u64 little-endian header length N | N bytes of JSON header | data buffer
// header: {"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
// Offsets are relative to the data buffer. The reader validates everything before touching data: header length
// within the file, JSON well-formed, known dtype, shape products and byte sizes computed with overflow checks,
// offsets inside the buffer, tensors not overlapping and the buffer fully covered. F32 is read as is; F16, BF16
// and F64 are converted to float32 (the engine's only dtype).
#include <map>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace preimage {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Throws preimage::Error naming the file and the problem.
SafetensorsFile read_safetensors(const std::string& path);
// Writes float32 tensors (host views) and string metadata; temp file + rename, so no partial file is ever left.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, View>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace preimage
