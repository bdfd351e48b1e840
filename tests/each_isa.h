#pragma once
// Runs a fast-path test once per CPU code path this machine can run (kernels/cpu_isa.h): baseline, and AVX2 /
// AVX-512 where present, so an AVX-512 machine also tests the AVX2 copy that AVX2-only machines will run.
//   TEST_CASE("...", "[fastpath]") { PREIMAGE_EACH_CPU_ISA(); ... }
#include <catch2/catch.hpp>

#include <vector>

#include "kernels/cpu_isa.h"

namespace preimage::test {

inline std::vector<kernels::Isa> runnable_isas() {
  std::vector<kernels::Isa> out;
  for (kernels::Isa isa : {kernels::Isa::baseline, kernels::Isa::avx2, kernels::Isa::avx512})
    if (kernels::isa_supported(isa)) out.push_back(isa);
  return out;
}

// Switches the launchers' ISA copy for one scope and restores the previous one.
class CpuIsaScope {
 public:
  explicit CpuIsaScope(kernels::Isa isa) : saved_(kernels::cpu_kernels().isa) { kernels::set_cpu_isa(isa); }
  ~CpuIsaScope() { kernels::set_cpu_isa(saved_); }
  CpuIsaScope(const CpuIsaScope&) = delete;
  CpuIsaScope& operator=(const CpuIsaScope&) = delete;

 private:
  kernels::Isa saved_;
};

}  // namespace preimage::test

// GENERATE re-runs the enclosing test case from the top for each value.
#define PREIMAGE_EACH_CPU_ISA()                                                                     \
  const ::preimage::kernels::Isa each_cpu_isa_ = GENERATE(from_range(::preimage::test::runnable_isas())); \
  const ::preimage::test::CpuIsaScope each_cpu_isa_scope_(each_cpu_isa_);                           \
  INFO("CPU code path " << ::preimage::kernels::isa_name(each_cpu_isa_))
