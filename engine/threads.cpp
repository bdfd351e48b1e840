#include "engine/threads.h"

#include <omp.h>

#include <Eigen/Core>

#include "engine/error.h"

namespace preimage {

void set_num_threads(int n) {
  PI_CHECK(n >= 1, "thread count must be at least 1, got ", n);
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace preimage
