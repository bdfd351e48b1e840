// One ISA copy's table of fast paths (kernels/cpu_isa.h). Compiled once per ISA with that ISA's flags, together
// with the fast-path sources; the baseline copy is the library's own build of them.
#include <Eigen/Core>

#include "kernels/cpu_isa.h"

#ifndef PREIMAGE_ISA_TABLE  // the library's own (baseline) build
#define PREIMAGE_ISA_TABLE preimage_cpu_kernels_baseline
#define PREIMAGE_ISA_ENUM baseline
#endif

// A copy built without its ISA's flags would be mislabelled: refuse to build it.
#if defined(PREIMAGE_ISA_EXPECT_AVX512) && !(defined(__AVX512F__) && defined(__AVX512BW__) && \
                                              defined(__AVX512VL__) && defined(__AVX512DQ__) && defined(__FMA__))
#error "the avx512 copy must be compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma"
#endif
#if defined(PREIMAGE_ISA_EXPECT_AVX2) && !(defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__))
#error "the avx2 copy must be compiled with -mavx2 -mfma and without AVX-512"
#endif

namespace {
void set_gemm_threads(int n) { Eigen::setNbThreads(n); }
}  // namespace

extern "C" const preimage::kernels::CpuKernels* PREIMAGE_ISA_TABLE() {
  using namespace preimage::kernels;
  static const CpuKernels table = [] {
    CpuKernels t{};
    t.isa = Isa::PREIMAGE_ISA_ENUM;
    t.set_gemm_threads = &set_gemm_threads;
#define PREIMAGE_CPU_KERNEL_ENTRY(ns, fn) t.ns##_##fn = &ns::fn;
    PREIMAGE_CPU_FAST_PATHS(PREIMAGE_CPU_KERNEL_ENTRY)
#undef PREIMAGE_CPU_KERNEL_ENTRY
    return t;
  }();
  return &table;
}
