#pragma once
// Differentiable ops on a Tape. Each records its output and a backward closure (engine/tape.h) and calls the
// launchers in kernels/ for both directions. Pass an invalid Var (Var{}) for an absent optional operand (bias).
// Implementations: engine/ops/<family>.cpp. Formulas and conventions: docs/ops/<family>.md.
#include <cstdint>

#include "engine/tape.h"
#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "kernels/lrn.h"
#include "kernels/max_pool2d.h"

namespace preimage::ops {

// --- convolution family ---
Var conv2d(Tape& t, Var x, Var w, Var b, const kernels::Conv2dParams& p);
Var conv_transpose2d(Tape& t, Var x, Var w, Var b, const kernels::ConvTranspose2dParams& p);
Var linear(Tape& t, Var x, Var w, Var b);  // x [N, ...] flattened to [N, I]

// --- pooling and normalisation ---
Var max_pool2d(Tape& t, Var x, const kernels::MaxPool2dParams& p);
Var lrn(Tape& t, Var x, const kernels::LrnParams& p);

// --- activations ---
Var relu(Tape& t, Var x);
Var leaky_relu(Tape& t, Var x, float slope = 0.2f);
// Inverted dropout: in training, zero each element with probability p and scale survivors by 1/(1-p); the mask is
// drawn from Philox(seed) by element index, so CPU and CUDA agree. In eval mode it is the identity.
Var dropout(Tape& t, Var x, float p, bool training, uint64_t seed);
Var softmax(Tape& t, Var x);  // over dim 1 (channels of NCHW, classes of [N, C]), numerically stabilised

// --- elementwise, reductions, shape ---
Var add(Tape& t, Var a, Var b);
Var mul(Tape& t, Var a, Var b);
Var scale(Tape& t, Var a, float s);
Var masked_mul(Tape& t, Var a, Var mask);  // mask is not differentiated
Var sum(Tape& t, Var a);                   // scalar
Var mean(Tape& t, Var a);                  // scalar
Var concat_channels(Tape& t, const std::vector<Var>& xs);  // along dim 1 of NCHW
Var reshape(Tape& t, Var a, const Shape& s);                // same element count
Var flatten(Tape& t, Var a);                                // [N, ...] -> [N, rest]
Var crop(Tape& t, Var x, int64_t top, int64_t left, int64_t height, int64_t width);  // jitter (IJCV eq. 7)
// One window per sample: sample n of x [N, C, H, W] cropped at (tops[n], lefts[n]) (a batch of jittered inversions,
// each with its own shifts). tops and lefts have N entries.
Var crop_each(Tape& t, Var x, const std::vector<int64_t>& tops, const std::vector<int64_t>& lefts, int64_t height,
              int64_t width);

// --- image priors (IJCV sect. 3.2; CVPR sect. 3) and losses (IJCV eqs. 2-4); all return scalars ---
// CVPR eq. (3) prior: sum over all elements of |x - mean(x)|^alpha where mean is the per-channel mean over the
// image (the "mean-subtracted image"); no normalisation (the caller scales).
Var alpha_norm(Tape& t, Var x, float alpha);
// IJCV eq. (5): N_alpha(x) = 1/(H W B^alpha) sum_{n,v,u} (sum_k x[n,k,v,u]^2)^(alpha/2)
Var isotropic_alpha_norm(Tape& t, Var x, float alpha, float B);
// IJCV sect. 3.2.2: TV^beta(x) = 1/(H W V^beta) sum_{n,k,v,u} ((x[v,u+1]-x[v,u])^2 + (x[v+1,u]-x[v,u])^2)^(beta/2),
// differences beyond the last row/column are zero (replicated border). Any beta > 0; for beta < 2 the gradient at
// a zero difference is taken as 0 (a kink).
Var tv_beta(Tape& t, Var x, float beta, float V);
// IJCV eqs. (2)-(3): ||(phi - phi0) . M||^2 / ||phi0 . M||^2; mask invalid = all ones. phi0 and mask are constants.
// For a batch (dim 0 of a phi with >= 2 dims) each sample is normalised by its own ||phi0_n . M_n||^2 and the
// ratios are summed; a sample with ||phi0_n . M_n|| = 0 is an error.
Var normalised_l2(Tape& t, Var phi, Var phi0, Var mask);
// IJCV eq. (4): -<phi, phi0> / Z.
Var inner_product(Tape& t, Var phi, Var phi0, float Z);

}  // namespace preimage::ops
