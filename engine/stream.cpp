#include "engine/stream.h"

#include "engine/cuda_check.h"

namespace preimage::cuda {

Stream::Stream() { PI_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }

Stream::~Stream() {
  if (s_) cudaStreamDestroy(s_);
}

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    if (s_) cudaStreamDestroy(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

void Stream::synchronize() const { PI_CUDA_CHECK(cudaStreamSynchronize(s_)); }

}  // namespace preimage::cuda
