#pragma once
// Every CUDA runtime call goes through PI_CUDA_CHECK: a failure throws preimage::Error naming the call, the
// file/line and the runtime's message. Set PREIMAGE_CUDA_SYNC=1 to synchronise after each kernel launch, so an
// asynchronous fault is reported at the launch that caused it (debug option).
#include <cuda_runtime_api.h>

#include "engine/error.h"

namespace preimage::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);
bool sync_after_launch();                             // reads PREIMAGE_CUDA_SYNC once
void check_launch(const char* kernel, const char* file, int line);  // after <<<>>>: cudaGetLastError (+sync)
int device_count();                                   // 0 when no driver or no GPU; never throws

}  // namespace preimage::cuda

#define PI_CUDA_CHECK(call)                                                         \
  do {                                                                              \
    cudaError_t pi_err_ = (call);                                                   \
    if (pi_err_ != cudaSuccess) ::preimage::cuda::throw_cuda_error(pi_err_, #call, __FILE__, __LINE__); \
  } while (0)

#define PI_CUDA_CHECK_LAUNCH(kernel_name) ::preimage::cuda::check_launch(kernel_name, __FILE__, __LINE__)
