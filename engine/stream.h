#pragma once
// A CUDA stream, owned and move-only. Launchers take a cudaStream_t; the engine uses the default stream unless a
// caller passes one of these.
#include <cuda_runtime_api.h>

namespace preimage::cuda {

class Stream {
 public:
  Stream();  // cudaStreamCreateWithFlags(non-blocking); throws without a GPU
  ~Stream();
  Stream(Stream&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stream& operator=(Stream&& o) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return s_; }
  void synchronize() const;

 private:
  cudaStream_t s_ = nullptr;
};

}  // namespace preimage::cuda
