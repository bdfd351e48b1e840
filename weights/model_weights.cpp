// Loading and saving network weights (weights/model_weights.h).
#include "weights/model_weights.h"

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "layers/models.h"

namespace preimage::weights {
namespace {
using nlohmann::json;

const char* kMeanImage = "preimage.mean_image";

std::string meta_or(const std::map<std::string, std::string>& m, const std::string& key, const std::string& dflt) {
  auto it = m.find(key);
  return it == m.end() ? dflt : it->second;
}

int64_t meta_int(const std::map<std::string, std::string>& m, const std::string& key, int64_t dflt,
                 const std::string& path) {
  auto it = m.find(key);
  if (it == m.end()) return dflt;
  try {
    size_t used = 0;
    const long long v = std::stoll(it->second, &used);
    PI_CHECK(used == it->second.size() && v > 0, "");
    return v;
  } catch (const std::exception&) {
    fail(path, ": metadata ", key, " = '", it->second, "' is not a positive integer");
  }
}

std::vector<float> meta_floats(const std::map<std::string, std::string>& m, const std::string& key,
                               const std::string& path) {
  json j;
  try {
    j = json::parse(m.at(key));
  } catch (const json::exception&) {
    fail(path, ": metadata ", key, " = '", m.at(key), "' is not JSON (expected a number or a list of numbers)");
  }
  std::vector<float> out;
  if (j.is_number()) out.push_back(j.get<float>());
  if (j.is_array())
    for (const json& v : j) {
      PI_CHECK(v.is_number(), path, ": metadata ", key, " has a non-number element");
      out.push_back(v.get<float>());
    }
  PI_CHECK(!out.empty(), path, ": metadata ", key, " = '", m.at(key), "' holds no numbers");
  for (float v : out) PI_CHECK(std::isfinite(v), path, ": metadata ", key, " has a non-finite value");
  return out;
}

void check_finite(const Tensor& t, const std::string& name, const std::string& path) {
  const float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i)
    PI_CHECK(std::isfinite(p[i]), path, ": tensor '", name, "' has a non-finite value at element ", i,
             " (corrupt or badly converted file)");
}
}  // namespace

layers::Network network_from_file(SafetensorsFile file, const std::string& path, const std::string& expected_model) {
  const auto& meta = file.metadata;
  PI_CHECK(meta.count("preimage.model"), path, ": no preimage.model metadata; not a preimage network file "
           "(convert published weights with `preimage convert-weights`)");
  const std::string model = layers::canonical_model_name(meta.at("preimage.model"));
  if (!expected_model.empty()) {
    const std::string want = layers::canonical_model_name(expected_model);
    PI_CHECK(want == model, path, ": holds ", model, " weights, but ", want, " was asked for");
  }
  layers::ModelOptions opt;
  opt.fc_width = meta_int(meta, "preimage.fc_width", 4096, path);
  opt.num_classes = meta_int(meta, "preimage.num_classes", 1000, path);
  // A square nominal size builds the definition at that size (init-weights --input-size makes such reduced
  // networks); the published sizes give the same definition as the default (224 and 227 both give AlexNet's pool5
  // 6x6). Malformed values are reported below.
  if (meta.count("preimage.input_size")) {
    const std::vector<float> s = meta_floats(meta, "preimage.input_size", path);
    if (s.size() == 2 && s[0] == s[1] && s[0] >= 1 && s[0] <= 1e5) opt.input_size = static_cast<int>(s[0]);
  }
  layers::Network net;
  try {
    net = layers::make_model(model, opt);
  } catch (const Error& e) {
    fail(path, ": preimage.input_size ", opt.input_size, " does not fit ", model, " (", e.what(), ")");
  }

  // --- tensors: exactly the expected set, with exact shapes
  std::set<std::string> expected;
  for (const auto& [name, shape] : net.expected_tensors()) {
    expected.insert(name);
    auto it = file.tensors.find(name);
    PI_CHECK(it != file.tensors.end(), path, ": tensor '", name, "' is missing (", model, " expects ", shape.str(),
             ")");
    PI_CHECK(it->second.shape() == shape, path, ": tensor '", name, "' has shape ", it->second.shape().str(),
             " but ", model, " expects ", shape.str(), " (a file for another model or another head size?)");
    check_finite(it->second, name, path);
  }
  for (const auto& [name, t] : file.tensors)
    PI_CHECK(expected.count(name) || name == kMeanImage, path, ": unexpected tensor '", name, "' ",
             t.shape().str(), " (not part of ", model, ")");

  // --- preprocessing metadata
  layers::Preprocessing& pre = net.preprocessing;
  const std::string order = meta_or(meta, "preimage.input_order", "RGB");
  PI_CHECK(order == "RGB" || order == "BGR", path, ": preimage.input_order must be RGB or BGR, got '", order, "'");
  const bool bgr = order == "BGR";
  auto to_rgb = [bgr](size_t c) { return bgr ? 2 - c : c; };  // source channel feeding RGB channel c
  if (meta.count("preimage.input_size")) {
    // Another nominal size than the definition's is fine when fc6 still sees exactly its kernel (the ONNX zoo's
    // AlexNet takes 224x224, Caffe's 227x227; ceil-mode pooling gives pool5 6x6 for both).
    const std::vector<float> s = meta_floats(meta, "preimage.input_size", path);
    PI_CHECK(s.size() == 2 && s[0] >= 1 && s[1] >= 1 && s[0] <= 1e5 && s[1] <= 1e5, path,
             ": preimage.input_size must be [h, w], got ", meta.at("preimage.input_size"));
    const int64_t h = static_cast<int64_t>(s[0]), w = static_cast<int64_t>(s[1]);
    const std::string top = net.layers.back().name;
    Shape out;
    try {
      out = net.output_shape(top, Shape{1, 3, h, w});
    } catch (const Error& e) {
      fail(path, ": preimage.input_size ", h, "x", w, " does not fit ", model, " (", e.what(), ")");
    }
    PI_CHECK(out[2] == 1 && out[3] == 1, path, ": preimage.input_size ", h, "x", w, " gives ", model, " a ",
             out[2], "x", out[3], " output; fc6 is built for ", pre.input_h, "x", pre.input_w);
    pre.input_h = static_cast<int>(h);
    pre.input_w = static_cast<int>(w);
  }
  std::vector<float> scale = {1.0f, 1.0f, 1.0f};
  if (meta.count("preimage.input_scale")) {
    std::vector<float> s = meta_floats(meta, "preimage.input_scale", path);
    PI_CHECK(s.size() == 1 || s.size() == 3, path, ": preimage.input_scale needs 1 or 3 values, got ", s.size());
    for (size_t c = 0; c < 3; ++c) scale[c] = s.size() == 1 ? s[0] : s[c];
    for (float v : scale) PI_CHECK(v > 0, path, ": preimage.input_scale must be positive");
  }
  auto mi = file.tensors.find(kMeanImage);
  if (mi != file.tensors.end()) {
    const Shape& s = mi->second.shape();
    PI_CHECK(s.ndim() == 3 && s[0] == 3 && s[1] > 0 && s[2] > 0, path, ": tensor ", kMeanImage,
             " must be [3, H, W], got ", s.str());
    PI_CHECK(!meta.count("preimage.mean"), path, ": both preimage.mean and ", kMeanImage, " are present");
    check_finite(mi->second, kMeanImage, path);
    const int64_t hw = s[1] * s[2];
    Tensor rgb = Tensor::empty(s);
    for (size_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < hw; ++i)
        rgb.data()[static_cast<int64_t>(c) * hw + i] = mi->second.data()[static_cast<int64_t>(to_rgb(c)) * hw + i];
    pre.mean_image = std::move(rgb);
    pre.mean_pixel.clear();
  } else {
    PI_CHECK(meta.count("preimage.mean"), path, ": no mean (preimage.mean metadata or ", kMeanImage, " tensor)");
    const std::vector<float> m = meta_floats(meta, "preimage.mean", path);
    PI_CHECK(m.size() == 3, path, ": preimage.mean needs 3 values, got ", m.size());
    pre.mean_pixel = {m[to_rgb(0)], m[to_rgb(1)], m[to_rgb(2)]};
  }
  pre.source_order = order;
  pre.input_scale = {scale[to_rgb(0)], scale[to_rgb(1)], scale[to_rgb(2)]};

  // --- parameters; the first layer takes RGB, mean-subtracted, 0-255: fold the order and scale into it
  bool first = true;
  for (const layers::Layer& l : net.layers) {
    if (!l.has_weights()) continue;
    Tensor w = std::move(file.tensors.at(l.weight));
    const Shape rt{l.out_channels, l.in_channels / l.conv.groups, l.kernel_h, l.kernel_w};
    w.reshape_(rt);
    if (first) {
      PI_CHECK(rt[1] == 3, path, ": first layer ", l.name, " does not take 3 channels");
      Tensor folded = Tensor::empty(rt);
      const int64_t khw = rt[2] * rt[3];
      for (int64_t k = 0; k < rt[0]; ++k)
        for (size_t c = 0; c < 3; ++c) {
          const size_t src = to_rgb(c);
          const float* from = w.data() + (k * 3 + static_cast<int64_t>(src)) * khw;
          float* to = folded.data() + (k * 3 + static_cast<int64_t>(c)) * khw;
          for (int64_t i = 0; i < khw; ++i) to[i] = from[i] * scale[src];
        }
      w = std::move(folded);
      first = false;
    }
    net.set_parameter(l.weight, std::move(w));
    net.set_parameter(l.bias, std::move(file.tensors.at(l.bias)));
  }
  return net;
}

layers::Network load_network(const std::string& path, const std::string& expected_model) {
  return network_from_file(read_safetensors(path), path, expected_model);
}

void save_network(const std::string& path, const layers::Network& net,
                  const std::map<std::string, std::string>& extra_metadata) {
  PI_CHECK(net.has_parameters(), "save_network: ", net.name, " has no weights");
  std::vector<std::pair<std::string, View>> tensors;
  std::vector<Tensor> keep;  // host copies and 2-d views of fc weights
  for (const layers::Layer& l : net.layers) {
    if (!l.has_weights()) continue;
    Tensor w = net.parameters().at(l.weight).to(Device::cpu);
    if (l.kind == layers::LayerKind::fc) w.reshape_(Shape{l.out_channels, w.numel() / l.out_channels});
    keep.push_back(std::move(w));
    tensors.emplace_back(l.weight, keep.back().view());
    keep.push_back(net.parameters().at(l.bias).to(Device::cpu));
    tensors.emplace_back(l.bias, keep.back().view());
  }
  const layers::Preprocessing& pre = net.preprocessing;
  std::map<std::string, std::string> meta = extra_metadata;
  int64_t fc_width = 0, classes = 0;
  for (const layers::Layer& l : net.layers)
    if (l.kind == layers::LayerKind::fc) {
      if (l.name == "fc6") fc_width = l.out_channels;
      classes = l.out_channels;
    }
  meta["preimage.model"] = net.name;
  meta["preimage.fc_width"] = std::to_string(fc_width);
  meta["preimage.num_classes"] = std::to_string(classes);
  meta["preimage.input_size"] = json({pre.input_h, pre.input_w}).dump();
  meta["preimage.input_order"] = "RGB";
  meta["preimage.input_scale"] = "[1.0, 1.0, 1.0]";
  if (pre.mean_image.defined()) {
    keep.push_back(pre.mean_image.to(Device::cpu));
    tensors.emplace_back(kMeanImage, keep.back().view());
  } else {
    meta["preimage.mean"] = json(pre.mean_pixel).dump();
  }
  write_safetensors(path, tensors, meta);
}

}  // namespace preimage::weights
