#pragma once
// Pre-images of CNN layers (seed 001 sects. 5.2, 6, 7): the per-layer settings of the paper, the masks of Figs. 9-10,
// the targets of activation maximisation and caricatures, and the two-stage inversion of the authors' code.
// docs/deep.md explains every rule and where it comes from.
#include <cstdint>
#include <string>

#include "layers/network.h"
#include "solvers/preimage.h"

namespace preimage::solvers {

// --- per-layer defaults (inversion, seed 001 sect. 5.2.1) ---
// Loss weight C: 300 up to relu3, 100 up to relu4, 20 up to relu5, 1 after, for AlexNet, CaffeNet and VGG-M. For
// VGG-VD-16 the paper gives its own rule: 300 up to conv4_3, 100 for conv5_1, 20 up to conv5_3, 1 onwards. Layers
// between two named ones go with the earlier block: a ReLU with its convolution (relu4_3 -> 300, relu5_1 -> 100),
// a pooling or normalisation layer with what precedes it (AlexNet's norm2/pool2 -> 300, VGG-VD's pool4 -> 300),
// except the last pooling layer, which the paper puts in "onwards" (pool5 -> 1 in both readings).
float default_C(const layers::Network& net, const std::string& layer);
// Jitter T = max(round(stride / 4), 1), stride = the layer's receptive-field stride (seed 001 sects. 5.2 and 6;
// round half away from zero as MATLAB's round).
int jitter_for_stride(int64_t stride);
int default_jitter(const layers::Network& net, const std::string& layer);

// --- masks for inversion from selected components (eq. 3), of the layer's output shape [1, C, H, W] ---
// Ones on the central window x window positions of every channel (Fig. 9), clipped to the map: rows
// [(H - n) / 2, (H - n) / 2 + n) with n = min(window, H) (the authors' ceil((H - n + 1) / 2) in 1-based indices).
Tensor window_mask(const Shape& feature_shape, int64_t window);
// Ones on channel group `group` (1-based) of `groups` equal consecutive groups (Fig. 10: 1/2 = the first half,
// CaffeRef's first stream). Throws when groups does not divide the channel count or group is out of 1..groups.
Tensor channel_group_mask(const Shape& feature_shape, int group, int groups);
// Element-wise product of two masks of the same shape (either may be undefined: then the other is returned).
Tensor combine_masks(Tensor a, Tensor b);

// --- activation maximisation (seed 001 sect. 6) ---
// One-hot Phi0 [1, C, H, W] at channel `unit` and the central position ((H - 1) / 2, (W - 1) / 2) (the whole
// output for fc layers, whose map is 1x1). Throws when unit is outside 0..C-1.
Tensor actmax_target(const Shape& feature_shape, int64_t unit);
// The normaliser of eq. 4 as ops::inner_product takes it (loss = -<Phi, Phi0> / Z): Z = M rho^2 / 10^4, M the
// unit's maximum over natural images, rho its receptive-field size. The paper prints "Z = 1/(M rho^2)" with a
// divisor in eq. 4; the authors' code multiplies the one-hot target by 10^4 / (rho^2 M) (exp_maximization.m),
// i.e. it divides by M rho^2 / 10^4: the activation is measured relative to the natural maximum M, and rho^2 /
// 10^4 (rho in units of 100 pixels) weights larger receptive fields down. Throws unless M > 0 and rho >= 1.
float actmax_Z(double M, int64_t rho);

// --- caricature (seed 001 sect. 7) ---
// Phi0 = max(0, Phi(x0)), same shape.
Tensor caricature_target(const View& phi);
// Z = ||Phi0||^2 so that the loss -<Phi, Phi0> / Z is -1 at x0: the paper's "Z = 1/||Phi0||" applied as a weight to
// the unit direction Phi0 / ||Phi0|| (the authors' exp_enhance.m divides Phi0 by ||Phi0||^2). Throws when Phi0 = 0.
float caricature_Z(const View& phi0);

// --- running ---
// Layer `layer` of `net` as a representation of the mean-subtracted RGB image (layers/network.h's input domain).
// The network must outlive the returned function.
Representation layer_representation(const layers::Network& net, const std::string& layer);

// The final no-jitter stage of the authors' inversion (get_preimage_opts.m): after the T jittered iterations,
// `iterations` more without jitter at `rate_factor` times the learning rate, started from the first stage's image
// with fresh AdaGrad and momentum state.
struct FinalStage {
  int iterations = 50;
  float rate_factor = 0.1f;
};

// Stage 1 = invert(problem, objective, solver) then, when final.iterations > 0, the final stage. progress and
// snapshot iterations count on through both stages (1 .. T + final.iterations); the trace holds both.
PreimageResult invert_two_stage(const PreimageProblem& problem, const ObjectiveParams& objective,
                                const SolverParams& solver, const FinalStage& final,
                                const std::function<void(int, const ObjectiveTerms&)>& progress = {},
                                const std::vector<int>& snapshot_at = {},
                                const std::function<void(int, const View&)>& snapshot = {});

}  // namespace preimage::solvers
