// Benchmark (not a test): seconds per 227x227 image for a pre-image by optimisation (IJCV Algorithm 1, 300
// iterations, C = 20, alpha 6, beta 2, B 80), HOG, HOGb and DSIFT, 1 and 2 threads, unbatched (solvers::invert)
// and in batches of B (solvers::invert_batch: B inversions of the photo from seeds 0..B-1, s/image = the batch's
// time / B; sample 0 must reach the unbatched run's error exactly, as its result is bit for bit the same). --setup invert (default) is what
// `preimage invert --rep` runs: the annealed step and, for HOG, the straight-through gradient (value of hard HOG,
// derivative of HOGb: a HOGb forward and backward per iteration on top of hard HOG's forward); --setup papers is
// Algorithm 1 unchanged on the representation's own derivative.
// It times solvers::invert itself (what `preimage invert` reports as a run's seconds), not image decoding or the
// PNG outputs. The input is prepared as `preimage invert --size 227` does (gray, centre square, resize). Before
// timing, a short warm-up inversion must lower the objective and the timed runs must all reach the same feature
// error (the solver is deterministic).
//
//   build-*/bench_invert [--runs 5] [--dsift-runs 3] [--iters 300] [--reps hog,hogb,dsift] [--json FILE]
//                        [--cpu-path fast|reference] [--setup invert|papers] [--batches 1,8,32] [--batch-runs 1]
//                        [--threads 1,2]
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "engine/threads.h"
#include "features/representation.h"
#include "kernels/dispatch.h"
#include "solvers/preimage.h"
#include "solvers/straight_through.h"
#include "tools/bench/bench_common.h"

using namespace preimage;
using nlohmann::json;

namespace {

const char* kUsage =
    "bench_invert: seconds per 227x227 inversion (IJCV Algorithm 1), HOG / HOGb / DSIFT, 1 and 2 threads.\n"
    "  --runs N        timed inversions per HOG case (default 5)\n"
    "  --dsift-runs N  timed inversions per DSIFT case (default 3)\n"
    "  --iters N       iterations per inversion (default 300)\n"
    "  --reps LIST     comma-separated representations (default hog,hogb,dsift)\n"
    "  --image PATH    photo (default skimage astronaut.png)\n"
    "  --json FILE     also write the results as JSON\n"
    "  --cpu-path P    fast (default) or reference: the plain reference kernels, for comparison\n"
    "  --setup S       invert (default: preimage invert's annealed step and HOG straight-through gradient) or\n"
    "                  papers (Algorithm 1 unchanged)\n"
    "  --batches LIST  batch sizes (default 1,8,32); 1 is the unbatched solver\n"
    "  --batch-runs N  timed batches per batched case (default 1)\n"
    "  --threads LIST  thread counts (default 1,2)\n";

constexpr float kMeanPixel = 128.0f;  // as preimage invert: the zero-mean domain is centred on mid-grey

double l2(const Tensor& a) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += double(a.data()[i]) * a.data()[i];
  return std::sqrt(s);
}

struct Result {
  bench::Stats seconds;
  double feature_error = 0;
};

// What is inverted and how: the differentiable representation used by the solver, and the step annealing.
struct Setup {
  solvers::Representation phi;
  float anneal_from = 1.0f;
};
Setup setup_for(const std::string& name, const features::Representation& rep, bool as_invert) {
  if (!as_invert) return {rep.phi, 1.0f};
  if (name == "hog") return {solvers::straight_through(rep.phi, features::make_representation("hogb", {}).phi), 0.0f};
  return {rep.phi, 0.0f};
}

// ||Phi(x + mean) - Phi0|| / ||Phi0|| for a reconstruction x [1, 1, H, W] in the zero-mean domain, with the
// libvl-equivalent extractor.
double feature_error(const features::Representation& rep, const View& x, const Tensor& ref_features) {
  Tensor recon = Tensor::copy_of(x);
  for (int64_t i = 0; i < recon.numel(); ++i) recon.data()[i] += kMeanPixel;
  const Tensor f = rep.extract(recon.view());
  double d = 0;
  for (int64_t i = 0; i < f.numel(); ++i) {
    const double e = double(f.data()[i]) - ref_features.data()[i];
    d += e * e;
  }
  return std::sqrt(d) / l2(ref_features);
}

// One timed inversion; returns seconds, and the libvl-equivalent feature error of the reconstruction.
std::pair<double, double> invert_once(const features::Representation& rep, const Setup& setup, const Tensor& image,
                                      const Tensor& phi0, const Tensor& ref_features, int iters) {
  solvers::ObjectiveParams obj;
  obj.C = 20.0f;  // IJCV sect. 5.1 for HOG and DSIFT (preimage invert's default)
  solvers::SolverParams sp;
  sp.iterations = iters;
  sp.anneal_from = setup.anneal_from;
  solvers::PreimageProblem pb;
  pb.phi = setup.phi;
  View phi0v = phi0.view();
  pb.phi0 = &phi0v;
  pb.image_shape = image.shape();
  solvers::PreimageResult res;
  const double ms = bench::time_ms([&] { res = solvers::invert(pb, obj, sp); });
  return {ms / 1000.0, feature_error(rep, res.image.view(), ref_features)};
}

// One timed batch of b inversions of the photo from seeds 0..b-1; returns seconds per image and each sample's
// feature error.
std::pair<double, std::vector<double>> invert_batch_once(const features::Representation& rep, const Setup& setup,
                                                         const Tensor& image, const Tensor& phi0,
                                                         const Tensor& ref_features, int iters, int b) {
  solvers::ObjectiveParams obj;
  obj.C = 20.0f;
  solvers::SolverParams sp;
  sp.iterations = iters;
  sp.anneal_from = setup.anneal_from;
  Shape fs = phi0.shape();
  fs[0] = b;
  Tensor phi0s = Tensor::empty(fs);
  for (int i = 0; i < b; ++i) std::copy(phi0.data(), phi0.data() + phi0.numel(), phi0s.data() + i * phi0.numel());
  solvers::BatchProblem pb;
  pb.phi = setup.phi;
  const View phi0v = phi0s.view();
  pb.phi0 = &phi0v;
  pb.image_shape = Shape{b, image.shape()[1], image.shape()[2], image.shape()[3]};
  for (int i = 0; i < b; ++i) pb.seeds.push_back(static_cast<uint64_t>(i));
  solvers::BatchResult res;
  const double ms = bench::time_ms([&] { res = solvers::invert_batch(pb, obj, sp); });
  std::vector<double> errors;
  for (int i = 0; i < b; ++i) errors.push_back(feature_error(rep, res.images.view().batch(i), ref_features));
  return {ms / 1000.0 / b, errors};
}

std::vector<int> int_list(const std::string& s, const char* what) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string v; std::getline(ss, v, ',');) {
    const int k = std::atoi(v.c_str());
    PI_CHECK(k >= 1, "bench_invert: ", what, " entries must be positive integers, got '", v, "'");
    out.push_back(k);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args(argc, argv, {"--runs", "--dsift-runs", "--iters", "--reps", "--image", "--json", "--cpu-path", "--setup", "--batches",
                         "--batch-runs", "--threads"}, kUsage);
  const int runs = args.get_int("--runs", 5), dsift_runs = args.get_int("--dsift-runs", 3);
  const int iters = args.get_int("--iters", 300);
  const std::string path = args.get("--image", "/usr/lib/python3/dist-packages/skimage/data/astronaut.png");
  std::vector<std::string> reps;
  {
    std::stringstream ss(args.get("--reps", "hog,hogb,dsift"));
    for (std::string r; std::getline(ss, r, ',');) reps.push_back(r);
  }
  const std::string cpu_path = args.get("--cpu-path", "fast");
  if (cpu_path != "fast" && cpu_path != "reference") {
    std::fprintf(stderr, "bench_invert: --cpu-path must be fast or reference\n");
    return 2;
  }
  const std::string setup_name = args.get("--setup", "invert");
  if (setup_name != "invert" && setup_name != "papers") {
    std::fprintf(stderr, "bench_invert: --setup must be invert or papers\n");
    return 2;
  }
  kernels::set_cpu_path(cpu_path == "fast" ? kernels::CpuPath::fast : kernels::CpuPath::reference);
  const int batch_runs = args.get_int("--batch-runs", 1);
  try {
    const std::vector<int> batches = int_list(args.get("--batches", "1,8,32"), "--batches");
    const std::vector<int> thread_counts = int_list(args.get("--threads", "1,2"), "--threads");
    Tensor img = read_image(path, ImageChannels::rgb);
    img = rgb_to_gray(img.view());
    img = resize_bilinear(center_square(img.view()).view(), 227, 227);
    Tensor x0 = img.clone();
    for (int64_t i = 0; i < x0.numel(); ++i) x0.data()[i] -= kMeanPixel;
    const double load_before = bench::load_average();
    json results = json::array();
    std::printf("%-6s %2s %5s  %6s  %22s  %s\n", "rep", "th", "batch", "iters", "s/image median (p10-p90)",
                "feature error (batch: mean, sample 0)");
    for (const std::string& name : reps) {
      const features::Representation rep = features::make_representation(name, {});
      rep.check_image(img.shape());
      const Setup setup = setup_for(name, rep, setup_name == "invert");
      Tensor phi0;
      {
        Tape t;
        Var f = rep.phi(t, t.leaf(x0.view(), false));
        phi0 = Tensor::copy_of(t.value(f));
      }
      const Tensor ref_features = rep.extract(img.view());
      const int n = name == "dsift" ? dsift_runs : runs;
      for (int threads : thread_counts) {
        set_num_threads(threads);
        // warm-up and sanity: a short inversion must lower the objective
        {
          solvers::ObjectiveParams obj;
          obj.C = 20.0f;
          solvers::SolverParams sp;
          sp.iterations = 10;
          sp.anneal_from = setup.anneal_from;
          solvers::PreimageProblem pb;
          pb.phi = setup.phi;
          View phi0v = phi0.view();
          pb.phi0 = &phi0v;
          pb.image_shape = img.shape();
          const solvers::PreimageResult r = solvers::invert(pb, obj, sp);
          PI_CHECK(r.trace.back().terms.total < r.trace.front().terms.total, "bench_invert: ", name,
                   ": 10 iterations did not lower the objective: not timing it");
        }
        double err = -1;  // the unbatched run's
        for (int b : batches) {
          std::vector<double> secs;
          double mean_err = 0, err0 = -1;
          if (b == 1) {
            for (int i = 0; i < n; ++i) {
              const auto [s, e] = invert_once(rep, setup, img, phi0, ref_features, iters);
              PI_CHECK(err < 0 || e == err, "bench_invert: ", name, ": run ", i, " reached feature error ", e,
                       " instead of ", err, " (the solver should be deterministic)");
              err = e;
              secs.push_back(s * 1000.0);  // stats_of works in any unit; milliseconds here
            }
            mean_err = err0 = err;
          } else {
            for (int i = 0; i < batch_runs; ++i) {
              const auto [s, errors] = invert_batch_once(rep, setup, img, phi0, ref_features, iters, b);
              PI_CHECK(err < 0 || errors[0] == err, "bench_invert: ", name, ": sample 0 of a batch of ", b,
                       " reached feature error ", errors[0], ", the unbatched run ", err,
                       " (they should be bit for bit equal)");
              err0 = errors[0];
              mean_err = 0;
              for (double e : errors) mean_err += e / static_cast<double>(b);
              secs.push_back(s * 1000.0);
            }
          }
          bench::Stats st = bench::stats_of(secs);
          std::printf("%-6s %2d %5d  %6d  %8.3f (%6.3f-%6.3f)  %.1f %%%s\n", name.c_str(), threads, b, iters,
                      st.median / 1000.0, st.p10 / 1000.0, st.p90 / 1000.0, 100 * mean_err,
                      b > 1 ? (", " + std::to_string(100 * err0).substr(0, 4) + " %").c_str() : "");
          std::fflush(stdout);
          results.push_back({{"representation", name},
                             {"threads", threads},
                             {"batch", b},
                             {"iterations", iters},
                             {"runs", st.runs},
                             {"seconds_per_image", {{"median", st.median / 1000.0}, {"p10", st.p10 / 1000.0},
                                                    {"p90", st.p90 / 1000.0}}},
                             {"feature_error", mean_err},
                             {"feature_error_sample0", err0}});
        }
      }
    }
    const json report = {{"benchmark", "bench_invert"},
                         {"image", path},
                         {"size", "227x227 gray"},
                         {"cpu_path", cpu_path},
                         {"setup", setup_name},
                         {"cpu", bench::cpu_model()},
                         {"load_average_1min", {{"before", load_before}, {"after", bench::load_average()}}},
                         {"results", results}};
    std::printf("%s\n", report.dump(2).c_str());
    bench::write_json_file(args.get("--json", ""), report);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_invert: %s\n", e.what());
    return 1;
  }
  return 0;
}
