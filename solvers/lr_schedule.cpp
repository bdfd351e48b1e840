// Constant-then-halving learning rate (solvers/lr_schedule.h).
#include "solvers/lr_schedule.h"

#include "engine/error.h"

namespace preimage::solvers {

float decoder_learning_rate(float base, int64_t step, int64_t total) {
  PI_CHECK(total >= 1 && step >= 1 && step <= total, "learning-rate schedule: step ", step, " of ", total);
  const int64_t tenth = (10 * (step - 1)) / total;  // 0..9: which tenth of the run this step is in
  float lr = base;
  for (int64_t k = 7; k <= tenth; ++k) lr *= 0.5f;
  return lr;
}

}  // namespace preimage::solvers
