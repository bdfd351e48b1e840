// `preimage demo`: a first end-to-end run of the engine on a real photo. Loads an image, runs a small random
// conv -> relu -> max-pool network through the tape, backpropagates a scalar to the pixels, checks a few pixel
// gradients against central differences and writes the image and its gradient magnitude as PNGs.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/ops.h"
#include "tools/preimage/commands.h"

namespace preimage::tools {
namespace {

struct DemoOptions {
  std::string image = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";
  std::string out = "out/demo";
  int size = 96;
};

// Center crop to at most size x size (keeps the demo fast on any photo).
Tensor center_crop(const Tensor& img, int64_t size) {
  const int64_t c = img.shape()[1], h = img.shape()[2], w = img.shape()[3];
  const int64_t ch = std::min(h, size), cw = std::min(w, size), top = (h - ch) / 2, left = (w - cw) / 2;
  Tensor out = Tensor::empty(Shape{1, c, ch, cw});
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < ch; ++y)
      for (int64_t x = 0; x < cw; ++x)
        out.data()[(k * ch + y) * cw + x] = img.data()[(k * h + top + y) * w + left + x];
  return out;
}

struct Network {
  Tensor w, b;
  kernels::Conv2dParams conv = kernels::Conv2dParams::symmetric(2, 1);
  kernels::MaxPool2dParams pool{3, 3, 2, 2, 0, 0, 0, 0, true};
  // Scalar objective: sum of the pooled features weighted by a fixed random map.
  float objective(Tape& t, Var x, Var* features = nullptr) const {
    Var wv = t.leaf(w.view(), false), bv = t.leaf(b.view(), false);
    Var y = ops::max_pool2d(t, ops::relu(t, ops::conv2d(t, x, wv, bv, conv)), pool);
    if (features) *features = y;
    return t.item(ops::mean(t, y));
  }
};

int run_demo(const DemoOptions& o) {
  namespace fs = std::filesystem;
  Tensor photo = read_image(o.image, ImageChannels::rgb);
  Tensor x = center_crop(photo, o.size);
  std::fprintf(stderr, "demo: %s, %s -> crop %s\n", o.image.c_str(), photo.shape().str().c_str(),
               x.shape().str().c_str());

  Network net;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  net.w = Tensor::empty(Shape{8, 3, 5, 5});
  for (int64_t i = 0; i < net.w.numel(); ++i) net.w.data()[i] = normal(rng);
  // A small positive bias keeps the conv outputs of flat (e.g. black) patches off ReLU's kink at 0, where central
  // differences are one-sided.
  net.b = Tensor::full(Shape{8}, 0.05f);

  Tape tape;
  Var xv = tape.leaf(x.view(), true);
  Var feats;
  const float value = net.objective(tape, xv, &feats);
  tape.backward(Var{static_cast<int>(tape.size()) - 1});
  View g = tape.grad(xv);
  std::printf("objective %.6f, features %s, %zu tape nodes\n", value, tape.shape(feats).str().c_str(), tape.size());

  // Central differences on a few pixels (float forward, so eps is large and the agreement approximate).
  const float eps = 0.5f;
  int agree = 0, total = 0;
  for (int64_t idx : {int64_t{137}, x.numel() / 3, x.numel() / 2 + 17, x.numel() - 211}) {
    const float saved = x.data()[idx];
    Tape tp;
    x.data()[idx] = saved + eps;
    const float lp = net.objective(tp, tp.leaf(x.view(), false));
    tp.clear();
    x.data()[idx] = saved - eps;
    const float lm = net.objective(tp, tp.leaf(x.view(), false));
    x.data()[idx] = saved;
    const double numeric = (static_cast<double>(lp) - lm) / (2 * eps);
    const double err = std::abs(numeric - g.data[idx]) / std::max(std::abs(static_cast<double>(g.data[idx])), 1e-6);
    std::printf("pixel %7lld: analytic %+.6e  numeric %+.6e  rel.err %.1e\n", static_cast<long long>(idx),
                static_cast<double>(g.data[idx]), numeric, err);
    // The float objective carries rounding of a few ulps, so differences below ~4 ulp / (2 eps) are noise.
    const double noise = 4 * std::abs(static_cast<double>(value)) * 1.2e-7 / (2 * eps);
    agree += err < 5e-2 || std::abs(numeric - g.data[idx]) < noise;
    ++total;
  }

  fs::create_directories(o.out);
  write_png((fs::path(o.out) / "input.png").string(), x.view());
  const int64_t hw = x.shape()[2] * x.shape()[3];
  Tensor mag = Tensor::empty(Shape{1, 1, x.shape()[2], x.shape()[3]});
  float peak = 0;
  for (int64_t i = 0; i < hw; ++i) {
    float s = 0;
    for (int c = 0; c < 3; ++c) s += g.data[c * hw + i] * g.data[c * hw + i];
    mag.data()[i] = std::sqrt(s);
    peak = std::max(peak, mag.data()[i]);
  }
  for (int64_t i = 0; i < hw; ++i) mag.data()[i] = peak > 0 ? 255.0f * mag.data()[i] / peak : 0.0f;
  write_png((fs::path(o.out) / "gradient.png").string(), mag.view());
  std::printf("gradient check: %d/%d pixels agree; wrote %s/input.png and %s/gradient.png\n", agree, total,
              o.out.c_str(), o.out.c_str());
  return agree == total ? 0 : 2;
}

}  // namespace

void register_demo(CLI::App& app) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Run a small network on a photo, backpropagate to the pixels and "
                                             "check the gradient against finite differences");
  cmd->add_option("image", opts->image, "input image (PNG/JPEG/BMP/PNM)")->capture_default_str();
  cmd->add_option("--out", opts->out, "output folder")->capture_default_str();
  cmd->add_option("--size", opts->size, "center crop size")->capture_default_str()->check(CLI::Range(16, 4096));
  cmd->callback([opts] { set_exit_code(run_demo(*opts)); });
}

}  // namespace preimage::tools
