// Network description queries and the tape runner (layers/network.h).
#include "layers/network.h"

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/ops.h"

namespace preimage::layers {
namespace {

// The file layout of a weight: conv [out, in/groups, kh, kw]; fc [out, in*kh*kw] (InnerProduct).
Shape file_weight_shape(const Layer& l) {
  if (l.kind == LayerKind::fc) return Shape{l.out_channels, l.in_channels * l.kernel_h * l.kernel_w};
  return Shape{l.out_channels, l.in_channels / l.conv.groups, l.kernel_h, l.kernel_w};
}

Shape runtime_weight_shape(const Layer& l) {
  return Shape{l.out_channels, l.in_channels / l.conv.groups, l.kernel_h, l.kernel_w};
}

}  // namespace

const char* layer_kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::conv: return "conv";
    case LayerKind::relu: return "relu";
    case LayerKind::lrn: return "lrn";
    case LayerKind::pool: return "pool";
    case LayerKind::fc: return "fc";
    case LayerKind::dropout: return "dropout";
    case LayerKind::softmax: return "softmax";
  }
  return "?";
}

size_t Network::layer_index(const std::string& layer) const {
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == layer) return i;
  std::string names;
  for (const Layer& l : layers) names += (names.empty() ? "" : ", ") + l.name;
  fail(name, ": no layer named '", layer, "'; the layers are: ", names);
}

std::vector<std::string> Network::layer_names() const {
  std::vector<std::string> out;
  for (const Layer& l : layers) out.push_back(l.name);
  return out;
}

ReceptiveField Network::receptive_field(const std::string& layer) const {
  const size_t last = layer_index(layer);
  ReceptiveField rf;  // the input pixel itself
  for (size_t i = 0; i <= last; ++i) {
    const Layer& l = layers[i];
    int k = 1, s = 1, pad = 0;
    if (l.kind == LayerKind::conv || l.kind == LayerKind::fc) {
      k = l.kernel_h;
      s = l.conv.stride_h;
      pad = l.conv.pad_top;
    } else if (l.kind == LayerKind::pool) {
      k = l.pool.kernel_h;
      s = l.pool.stride_h;
      pad = l.pool.pad_top;
    }
    // A k-wide window over units spaced rf.stride apart, its first unit pad units before the first output.
    rf.offset += ((k - 1) / 2.0 - pad) * static_cast<double>(rf.stride);
    rf.size += (k - 1) * rf.stride;
    rf.stride *= s;
  }
  return rf;
}

Shape Network::output_shape(const std::string& layer, const Shape& input) const {
  PI_CHECK(input.ndim() == 4 && input[1] == 3, name, ": input must be [N, 3, H, W], got ", input.str());
  const size_t last = layer_index(layer);
  Shape s = input;
  for (size_t i = 0; i <= last; ++i) {
    const Layer& l = layers[i];
    if (l.kind == LayerKind::conv || l.kind == LayerKind::fc) {
      const auto g = kernels::conv2d_geometry(l.name.c_str(), s, runtime_weight_shape(l), l.conv);
      s = Shape{g.n, g.k, g.ho, g.wo};
    } else if (l.kind == LayerKind::pool) {
      const auto g = kernels::max_pool2d_geometry(l.name.c_str(), s, l.pool);
      s = Shape{g.n, g.c, g.ho, g.wo};
    }
  }
  return s;
}

int64_t Network::channels(const std::string& layer) const { return layers[layer_index(layer)].out_channels; }

void Network::set_parameter(const std::string& tensor, Tensor value) {
  for (const Layer& l : layers) {
    if (tensor == l.weight) {
      PI_CHECK(value.shape() == runtime_weight_shape(l), name, ": parameter ", tensor, " must be ",
               runtime_weight_shape(l).str(), ", got ", value.shape().str());
      params_[tensor] = std::move(value);
      return;
    }
    if (tensor == l.bias) {
      PI_CHECK(value.shape() == Shape{l.out_channels}, name, ": parameter ", tensor, " must be [", l.out_channels,
               "], got ", value.shape().str());
      params_[tensor] = std::move(value);
      return;
    }
  }
  fail(name, ": no parameter named '", tensor, "'");
}

bool Network::has_parameters() const {
  for (const Layer& l : layers)
    if (l.has_weights() && (!params_.count(l.weight) || !params_.count(l.bias))) return false;
  return true;
}

std::vector<std::pair<std::string, Shape>> Network::expected_tensors() const {
  std::vector<std::pair<std::string, Shape>> out;
  for (const Layer& l : layers) {
    if (!l.has_weights()) continue;
    out.emplace_back(l.weight, file_weight_shape(l));
    out.emplace_back(l.bias, Shape{l.out_channels});
  }
  return out;
}

void Network::to(Device device) {
  for (auto& [k, v] : params_) v = v.to(device);
  if (preprocessing.mean_image.defined()) preprocessing.mean_image = preprocessing.mean_image.to(device);
}

Device Network::device() const { return params_.empty() ? Device::cpu : params_.begin()->second.device(); }

Tensor Network::mean_for(int64_t h, int64_t w) const {
  Tensor m = Tensor::empty(Shape{1, 3, h, w});
  const Preprocessing& p = preprocessing;
  if (p.mean_image.defined()) {
    Tensor host = p.mean_image.to(Device::cpu);
    const int64_t hm = host.shape()[1], wm = host.shape()[2];
    if (hm >= h && wm >= w) {
      // centre crop, as Caffe crops its 256x256 mean for a 227x227 input
      const int64_t top = (hm - h) / 2, left = (wm - w) / 2;
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t i = 0; i < h; ++i)
          for (int64_t j = 0; j < w; ++j)
            m.data()[(c * h + i) * w + j] = host.data()[(c * hm + top + i) * wm + left + j];
      return m;
    }
    for (int64_t c = 0; c < 3; ++c) {
      double s = 0;
      for (int64_t i = 0; i < hm * wm; ++i) s += host.data()[c * hm * wm + i];
      const float avg = static_cast<float>(s / static_cast<double>(hm * wm));
      for (int64_t i = 0; i < h * w; ++i) m.data()[c * h * w + i] = avg;
    }
    return m;
  }
  PI_CHECK(p.mean_pixel.size() == 3, name, ": the preprocessing has no mean (3 values expected, got ",
           p.mean_pixel.size(), ")");
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < h * w; ++i) m.data()[c * h * w + i] = p.mean_pixel[static_cast<size_t>(c)];
  return m;
}

namespace {
Tensor add_mean(const Network& net, const View& v, float sign) {
  PI_CHECK(v.shape.ndim() == 4 && v.shape[1] == 3, net.name, ": images must be [N, 3, H, W] RGB, got ",
           v.shape.str());
  PI_CHECK(v.device == Device::cpu, net.name, ": preprocess/deprocess take host images");
  check_contiguous(net.name.c_str(), "image", v);
  const int64_t n = v.shape[0], h = v.shape[2], w = v.shape[3];
  Tensor mean = net.mean_for(h, w);
  Tensor out = Tensor::copy_of(v);
  const int64_t per = 3 * h * w;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < per; ++i) out.data()[b * per + i] += sign * mean.data()[i];
  return out;
}
}  // namespace

Tensor Network::preprocess(const View& image) const { return add_mean(*this, image, -1.0f); }
Tensor Network::deprocess(const View& x) const { return add_mean(*this, x, 1.0f); }

Var Network::forward(Tape& t, Var x, const std::string& up_to) const {
  return forward_range(t, x, layers.front().name, up_to).back();
}

std::vector<Var> Network::forward_range(Tape& t, Var input, const std::string& first, const std::string& last,
                                        const std::map<std::string, Var>* params) const {
  const size_t a = layer_index(first), b = layer_index(last);
  PI_CHECK(a <= b, name, ": layer ", first, " comes after ", last);
  PI_CHECK(has_parameters(), name, ": the network has no weights (load them with weights::load_network)");
  std::vector<Var> out;
  Var x = input;
  for (size_t i = a; i <= b; ++i) {
    const Layer& l = layers[i];
    switch (l.kind) {
      case LayerKind::conv:
      case LayerKind::fc: {
        auto param = [&](const std::string& key) {
          if (!params) return t.leaf(params_.at(key).view(), false);
          auto it = params->find(key);
          PI_CHECK(it != params->end(), name, ": forward_range: no variable for parameter ", key);
          return it->second;
        };
        const Var w = param(l.weight);
        const Var bias = param(l.bias);
        x = ops::conv2d(t, x, w, bias, l.conv);
        break;
      }
      case LayerKind::relu: x = ops::relu(t, x); break;
      case LayerKind::lrn: x = ops::lrn(t, x, l.lrn); break;
      case LayerKind::pool: x = ops::max_pool2d(t, x, l.pool); break;
      case LayerKind::dropout: break;  // eval mode: identity
      case LayerKind::softmax: x = ops::softmax(t, x); break;
    }
    out.push_back(x);
  }
  return out;
}

std::string Network::spec_json() const {
  using nlohmann::json;
  json layers_j = json::array();
  for (const Layer& l : layers) {
    json j = {{"name", l.name}, {"kind", layer_kind_name(l.kind)}};
    if (l.kind == LayerKind::conv || l.kind == LayerKind::fc) {
      const Shape ws = file_weight_shape(l);
      std::vector<int64_t> wshape;
      for (int d = 0; d < ws.ndim(); ++d) wshape.push_back(ws[d]);
      j["weight"] = l.weight;
      j["bias"] = l.bias;
      j["weight_shape"] = wshape;
      j["bias_shape"] = {l.out_channels};
      j["out_channels"] = l.out_channels;
      j["in_channels"] = l.in_channels;
      j["kernel"] = {l.kernel_h, l.kernel_w};
      j["stride"] = {l.conv.stride_h, l.conv.stride_w};
      j["pad"] = {l.conv.pad_top, l.conv.pad_bottom, l.conv.pad_left, l.conv.pad_right};
      j["groups"] = l.conv.groups;
    } else if (l.kind == LayerKind::pool) {
      j["kernel"] = {l.pool.kernel_h, l.pool.kernel_w};
      j["stride"] = {l.pool.stride_h, l.pool.stride_w};
      j["pad"] = {l.pool.pad_top, l.pool.pad_bottom, l.pool.pad_left, l.pool.pad_right};
      j["ceil_mode"] = l.pool.ceil_mode;
    } else if (l.kind == LayerKind::lrn) {
      j["size"] = l.lrn.size;
      j["alpha"] = l.lrn.alpha;
      j["beta"] = l.lrn.beta;
      j["k"] = l.lrn.k;
    }
    layers_j.push_back(j);
  }
  json spec = {{"model", name},
               {"input_size", {preprocessing.input_h, preprocessing.input_w}},
               {"mean_pixel", preprocessing.mean_pixel},
               {"layers", layers_j}};
  return spec.dump(1);
}

}  // namespace preimage::layers
