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
  // Step annealing of Algorithm 1: from iteration anneal_from * T on, the update x += mu is scaled by a factor that
  // falls linearly to 0 at T (1 = never: the paper's algorithm). With the default eta0 the AdaGrad step is about
  // one grey level whatever the gradient, so without it the iterate keeps circling the optimum (docs/preimage.md).
  float anneal_from = 1.0f;
  uint64_t seed = 0;
  float init_sigma = 0.0f;  // std of the random initial image; <= 0 -> B / 10 per channel
  // The objective's terms are logged on the solver's device every iteration and read back to the host every
  // `readback_every` iterations (and at snapshots and the last iteration): that is when progress() is called and
  // NaN/Inf is checked, before that iteration's step. Between read-backs an iteration makes no device->host copy
  // (docs/device.md). 0: every iteration on the CPU (reading is free there, and a NaN stops the solver before it
  // steps on it), kDefaultReadbackEvery on CUDA.
  int readback_every = 0;
  static constexpr int kDefaultReadbackEvery = 10;
};

struct IterationStats {
  int iteration = 0;
  ObjectiveTerms terms;
};

struct PreimageResult {
  Tensor image;                       // [1, C, H, W] on the solver's device, zero-mean domain (add the mean back)
  ObjectiveTerms final_terms;         // evaluated at the returned image, no jitter
  std::vector<IterationStats> trace;  // one entry per iteration
};

// The solver runs on phi0's device: the image variable, the optimiser state, the tape and the term log live there,
// and phi must compute on it (a network's parameters on that device). mask must be on the same device; init may be
// on that device or on the host (then it is placed in the canvas on the host and uploaded once).
struct PreimageProblem {
  Representation phi;
  const View* phi0 = nullptr;   // target features
  const View* mask = nullptr;   // optional binary mask of phi0's shape
  Shape image_shape;            // [1, C, H, W] of the representation's input
  const View* init = nullptr;   // optional starting image (caricatures start from the original); else noise
};

// Algorithm 1's default eta0 for an image of shape [1, C, H, W]: 0.01 B^2 / alpha * H * W (see SolverParams::eta0).
float default_eta0(const ObjectiveParams& objective, const Shape& image_shape);

// progress(iteration, terms) is called once for every iteration, in order, at the read-backs (SolverParams::
// readback_every); snapshot(iteration, image) when given, at the iterations listed in `snapshot_at`, with a host
// copy of the image. Throws preimage::Error naming the first iteration whose objective was NaN or infinite (found
// at the next read-back).
PreimageResult invert(const PreimageProblem& problem, const ObjectiveParams& objective, const SolverParams& solver,
                      const std::function<void(int, const ObjectiveTerms&)>& progress = {},
                      const std::vector<int>& snapshot_at = {},
                      const std::function<void(int, const View&)>& snapshot = {});

// A batch of independent inversions of images of one shape through one representation, optimised together: every
// iteration is one pass of the tape over the [N, C, H, W] batch (docs/preimage.md, "Batched inversion"). Each
// sample n keeps its own seed (initial noise and jitter shifts), its own optimiser state, its own momentum rate and
// its own normalised loss, and the objective is the sum of the per-sample objectives, whose gradient with respect
// to sample n is that sample's own gradient: so sample n's image is bit for bit what invert() returns for it alone
// (tests/test_preimage_batch.cpp), provided the representation treats the samples of a batch independently with
// the same arithmetic as one sample (true of HOG, HOGb, DSIFT and LBP on every device).
struct BatchProblem {
  Representation phi;
  const View* phi0 = nullptr;   // target features [N, ...]
  const View* mask = nullptr;   // optional binary mask of phi0's shape
  Shape image_shape;            // [N, C, H, W]
  const View* init = nullptr;   // optional starting images [N, C, H, W]; else noise from each sample's seed
  std::vector<uint64_t> seeds;  // one per sample: what SolverParams::seed is to invert()
};

struct BatchResult {
  Tensor images;                          // [N, C, H, W] on the solver's device, zero-mean domain
  std::vector<ObjectiveTerms> final_terms;  // per sample, evaluated at its returned image, no jitter
  std::vector<IterationStats> trace;      // per iteration: the terms summed over the batch
};

// As invert(), for the batch: progress(iteration, terms summed over the batch); snapshot(iteration, images
// [N, C, H, W] on the host). A non-finite objective (any sample) throws, naming the iteration; callers that want the
// other samples' results then invert each sample alone (tools/preimage/cmd_invert.cpp does).
BatchResult invert_batch(const BatchProblem& problem, const ObjectiveParams& objective, const SolverParams& solver,
                         const std::function<void(int, const ObjectiveTerms&)>& progress = {},
                         const std::vector<int>& snapshot_at = {},
                         const std::function<void(int, const View&)>& snapshot = {});

}  // namespace preimage::solvers
