#pragma once
// Device launchers for kernels/losses.h (kernels/cuda/losses.cu): raw device pointers, contiguous floats; y / d_y
// one float on the device. Sums in double with a fixed reduction tree (deterministic). Backward ACCUMULATES.
#include <cstdint>

#include <cuda_runtime_api.h>

namespace preimage::kernels::cuda {

// phi, phi0, mask (null = all ones), d_phi: [n, d]. Throws preimage::Error when some ||phi0_n . M_n|| is 0, like the
// reference: that check reads the n per-sample energies back to the host, so these two synchronise the stream.
void normalised_l2_forward(const float* phi, const float* phi0, const float* mask, int64_t n, int64_t d, float* y,
                           cudaStream_t stream = nullptr);
void normalised_l2_backward(const float* phi, const float* phi0, const float* mask, const float* d_y, float* d_phi,
                            int64_t n, int64_t d, cudaStream_t stream = nullptr);
// phi, phi0, d_phi: [count]
void inner_product_forward(const float* phi, const float* phi0, int64_t count, float Z, float* y,
                           cudaStream_t stream = nullptr);
void inner_product_backward(const float* phi0, const float* d_y, float* d_phi, int64_t count, float Z,
                            cudaStream_t stream = nullptr);

}  // namespace preimage::kernels::cuda
