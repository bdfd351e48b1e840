#pragma once
// SIGSEGV diagnosis for the CUDA emulator. Emulated device memory is unreadable from host code outside runtime calls
// and launches, and fiber stacks have guard pages; a fault inside one of those regions prints what went wrong
// before the previous handler (Catch2's, or the default one) reports the crash as usual.
#include <cstddef>

namespace preimage::emu {

void register_fault_region(const void* base, size_t bytes, const char* message);
void unregister_fault_region(const void* base);
// (Re)installs the handler if another one replaced it: Catch2 installs its own around each test case.
void ensure_fault_handler();

}  // namespace preimage::emu
