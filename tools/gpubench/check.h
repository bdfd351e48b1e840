#pragma once
// Checked cuBLAS and cuDNN calls for the GPU benchmark (engine/cuda_check.h does the same for the CUDA runtime): a
// failure throws preimage::Error naming the call, the file/line and the library's status.
#include <cublas_v2.h>
#include <cudnn.h>

#include "engine/cuda_check.h"

namespace preimage::gpubench {

[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line);
[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line);

}  // namespace preimage::gpubench

#define PI_CUBLAS_CHECK(call)                                                                          \
  do {                                                                                                 \
    cublasStatus_t pi_status_ = (call);                                                                \
    if (pi_status_ != CUBLAS_STATUS_SUCCESS)                                                           \
      ::preimage::gpubench::throw_cublas_error(pi_status_, #call, __FILE__, __LINE__);                 \
  } while (0)

#define PI_CUDNN_CHECK(call)                                                                           \
  do {                                                                                                 \
    cudnnStatus_t pi_status_ = (call);                                                                 \
    if (pi_status_ != CUDNN_STATUS_SUCCESS)                                                            \
      ::preimage::gpubench::throw_cudnn_error(pi_status_, #call, __FILE__, __LINE__);                  \
  } while (0)
