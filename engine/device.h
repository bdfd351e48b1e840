#pragma once
#include <string>

namespace preimage {

// Where a tensor's memory lives. Moving between devices is always an explicit copy (Tensor::to).
enum class Device { cpu, cuda };

inline const char* device_name(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }
Device parse_device(const std::string& name);  // "cpu" | "cuda"; throws on anything else

}  // namespace preimage
