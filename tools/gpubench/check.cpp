#include "tools/gpubench/check.h"

#include <string>

namespace preimage::gpubench {

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  std::string msg = std::string("cuBLAS error ") + cublasGetStatusName(status) + " (" +
                    cublasGetStatusString(status) + ") in " + call + " at " + file + ":" + std::to_string(line);
  if (status == CUBLAS_STATUS_ALLOC_FAILED) msg += "; the GPU is out of memory: run fewer or smaller cases (--cases, --batch)";
  throw Error(msg);
}

void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
  std::string msg = std::string("cuDNN error ") + cudnnGetErrorString(status) + " in " + call + " at " + file + ":" +
                    std::to_string(line);
  if (status == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED) msg += "; the GPU is out of memory: run fewer or smaller cases (--cases, --batch)";
  throw Error(msg);
}

}  // namespace preimage::gpubench
