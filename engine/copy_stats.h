#pragma once
// Counts of the engine's device->host copies (every Tensor::to / to_vector / Tape::item and any other copy_floats
// with a device source and a host destination), for tests that check a solver iteration makes none
// (tests/gpu/test_device_end_to_end.cpp, docs/device.md). Defined in engine/storage.cpp.
#include <cstdint>

namespace preimage {

uint64_t device_to_host_copies();  // since the program started

}  // namespace preimage
