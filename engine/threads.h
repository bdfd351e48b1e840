#pragma once
// CPU threading: OpenMP for our loops and Eigen's GEMM. One process-wide setting (--threads N in the tools).
namespace preimage {
void set_num_threads(int n);  // n >= 1
int num_threads();
}  // namespace preimage
