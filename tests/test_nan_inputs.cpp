// Non-finite pixels (an optimiser that diverged between two read-backs, docs/device.md) must reach the features as
// values, never as indices: HOG and DSIFT compute bins from the image, and a NaN bin once indexed far outside its
// buffer. These cases run every variant, forward and backward, on both CPU paths; run them under valgrind or ASan
// to see memory errors (`valgrind ./tests/preimage_tests "[nan]"`), and they check that the NaN is not silently lost.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>

#include "features/dsift.h"
#include "engine/ops.h"
#include "features/hog.h"
#include "kernels/dispatch.h"
#include "support.h"

using namespace preimage;
using namespace preimage::test;

namespace {
// 40x44 gray image on the 0-255 scale with one NaN and one +Inf pixel.
Tensor poisoned_image() {
  Tensor x = random_tensor(Shape{1, 1, 40, 44}, 21, 0.0f, 255.0f);
  x.data()[17 * 44 + 9] = std::numeric_limits<float>::quiet_NaN();
  x.data()[30 * 44 + 33] = std::numeric_limits<float>::infinity();
  return x;
}
bool any_non_finite(const View& v) {
  std::vector<float> h = Tensor::copy_of(v).to_vector();
  for (float f : h)
    if (!std::isfinite(f)) return true;
  return false;
}
// Features and the image gradient of sum(features) on the tape.
void forward_backward(const std::function<Var(Tape&, Var)>& phi) {
  const Tensor x = poisoned_image();
  Tape t;
  Var xv = t.leaf(x.view(), true);
  Var f = phi(t, xv);
  CHECK(any_non_finite(t.value(f)));
  t.backward(ops::sum(t, f));
  CHECK(any_non_finite(t.grad(xv)));
}
struct PathGuard {
  kernels::CpuPath saved = kernels::cpu_path();
  explicit PathGuard(kernels::CpuPath p) { kernels::set_cpu_path(p); }
  ~PathGuard() { kernels::set_cpu_path(saved); }
};
}  // namespace

TEST_CASE("HOG and DSIFT carry NaN/Inf pixels into their values without wild indexing", "[nan][hog][dsift]") {
  for (kernels::CpuPath path : {kernels::CpuPath::fast, kernels::CpuPath::reference}) {
    PathGuard guard(path);
    INFO("cpu path " << (path == kernels::CpuPath::fast ? "fast" : "reference"));
    for (features::HogVariant v : {features::HogVariant::uoctti, features::HogVariant::dalal_triggs}) {
      for (bool bilinear : {false, true}) {
        features::HogParams p;
        p.variant = v;
        p.bilinear_orientations = bilinear;
        forward_backward([p](Tape& t, Var x) { return features::hog(t, x, p); });
      }
    }
    for (bool flat : {false, true}) {
      features::DsiftParams p;
      p.flat_window = flat;
      forward_backward([p](Tape& t, Var x) { return features::dsift(t, x, p); });
      for (features::DsiftMath m : {features::DsiftMath::vlfeat, features::DsiftMath::exact})
        CHECK(any_non_finite(features::dsift(poisoned_image().view(), p, m).view()));
    }
  }
}
