#pragma once
// The pre-image objective (IJCV 2016 eq. 1; CVPR 2015 eq. 3):
//   ijcv:  E(x) = N_alpha(x) + TV^beta(x) + C * loss(Phi(jitter(x)), Phi0)         (eqs. 1-7, B+ by projection)
//   cvpr:  E(x) = loss(Phi(sigma x), Phi0) + lambda_alpha ||x - mean||_alpha^alpha + lambda_V V^beta(x)
// loss is the normalised L2 (eqs. 2-3, optional mask) or the inner product -<Phi, Phi0>/Z (eq. 4).
// The image x is zero-mean (IJCV footnote 1): callers add the mean back when they write it out.
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "engine/ops.h"

namespace preimage::solvers {

// A representation as a differentiable function of the image: image [N, C, H, W] -> features.
using Representation = std::function<Var(Tape&, Var image)>;

enum class LossKind { l2, inner_product };
enum class ObjectiveForm { ijcv, cvpr };

struct ObjectiveParams {
  ObjectiveForm form = ObjectiveForm::ijcv;
  LossKind loss = LossKind::l2;
  float C = 1.0f;           // loss weight (IJCV); 20 for HOG/DSIFT (IJCV sect. 5.1)
  float alpha = 6.0f;       // N_alpha exponent
  float B = 80.0f;          // typical pixel RGB norm
  float B_plus = 160.0f;    // hard bound on each pixel's norm (projection), 2B
  float beta = 2.0f;        // TV exponent
  float V = 80.0f / 6.5f;   // typical gradient norm, B/6.5
  float Z = 1.0f;           // inner-product normaliser
  int jitter = 1;           // T of eq. 7: random shifts in [0, T-1]^2; 1 = none
  // cvpr form only
  float sigma = 1.0f, lambda_alpha = 0.0f, lambda_tv = 0.0f;
};

struct ObjectiveTerms {
  double loss = 0, r_alpha = 0, r_tv = 0, total = 0;
};

// The scalars of E as they sit on the tape (on the tape's device), unweighted except `total`, and the weights the
// regularisers carry in E. Reading them is the caller's choice: the solver copies them into a device log and reads
// that back only every few iterations (solvers/preimage.h), so an iteration on the GPU never waits for the host.
struct ObjectiveVars {
  Var loss, r_alpha, r_tv, total;
  float w_alpha = 1.0f, w_tv = 1.0f;
  static constexpr int kCount = 4;  // values per iteration in a term log: loss, r_alpha, r_tv, total
};
// The terms from host copies of [loss, r_alpha, r_tv, total] (floats, as the tape holds them) and the weights.
ObjectiveTerms terms_from_values(const float values[ObjectiveVars::kCount], float w_alpha, float w_tv);

// Builds E(x) on the tape for the image variable x and returns the total (a scalar Var); fills `vars` (no device
// read). phi0 (and mask, if valid) are constants already on the tape. tau = jitter offset (top, left) in [0, T-1].
Var build_objective_vars(Tape& t, Var x, const Representation& phi, Var phi0, Var mask, const ObjectiveParams& p,
                         int tau_y, int tau_x, ObjectiveVars* vars);
// The same with one jitter shift per sample of x [N, C, H, W] (tau_y[n], tau_x[n]: N entries each), for a batch of
// independent inversions (solvers/preimage.h invert_batch); one entry shifts every sample alike.
Var build_objective_vars(Tape& t, Var x, const Representation& phi, Var phi0, Var mask, const ObjectiveParams& p,
                         const std::vector<int64_t>& tau_y, const std::vector<int64_t>& tau_x, ObjectiveVars* vars);
// The same, reading the four values back into `terms` when given (one device->host copy per term).
Var build_objective(Tape& t, Var x, const Representation& phi, Var phi0, Var mask, const ObjectiveParams& p,
                    int tau_y, int tau_x, ObjectiveTerms* terms);

}  // namespace preimage::solvers
