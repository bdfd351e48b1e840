#pragma once
// Pre-image by optimisation: minimises the objective of solvers/objective.h over the image with IJCV Algorithm 1
// (AdaGrad variant with momentum rho and the B+ projection) or CVPR momentum gradient descent.
#include <cstdint>
#include <functional>
#include <vector>

#include "solvers/objective.h"

namespace preimage::solvers {

enum class SolverKind { adagrad, momentum };

struct SolverParams {
  SolverKind kind = SolverKind::adagrad;
  int iterations = 300;  // T
  float rho = 0.9f;      // Algorithm 1's decay (both G and mu)
  // Algorithm 1's eta0. <= 0 selects the default 0.01 B^2 / alpha * H * W: the printed value assumes regularisers
  // that are not divided by the pixel count; ours are (eqs. 5 and TV), so the rate is scaled by H W as in the
  // authors' code (see docs/preimage.md).
  float eta0 = -1.0f;
  // momentum GD (CVPR): fixed rate, reduced tenfold at each fraction of T listed in lr_drops.
  float momentum = 0.9f;
  float lr = -1.0f;  // <= 0: chosen so that the first step moves the image by about B/10 (RMS)
  std::vector<float> lr_drops = {0.6f, 0.85f};
  uint64_t seed = 0;
  float init_sigma = 0.0f;  // std of the random initial image; <= 0 -> B / 10 per channel
};

struct IterationStats {
  int iteration = 0;
  ObjectiveTerms terms;
};

struct PreimageResult {
  Tensor image;                       // [1, C, H, W], zero-mean domain (add the mean back to view it)
  ObjectiveTerms final_terms;         // evaluated at the returned image, no jitter
  std::vector<IterationStats> trace;  // one entry per iteration
};

struct PreimageProblem {
  Representation phi;
  const View* phi0 = nullptr;   // target features
  const View* mask = nullptr;   // optional binary mask of phi0's shape
  Shape image_shape;            // [1, C, H, W] of the representation's input
  const View* init = nullptr;   // optional starting image (caricatures start from the original); else noise
};

// Algorithm 1's default eta0 for an image of shape [1, C, H, W]: 0.01 B^2 / alpha * H * W (see SolverParams::eta0).
float default_eta0(const ObjectiveParams& objective, const Shape& image_shape);

// progress(iteration, terms) is called after every iteration; snapshot(iteration, image) when given, at the
// iterations listed in `snapshot_at`. Throws preimage::Error if the objective becomes NaN or infinite.
PreimageResult invert(const PreimageProblem& problem, const ObjectiveParams& objective, const SolverParams& solver,
                      const std::function<void(int, const ObjectiveTerms&)>& progress = {},
                      const std::vector<int>& snapshot_at = {},
                      const std::function<void(int, const View&)>& snapshot = {});

}  // namespace preimage::solvers
