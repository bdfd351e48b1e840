#include "engine/cuda_check.h"

#include <cstdlib>
#include <string>

namespace preimage::cuda {

void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  // A failed runtime call also sets the runtime's last-error state; clear it (after reading the message, which the
  // emulated runtime ties to it) so the next launch check does not report this failure a second time.
  std::string msg = std::string("CUDA error ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ") in " +
                    call + " at " + file + ":" + std::to_string(line);
  if (err == cudaErrorMemoryAllocation)
    msg += "; the GPU is out of memory: use a smaller batch or image size, or free other GPU work";
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver)
    msg += "; no usable GPU here: run with --device cpu";
  (void)cudaGetLastError();
  throw Error(msg);
}

bool sync_after_launch() {
  static const bool on = [] {
    const char* v = std::getenv("PREIMAGE_CUDA_SYNC");
    return v && *v && std::string(v) != "0";
  }();
  return on;
}

void check_launch(const char* kernel, const char* file, int line) {
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess && sync_after_launch()) err = cudaDeviceSynchronize();
  if (err != cudaSuccess) throw_cuda_error(err, kernel, file, line);
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

}  // namespace preimage::cuda
