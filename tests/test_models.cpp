// Whole networks: definitions against seed 001 Tables 1-3 (receptive field size and stride, kernel, channels),
// parity with PyTorch through every source format and our converter (fixtures from tests/golden/gen_models.py:
// random weights, reduced fc head), weight-file validation and conversion errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/error.h"
#include "engine/ops.h"
#include "layers/models.h"
#include "support.h"
#include "weights/convert.h"
#include "weights/model_weights.h"

using namespace preimage;
using namespace preimage::test;
namespace fs = std::filesystem;

namespace {

struct Row {
  const char* name;
  int kernel, rf_size, rf_stride, dim;
};

// seed 001 (Mahendran & Vedaldi, IJCV 2016) Table 1: AlexNet.
const Row kAlexNet[] = {
    {"conv1", 11, 11, 4, 96},   {"relu1", 1, 11, 4, 96},    {"norm1", 1, 11, 4, 96},    {"pool1", 3, 19, 8, 96},
    {"conv2", 5, 51, 8, 256},   {"relu2", 1, 51, 8, 256},   {"norm2", 1, 51, 8, 256},   {"pool2", 3, 67, 16, 256},
    {"conv3", 3, 99, 16, 384},  {"relu3", 1, 99, 16, 384},  {"conv4", 3, 131, 16, 384}, {"relu4", 1, 131, 16, 384},
    {"conv5", 3, 163, 16, 256}, {"relu5", 1, 163, 16, 256}, {"pool5", 3, 195, 32, 256}, {"fc6", 6, 355, 32, 4096},
    {"relu6", 1, 355, 32, 4096}, {"fc7", 1, 355, 32, 4096}, {"relu7", 1, 355, 32, 4096}, {"fc8", 1, 355, 32, 1000},
    {"prob", 1, 355, 32, 1000}};
// Table 2: VGG-M.
const Row kVggM[] = {
    {"conv1", 7, 7, 2, 96},     {"relu1", 1, 7, 2, 96},     {"norm1", 1, 7, 2, 96},     {"pool1", 3, 11, 4, 96},
    {"conv2", 5, 27, 8, 256},   {"relu2", 1, 27, 8, 256},   {"norm2", 1, 27, 8, 256},   {"pool2", 3, 43, 16, 256},
    {"conv3", 3, 75, 16, 512},  {"relu3", 1, 75, 16, 512},  {"conv4", 3, 107, 16, 512}, {"relu4", 1, 107, 16, 512},
    {"conv5", 3, 139, 16, 512}, {"relu5", 1, 139, 16, 512}, {"pool5", 3, 171, 32, 512}, {"fc6", 6, 331, 32, 4096},
    {"relu6", 1, 331, 32, 4096}, {"fc7", 1, 331, 32, 4096}, {"relu7", 1, 331, 32, 4096}, {"fc8", 1, 331, 32, 1000},
    {"prob", 1, 331, 32, 1000}};
// Table 3: VGG-VD-16.
const Row kVgg16[] = {
    {"conv1_1", 3, 3, 1, 64},     {"relu1_1", 1, 3, 1, 64},     {"conv1_2", 3, 5, 1, 64},
    {"relu1_2", 1, 5, 1, 64},     {"pool1", 2, 6, 2, 64},       {"conv2_1", 3, 10, 2, 128},
    {"relu2_1", 1, 10, 2, 128},   {"conv2_2", 3, 14, 2, 128},   {"relu2_2", 1, 14, 2, 128},
    {"pool2", 2, 16, 4, 128},     {"conv3_1", 3, 24, 4, 256},   {"relu3_1", 1, 24, 4, 256},
    {"conv3_2", 3, 32, 4, 256},   {"relu3_2", 1, 32, 4, 256},   {"conv3_3", 3, 40, 4, 256},
    {"relu3_3", 1, 40, 4, 256},   {"pool3", 2, 44, 8, 256},     {"conv4_1", 3, 60, 8, 512},
    {"relu4_1", 1, 60, 8, 512},   {"conv4_2", 3, 76, 8, 512},   {"relu4_2", 1, 76, 8, 512},
    {"conv4_3", 3, 92, 8, 512},   {"relu4_3", 1, 92, 8, 512},   {"pool4", 2, 100, 16, 512},
    {"conv5_1", 3, 132, 16, 512}, {"relu5_1", 1, 132, 16, 512}, {"conv5_2", 3, 164, 16, 512},
    {"relu5_2", 1, 164, 16, 512}, {"conv5_3", 3, 196, 16, 512}, {"relu5_3", 1, 196, 16, 512},
    {"pool5", 2, 212, 32, 512},   {"fc6", 7, 404, 32, 4096},    {"relu6", 1, 404, 32, 4096},
    {"fc7", 1, 404, 32, 4096},    {"relu7", 1, 404, 32, 4096},  {"fc8", 1, 404, 32, 1000},
    {"prob", 1, 404, 32, 1000}};

int kernel_of(const layers::Layer& l) {
  if (l.kind == layers::LayerKind::conv || l.kind == layers::LayerKind::fc) return l.kernel_h;
  if (l.kind == layers::LayerKind::pool) return l.pool.kernel_h;
  return 1;
}

template <size_t N>
void check_table(const layers::Network& net, const Row (&rows)[N]) {
  for (const Row& r : rows) {
    INFO(net.name << " " << r.name);
    const layers::Layer& l = net.layer(r.name);
    const layers::ReceptiveField rf = net.receptive_field(r.name);
    CHECK(kernel_of(l) == r.kernel);
    CHECK(rf.size == r.rf_size);
    CHECK(rf.stride == r.rf_stride);
    CHECK(net.channels(r.name) == r.dim);
  }
}

fs::path source_dir() { return fs::path(PREIMAGE_TEST_DATA).parent_path().parent_path(); }
fs::path fixture(const std::string& name) { return fs::path(PREIMAGE_GOLDEN_DIR) / "models" / name; }
fs::path scratch_dir() {
  const fs::path d = fs::path(PREIMAGE_BINARY_DIR) / "test_models_tmp";
  fs::create_directories(d);
  return d;
}

// The head sizes the fixtures use (gen_models.py FC, CLASSES).
layers::ModelOptions fixture_head() {
  layers::ModelOptions o;
  o.fc_width = 32;
  o.num_classes = 10;
  return o;
}

weights::ConvertOptions convert_options(const std::string& model, const std::string& file) {
  weights::ConvertOptions o;
  o.model = model;
  o.model_options = fixture_head();
  o.input = fixture(file).string();
  o.output = (scratch_dir() / (file + ".safetensors")).string();
  o.script = (source_dir() / "tools" / "convert_weights.py").string();
  return o;
}

// max |a - r| / max |r|: the error relative to the layer's scale (outputs are continuous in the input, so a
// max-norm is meaningful).
double max_relative(const View& a, const GoldenTensor& r) {
  REQUIRE(static_cast<size_t>(a.numel()) == r.data.size());
  double err = 0, scale = 0;
  for (size_t i = 0; i < r.data.size(); ++i) {
    err = std::max(err, std::fabs(static_cast<double>(a.data[i]) - r.data[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(r.data[i])));
  }
  return scale > 0 ? err / scale : err;
}

// ||a - r|| / ||r|| over the elements where `tie` is 0 (gen_models.py "Near-ties": elsewhere the gradient depends
// on which side of a max-pooling or ReLU near-tie float32 falls, and both sides are right).
double l2_relative(const View& a, const GoldenTensor& r, const GoldenTensor& tie) {
  REQUIRE(static_cast<size_t>(a.numel()) == r.data.size());
  REQUIRE(tie.data.size() == r.data.size());
  double err = 0, norm = 0;
  for (size_t i = 0; i < r.data.size(); ++i) {
    if (tie.data[i] != 0) continue;
    const double d = static_cast<double>(a.data[i]) - r.data[i];
    err += d * d;
    norm += static_cast<double>(r.data[i]) * r.data[i];
  }
  return std::sqrt(err / std::max(norm, 1e-300));
}

double fraction_nonzero(const GoldenTensor& t) {
  return static_cast<double>(std::count_if(t.data.begin(), t.data.end(), [](float v) { return v != 0; })) /
         static_cast<double>(std::max<size_t>(t.data.size(), 1));
}

Tensor tensor_like(const GoldenTensor& g, const Shape& shape) {
  REQUIRE(static_cast<int64_t>(g.data.size()) == shape.numel());
  return Tensor::from(g.data, shape);
}

// Tolerances. float32 against a float64 reference: a K-term dot product carries a relative error of about
// sqrt(K) * 6e-8 (K up to 4608 in VGG's 3x3x512 convolutions, 9216-25088 in fc6), compounding roughly additively
// over the depth (up to 16 weighted layers): ~1e-6 to 1e-5 at the top, more at prob when the random logits are
// large (softmax turns a logit error d into a probability error ~d). Measured here: outputs <= 1e-5 (alexnet prob),
// most layers ~1e-6; input gradients <= 6e-7. The bounds leave a factor ~10; a swapped channel order, a transposed
// or flipped filter, a wrong LRN alpha, a missing mean or scale gives errors of order 1e-2 to 1.
constexpr double kOutputTol = 1e-4;
constexpr double kGradTol = 1e-5;
// The gradient is compared off the elements that depend on a near-tie (gen_models.py): at the inputs chosen there,
// 30-80% of each image's elements stay, enough to see any of the errors above (they change every element). Fewer
// than this means the golden input has too many ties to be a useful test.
constexpr double kMinTieFree = 0.2;

struct Parity {
  double worst_output = 0, grad = 0, tie_delta = 0, tie_free = 0;
  std::string worst_layer;
};

// Runs layers [first, last] of `net` on `input` (already in the network's domain), compares every output with
// golden "<prefix>out.<layer>" and the gradient of sum(c * top) (top = last, or fc8 below prob) with `d_golden`
// off the tie mask "<tie_key>" (with %d the mask's index) that our own forward error calls for.
Parity compare_range(const layers::Network& net, const Golden& g, const std::string& prefix, Tensor input,
                     const std::string& first, const std::string& last, const GoldenTensor& d_golden,
                     const std::string& tie_key) {
  Tape t;
  const Var x = t.leaf(input.view(), true);
  const std::vector<Var> outs = net.forward_range(t, x, first, last);
  Parity p;
  double switch_error = 0;  // worst error of the layers before prob, whose outputs feed the ReLUs and poolings
  const size_t a = net.layer_index(first);
  for (size_t i = 0; i < outs.size(); ++i) {
    const std::string& name = net.layers[a + i].name;
    const double e = max_relative(t.value(outs[i]), g.at(prefix + "out." + name));
    if (e > p.worst_output) {
      p.worst_output = e;
      p.worst_layer = name;
    }
    if (net.layers[a + i].kind != layers::LayerKind::softmax) switch_error = std::max(switch_error, e);
    INFO("layer " << name << ": max error / max |output| = " << e);
    CHECK(e < kOutputTol);
  }
  const size_t top = net.layers[net.layer_index(last)].kind == layers::LayerKind::softmax ? outs.size() - 2
                                                                                          : outs.size() - 1;
  const Var c = t.constant(tensor_like(g.at(prefix + "c"), t.shape(outs[top])));
  t.backward(ops::sum(t, ops::mul(t, outs[top], c)));
  // Values off by at most e (of the layer's scale) can flip a pooling window whose margin is below 2e, or a ReLU
  // input below e: the mask of the smallest recorded delta >= 2e covers every tie this run can have taken.
  const std::vector<float>& deltas = g.at("tie_deltas").data;
  size_t k = 0;
  while (k < deltas.size() && deltas[k] < 2 * switch_error) ++k;
  INFO("worst forward error before prob " << switch_error);
  REQUIRE(k < deltas.size());  // our float32 error outgrew the recorded tie margins: a precision regression
  char key[64];
  std::snprintf(key, sizeof key, tie_key.c_str(), static_cast<int>(k));
  const GoldenTensor& tie = g.at(key);
  p.tie_delta = deltas[k];
  p.tie_free = 1 - fraction_nonzero(tie);
  CHECK(p.tie_free >= kMinTieFree);
  p.grad = l2_relative(t.grad(x), d_golden, tie);
  return p;
}

void check_parity(const std::string& model, const std::string& file, const std::string& fmt) {
  const Golden g = read_golden("models_" + model);
  const weights::ConvertOptions options = convert_options(model, file);
  const layers::Network net = weights::convert_weights(options);
  fs::remove(options.output);  // loaded; VGG-16's are 60 MB each
  const GoldenTensor& image = g.at("image." + fmt);
  const Tensor raw = Tensor::from(image.data, image.shape());
  if (file == "alexnet.onnx" || file == "caffenet.onnx") {  // declared 224x224, as the ONNX zoo's files
    CHECK(net.preprocessing.input_h == 224);
    CHECK(net.preprocessing.source_order == "BGR");
  }
  const std::string last = model == "vgg-vd-16" ? "pool5" : "prob";
  const Parity p = compare_range(net, g, "", net.preprocess(raw.view()), net.layers.front().name, last,
                                 g.at("d_image." + fmt), "tie%d." + fmt);
  INFO(model << " from " << file << ": worst output error " << p.worst_output << " at " << p.worst_layer
             << ", input gradient error " << p.grad);
  CHECK(p.grad < kGradTol);
  std::fprintf(stderr,
               "[models] %-10s %-22s worst output %.2e (%s), input gradient %.2e on the %.0f%% of elements free of "
               "ties within %.0e\n",
               model.c_str(), file.c_str(), p.worst_output, p.worst_layer.c_str(), p.grad, 100 * p.tie_free,
               p.tie_delta);
  if (model == "vgg-vd-16") {  // the fc head on its own pool5-shaped input
    const GoldenTensor& hin = g.at("head.in");
    const Parity h =
        compare_range(net, g, "head.", Tensor::from(hin.data, hin.shape()), "fc6", "prob", g.at("head.d_in"),
                      "head.tie%d");
    INFO("head: worst output error " << h.worst_output << " at " << h.worst_layer << ", gradient " << h.grad);
    CHECK(h.grad < kGradTol);
    std::fprintf(stderr, "[models] %-10s %-22s fc head: worst output %.2e (%s), input gradient %.2e\n",
                 model.c_str(), file.c_str(), h.worst_output, h.worst_layer.c_str(), h.grad);
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A small file with the given tensors/metadata in the scratch folder.
std::string write_file(const std::string& name, const std::vector<std::pair<std::string, View>>& tensors,
                       const std::map<std::string, std::string>& meta) {
  const std::string path = (scratch_dir() / name).string();
  write_safetensors(path, tensors, meta);
  return path;
}

}  // namespace

TEST_CASE("model definitions match the receptive fields of seed 001 Tables 1-3", "[models]") {
  check_table(layers::make_model("alexnet"), kAlexNet);
  check_table(layers::make_model("vgg-m"), kVggM);
  check_table(layers::make_model("vgg16"), kVgg16);

  // CaffeNet: AlexNet with each pool before its norm; the norms now see the pooled map.
  const layers::Network caffenet = layers::make_model("caffenet");
  for (const Row& r : kAlexNet) {
    std::string name = r.name;
    if (name == "norm1") name = "pool1";
    if (name == "norm2") name = "pool2";
    INFO(r.name);
    CHECK(caffenet.receptive_field(r.name).size == layers::make_model("alexnet").receptive_field(name).size);
  }
  CHECK(caffenet.layer_index("pool1") + 1 == caffenet.layer_index("norm1"));

  // offsets: the centre of the first unit's field (AlexNet conv1: pixel 5; VGG-16 conv1_1 with pad 1: pixel 0)
  const layers::Network alex = layers::make_model("alexnet");
  CHECK(alex.receptive_field("conv1").offset == 5.0);
  CHECK(alex.receptive_field("pool1").offset == 9.0);
  CHECK(layers::make_model("vgg16").receptive_field("conv1_1").offset == 0.0);
  CHECK(layers::make_model("vgg16").receptive_field("pool1").offset == 0.5);

  // the published output sizes at the nominal inputs, Caffe's ceil-mode pooling included
  CHECK(alex.output_shape("pool5", Shape{1, 3, 227, 227}) == Shape{1, 256, 6, 6});
  CHECK(alex.output_shape("pool5", Shape{1, 3, 224, 224}) == Shape{1, 256, 6, 6});  // ceil: 54 -> 27
  CHECK(alex.output_shape("prob", Shape{2, 3, 227, 227}) == Shape{2, 1000, 1, 1});
  const layers::Network vggm = layers::make_model("vgg-m");
  CHECK(vggm.output_shape("pool2", Shape{1, 3, 224, 224}) == Shape{1, 256, 13, 13});
  CHECK(vggm.output_shape("fc8", Shape{1, 3, 224, 224}) == Shape{1, 1000, 1, 1});
  CHECK(layers::make_model("vgg-vd-16").output_shape("pool5", Shape{1, 3, 224, 224}) == Shape{1, 512, 7, 7});
  // LRN conventions: Caffe's alpha (divided by the window in the formula), VGG-M's k = 2
  CHECK(alex.layer("norm1").lrn.alpha == 1e-4f);
  CHECK(vggm.layer("norm2").lrn.k == 2.0f);
  CHECK(vggm.layer("norm2").lrn.alpha == 5e-4f);
  CHECK(alex.layer("conv2").conv.groups == 2);
  CHECK(alex.layer("conv3").conv.groups == 1);
}

TEST_CASE("layer names are checked", "[models][errors]") {
  const layers::Network net = layers::make_model("alexnet");
  const std::string e = error_of([&] { net.layer_index("conv6"); });
  CHECK(e.find("no layer named 'conv6'") != std::string::npos);
  CHECK(e.find("relu5") != std::string::npos);
  CHECK(error_of([] { layers::make_model("resnet50"); }).find("unknown model") != std::string::npos);
  CHECK(error_of([&] { net.output_shape("fc6", Shape{1, 3, 100, 100}); }) != "");
  Tape t;
  Tensor img = Tensor::zeros(Shape{1, 3, 227, 227});
  CHECK(error_of([&] { net.forward(t, t.leaf(img.view(), false), "conv1"); }).find("no weights") !=
        std::string::npos);
}

TEST_CASE("saved networks reload exactly; BGR order and input scale fold into conv1", "[models]") {
  layers::ModelOptions head;
  head.fc_width = 8;
  head.num_classes = 5;
  layers::Network net = layers::make_model("caffenet", head);
  layers::init_random(net, 11);
  const std::string path = (scratch_dir() / "caffenet_random.safetensors").string();
  weights::save_network(path, net);
  const layers::Network back = weights::load_network(path, "caffenet");
  for (const auto& [name, t] : net.parameters()) {
    INFO(name);
    const Tensor& u = back.parameters().at(name);
    REQUIRE(u.shape() == t.shape());
    CHECK(max_abs_diff(u.to_vector(), t.to_vector()) == 0.0f);
  }

  // The same network stored as a BGR source with input scale s: conv1's input channels reversed and divided by s.
  SafetensorsFile f = read_safetensors(path);
  const float s[3] = {0.5f, 2.0f, 4.0f};  // in the file's (BGR) order
  Tensor& w = f.tensors.at("conv1.weight");
  Tensor bgr = Tensor::empty(w.shape());
  const int64_t khw = w.shape()[2] * w.shape()[3];
  for (int64_t k = 0; k < w.shape()[0]; ++k)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < khw; ++i)
        bgr.data()[(k * 3 + c) * khw + i] = w.data()[(k * 3 + (2 - c)) * khw + i] / s[c];
  std::vector<std::pair<std::string, View>> tensors;
  for (const auto& [name, t] : f.tensors) tensors.emplace_back(name, name == "conv1.weight" ? bgr.view() : t.view());
  auto meta = f.metadata;
  meta["preimage.input_order"] = "BGR";
  meta["preimage.input_scale"] = "[0.5, 2.0, 4.0]";
  meta["preimage.mean"] = "[104.0, 116.0, 122.0]";
  const layers::Network folded = weights::load_network(write_file("caffenet_bgr.safetensors", tensors, meta));
  CHECK(max_abs_diff(folded.parameters().at("conv1.weight").to_vector(),
                     net.parameters().at("conv1.weight").to_vector()) < 1e-6f);
  CHECK(folded.preprocessing.mean_pixel == std::vector<float>{122.0f, 116.0f, 104.0f});

  // and the whole network computes the same thing (the scales are powers of two, so folding is exact)
  Tensor img = random_tensor(Shape{1, 3, 227, 227}, 5, -100.0f, 100.0f);
  Tape t;
  const Var y0 = net.forward(t, t.leaf(img.view(), false), "fc8");
  const Var y1 = folded.forward(t, t.leaf(img.view(), false), "fc8");
  CHECK(max_abs_diff(Tensor::copy_of(t.value(y0)).to_vector(), Tensor::copy_of(t.value(y1)).to_vector()) == 0.0f);
}

TEST_CASE("weight files are validated: shapes, names, metadata, values", "[models][errors]") {
  layers::ModelOptions head;
  head.fc_width = 8;
  head.num_classes = 5;
  layers::Network net = layers::make_model("alexnet", head);
  layers::init_random(net, 3);
  const std::string good = (scratch_dir() / "alexnet_random.safetensors").string();
  weights::save_network(good, net);
  const SafetensorsFile f = read_safetensors(good);

  auto variant = [&](const std::string& name, auto edit) {
    std::map<std::string, Tensor> tensors;
    for (const auto& [k, v] : f.tensors) tensors.emplace(k, Tensor::copy_of(v.view()));
    auto meta = f.metadata;
    edit(tensors, meta);
    std::vector<std::pair<std::string, View>> list;
    for (const auto& [k, v] : tensors) list.emplace_back(k, v.view());
    return write_file(name, list, meta);
  };
  using TMap = std::map<std::string, Tensor>;
  using MMap = std::map<std::string, std::string>;

  std::string e = error_of([&] {
    weights::load_network(variant("wrong_shape.safetensors", [](TMap& t, MMap&) {
      t["conv2.weight"] = Tensor::zeros(Shape{256, 96, 5, 5});
    }));
  });
  CHECK(e.find("conv2.weight") != std::string::npos);
  CHECK(e.find("[256, 96, 5, 5]") != std::string::npos);
  CHECK(e.find("[256, 48, 5, 5]") != std::string::npos);

  e = error_of([&] {
    weights::load_network(variant("missing.safetensors", [](TMap& t, MMap&) { t.erase("fc7.bias"); }));
  });
  CHECK(e.find("'fc7.bias' is missing") != std::string::npos);

  e = error_of([&] {
    weights::load_network(variant("extra.safetensors", [](TMap& t, MMap&) { t["fc9.weight"] = Tensor::zeros({2}); }));
  });
  CHECK(e.find("unexpected tensor 'fc9.weight'") != std::string::npos);

  e = error_of([&] {
    weights::load_network(variant("nan.safetensors", [](TMap& t, MMap&) {
      t["conv3.bias"].data()[7] = std::nanf("");
    }));
  });
  CHECK(e.find("conv3.bias") != std::string::npos);
  CHECK(e.find("non-finite") != std::string::npos);

  e = error_of([&] {
    weights::load_network(variant("no_model.safetensors", [](TMap&, MMap& m) { m.erase("preimage.model"); }));
  });
  CHECK(e.find("preimage.model") != std::string::npos);

  e = error_of([&] {
    weights::load_network(variant("order.safetensors", [](TMap&, MMap& m) { m["preimage.input_order"] = "GBR"; }));
  });
  CHECK(e.find("RGB or BGR") != std::string::npos);

  e = error_of([&] {
    weights::load_network(variant("mean.safetensors", [](TMap&, MMap& m) { m["preimage.mean"] = "[1, 2]"; }));
  });
  CHECK(e.find("preimage.mean needs 3 values") != std::string::npos);

  e = error_of([&] {
    weights::load_network(variant("head.safetensors", [](TMap&, MMap& m) { m["preimage.fc_width"] = "16"; }));
  });
  CHECK(e.find("fc6.weight") != std::string::npos);

  CHECK(error_of([&] { weights::load_network(good, "vgg-m"); }).find("holds alexnet weights") != std::string::npos);
  CHECK(error_of([&] { weights::load_network(good, "caffenet"); }).find("holds alexnet weights") !=
        std::string::npos);

  // a truncated file: the safetensors reader's own checks
  const std::string cut = (scratch_dir() / "truncated.safetensors").string();
  {
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream out(cut, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  CHECK(error_of([&] { weights::load_network(cut); }) != "");
}

TEST_CASE("converted networks match PyTorch layer by layer: MatConvNet, ONNX, torchvision",
          "[models][golden]") {
  SECTION("alexnet .mat") { check_parity("alexnet", "alexnet.mat", "mat"); }
  SECTION("alexnet .onnx (Caffe, BGR)") { check_parity("alexnet", "alexnet.onnx", "onnx"); }
  SECTION("caffenet .mat (old MatConvNet layout, 256x256 mean image)") {
    check_parity("caffenet", "caffenet.mat", "mat");
  }
  SECTION("caffenet .onnx") { check_parity("caffenet", "caffenet.onnx", "onnx"); }
  SECTION("vgg-m .mat") { check_parity("vgg-m", "vgg-m.mat", "mat"); }
  SECTION("vgg-m DagNN .mat") { check_parity("vgg-m", "vgg-m_dagnn.mat", "dagnn"); }
  SECTION("vgg-vd-16 .mat") { check_parity("vgg-vd-16", "vgg-vd-16.mat", "mat"); }
  SECTION("vgg-vd-16 torchvision .pth") { check_parity("vgg-vd-16", "vgg-vd-16.pth", "pth"); }
  SECTION("vgg-vd-16 .onnx (torchvision preprocessing)") { check_parity("vgg-vd-16", "vgg-vd-16.onnx", "onnx"); }
}

TEST_CASE("the converter refuses wrong, truncated and mismatched files and leaves no output", "[models][errors]") {
  auto expect_error = [](weights::ConvertOptions o, const std::string& needle) {
    // Own output names: ctest -j runs the parity test beside this one, and it converts the same fixtures to
    // scratch_dir()/<file>.safetensors; removing that file here made it fail now and then.
    o.output = (scratch_dir() / ("refused_" + fs::path(o.output).filename().string())).string();
    fs::remove(o.output);
    const std::string e = error_of([&] { weights::convert_weights(o); });
    INFO(e);
    CHECK(e.find(needle) != std::string::npos);
    CHECK_FALSE(fs::exists(o.output));
  };
  expect_error(convert_options("alexnet", "torchvision_alexnet.pth"), "torchvision's AlexNet");
  expect_error(convert_options("caffenet", "alexnet.mat"), "do not follow caffenet's structure");
  expect_error(convert_options("vgg-m", "alexnet.onnx"), "stride (4, 4), vgg-m expects (2, 2)");
  expect_error(convert_options("alexnet", "vgg-m.mat"), "layer conv1");
  {
    weights::ConvertOptions o = convert_options("vgg16", "vgg-vd-16.pth");
    o.model_options.fc_width = 64;  // the file's head is 32 wide
    expect_error(o, "layer fc6 (source 'classifier.0'): weight has shape (32, 25088)");
  }
  // truncated copies of a .mat, an .onnx and a .pth
  for (const char* name : {"alexnet.mat", "alexnet.onnx", "vgg-vd-16.pth"}) {
    const fs::path cut = scratch_dir() / (std::string("cut_") + name);
    {
      std::ifstream in(fixture(name), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::ofstream out(cut, std::ios::binary);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() * 2 / 3));
    }
    weights::ConvertOptions o = convert_options(std::string(name).find("vgg") == 0 ? "vgg16" : "alexnet", name);
    o.input = cut.string();
    o.output = (scratch_dir() / (std::string("cut_") + name + ".safetensors")).string();
    expect_error(o, "not a readable");
  }
  {
    weights::ConvertOptions o = convert_options("alexnet", "alexnet.mat");
    o.input = (scratch_dir() / "missing.mat").string();
    expect_error(o, "no such file");
  }
}
