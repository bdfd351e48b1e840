#include "engine/threads.h"

#include <omp.h>

#include "engine/error.h"
#include "kernels/cpu_isa.h"

namespace preimage {

void set_num_threads(int n) {
  PI_CHECK(n >= 1, "thread count must be at least 1, got ", n);
  omp_set_num_threads(n);
  // Each ISA copy of the fast paths has its own (local) Eigen, hence its own GEMM thread count.
  kernels::set_gemm_threads_all(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace preimage
