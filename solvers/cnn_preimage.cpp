// CNN pre-image settings and the two-stage inversion (solvers/cnn_preimage.h; docs/deep.md).
#include "solvers/cnn_preimage.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace preimage::solvers {
namespace {

// The last layer of each C band (seed 001 sect. 5.2.1; the in-between layers: see default_C in the header).
struct CBands {
  const char* last_300;
  const char* last_100;
  const char* last_20;
};

CBands bands_for(const std::string& model) {
  if (model == "alexnet" || model == "caffenet" || model == "vgg-m") return {"relu3", "relu4", "relu5"};
  if (model == "vgg-vd-16") return {"pool4", "relu5_1", "relu5_3"};
  fail("default_C: no per-layer C rule for model '", model, "' (seed 001 gives it for alexnet, caffenet, vgg-m, ",
       "vgg-vd-16); pass C explicitly");
}

void check_feature_shape(const char* what, const Shape& s) {
  PI_CHECK(s.ndim() == 4 && s[0] == 1 && s[1] >= 1 && s[2] >= 1 && s[3] >= 1, what,
           ": feature shape must be [1, C, H, W], got ", s.str());
}

}  // namespace

float default_C(const layers::Network& net, const std::string& layer) {
  const CBands b = bands_for(net.name);
  const size_t i = net.layer_index(layer);
  if (i <= net.layer_index(b.last_300)) return 300.0f;
  if (i <= net.layer_index(b.last_100)) return 100.0f;
  if (i <= net.layer_index(b.last_20)) return 20.0f;
  return 1.0f;
}

int jitter_for_stride(int64_t stride) {
  PI_CHECK(stride >= 1, "jitter_for_stride: stride must be >= 1, got ", stride);
  return static_cast<int>(std::max<long long>(std::llround(static_cast<double>(stride) / 4.0), 1));
}

int default_jitter(const layers::Network& net, const std::string& layer) {
  return jitter_for_stride(net.receptive_field(layer).stride);
}

Tensor window_mask(const Shape& s, int64_t window) {
  check_feature_shape("window_mask", s);
  PI_CHECK(window >= 1, "window_mask: the window must be at least 1, got ", window);
  Tensor m = Tensor::zeros(s);
  const int64_t c = s[1], h = s[2], w = s[3];
  const int64_t nh = std::min(window, h), nw = std::min(window, w);
  const int64_t top = (h - nh) / 2, left = (w - nw) / 2;
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = top; y < top + nh; ++y)
      for (int64_t x = left; x < left + nw; ++x) m.data()[(k * h + y) * w + x] = 1.0f;
  return m;
}

Tensor channel_group_mask(const Shape& s, int group, int groups) {
  check_feature_shape("channel_group_mask", s);
  PI_CHECK(groups >= 1 && group >= 1 && group <= groups, "channel group ", group, "/", groups,
           ": the group must be in 1..", groups, " (1-based: 1/2 is the first half of the channels)");
  const int64_t c = s[1], hw = s[2] * s[3];
  PI_CHECK(c % groups == 0, "channel group ", group, "/", groups, ": the layer has ", c,
           " channels, which do not split into ", groups, " equal groups");
  const int64_t per = c / groups, first = (group - 1) * per;
  Tensor m = Tensor::zeros(s);
  std::fill(m.data() + first * hw, m.data() + (first + per) * hw, 1.0f);
  return m;
}

Tensor combine_masks(Tensor a, Tensor b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  PI_CHECK(a.shape() == b.shape(), "combine_masks: shapes differ, ", a.shape().str(), " and ", b.shape().str());
  for (int64_t i = 0; i < a.numel(); ++i) a.data()[i] *= b.data()[i];
  return a;
}

Tensor actmax_target(const Shape& s, int64_t unit) {
  check_feature_shape("actmax_target", s);
  PI_CHECK(unit >= 0 && unit < s[1], "unit ", unit, " is out of range: the layer has ", s[1], " channels (units 0..",
           s[1] - 1, ")");
  Tensor t = Tensor::zeros(s);
  const int64_t h = s[2], w = s[3];
  t.data()[(unit * h + (h - 1) / 2) * w + (w - 1) / 2] = 1.0f;
  return t;
}

float actmax_Z(double M, int64_t rho) {
  PI_CHECK(std::isfinite(M) && M > 0, "activation maximisation: the unit's natural maximum M must be positive, got ",
           M, " (a unit never active on the statistics images cannot be normalised; pass --M)");
  PI_CHECK(rho >= 1, "activation maximisation: receptive field size must be >= 1, got ", rho);
  return static_cast<float>(M * static_cast<double>(rho) * static_cast<double>(rho) / 1e4);
}

Tensor caricature_target(const View& phi) {
  Tensor t = Tensor::copy_of(phi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = std::max(t.data()[i], 0.0f);
  return t;
}

float caricature_Z(const View& phi0) {
  check_contiguous("caricature_Z", "phi0", phi0);
  double sq = 0;
  for (int64_t i = 0; i < phi0.numel(); ++i) sq += double(phi0.data[i]) * phi0.data[i];
  PI_CHECK(sq > 0, "caricature: max(0, Phi(x0)) is all zeros (no active component in this layer for this image); "
           "nothing to exaggerate");
  return static_cast<float>(sq);
}

Representation layer_representation(const layers::Network& net, const std::string& layer) {
  net.layer_index(layer);  // throws listing the valid names
  return [&net, layer](Tape& t, Var x) { return net.forward(t, x, layer); };
}

PreimageResult invert_two_stage(const PreimageProblem& pb, const ObjectiveParams& p, const SolverParams& s,
                                const FinalStage& final, const std::function<void(int, const ObjectiveTerms&)>& progress,
                                const std::vector<int>& snapshot_at,
                                const std::function<void(int, const View&)>& snapshot) {
  PI_CHECK(final.iterations >= 0, "invert: the final stage needs >= 0 iterations, got ", final.iterations);
  PI_CHECK(std::isfinite(final.rate_factor) && final.rate_factor > 0,
           "invert: the final stage's rate factor must be positive, got ", final.rate_factor);
  PreimageResult first = invert(pb, p, s, progress, snapshot_at, snapshot);
  if (final.iterations == 0) return first;

  PreimageProblem pb2 = pb;
  const View start = first.image.view();
  pb2.init = &start;
  ObjectiveParams p2 = p;
  p2.jitter = 1;
  SolverParams s2 = s;
  s2.iterations = final.iterations;
  s2.eta0 = (s.eta0 > 0 ? s.eta0 : default_eta0(p, pb.image_shape)) * final.rate_factor;
  const int offset = s.iterations;
  std::vector<int> snaps2;
  for (int it : snapshot_at)
    if (it > offset) snaps2.push_back(it - offset);
  PreimageResult second = invert(
      pb2, p2, s2,
      [&](int it, const ObjectiveTerms& t) {
        if (progress) progress(it + offset, t);
      },
      snaps2,
      [&](int it, const View& x) {
        if (snapshot) snapshot(it + offset, x);
      });
  for (IterationStats& st : second.trace) {
    st.iteration += offset;
    first.trace.push_back(st);
  }
  second.trace = std::move(first.trace);
  return second;
}

}  // namespace preimage::solvers
