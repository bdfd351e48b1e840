#pragma once
// Shared helpers for kernel launchers (kernels/<op>.cpp): every launcher checks its operands, then dispatches on
// the device. Ops without a CUDA kernel yet say so instead of silently falling back to the CPU.
#include "engine/error.h"
#include "engine/tensor.h"

namespace preimage::kernels {

[[noreturn]] inline void no_cuda_kernel(const char* op) {
  fail(op, ": no CUDA kernel for this op yet; run it with --device cpu");
}

// Which CPU implementation launchers use for ops that have both a plain reference and a faster path
// (im2col + GEMM). Tests switch to `reference` to compare; tools always use `fast`.
enum class CpuPath { fast, reference };
void set_cpu_path(CpuPath path);
CpuPath cpu_path();

}  // namespace preimage::kernels
