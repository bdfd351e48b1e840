#pragma once
// Emulated CUDA build only: like CUDA's cuda_runtime.h, the runtime API plus the language (qualifiers, built-in
// variables, intrinsics, the launch). nvcc includes the real one implicitly in .cu files; kernels/cuda/launch.h
// includes this name explicitly so both builds see the same declarations.
#include "cuda_runtime_api.h"
#include "engine/cuda_emu/cuda_emu.h"
