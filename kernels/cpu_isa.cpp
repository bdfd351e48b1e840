// Choosing the ISA copy of the fast CPU paths at run time (kernels/cpu_isa.h). Compiled for the baseline only.
#include "kernels/cpu_isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/error.h"

// The ISA copies' table getters (kernels/cpu/isa_table.cpp, one partially linked object per ISA).
extern "C" const preimage::kernels::CpuKernels* preimage_cpu_kernels_baseline();
extern "C" const preimage::kernels::CpuKernels* preimage_cpu_kernels_avx2();
extern "C" const preimage::kernels::CpuKernels* preimage_cpu_kernels_avx512();

namespace preimage::kernels {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::baseline: return "baseline";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

// libgcc's __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0), so a kernel or a
// hypervisor that hides AVX-512 state gives false here. The avx512 copy is compiled for F/BW/VL/DQ (+ FMA).
bool isa_supported(Isa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case Isa::baseline: return true;
    case Isa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::avx512:
      return isa_supported(Isa::avx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  }
  return false;
}

Isa best_supported_isa() {
  for (Isa isa : {Isa::avx512, Isa::avx2})
    if (isa_supported(isa)) return isa;
  return Isa::baseline;
}

namespace {
const CpuKernels* table_of(Isa isa) {
  switch (isa) {
    case Isa::baseline: return preimage_cpu_kernels_baseline();
    case Isa::avx2: return preimage_cpu_kernels_avx2();
    case Isa::avx512: return preimage_cpu_kernels_avx512();
  }
  return nullptr;
}

Isa chosen_isa() {
  const char* forced = std::getenv("PREIMAGE_ISA");
  if (!forced || !*forced) return best_supported_isa();
  for (Isa isa : {Isa::baseline, Isa::avx2, Isa::avx512}) {
    if (std::strcmp(forced, isa_name(isa)) != 0) continue;
    PI_CHECK(isa_supported(isa), "PREIMAGE_ISA=", forced, ": this CPU cannot run the ", forced,
             " code path (the best it supports is ", isa_name(best_supported_isa()),
             "); unset PREIMAGE_ISA or name a lower one");
    return isa;
  }
  fail("PREIMAGE_ISA=", forced, " is not an ISA this build knows; use baseline, avx2 or avx512, or unset it");
}
}  // namespace

namespace {
std::atomic<const CpuKernels*> g_active{nullptr};
}

const CpuKernels& cpu_kernels() {
  // The first call reads PREIMAGE_ISA (thread-safe static initialisation); set_cpu_isa may switch later.
  static const bool initialised = [] {
    g_active.store(table_of(chosen_isa()), std::memory_order_release);
    return true;
  }();
  (void)initialised;
  return *g_active.load(std::memory_order_acquire);
}

void set_cpu_isa(Isa isa) {
  PI_CHECK(isa_supported(isa), "this CPU cannot run the ", isa_name(isa), " code path");
  cpu_kernels();
  g_active.store(table_of(isa), std::memory_order_release);
}

const CpuKernels* cpu_kernels_for(Isa isa) { return isa_supported(isa) ? table_of(isa) : nullptr; }

void set_gemm_threads_all(int n) {
  for (Isa isa : {Isa::baseline, Isa::avx2, Isa::avx512})
    if (const CpuKernels* t = cpu_kernels_for(isa)) t->set_gemm_threads(n);
}

}  // namespace preimage::kernels
