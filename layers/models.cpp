// Model definitions (layers/models.h). Sources: Caffe's models/bvlc_alexnet and bvlc_reference_caffenet
// deploy.prototxt, Chatfield et al. 2014 (VGG_CNN_M; MatConvNet cnn_imagenet_init.m vgg_m), Simonyan & Zisserman
// 2015 (configuration D); checked against seed 001 Tables 1-3 by tests/test_models.cpp.
#include "layers/models.h"

#include <cmath>

#include "engine/error.h"
#include "engine/rng.h"

namespace preimage::layers {
namespace {

// Caffe's ILSVRC 2012 mean image (ilsvrc_2012_mean.binaryproto) averaged over its pixels, RGB.
const std::vector<float> kCaffeMeanRgb = {122.67891434f, 116.66876762f, 104.00698793f};
// The VGG paper's training-set mean pixel, RGB (as in MatConvNet's imagenet-vgg-verydeep-16).
const std::vector<float> kVggMeanRgb = {123.68f, 116.779f, 103.939f};

// Appends layers while tracking the map size at the nominal input, so fc6's kernel is the pool5 map.
class Builder {
 public:
  Builder(const std::string& name, int input, const std::vector<float>& mean) {
    net_.name = name;
    net_.preprocessing.input_h = net_.preprocessing.input_w = input;
    net_.preprocessing.mean_pixel = mean;
    h_ = w_ = input;
  }

  void conv(const std::string& name, int64_t out, int k, int stride, int pad, int groups = 1) {
    Layer l = weighted(name, LayerKind::conv, out, k);
    l.conv = kernels::Conv2dParams::symmetric(stride, pad, groups);
    const auto g = kernels::conv2d_geometry("model definition", Shape{1, channels_, h_, w_},
                                            Shape{out, channels_ / groups, k, k}, l.conv);
    h_ = g.ho;
    w_ = g.wo;
    channels_ = out;
    net_.layers.push_back(l);
  }
  // Fully connected: a convolution whose kernel is the whole current map.
  void fc(const std::string& name, int64_t out) {
    PI_CHECK(h_ == w_, "model definition: fc layer ", name, " on a non-square map");
    Layer l = weighted(name, LayerKind::fc, out, static_cast<int>(h_));
    l.conv = kernels::Conv2dParams::symmetric(1, 0);
    h_ = w_ = 1;
    channels_ = out;
    net_.layers.push_back(l);
  }
  void pool(const std::string& name, int k, int stride) {
    Layer l = simple(name, LayerKind::pool);
    l.pool.kernel_h = l.pool.kernel_w = k;
    l.pool.stride_h = l.pool.stride_w = stride;
    l.pool.ceil_mode = true;  // Caffe's pooling rounds up
    const auto g = kernels::max_pool2d_geometry("model definition", Shape{1, channels_, h_, w_}, l.pool);
    h_ = g.ho;
    w_ = g.wo;
    net_.layers.push_back(l);
  }
  void lrn(const std::string& name, const kernels::LrnParams& p) {
    Layer l = simple(name, LayerKind::lrn);
    l.lrn = p;
    net_.layers.push_back(l);
  }
  void relu(const std::string& name) { net_.layers.push_back(simple(name, LayerKind::relu)); }
  void dropout(const std::string& name) { net_.layers.push_back(simple(name, LayerKind::dropout)); }
  void softmax(const std::string& name) { net_.layers.push_back(simple(name, LayerKind::softmax)); }
  Network take() { return std::move(net_); }

 private:
  Layer simple(const std::string& name, LayerKind kind) const {
    Layer l;
    l.name = name;
    l.kind = kind;
    l.in_channels = l.out_channels = channels_;
    return l;
  }
  Layer weighted(const std::string& name, LayerKind kind, int64_t out, int k) const {
    Layer l = simple(name, kind);
    l.out_channels = out;
    l.kernel_h = l.kernel_w = k;
    l.weight = name + ".weight";
    l.bias = name + ".bias";
    return l;
  }
  Network net_;
  int64_t channels_ = 3, h_ = 0, w_ = 0;
};

void fc_head(Builder& b, const ModelOptions& o) {
  PI_CHECK(o.fc_width >= 1 && o.num_classes >= 1, "model definition: fc widths must be positive, got fc_width ",
           o.fc_width, " and num_classes ", o.num_classes);
  b.fc("fc6", o.fc_width);
  b.relu("relu6");
  b.dropout("drop6");
  b.fc("fc7", o.fc_width);
  b.relu("relu7");
  b.dropout("drop7");
  b.fc("fc8", o.num_classes);
  b.softmax("prob");
}

Network alexnet(const std::string& name, bool pool_before_norm, const ModelOptions& o) {
  const kernels::LrnParams lrn{5, 1e-4f, 0.75f, 1.0f};
  Builder b(name, o.input_size > 0 ? o.input_size : 227, kCaffeMeanRgb);
  for (int i : {1, 2}) {
    const std::string s = std::to_string(i);
    if (i == 1)
      b.conv("conv1", 96, 11, 4, 0);
    else
      b.conv("conv2", 256, 5, 1, 2, 2);
    b.relu("relu" + s);
    if (pool_before_norm) {
      b.pool("pool" + s, 3, 2);
      b.lrn("norm" + s, lrn);
    } else {
      b.lrn("norm" + s, lrn);
      b.pool("pool" + s, 3, 2);
    }
  }
  b.conv("conv3", 384, 3, 1, 1);
  b.relu("relu3");
  b.conv("conv4", 384, 3, 1, 1, 2);
  b.relu("relu4");
  b.conv("conv5", 256, 3, 1, 1, 2);
  b.relu("relu5");
  b.pool("pool5", 3, 2);
  fc_head(b, o);
  return b.take();
}

Network vgg_m(const ModelOptions& o) {
  const kernels::LrnParams lrn{5, 5e-4f, 0.75f, 2.0f};
  Builder b("vgg-m", o.input_size > 0 ? o.input_size : 224, kCaffeMeanRgb);
  b.conv("conv1", 96, 7, 2, 0);
  b.relu("relu1");
  b.lrn("norm1", lrn);
  b.pool("pool1", 3, 2);
  b.conv("conv2", 256, 5, 2, 1);
  b.relu("relu2");
  b.lrn("norm2", lrn);
  b.pool("pool2", 3, 2);
  for (int i : {3, 4, 5}) {
    b.conv("conv" + std::to_string(i), 512, 3, 1, 1);
    b.relu("relu" + std::to_string(i));
  }
  b.pool("pool5", 3, 2);
  fc_head(b, o);
  return b.take();
}

Network vgg_vd_16(const ModelOptions& o) {
  Builder b("vgg-vd-16", o.input_size > 0 ? o.input_size : 224, kVggMeanRgb);
  const int64_t widths[5] = {64, 128, 256, 512, 512};
  const int depth[5] = {2, 2, 3, 3, 3};
  for (int blk = 1; blk <= 5; ++blk) {
    for (int j = 1; j <= depth[blk - 1]; ++j) {
      const std::string s = std::to_string(blk) + "_" + std::to_string(j);
      b.conv("conv" + s, widths[blk - 1], 3, 1, 1);
      b.relu("relu" + s);
    }
    b.pool("pool" + std::to_string(blk), 2, 2);
  }
  fc_head(b, o);
  return b.take();
}

}  // namespace

std::vector<std::string> model_names() { return {"alexnet", "caffenet", "vgg-m", "vgg-vd-16"}; }

std::string canonical_model_name(const std::string& name) {
  if (name == "alexnet" || name == "caffenet" || name == "vgg-m" || name == "vgg-vd-16") return name;
  if (name == "vggm" || name == "vgg_m") return "vgg-m";
  if (name == "vgg16" || name == "vgg-16" || name == "vgg-vd16" || name == "vgg_vd_16") return "vgg-vd-16";
  fail("unknown model '", name, "': expected one of alexnet, caffenet, vgg-m, vgg-vd-16 (aliases vggm, vgg16)");
}

Network make_model(const std::string& name, const ModelOptions& options) {
  const std::string n = canonical_model_name(name);
  if (n == "alexnet") return alexnet(n, false, options);
  if (n == "caffenet") return alexnet(n, true, options);
  if (n == "vgg-m") return vgg_m(options);
  return vgg_vd_16(options);
}

void init_random(Network& net, uint64_t seed) {
  uint64_t stream = 0;
  for (const Layer& l : net.layers) {
    if (!l.has_weights()) continue;
    const int64_t fan_in = l.in_channels / l.conv.groups * l.kernel_h * l.kernel_w;
    const float std_w = std::sqrt(2.0f / static_cast<float>(fan_in));
    Tensor w = Tensor::empty(Shape{l.out_channels, l.in_channels / l.conv.groups, l.kernel_h, l.kernel_w});
    for (int64_t i = 0; i < w.numel(); ++i) w.data()[i] = std_w * philox_normal(seed, static_cast<uint64_t>(i), stream);
    ++stream;
    Tensor b = Tensor::empty(Shape{l.out_channels});
    for (int64_t i = 0; i < b.numel(); ++i)
      b.data()[i] = 0.1f + 0.01f * philox_normal(seed, static_cast<uint64_t>(i), stream);
    ++stream;
    net.set_parameter(l.weight, std::move(w));
    net.set_parameter(l.bias, std::move(b));
  }
}

}  // namespace preimage::layers
