#pragma once
// Device launchers for kernels/optimisers.h (kernels/cuda/optimisers.cu): raw device pointers to n contiguous floats,
// updated in place, same float arithmetic as the ref:: templates (one thread per element).
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/optimisers.h"

namespace preimage::kernels::cuda {

void adagrad_rho_step(float* x, float* G, float* mu, const float* g, int64_t n, float rho, float eta0,
                      cudaStream_t stream = nullptr);
void momentum_step(float* x, float* mu, const float* g, int64_t n, float m, float eta, cudaStream_t stream = nullptr);
// t counts from 1; the bias corrections 1 - beta^t are computed on the host as the reference does.
void adam_step(float* x, float* m, float* v, const float* g, int64_t n, const AdamParams& p, int64_t t,
               cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
