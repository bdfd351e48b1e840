#include "solvers/preimage.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "engine/error.h"
#include "kernels/optimisers.h"
#include "kernels/regularisers.h"
#include "kernels/shape_ops.h"

namespace preimage::solvers {
namespace {

Tensor initial_image(const PreimageProblem& pb, const ObjectiveParams& p, const SolverParams& s) {
  Shape xs = pb.image_shape;
  xs[2] += p.jitter - 1;
  xs[3] += p.jitter - 1;
  if (pb.init) {
    PI_CHECK(pb.init->shape == pb.image_shape, "invert: initial image has shape ", pb.init->shape.str(),
             ", expected ", pb.image_shape.str());
    Tensor x = Tensor::zeros(xs);
    // Centre the given image in the (possibly jitter-padded) canvas; the border repeats nothing (zero = mean).
    const int64_t c = xs[1], h = pb.image_shape[2], w = pb.image_shape[3], off = (p.jitter - 1) / 2;
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        std::copy(pb.init->data + (k * h + y) * w, pb.init->data + (k * h + y + 1) * w,
                  x.data() + (k * xs[2] + y + off) * xs[3] + off);
    return x;
  }
  const float sigma = s.init_sigma > 0 ? s.init_sigma : p.B / 10.0f;
  Tensor x = Tensor::empty(xs);
  std::mt19937_64 rng(s.seed * 0x9E3779B97F4A7C15ull + 1);
  std::normal_distribution<float> normal(0.0f, sigma);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = normal(rng);
  return x;
}

// The representation's input window for the final evaluation: the centre of the jitter-padded canvas.
Tensor centre_crop(const Tensor& x, const Shape& s, int jitter) {
  if (jitter <= 1) return x.clone();
  Tensor out = Tensor::empty(s);
  const int64_t off = (jitter - 1) / 2;
  kernels::crop_forward(x.view(), out.view(), off, off);
  return out;
}

}  // namespace

float default_eta0(const ObjectiveParams& p, const Shape& image_shape) {
  const float hw = static_cast<float>(image_shape[2] * image_shape[3]);
  return 0.01f * p.B * p.B / p.alpha * hw;
}

PreimageResult invert(const PreimageProblem& pb, const ObjectiveParams& p, const SolverParams& s,
                      const std::function<void(int, const ObjectiveTerms&)>& progress,
                      const std::vector<int>& snapshot_at, const std::function<void(int, const View&)>& snapshot) {
  PI_CHECK(pb.phi && pb.phi0, "invert: representation and target features are required");
  PI_CHECK(pb.image_shape.ndim() == 4 && pb.image_shape[0] == 1, "invert: image shape must be [1, C, H, W], got ",
           pb.image_shape.str());
  PI_CHECK(s.iterations >= 1, "invert: need at least one iteration");
  PI_CHECK(p.jitter >= 1, "invert: jitter must be >= 1");

  Tensor x = initial_image(pb, p, s);
  const float eta0 = s.eta0 > 0 ? s.eta0 : default_eta0(p, pb.image_shape);
  Tensor G = Tensor::zeros(x.shape()), mu = Tensor::zeros(x.shape());
  std::mt19937_64 jitter_rng(s.seed ^ 0x5DEECE66Dull);
  std::uniform_int_distribution<int> shift(0, p.jitter - 1);

  PreimageResult result;
  result.trace.reserve(static_cast<size_t>(s.iterations));
  float lr = s.lr;
  Tape tape;
  for (int it = 1; it <= s.iterations; ++it) {
    tape.clear();
    Var phi0 = tape.leaf(*pb.phi0, false);
    Var mask = pb.mask ? tape.leaf(*pb.mask, false) : Var{};
    Var xv = tape.leaf(x.view(), true);
    const int ty = p.jitter > 1 ? shift(jitter_rng) : 0, tx = p.jitter > 1 ? shift(jitter_rng) : 0;
    ObjectiveTerms terms;
    Var E = build_objective(tape, xv, pb.phi, phi0, mask, p, ty, tx, &terms);
    PI_CHECK(std::isfinite(terms.total), "invert: the objective became ", terms.total, " at iteration ", it,
             " (loss ", terms.loss, ", R_alpha ", terms.r_alpha, ", R_TV ", terms.r_tv,
             "); lower the learning rate or C");
    tape.backward(E);
    View g = tape.grad(xv);
    if (s.kind == SolverKind::adagrad) {
      kernels::adagrad_rho_step(x.view(), G.view(), mu.view(), g, s.rho, eta0);
      if (p.form == ObjectiveForm::ijcv) kernels::project_ball(x.view(), p.B_plus);
    } else {
      if (lr <= 0) {
        // Default rate: a first step that moves the image by about B/10 in RMS.
        double sq = 0;
        for (int64_t i = 0; i < g.numel(); ++i) sq += double(g.data[i]) * g.data[i];
        const double rms = std::sqrt(sq / std::max<int64_t>(1, g.numel()));
        lr = rms > 0 ? static_cast<float>(p.B / 10.0 / rms) : 1.0f;
      }
      float eta = lr;
      for (float drop : s.lr_drops)
        if (it > drop * s.iterations) eta *= 0.1f;
      kernels::momentum_step(x.view(), mu.view(), g, s.momentum, eta);
    }
    result.trace.push_back({it, terms});
    if (progress) progress(it, terms);
    if (snapshot && std::find(snapshot_at.begin(), snapshot_at.end(), it) != snapshot_at.end()) {
      Tensor view_now = centre_crop(x, pb.image_shape, p.jitter);
      snapshot(it, view_now.view());
    }
  }

  result.image = centre_crop(x, pb.image_shape, p.jitter);
  // Final terms at the returned image, without jitter.
  tape.clear();
  ObjectiveParams final_p = p;
  final_p.jitter = 1;
  Var phi0 = tape.leaf(*pb.phi0, false);
  Var mask = pb.mask ? tape.leaf(*pb.mask, false) : Var{};
  build_objective(tape, tape.leaf(result.image.view(), false), pb.phi, phi0, mask, final_p, 0, 0,
                  &result.final_terms);
  return result;
}

}  // namespace preimage::solvers
