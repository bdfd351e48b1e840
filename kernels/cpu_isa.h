#pragma once
// Run-time choice of the CPU's vector ISA for the fast CPU paths, so that one binary runs on any x86-64 machine and
// still uses AVX2 or AVX-512 where the machine has them.
//
// The fast-path sources (PREIMAGE_ISA_SOURCES in CMakeLists.txt) are compiled three times: for the x86-64 baseline
// (part of the library as usual), for AVX2+FMA and for AVX-512 (F/BW/VL/DQ). Each ISA copy is partially linked into
// one object whose only global symbol is its table getter (preimage_cpu_kernels_<isa>); every other symbol of the
// copy, Eigen's and the standard library's inline code included, is made local, so no caller outside the copy can
// bind to a function compiled for an ISA the machine may lack (docs/portability.md). The launchers call the fast
// paths through the table of the ISA chosen once per process:
//   the best one the CPU (and OS, via XCR0) supports, or the one named by PREIMAGE_ISA=baseline|avx2|avx512;
//   naming one the machine cannot run is an error, never a silent downgrade.
#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "kernels/dsift.h"
#include "kernels/hog.h"
#include "kernels/linear.h"
#include "kernels/lrn.h"
#include "kernels/regularisers.h"

namespace preimage::kernels {

enum class Isa { baseline, avx2, avx512 };
constexpr int kIsaCount = 3;
const char* isa_name(Isa isa);
bool isa_supported(Isa isa);  // by this CPU and OS
Isa best_supported_isa();

// Every fast path that code outside the ISA copies calls, as (namespace, function) of its declaration. The
// predicates (winograd::applies, simd::supports) do not depend on the ISA and are called directly.
#define PREIMAGE_CPU_FAST_PATHS(X)                                                                           \
  X(im2col, conv2d_forward) X(im2col, conv2d_backward) X(winograd, conv2d_forward)                           \
  X(winograd, conv2d_backward_input) X(im2col, conv_transpose2d_forward) X(im2col, conv_transpose2d_backward) \
  X(gemm, linear_forward) X(gemm, linear_backward) X(pixelblock, lrn_forward) X(pixelblock, lrn_backward)    \
  X(simd, leaky_relu_forward) X(simd, leaky_relu_backward) X(simd, isotropic_alpha_norm_forward)             \
  X(simd, isotropic_alpha_norm_backward) X(simd, tv_beta_forward) X(simd, tv_beta_backward)                  \
  X(simd, project_ball) X(cellrow, hog_gradient_forward) X(cellrow, hog_gradient_backward)                   \
  X(cellrow, hog_binning_forward) X(cellrow, hog_binning_backward) X(cellrow, hog_normalise_forward)         \
  X(cellrow, hog_normalise_backward) X(interleaved, dsift_pool_forward) X(interleaved, dsift_pool_backward)  \
  X(framevec, dsift_normalise_forward) X(framevec, dsift_normalise_backward)                                 \
  X(interleaved, dsift_orient_forward) X(interleaved, dsift_orient_backward)

// One ISA copy's fast paths: member <namespace>_<function> has the declared function's type.
struct CpuKernels {
  Isa isa;
  void (*set_gemm_threads)(int n);  // Eigen's thread count lives in each copy's own Eigen
#define PREIMAGE_CPU_KERNEL_MEMBER(ns, fn) decltype(&ns::fn) ns##_##fn;
  PREIMAGE_CPU_FAST_PATHS(PREIMAGE_CPU_KERNEL_MEMBER)
#undef PREIMAGE_CPU_KERNEL_MEMBER
};

// The table of the ISA this process uses, chosen on the first call (thread-safe); throws a clear error when
// PREIMAGE_ISA names an unknown ISA or one this machine cannot run.
const CpuKernels& cpu_kernels();
// Switches the table in use (tests and benchmarks run every copy the machine can run); throws when the machine
// cannot run `isa`. Not for use while other threads run kernels.
void set_cpu_isa(Isa isa);
// Every ISA copy this machine can run.
const CpuKernels* cpu_kernels_for(Isa isa);  // nullptr when unsupported
// Sets the GEMM thread count in every copy this machine can run.
void set_gemm_threads_all(int n);

}  // namespace preimage::kernels
