// The case table of `preimage bench` (tools/preimage/bench_cases.h).
#include "tools/preimage/bench_cases.h"

#include <algorithm>

#include "layers/models.h"

namespace preimage::tools::bench {
namespace {

const std::vector<int64_t> kNetworkBatches = {1, 64};
const std::vector<int64_t> kDecoderBatches = {64};  // seed 002/003 train the decoders with mini-batches of 64

std::string batch_tag(int64_t n) { return ".b" + std::to_string(n); }

void add_conv_directions(std::vector<BenchCase>& out, BenchCase c) {
  const std::string base = c.name;
  for (Direction d : {Direction::forward, Direction::backward_data, Direction::backward_filter}) {
    c.direction = d;
    c.name = base + "." + direction_name(d);
    out.push_back(c);
  }
}

void add_fwd_bwd(std::vector<BenchCase>& out, BenchCase c) {
  const std::string base = c.name;
  for (Direction d : {Direction::forward, Direction::backward}) {
    c.direction = d;
    c.name = base + "." + direction_name(d);
    out.push_back(c);
  }
}

// The conv layers of a model definition (layers/models.h) at its nominal input size; a shape that repeats (VGG's
// conv3_3 = conv3_2, ...) is timed once, under its first layer's name, with the others in the note.
void add_network_convs(std::vector<BenchCase>& out, const std::string& model, const std::string& tag,
                       const std::vector<int64_t>& batches) {
  const layers::Network net = layers::make_model(model);
  struct Shaped {
    BenchCase c;
    std::vector<std::string> aliases;
  };
  std::vector<Shaped> shapes;
  const Shape image{1, 3, net.preprocessing.input_h, net.preprocessing.input_w};
  Shape in = image;
  for (const layers::Layer& l : net.layers) {
    if (l.kind == layers::LayerKind::conv) {
      BenchCase c;
      c.family = Family::conv;
      c.x = in;
      c.w = Shape{l.out_channels, l.in_channels / l.conv.groups, l.kernel_h, l.kernel_w};
      c.conv = l.conv;
      c.name = tag + "." + l.name;
      auto same = std::find_if(shapes.begin(), shapes.end(), [&](const Shaped& s) {
        const auto& p = s.c.conv;
        return s.c.x == c.x && s.c.w == c.w && p.stride_h == c.conv.stride_h && p.pad_top == c.conv.pad_top &&
               p.groups == c.conv.groups;
      });
      if (same != shapes.end())
        same->aliases.push_back(l.name);
      else
        shapes.push_back({c, {}});
    }
    if (l.kind == layers::LayerKind::fc) break;
    in = net.output_shape(l.name, image);
  }
  for (int64_t n : batches) {
    for (const Shaped& s : shapes) {
      BenchCase c = s.c;
      c.batch = n;
      c.x[0] = n;
      c.name += batch_tag(n);
      for (const std::string& a : s.aliases) c.note += (c.note.empty() ? "same shape as " : ", ") + a;
      add_conv_directions(out, c);
    }
  }
}

// Seed 003, Table 6 (decoder from AlexNet fc8): fc1 1000 -> 4096, fc2, fc3 4096 -> 4096, reshape to 4x4x256, then
// five up-convolutions, kernel 5, stride 2, each doubling the map: 4 -> 8 -> ... -> 128. PyTorch's ConvTranspose2d
// with padding 2 and output padding 1 gives exactly the doubling: (H - 1) * 2 - 4 + 5 + 1 = 2H.
void add_decoder(std::vector<BenchCase>& out, const std::vector<int64_t>& batches) {
  struct Up {
    int64_t c, k, h;
  };
  const Up ups[] = {{256, 256, 4}, {256, 128, 8}, {128, 64, 16}, {64, 32, 32}, {32, 3, 64}};
  for (int64_t n : batches) {
    int i = 1;
    for (const Up& u : ups) {
      BenchCase c;
      c.family = Family::conv_transpose;
      c.batch = n;
      c.x = Shape{n, u.c, u.h, u.h};
      c.w = Shape{u.c, u.k, 5, 5};
      c.conv_t = kernels::ConvTranspose2dParams{2, 2, 2, 2, 2, 2, 1, 1, 1};
      c.name = "decoder_fc8.upconv" + std::to_string(i++) + batch_tag(n);
      add_conv_directions(out, c);
    }
    const int64_t fcs[3][2] = {{1000, 4096}, {4096, 4096}, {4096, 4096}};
    for (int j = 0; j < 3; ++j) {
      BenchCase c;
      c.family = Family::gemm;
      c.batch = n;
      c.x = Shape{n, fcs[j][0]};
      c.w = Shape{fcs[j][1], fcs[j][0]};
      c.name = "decoder_fc8.fc" + std::to_string(j + 1) + batch_tag(n) + ".fwd";
      c.note = "linear forward";
      out.push_back(c);
    }
  }
}

// SGEMM 4096^3 and the GEMMs an im2col convolution runs for AlexNet conv1-conv5 at batch 1, per group:
// [K/g, C/g kh kw] x [C/g kh kw, Ho Wo], through the linear launcher (x [M, Kd], w [N, Kd]: M = K/g, N = Ho Wo).
void add_gemms(std::vector<BenchCase>& out) {
  BenchCase s;
  s.family = Family::gemm;
  s.x = Shape{4096, 4096};
  s.w = Shape{4096, 4096};
  s.name = "sgemm.4096.fwd";
  s.note = "M = N = K = 4096";
  out.push_back(s);
  const layers::Network net = layers::make_model("alexnet");
  const Shape image{1, 3, net.preprocessing.input_h, net.preprocessing.input_w};
  Shape in = image;
  for (const layers::Layer& l : net.layers) {
    if (l.kind == layers::LayerKind::fc) break;
    const Shape y = net.output_shape(l.name, image);
    if (l.kind == layers::LayerKind::conv) {
      const int64_t g = l.conv.groups, m = l.out_channels / g, kd = in[1] / g * l.kernel_h * l.kernel_w;
      const int64_t n = y[2] * y[3];
      BenchCase c;
      c.family = Family::gemm;
      c.x = Shape{m, kd};
      c.w = Shape{n, kd};
      c.name = "gemm_im2col.alexnet." + l.name + ".fwd";
      c.note = "M " + std::to_string(m) + " N " + std::to_string(n) + " K " + std::to_string(kd) +
               (g > 1 ? " (per group)" : "");
      out.push_back(c);
    }
    in = y;
  }
}

void add_memory_bound(std::vector<BenchCase>& out, const std::vector<int64_t>& batches) {
  const kernels::LrnParams alexnet_lrn{5, 1e-4f, 0.75f, 1.0f};
  for (int64_t n : batches) {
    // AlexNet's pools (3x3 s2, ceil mode; for these sizes ceil and floor agree, so cuDNN computes the same windows)
    // and VGG-16's first 2x2 s2 pool.
    struct Pool {
      const char* name;
      int64_t c, h;
      int k;
    };
    for (const Pool& p : {Pool{"alexnet.pool1", 96, 55, 3}, Pool{"alexnet.pool2", 256, 27, 3},
                          Pool{"alexnet.pool5", 256, 13, 3}, Pool{"vgg16.pool1", 64, 224, 2}}) {
      BenchCase c;
      c.family = Family::max_pool;
      c.batch = n;
      c.x = Shape{n, p.c, p.h, p.h};
      c.pool.kernel_h = c.pool.kernel_w = p.k;
      c.pool.stride_h = c.pool.stride_w = 2;
      c.pool.ceil_mode = true;
      c.name = std::string(p.name) + batch_tag(n);
      add_fwd_bwd(out, c);
    }
    struct Lrn {
      const char* name;
      int64_t c, h;
    };
    for (const Lrn& l : {Lrn{"alexnet.norm1", 96, 55}, Lrn{"alexnet.norm2", 256, 27}}) {
      BenchCase c;
      c.family = Family::lrn;
      c.batch = n;
      c.x = Shape{n, l.c, l.h, l.h};
      c.lrn = alexnet_lrn;
      c.name = std::string(l.name) + batch_tag(n);
      add_fwd_bwd(out, c);
    }
    BenchCase r;
    r.family = Family::leaky_relu;
    r.batch = n;
    r.x = Shape{n, 96, 55, 55};
    r.name = "leaky_relu.alexnet_conv1" + batch_tag(n);
    r.note = "slope 0.2";
    add_fwd_bwd(out, r);
  }
  // One 640x480 image: TV^beta (beta 2) on RGB, HOG (UoCTTI, cell 8, 9 orientations) and DSIFT (step 4, bin 8,
  // Gaussian window, exact math) on gray, as in the inversions.
  BenchCase tv;
  tv.family = Family::tv;
  tv.x = Shape{1, 3, 480, 640};
  tv.name = "tv_beta2.640x480";
  add_fwd_bwd(out, tv);
  BenchCase hog;
  hog.family = Family::hog;
  hog.x = Shape{1, 1, 480, 640};
  hog.name = "hog.640x480";
  hog.note = "gradient + binning + normalise";
  add_fwd_bwd(out, hog);
  BenchCase dsift;
  dsift.family = Family::dsift;
  dsift.x = Shape{1, 1, 480, 640};
  dsift.name = "dsift.640x480";
  add_fwd_bwd(out, dsift);
}

}  // namespace

const char* family_name(Family f) {
  switch (f) {
    case Family::conv: return "conv2d";
    case Family::conv_transpose: return "conv_transpose2d";
    case Family::gemm: return "sgemm";
    case Family::max_pool: return "max_pool2d";
    case Family::lrn: return "lrn";
    case Family::leaky_relu: return "leaky_relu";
    case Family::tv: return "tv_beta";
    case Family::hog: return "hog";
    case Family::dsift: return "dsift";
  }
  return "?";
}

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::forward: return "fwd";
    case Direction::backward_data: return "bwd_data";
    case Direction::backward_filter: return "bwd_filter";
    case Direction::backward: return "bwd";
  }
  return "?";
}

std::vector<BenchCase> make_cases(const std::vector<int64_t>& batches) {
  const std::vector<int64_t>& net_batches = batches.empty() ? kNetworkBatches : batches;
  const std::vector<int64_t>& dec_batches = batches.empty() ? kDecoderBatches : batches;
  std::vector<BenchCase> out;
  add_network_convs(out, "alexnet", "alexnet", net_batches);
  add_network_convs(out, "vgg-vd-16", "vgg16", net_batches);
  add_network_convs(out, "vgg-m", "vggm", net_batches);
  // VGG-M: the issue asks for conv1-conv2 only (conv3-5 are VGG-16-like 3x3 layers already covered).
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](const BenchCase& c) {
                             return c.name.rfind("vggm.", 0) == 0 && c.name.rfind("vggm.conv1.", 0) != 0 &&
                                    c.name.rfind("vggm.conv2.", 0) != 0;
                           }),
            out.end());
  add_decoder(out, dec_batches);
  add_gemms(out);
  add_memory_bound(out, net_batches);
  return out;
}

std::vector<BenchCase> filter_cases(const std::vector<BenchCase>& cases, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return cases;
  std::vector<BenchCase> out;
  for (const BenchCase& c : cases)
    for (const std::string& p : patterns)
      if (c.name.find(p) != std::string::npos) {
        out.push_back(c);
        break;
      }
  return out;
}

double case_flops(const BenchCase& c) {
  switch (c.family) {
    case Family::conv: {
      const auto g = kernels::conv2d_geometry("bench", c.x, c.w, c.conv);
      return 2.0 * g.n * g.k * g.ho * g.wo * double(c.w[1] * c.w[2] * c.w[3]);
    }
    case Family::conv_transpose:
      // The transposed conv is the adjoint of a conv whose output is x: N * C * H * W outputs of (K/g) kh kw terms.
      return 2.0 * c.x[0] * c.x[1] * c.x[2] * c.x[3] * double(c.w[1] * c.w[2] * c.w[3]);
    case Family::gemm: return 2.0 * c.x[0] * c.w[0] * double(c.x[1]);
    default: return 0;
  }
}

}  // namespace preimage::tools::bench
