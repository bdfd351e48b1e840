#include "solvers/preimage.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "engine/error.h"
#include "kernels/elementwise.h"
#include "kernels/losses.h"
#include "kernels/optimisers.h"
#include "kernels/regularisers.h"
#include "kernels/shape_ops.h"

namespace preimage::solvers {
namespace {

// The starting canvas of one sample ([1, C, H, W] plus the jitter padding) on `device`: built on the host (noise from
// the host RNG seeded by `seed`, or a host init centred in the jitter-padded canvas) and uploaded once; a device init
// is placed on the device. init (when given) has shape `one`.
Tensor initial_image(const Shape& one, const View* init, const ObjectiveParams& p, const SolverParams& s,
                     uint64_t seed, Device device) {
  Shape xs = one;
  xs[2] += p.jitter - 1;
  xs[3] += p.jitter - 1;
  if (init) {
    check_contiguous("invert", "initial image", *init);
    const int64_t off = (p.jitter - 1) / 2;
    if (init->device != Device::cpu) {
      PI_CHECK(init->device == device, "invert: the initial image is on ", device_name(init->device),
               " but the solver runs on ", device_name(device), " (the target's device)");
      if (p.jitter <= 1) return Tensor::copy_of(*init);
      Tensor x = Tensor::zeros(xs, device);
      kernels::crop_backward(*init, x.view(), off, off);  // x is zero, so += places the image exactly
      return x;
    }
    Tensor x = Tensor::zeros(xs);
    // Centre the given image in the (possibly jitter-padded) canvas; the border repeats nothing (zero = mean).
    const int64_t c = xs[1], h = one[2], w = one[3];
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        std::copy(init->data + (k * h + y) * w, init->data + (k * h + y + 1) * w,
                  x.data() + (k * xs[2] + y + off) * xs[3] + off);
    return device == Device::cpu ? std::move(x) : x.to(device);
  }
  const float sigma = s.init_sigma > 0 ? s.init_sigma : p.B / 10.0f;
  Tensor x = Tensor::empty(xs);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 1);
  std::normal_distribution<float> normal(0.0f, sigma);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = normal(rng);
  return device == Device::cpu ? std::move(x) : x.to(device);
}

// The batch's starting canvases [N, C, H + T - 1, W + T - 1], sample n from seeds[n] (or init's sample n).
Tensor initial_batch(const BatchProblem& pb, const ObjectiveParams& p, const SolverParams& s, Device device) {
  const int64_t n = pb.image_shape[0];
  Shape one = pb.image_shape;
  one[0] = 1;
  auto sample = [&](int64_t i) {
    const View init_i = pb.init ? pb.init->batch(i) : View();
    return initial_image(one, pb.init ? &init_i : nullptr, p, s, pb.seeds[static_cast<size_t>(i)], device);
  };
  if (n == 1) return sample(0);
  Tensor first = sample(0);
  Shape xs = first.shape();
  xs[0] = n;
  Tensor x = Tensor::empty(xs, device);
  for (int64_t i = 0; i < n; ++i) {
    const Tensor xi = i == 0 ? std::move(first) : sample(i);
    copy_floats(x.view().batch(i).data, device, xi.data(), device, static_cast<size_t>(xi.numel()));
  }
  return x;
}

// The objective's scalars of the iterations since the last read-back, kept on the solver's device ([capacity, 4]
// floats: loss, r_alpha, r_tv, total) so that an iteration only enqueues device-to-device copies; flush() brings
// them to the host in one copy, checks them and reports them.
class TermLog {
 public:
  TermLog(Device device, int capacity)
      : log_(Tensor::empty(Shape{capacity, ObjectiveVars::kCount}, device)), capacity_(capacity) {}

  void record(const Tape& t, const ObjectiveVars& v, int iteration) {
    if (count_ == 0) first_ = iteration;
    w_alpha_ = v.w_alpha;
    w_tv_ = v.w_tv;
    float* row = log_.data() + count_ * ObjectiveVars::kCount;
    const Var vars[ObjectiveVars::kCount] = {v.loss, v.r_alpha, v.r_tv, v.total};
    for (int k = 0; k < ObjectiveVars::kCount; ++k)
      copy_floats(row + k, log_.device(), t.value(vars[k]).data, t.value(vars[k]).device, 1);
    ++count_;
  }
  bool full() const { return count_ == capacity_; }

  // Appends the logged iterations to the trace and reports them, in order; throws at the first NaN/Inf objective.
  void flush(std::vector<IterationStats>& trace, const std::function<void(int, const ObjectiveTerms&)>& progress) {
    if (count_ == 0) return;
    std::vector<float> host(static_cast<size_t>(count_ * ObjectiveVars::kCount));
    copy_floats(host.data(), Device::cpu, log_.data(), log_.device(), host.size());
    const int n = count_;
    count_ = 0;
    for (int i = 0; i < n; ++i) {
      const int it = first_ + i;
      const float* row = &host[static_cast<size_t>(i * ObjectiveVars::kCount)];
      const ObjectiveTerms terms = terms_from_values(row, w_alpha_, w_tv_);
      PI_CHECK(std::isfinite(terms.total), "invert: the objective became ", terms.total, " at iteration ", it,
               " (loss ", terms.loss, ", R_alpha ", terms.r_alpha, ", R_TV ", terms.r_tv,
               n > 1 ? "; found when iterations " + std::to_string(first_) + "-" + std::to_string(first_ + n - 1) +
                           " were read back"
                     : std::string(),
               "); lower the learning rate or C");
      trace.push_back({it, terms});
      if (progress) progress(it, terms);
    }
  }

 private:
  Tensor log_;
  int capacity_;
  int count_ = 0, first_ = 0;
  float w_alpha_ = 1.0f, w_tv_ = 1.0f;
};

// The representation's input window for the final evaluation: the centre of the jitter-padded canvas.
Tensor centre_crop(const Tensor& x, const Shape& s, int jitter) {
  if (jitter <= 1) return x.clone();
  Tensor out = Tensor::empty(s, x.device());
  const int64_t off = (jitter - 1) / 2;
  kernels::crop_forward(x.view(), out.view(), off, off);
  return out;
}

// The factor scaling Algorithm 1's update at iteration it (1-based): 1 up to anneal_from * T, then falling linearly,
// (T + 1 - it) / (T + 1 - start), to 1 / (T + 1 - start) at it = T.
float anneal_factor(const SolverParams& s, int it) {
  const float start = s.anneal_from * static_cast<float>(s.iterations);
  if (s.anneal_from >= 1.0f || static_cast<float>(it) <= start) return 1.0f;
  return std::max(0.0f, static_cast<float>(s.iterations + 1 - it) / (static_cast<float>(s.iterations + 1) - start));
}

}  // namespace

float default_eta0(const ObjectiveParams& p, const Shape& image_shape) {
  const float hw = static_cast<float>(image_shape[2] * image_shape[3]);
  return 0.01f * p.B * p.B / p.alpha * hw;
}

BatchResult invert_batch(const BatchProblem& pb, const ObjectiveParams& p, const SolverParams& s,
                         const std::function<void(int, const ObjectiveTerms&)>& progress,
                         const std::vector<int>& snapshot_at, const std::function<void(int, const View&)>& snapshot) {
  PI_CHECK(pb.phi && pb.phi0, "invert: representation and target features are required");
  PI_CHECK(pb.image_shape.ndim() == 4 && pb.image_shape[0] >= 1, "invert: image shape must be [N, C, H, W], got ",
           pb.image_shape.str());
  const int64_t n = pb.image_shape[0];
  PI_CHECK(static_cast<int64_t>(pb.seeds.size()) == n, "invert: ", pb.seeds.size(), " seeds for a batch of ", n);
  // One sample may come with features of any shape (a 1-d code is one sample to the losses); a batch's lead with N.
  PI_CHECK(n == 1 || (pb.phi0->shape.ndim() >= 2 && pb.phi0->shape[0] == n), "invert: target features ",
           pb.phi0->shape.str(), " for a batch of ", n, " images");
  PI_CHECK(!pb.init || pb.init->shape == pb.image_shape, "invert: initial image has shape ",
           pb.init ? pb.init->shape.str() : "", ", expected ", pb.image_shape.str());
  PI_CHECK(s.iterations >= 1, "invert: need at least one iteration");
  PI_CHECK(p.jitter >= 1, "invert: jitter must be >= 1");
  PI_CHECK(s.readback_every >= 0, "invert: readback_every must be >= 0 (0: automatic), got ", s.readback_every);
  const Device device = pb.phi0->device;
  PI_CHECK(!pb.mask || pb.mask->device == device, "invert: the mask is on ", device_name(pb.mask->device),
           " but the target on ", device_name(device), "; put both on the solver's device");
  // The normalised loss is undefined for a zero target; the CUDA launchers leave this check to us (once, here).
  if (p.loss == LossKind::l2) kernels::check_normalised_l2_target(*pb.phi0, pb.mask ? *pb.mask : View{});

  Shape one = pb.image_shape;
  one[0] = 1;
  Tensor x = initial_batch(pb, p, s, device);
  const float eta0 = s.eta0 > 0 ? s.eta0 : default_eta0(p, one);
  Tensor G = Tensor::zeros(x.shape(), device), mu = Tensor::zeros(x.shape(), device);
  // Each sample draws its shifts from its own generator, in invert()'s order (vertical, then horizontal).
  std::vector<std::mt19937_64> jitter_rng;
  std::vector<std::uniform_int_distribution<int>> shift;
  for (uint64_t seed : pb.seeds) {
    jitter_rng.emplace_back(seed ^ 0x5DEECE66Dull);
    shift.emplace_back(0, p.jitter - 1);
  }
  std::vector<int64_t> tau_y(static_cast<size_t>(n), 0), tau_x(static_cast<size_t>(n), 0);

  BatchResult result;
  result.trace.reserve(static_cast<size_t>(s.iterations));
  const int readback_every =
      s.readback_every > 0 ? s.readback_every : device == Device::cpu ? 1 : SolverParams::kDefaultReadbackEvery;
  TermLog log(device, std::min(readback_every, s.iterations));
  std::vector<float> lr(static_cast<size_t>(n), s.lr);
  Tape tape(device);
  for (int it = 1; it <= s.iterations; ++it) {
    tape.clear();
    Var phi0 = tape.leaf(*pb.phi0, false);
    Var mask = pb.mask ? tape.leaf(*pb.mask, false) : Var{};
    Var xv = tape.leaf(x.view(), true);
    // Jitter offsets come from the host RNG: no device value decides anything inside an iteration.
    for (size_t i = 0; p.jitter > 1 && i < tau_y.size(); ++i) {
      tau_y[i] = shift[i](jitter_rng[i]);
      tau_x[i] = shift[i](jitter_rng[i]);
    }
    ObjectiveVars vars;
    Var E = build_objective_vars(tape, xv, pb.phi, phi0, mask, p, tau_y, tau_x, &vars);
    log.record(tape, vars, it);
    // A read-back comes before this iteration's step, so a NaN it finds never reaches the image or the optimiser
    // state (iterations between read-backs do step on it: they cannot know).
    const bool snap = snapshot && std::find(snapshot_at.begin(), snapshot_at.end(), it) != snapshot_at.end();
    if (log.full() || snap || it == s.iterations) log.flush(result.trace, progress);
    tape.backward(E);
    const View g_all = tape.grad(xv);
    // The steps go sample by sample: each sees exactly the views a single inversion would (element kernels
    // vectorise over one sample's pixels, with the same tail), and the momentum rate is per sample.
    for (int64_t i = 0; i < n; ++i) {
      const View xi = x.view().batch(i), Gi = G.view().batch(i), mui = mu.view().batch(i), g = g_all.batch(i);
      if (s.kind == SolverKind::adagrad) {
        kernels::adagrad_rho_step(xi, Gi, mui, g, s.rho, eta0);
        // Annealing: the step has just added mu to x; keep the fraction `step` of it (mu itself is not rescaled, so
        // the momentum is the paper's). An on-device axpy: no host read.
        const float step = anneal_factor(s, it);
        if (step < 1.0f) kernels::axpy_into(xi, step - 1.0f, mui);
        if (p.form == ObjectiveForm::ijcv) kernels::project_ball(xi, p.B_plus);
      } else {
        float& lr_i = lr[static_cast<size_t>(i)];
        if (lr_i <= 0) {
          // Default rate: a first step that moves the image by about B/10 in RMS. The one read of a device value
          // outside the read-backs, at the first iteration.
          std::vector<float> gh(static_cast<size_t>(g.numel()));
          copy_floats(gh.data(), Device::cpu, g.data, g.device, gh.size());
          double sq = 0;
          for (float v : gh) sq += double(v) * v;
          const double rms = std::sqrt(sq / std::max<int64_t>(1, g.numel()));
          lr_i = rms > 0 ? static_cast<float>(p.B / 10.0 / rms) : 1.0f;
        }
        float eta = lr_i;
        for (float drop : s.lr_drops)
          if (it > drop * s.iterations) eta *= 0.1f;
        kernels::momentum_step(xi, mui, g, s.momentum, eta);
      }
    }
    if (snap) {
      Tensor view_now = centre_crop(x, pb.image_shape, p.jitter);
      if (view_now.device() != Device::cpu) view_now = view_now.to(Device::cpu);
      snapshot(it, view_now.view());
    }
  }

  result.images = centre_crop(x, pb.image_shape, p.jitter);
  // Final terms of each sample at its returned image, without jitter, evaluated alone.
  ObjectiveParams final_p = p;
  final_p.jitter = 1;
  result.final_terms.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    tape.clear();
    Var phi0 = tape.leaf(n == 1 ? *pb.phi0 : pb.phi0->batch(i), false);
    Var mask = pb.mask ? tape.leaf(n == 1 ? *pb.mask : pb.mask->batch(i), false) : Var{};
    build_objective(tape, tape.leaf(result.images.view().batch(i), false), pb.phi, phi0, mask, final_p, 0, 0,
                    &result.final_terms[static_cast<size_t>(i)]);
  }
  return result;
}

PreimageResult invert(const PreimageProblem& pb, const ObjectiveParams& p, const SolverParams& s,
                      const std::function<void(int, const ObjectiveTerms&)>& progress,
                      const std::vector<int>& snapshot_at, const std::function<void(int, const View&)>& snapshot) {
  PI_CHECK(pb.image_shape.ndim() == 4 && pb.image_shape[0] == 1, "invert: image shape must be [1, C, H, W], got ",
           pb.image_shape.str());
  BatchProblem b;
  b.phi = pb.phi;
  b.phi0 = pb.phi0;
  b.mask = pb.mask;
  b.image_shape = pb.image_shape;
  b.init = pb.init;
  b.seeds = {s.seed};
  BatchResult r = invert_batch(b, p, s, progress, snapshot_at, snapshot);
  PreimageResult result;
  result.image = std::move(r.images);
  result.final_terms = r.final_terms[0];
  result.trace = std::move(r.trace);
  return result;
}

}  // namespace preimage::solvers
