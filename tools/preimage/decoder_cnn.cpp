// CNN inputs of the decoders (tools/preimage/decoder_cnn.h).
#include "tools/preimage/decoder_cnn.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "engine/error.h"
#include "tools/preimage/channel_grid.h"

namespace preimage::tools {
using nlohmann::json;

std::string file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  PI_CHECK(in, path, ": cannot read the file");
  uint64_t h = 14695981039346656037ull;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize n = in.gcount();
    for (std::streamsize i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(buf[static_cast<size_t>(i)]);
      h *= 1099511628211ull;
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

CnnDecoderInput make_cnn_decoder_input(const std::string& model_file, const std::string& layer, int input_size) {
  PI_CHECK(!layer.empty(), "--model needs --layer (conv1 ... conv5, fc6, fc7, fc8)");
  auto lm = std::make_shared<LoadedModel>(load_model(model_file));
  const layers::Network& net = lm->net;
  PI_CHECK(net.name == "alexnet" || net.name == "caffenet", model_file, " holds a ", net.name, " network; decoder "
           "tables exist for AlexNet and CaffeNet layers only (seed 002)");
  const std::vector<std::string> blocks = {"conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"};
  bool known = false;
  for (const std::string& b : blocks) known = known || b == layer;
  PI_CHECK(known, "--layer ", layer, ": decoders reconstruct from a block's output; give conv1 ... conv5, fc6, "
           "fc7 or fc8 (the block's ReLU, normalisation and pooling are included, as in the paper)");
  size_t i = net.layer_index(layer);
  while (i + 1 < net.layers.size()) {
    const layers::LayerKind k = net.layers[i + 1].kind;
    if (k != layers::LayerKind::relu && k != layers::LayerKind::lrn && k != layers::LayerKind::pool &&
        k != layers::LayerKind::dropout)
      break;
    ++i;
  }
  CnnDecoderInput c;
  c.model = lm;
  c.layer = layer;
  c.output_layer = net.layers[i].name;
  c.table = "alexnet-" + layer;
  const int nominal = net.preprocessing.input_h;
  c.input_size = input_size > 0 ? input_size : nominal;
  // Before the shape: below the nominal size the fc kernel does not fit at all, and the generic "too small"
  // error would not say why a fully connected layer needs exactly this size.
  PI_CHECK(layer[0] != 'f' || c.input_size == nominal, "--layer ", layer, " is fully connected: its decoder needs "
           "the network's input size ", nominal, "x", nominal, " (--image-size ", c.input_size, " would make its "
           "units slide or not fit)");
  const Shape out = layer_output_shape(net, c.output_layer, Shape{1, 3, c.input_size, c.input_size});
  PI_CHECK(layer[0] != 'f' || (out[2] == 1 && out[3] == 1), "--layer ", layer, ": expected a 1x1 map at ", nominal,
           "x", nominal, ", got ", out[2], "x", out[3]);
  c.feature_shape = Shape{out[1], out[2], out[3]};
  c.fingerprint = file_fingerprint(model_file);
  return c;
}

features::Representation CnnDecoderInput::representation() const {
  features::Representation r;
  r.name = "cnn";
  r.differentiable = false;
  r.gray_input = false;
  auto m = model;
  const std::string out_layer = output_layer;
  r.extract = [m, out_layer](const View& rgb) {
    const Tensor x = m->net.preprocess(rgb);
    return layer_features(m->net, out_layer, x.view());
  };
  r.render = [](const View& f, const Shape&) { return channel_grid(f, 128); };
  const int s = input_size;
  r.check_image = [s](const Shape& shape) {
    PI_CHECK(shape[2] == s && shape[3] == s, "the network decoder takes ", s, "x", s, " windows, got ", shape.str());
  };
  r.params = record();
  return r;
}

json CnnDecoderInput::record() const {
  json r = {{"file", model->path},       {"model", model->net.name},       {"layer", layer},
            {"output_layer", output_layer}, {"input_size", input_size},     {"fingerprint", fingerprint},
            {"random_weights", model->random_weights}};
  if (model->record.contains("finetuned_encoder")) r["finetuned_encoder"] = model->record["finetuned_encoder"];
  return r;
}

}  // namespace preimage::tools
