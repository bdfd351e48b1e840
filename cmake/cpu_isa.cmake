# Run-time ISA dispatch (kernels/cpu_isa.h, docs/portability.md): the fast CPU paths are compiled once more for each
# of AVX2+FMA and AVX-512, each copy partially linked (ld -r) into one object whose only global symbols are its
# table getter and the (code-free) type_info objects; everything else, the inline code of Eigen and of the standard
# library included, is made local by objcopy. No caller outside a copy can therefore bind to code compiled for an
# ISA the machine lacks; which copy runs is decided once, at run time, from CPUID.
#
# Uses: PREIMAGE_ISA_SOURCES (the fast paths + kernels/cpu/isa_table.cpp), the library target preimage_core.

set(PREIMAGE_ISA_FLAGS_avx2 -mavx2 -mfma -mf16c -DPREIMAGE_ISA_EXPECT_AVX2)
set(PREIMAGE_ISA_FLAGS_avx512 -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c
    -DPREIMAGE_ISA_EXPECT_AVX512)
# GCC 12's avx512fintrin.h initialises its "undefined" vectors as `__m512 __Y = __Y;`, which -Wmaybe-uninitialized
# reports at every inlined use (about 500 times through Eigen's AVX-512 GEMM; GCC bug 105593, fixed in GCC 13).
# Silenced for that copy and compiler only, so the warning stays on for our own code everywhere else.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND PREIMAGE_ISA_FLAGS_avx512 -Wno-maybe-uninitialized)
endif()

find_program(PREIMAGE_OBJCOPY NAMES objcopy REQUIRED)
# GNU ld's --force-group-allocation is needed below (clang's CMAKE_LINKER, ld.lld, lacks it).
find_program(PREIMAGE_PARTIAL_LINKER NAMES ld.bfd ld REQUIRED)

foreach(_isa avx2 avx512)
  set(_objlib preimage_isa_${_isa})
  add_library(${_objlib} OBJECT ${PREIMAGE_ISA_SOURCES})
  target_include_directories(${_objlib} PRIVATE ${CMAKE_SOURCE_DIR})
  target_link_libraries(${_objlib} PRIVATE Eigen3::Eigen OpenMP::OpenMP_CXX nlohmann_json::nlohmann_json)
  if(PREIMAGE_CUDA_EMULATION)
    target_include_directories(${_objlib} BEFORE PRIVATE ${CMAKE_SOURCE_DIR}/engine/cuda_emu/include)
    target_compile_definitions(${_objlib} PRIVATE PREIMAGE_CUDA_EMULATION=1)
  else()
    target_include_directories(${_objlib} PRIVATE ${CUDAToolkit_INCLUDE_DIRS})
  endif()
  target_compile_definitions(${_objlib} PRIVATE PREIMAGE_ISA_TABLE=preimage_cpu_kernels_${_isa}
                             PREIMAGE_ISA_ENUM=${_isa})
  # -fno-gnu-unique: static locals of inline functions (Eigen's cache sizes and thread count) are otherwise
  # STB_GNU_UNIQUE symbols, which objcopy cannot make local; each copy keeps its own.
  target_compile_options(${_objlib} PRIVATE ${PREIMAGE_WARNINGS} ${PREIMAGE_FP_FLAGS} ${PREIMAGE_ISA_FLAGS_${_isa}}
                         $<$<CXX_COMPILER_ID:GNU>:-fno-gnu-unique>)
  set_target_properties(${_objlib} PROPERTIES POSITION_INDEPENDENT_CODE ON)

  set(_merged ${CMAKE_BINARY_DIR}/isa/preimage_isa_${_isa}_merged.o)
  set(_final ${CMAKE_BINARY_DIR}/isa/preimage_isa_${_isa}.o)
  add_custom_command(
    OUTPUT ${_final}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/isa
    # --force-group-allocation resolves the copy's COMDAT groups among its own objects and dissolves them, so the
    # symbols objcopy makes local are plain local definitions afterwards.
    COMMAND ${PREIMAGE_PARTIAL_LINKER} -r --force-group-allocation -o ${_merged} $<TARGET_OBJECTS:${_objlib}>
    COMMAND ${PREIMAGE_OBJCOPY} --wildcard --keep-global-symbol=preimage_cpu_kernels_${_isa}
            --keep-global-symbol=_ZTI* --keep-global-symbol=_ZTS* ${_merged} ${_final}
    DEPENDS $<TARGET_OBJECTS:${_objlib}>
    COMMAND_EXPAND_LISTS
    COMMENT "Partially linking the ${_isa} copy of the fast CPU paths")
  set_source_files_properties(${_final} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  target_sources(preimage_core PRIVATE ${_final})
  add_dependencies(preimage_core ${_objlib})  # DEPENDS on object files alone orders no targets
endforeach()
