# Detect the build machine's vector ISA and compile host code for it: AVX-512 (F/BW/VL/DQ) when present, else
# AVX2 + FMA, else the portable x86-64 baseline. Override with -DPREIMAGE_CPU_FLAGS="..." (empty for portable).
# Detection runs the CPUID-based __builtin_cpu_supports, so a virtual machine that hides AVX-512 gets AVX2 code.
if(NOT DEFINED PREIMAGE_CPU_FLAGS)
  set(_probe ${CMAKE_BINARY_DIR}/cpu_probe.c)
  file(WRITE ${_probe} "
int main(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports(\"avx512f\") && __builtin_cpu_supports(\"avx512bw\") &&
      __builtin_cpu_supports(\"avx512vl\") && __builtin_cpu_supports(\"avx512dq\")) return 2;
  if (__builtin_cpu_supports(\"avx2\") && __builtin_cpu_supports(\"fma\")) return 1;
  return 0;
}
")
  try_run(_isa _compiled ${CMAKE_BINARY_DIR}/cpu_probe ${_probe})
  if(_compiled AND _isa EQUAL 2)
    set(PREIMAGE_CPU_FLAGS -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c)
  elseif(_compiled AND _isa EQUAL 1)
    set(PREIMAGE_CPU_FLAGS -mavx2 -mfma -mf16c)
  else()
    set(PREIMAGE_CPU_FLAGS "")
  endif()
endif()
message(STATUS "preimage: host vector flags: '${PREIMAGE_CPU_FLAGS}'")
