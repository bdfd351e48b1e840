// Benchmark (not a test) of the shallow feature extractors against libvl (VLFeat 0.9.21) measured in the same run:
// HOG (UoCTTI, hard and bilinear) and DSIFT (Gaussian and flat window) forward, and forward+backward through the
// tape, on gray 640x480 and 227x227 crops of a photo, with 1 and 2 threads. Before timing, every forward is checked
// against libvl (HOG bit for bit, DSIFT relative error <= 1e-5). Ours and libvl run in turn (A B A B ...) after a
// warm-up; medians, p10 and p90 over the runs, and the median of the per-pair ratios. libvl's vl_hog and vl_dsift
// are single-threaded, so its figures do not change with the thread count.
//
//   build-*/bench_features [--runs 21] [--warmup 3] [--json FILE] [--image PATH]
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <vl/dsift.h>
#include <vl/generic.h>
#include <vl/hog.h>

#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "engine/ops.h"
#include "engine/threads.h"
#include "features/dsift.h"
#include "features/hog.h"
#include "tools/bench/bench_common.h"

using namespace preimage;
using nlohmann::json;

namespace {

const char* kUsage =
    "bench_features: HOG / DSIFT extraction time against libvl (vl_hog, vl_dsift) in the same run.\n"
    "  --runs N      timed runs per case (default 21)\n"
    "  --warmup N    untimed runs first (default 3)\n"
    "  --json FILE   also write the results as JSON\n"
    "  --image PATH  photo to crop (default MATE LadyBird.jpg, gray)\n";

// ---- libvl ----
void vl_hog_run(const Tensor& img, bool bilinear, std::vector<float>& out) {
  const Shape& s = img.shape();
  VlHog* h = vl_hog_new(VlHogVariantUoctti, 9, VL_FALSE);
  vl_hog_set_use_bilinear_orientation_assignments(h, bilinear ? VL_TRUE : VL_FALSE);
  vl_hog_put_image(h, img.data(), static_cast<vl_size>(s.w()), static_cast<vl_size>(s.h()), 1, 8);
  out.resize(vl_hog_get_width(h) * vl_hog_get_height(h) * vl_hog_get_dimension(h));
  vl_hog_extract(h, out.data());
  vl_hog_delete(h);
}

// Descriptors in our layout [128][frames] (libvl writes [frames][128]).
void vl_dsift_run(const Tensor& img, const features::DsiftParams& p, std::vector<float>& out) {
  const int H = static_cast<int>(img.shape()[2]), W = static_cast<int>(img.shape()[3]);
  VlDsiftFilter* f = vl_dsift_new_basic(W, H, p.step, p.bin_size);
  vl_dsift_set_flat_window(f, p.flat_window ? VL_TRUE : VL_FALSE);
  vl_dsift_process(f, img.data());
  const int F = vl_dsift_get_keypoint_num(f);
  const float* d = vl_dsift_get_descriptors(f);
  out.resize(static_cast<size_t>(F) * 128);
  for (int i = 0; i < F; ++i)
    for (int c = 0; c < 128; ++c) out[static_cast<size_t>(c) * F + i] = d[static_cast<size_t>(i) * 128 + c];
  vl_dsift_delete(f);
}

// ---- ours ----
// Forward + backward as the inversion runs it: features on the tape, normalised L2 to a target, gradient to the
// image.
template <typename Phi> void forward_backward(const Tensor& img, const Tensor& target, Phi phi) {
  Tape t;
  Var x = t.leaf(img.view(), true);
  Var f = phi(t, x);
  Var loss = ops::normalised_l2(t, f, t.leaf(target.view(), false), Var{});
  t.backward(loss);
}

double relative_error(const float* a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

Tensor gray_crop(const Tensor& gray, int64_t h, int64_t w) {
  const int64_t H = gray.shape()[2], W = gray.shape()[3];
  PI_CHECK(H >= h && W >= w, "bench_features: the photo (", H, "x", W, ") is smaller than ", h, "x", w);
  return crop_image(gray.view(), (H - h) / 2, (W - w) / 2, h, w);
}

struct Row {
  std::string op, size, peer;
  int threads = 1;
  bench::Paired t;
  std::string check;
};

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args(argc, argv, {"--runs", "--warmup", "--json", "--image"}, kUsage);
  const int runs = args.get_int("--runs", 21), warmup = args.get_int("--warmup", 3);
  const std::string path = args.get("--image", "/usr/share/backgrounds/mate/nature/LadyBird.jpg");
  try {
    const Tensor rgb = read_image(path, ImageChannels::rgb);
    const Tensor gray = rgb_to_gray(rgb.view());
    vl_set_num_threads(1);
    const double load_before = bench::load_average();
    std::vector<Row> rows;
    for (auto [h, w] : std::vector<std::pair<int64_t, int64_t>>{{480, 640}, {227, 227}}) {
      const Tensor img = gray_crop(gray, h, w);
      const std::string size = std::to_string(w) + "x" + std::to_string(h);
      for (int threads : {1, 2}) {
        set_num_threads(threads);
        std::vector<float> vl_out;
        // HOG, hard and bilinear (HOGb): checked bit for bit against vl_hog first
        for (bool bilinear : {false, true}) {
          features::HogParams p;
          p.bilinear_orientations = bilinear;
          vl_hog_run(img, bilinear, vl_out);
          const Tensor ours = features::hog_forward(img.view(), p);
          double worst = 0;
          for (size_t i = 0; i < vl_out.size(); ++i)
            worst = std::max(worst, std::abs(double(ours.data()[i]) - vl_out[i]));
          PI_CHECK(static_cast<size_t>(ours.numel()) == vl_out.size() && worst == 0, "bench_features: HOG ",
                   bilinear ? "bilinear" : "hard", " differs from vl_hog (max |diff| ", worst, "): not timing it");
          const std::string name = bilinear ? "hogb" : "hog";
          rows.push_back({name + " forward", size, bilinear ? "vl_hog (bilinear)" : "vl_hog", threads,
                          bench::time_paired([&] { features::hog_forward(img.view(), p); },
                                             [&] { vl_hog_run(img, bilinear, vl_out); }, warmup, runs),
                          "bit-exact"});
          const Tensor target = features::hog_forward(img.view(), p);
          Tensor x = img.clone();
          for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = 255.0f - x.data()[i];  // not the target image
          rows.push_back(
              {name + " forward+backward", size, bilinear ? "vl_hog (bilinear) forward" : "vl_hog forward", threads,
               bench::time_paired([&] { forward_backward(x, target, [&](Tape& t, Var v) { return features::hog(t, v, p); }); },
                                  [&] { vl_hog_run(img, bilinear, vl_out); }, warmup, runs),
               "-"});
        }
        // DSIFT (step 4, bin 8), Gaussian and flat window: relative error to vl_dsift <= 1e-5 first
        for (bool flat : {false, true}) {
          features::DsiftParams p;
          p.flat_window = flat;
          vl_dsift_run(img, p, vl_out);
          const Tensor ours = features::dsift(img.view(), p);
          const double err = relative_error(ours.data(), vl_out);
          PI_CHECK(static_cast<size_t>(ours.numel()) == vl_out.size() && err <= 1e-5, "bench_features: DSIFT ",
                   flat ? "flat" : "Gaussian", " differs from vl_dsift (relative error ", err, "): not timing it");
          char check[64];
          std::snprintf(check, sizeof check, "rel. err %.1e", err);
          const std::string name = flat ? "dsift flat" : "dsift gauss";
          rows.push_back({name + " forward", size, flat ? "vl_dsift flat" : "vl_dsift gauss", threads,
                          bench::time_paired([&] { features::dsift(img.view(), p); },
                                             [&] { vl_dsift_run(img, p, vl_out); }, warmup, runs),
                          check});
        }
        // The DSIFT target: our Gaussian window against libvl's flat ("fast") window
        {
          features::DsiftParams gauss, flat;
          flat.flat_window = true;
          rows.push_back({"dsift gauss forward", size, "vl_dsift flat", threads,
                          bench::time_paired([&] { features::dsift(img.view(), gauss); },
                                             [&] { vl_dsift_run(img, flat, vl_out); }, warmup, runs),
                          "target"});
          const Tensor target = features::dsift(img.view(), gauss, features::DsiftMath::exact);
          Tensor x = img.clone();
          for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = 255.0f - x.data()[i];
          rows.push_back({"dsift gauss forward+backward", size, "vl_dsift gauss forward", threads,
                          bench::time_paired(
                              [&] {
                                forward_backward(x, target, [&](Tape& t, Var v) { return features::dsift(t, v, gauss); });
                              },
                              [&] { vl_dsift_run(img, gauss, vl_out); }, warmup, runs),
                          "-"});
        }
      }
    }
    const double load_after = bench::load_average();

    std::printf("%-30s %-8s %2s  %24s  %-26s %24s  %8s  %s\n", "case", "size", "th", "ours ms (p10-p90)", "peer",
                "peer ms (p10-p90)", "peer/us", "check");
    json results = json::array();
    for (const Row& r : rows) {
      char ours[64], peer[64];
      std::snprintf(ours, sizeof ours, "%7.2f (%6.2f-%6.2f)", r.t.ours.median, r.t.ours.p10, r.t.ours.p90);
      std::snprintf(peer, sizeof peer, "%7.2f (%6.2f-%6.2f)", r.t.peer.median, r.t.peer.p10, r.t.peer.p90);
      std::printf("%-30s %-8s %2d  %24s  %-26s %24s  %7.2fx  %s\n", r.op.c_str(), r.size.c_str(), r.threads, ours,
                  r.peer.c_str(), peer, r.t.ratio.median, r.check.c_str());
      results.push_back({{"case", r.op},
                         {"size", r.size},
                         {"threads", r.threads},
                         {"ours_ms", {{"median", r.t.ours.median}, {"p10", r.t.ours.p10}, {"p90", r.t.ours.p90}}},
                         {"peer", r.peer},
                         {"peer_ms", {{"median", r.t.peer.median}, {"p10", r.t.peer.p10}, {"p90", r.t.peer.p90}}},
                         {"peer_over_ours_median", r.t.ratio.median},
                         {"runs", r.t.ours.runs},
                         {"check", r.check}});
    }
    const json report = {{"benchmark", "bench_features"},
                         {"image", path},
                         {"cpu", bench::cpu_model()},
                         {"load_average_1min", {{"before", load_before}, {"after", load_after}}},
                         {"runs", runs},
                         {"warmup", warmup},
                         {"results", results}};
    std::printf("%s\n", report.dump(2).c_str());
    bench::write_json_file(args.get("--json", ""), report);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_features: %s\n", e.what());
    return 1;
  }
  return 0;
}
