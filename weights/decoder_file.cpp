// Decoder files: writing and validated reading (weights/decoder_file.h).
#include "weights/decoder_file.h"

#include <cmath>
#include <set>
#include <sstream>

#include "engine/error.h"
#include "weights/safetensors.h"

namespace preimage::weights {
using nlohmann::json;

const char* const kDecoderPreprocessing =
    "RGB image, centre square resized to image_size x image_size (bilinear); features of its gray version "
    "(ITU-R 601); target = (RGB - target_mean) / target_scale";
const char* const kCnnDecoderPreprocessing =
    "RGB image, centre square resized to the network's input size (anti-aliased); features = output of the layer's "
    "block (after its ReLU, normalisation, pooling) of the mean-subtracted window; target = the window resized to "
    "image_size x image_size (anti-aliased), (RGB - target_mean) / target_scale";

json rep_options_json(const features::RepresentationOptions& o) {
  return {{"cell_size", o.cell_size}, {"orientations", o.orientations}, {"dsift_step", o.dsift_step},
          {"dsift_bin", o.dsift_bin}, {"flat_window", o.flat_window},   {"lbp_cell", o.lbp_cell}};
}

features::RepresentationOptions rep_options_from_json(const json& j) {
  features::RepresentationOptions o;
  o.cell_size = j.at("cell_size").get<int>();
  o.orientations = j.at("orientations").get<int>();
  o.dsift_step = j.at("dsift_step").get<int>();
  o.dsift_bin = j.at("dsift_bin").get<int>();
  o.flat_window = j.at("flat_window").get<bool>();
  o.lbp_cell = j.at("lbp_cell").get<int>();
  return o;
}

namespace {
std::string shape_json(const Shape& s) {
  json a = json::array();
  for (int i = 0; i < s.ndim(); ++i) a.push_back(s[i]);
  return a.dump();
}

std::string number_text(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

const std::string& need(const std::map<std::string, std::string>& m, const std::string& path, const char* key) {
  auto it = m.find(key);
  PI_CHECK(it != m.end(), path, ": metadata ", key, " is missing; not a decoder file written by preimage "
           "train-decoder?");
  return it->second;
}

json parse_json(const std::string& path, const char* key, const std::string& text) {
  try {
    return json::parse(text);
  } catch (const std::exception&) {
    fail(path, ": metadata ", key, " = '", text, "' is not valid JSON");
  }
}

double parse_number(const std::string& path, const char* key, const std::string& text) {
  const json j = parse_json(path, key, text);
  PI_CHECK(j.is_number() && std::isfinite(j.get<double>()), path, ": metadata ", key, " = '", text,
           "' is not a finite number");
  return j.get<double>();
}
}  // namespace

void save_decoder(const std::string& path, const DecoderFile& d) {
  const auto& shapes = d.decoder.parameter_shapes();
  std::vector<std::pair<std::string, View>> tensors;
  std::vector<Tensor> host;  // keeps host copies alive while writing
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Tensor& p = d.decoder.parameters()[i];
    if (p.device() == Device::cpu) {
      tensors.emplace_back(shapes[i].first, p.view());
    } else {
      host.push_back(p.to(Device::cpu));
      tensors.emplace_back(shapes[i].first, host.back().view());
    }
  }
  for (const auto& [name, t] : d.encoder) {
    host.push_back(t.to(Device::cpu));
    tensors.emplace_back("encoder." + name, host.back().view());
  }
  std::map<std::string, std::string> meta = {
      {"preimage.kind", "decoder"},
      {"preimage.decoder", d.decoder.table().name},
      {"preimage.width", number_text(d.decoder.width())},
      {"preimage.input_scale", number_text(d.decoder.input_scale())},
      {"preimage.input_shape", shape_json(d.decoder.input_shape())},
      {"preimage.image_size", std::to_string(d.image_size)},
      {"preimage.representation", d.representation},
      {"preimage.rep_options", rep_options_json(d.rep_options).dump()},
      {"preimage.preprocessing", d.model.is_null() ? kDecoderPreprocessing : kCnnDecoderPreprocessing},
      {"preimage.target_mean", number_text(d.target_mean)},
      {"preimage.target_scale", number_text(d.target_scale)},
  };
  if (!d.training.is_null()) meta["preimage.training"] = d.training.dump();
  if (!d.model.is_null()) meta["preimage.model"] = d.model.dump();
  write_safetensors(path, tensors, meta);
}

DecoderFile load_decoder(const std::string& path) {
  SafetensorsFile f = read_safetensors(path);
  const auto& m = f.metadata;
  PI_CHECK(need(m, path, "preimage.kind") == "decoder", path, ": preimage.kind is '", m.at("preimage.kind"),
           "', not a decoder");
  DecoderFile d;
  const std::string table = need(m, path, "preimage.decoder");
  const double width = parse_number(path, "preimage.width", need(m, path, "preimage.width"));
  const json in = parse_json(path, "preimage.input_shape", need(m, path, "preimage.input_shape"));
  PI_CHECK(in.is_array() && (in.size() == 1 || in.size() == 3), path, ": preimage.input_shape must be [C] or "
           "[C, H, W], got ", in.dump());
  Shape input = in.size() == 1 ? Shape{0} : Shape{0, 0, 0};
  for (size_t i = 0; i < in.size(); ++i) {
    PI_CHECK(in[i].is_number_integer() && in[i].get<int64_t>() > 0 && in[i].get<int64_t>() < (1 << 20), path,
             ": preimage.input_shape has a bad element ", in[i].dump());
    input[static_cast<int>(i)] = in[i].get<int64_t>();
  }
  try {
    d.decoder = layers::Decoder(layers::decoder_table(table, input[0]), width, input);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  if (m.count("preimage.input_scale")) {  // files written before it existed: 1
    const double s = parse_number(path, "preimage.input_scale", m.at("preimage.input_scale"));
    PI_CHECK(s > 0 && s < 1e30, path, ": preimage.input_scale must be positive, got ", s);
    d.decoder.set_input_scale(static_cast<float>(s));
  }
  const double size = parse_number(path, "preimage.image_size", need(m, path, "preimage.image_size"));
  PI_CHECK(size >= 1 && size <= 4096 && size == std::floor(size), path, ": preimage.image_size must be an integer "
           "in [1, 4096]");
  d.image_size = static_cast<int>(size);
  const Shape out = d.decoder.output_shape(1);
  PI_CHECK(out[2] == d.image_size && out[3] == d.image_size, path, ": the decoder produces ", out[2], "x", out[3],
           " images but preimage.image_size says ", d.image_size);
  d.representation = need(m, path, "preimage.representation");
  if (d.representation == "cnn") {
    d.model = parse_json(path, "preimage.model", need(m, path, "preimage.model"));
    for (const char* k : {"file", "model", "layer", "output_layer", "fingerprint"})
      PI_CHECK(d.model.is_object() && d.model.contains(k) && d.model[k].is_string(), path, ": metadata "
               "preimage.model lacks the string '", k, "'");
    PI_CHECK(d.model.contains("input_size") && d.model["input_size"].is_number_integer() &&
                 d.model["input_size"].get<int>() > 0,
             path, ": metadata preimage.model lacks a positive input_size");
  }
  try {
    d.rep_options = rep_options_from_json(parse_json(path, "preimage.rep_options", need(m, path, "preimage.rep_options")));
  } catch (const json::exception& e) {
    fail(path, ": metadata preimage.rep_options: ", e.what());
  }
  d.target_mean = static_cast<float>(parse_number(path, "preimage.target_mean", need(m, path, "preimage.target_mean")));
  d.target_scale =
      static_cast<float>(parse_number(path, "preimage.target_scale", need(m, path, "preimage.target_scale")));
  PI_CHECK(d.target_scale > 0, path, ": preimage.target_scale must be positive");
  if (m.count("preimage.training")) d.training = parse_json(path, "preimage.training", m.at("preimage.training"));

  std::set<std::string> expected;
  const auto& shapes = d.decoder.parameter_shapes();
  for (size_t i = 0; i < shapes.size(); ++i) {
    const auto& [name, shape] = shapes[i];
    expected.insert(name);
    auto it = f.tensors.find(name);
    PI_CHECK(it != f.tensors.end(), path, ": tensor '", name, "' of decoder ", table, " is missing");
    PI_CHECK(it->second.shape() == shape, path, ": tensor '", name, "' has shape ", it->second.shape().str(),
             ", decoder ", table, " at width ", width, " expects ", shape.str());
    const float* p = it->second.data();
    for (int64_t k = 0; k < it->second.numel(); ++k)
      PI_CHECK(std::isfinite(p[k]), path, ": tensor '", name, "' has a non-finite value at element ", k);
    d.decoder.parameters()[i] = std::move(it->second);
  }
  for (auto& [name, t] : f.tensors) {
    if (d.representation == "cnn" && name.rfind("encoder.", 0) == 0 && name.size() > 8) {
      // Shapes are checked against the network when it is loaded (tools/preimage/decoder_setup.cpp).
      const float* p = t.data();
      for (int64_t k = 0; k < t.numel(); ++k)
        PI_CHECK(std::isfinite(p[k]), path, ": tensor '", name, "' has a non-finite value at element ", k);
      d.encoder[name.substr(8)] = std::move(t);
      continue;
    }
    PI_CHECK(expected.count(name), path, ": unexpected tensor '", name, "' (not a parameter of decoder ", table,
             " at width ", width, ")");
  }
  return d;
}

}  // namespace preimage::weights
