// Loading a trained decoder with its representation (tools/preimage/decoder_setup.h).
#include "tools/preimage/decoder_setup.h"

#include <algorithm>
#include <filesystem>

#include "engine/error.h"
#include "engine/image_ops.h"
#include "solvers/decoder_data.h"
#include "tools/preimage/deep_run.h"
#include "tools/preimage/run_common.h"

namespace preimage::tools {
namespace fs = std::filesystem;

DecoderSetup open_decoder(const std::string& path, const std::string& model) {
  PI_CHECK(!path.empty(), "give --decoder FILE (a decoder.safetensors written by train-decoder)");
  DecoderSetup d;
  d.path = path;
  d.file = weights::load_decoder(path);
  const weights::DecoderFile& df = d.file;
  if (df.representation == "cnn") {
    const std::string recorded = df.model["file"].get<std::string>();
    const std::string file = model.empty() ? recorded : model;
    std::error_code ec;
    PI_CHECK(fs::exists(file, ec), path, " decodes layer ", df.model["layer"].get<std::string>(), " of the network ",
             recorded, ", which is not there; give it with --model FILE");
    d.cnn = std::make_unique<CnnDecoderInput>(
        make_cnn_decoder_input(file, df.model["layer"].get<std::string>(), df.model["input_size"].get<int>()));
    PI_CHECK(d.cnn->fingerprint == df.model["fingerprint"].get<std::string>(), "--model ", file, " is not the "
             "network decoder ", path, " was trained with (", recorded, ", fingerprint ",
             df.model["fingerprint"].get<std::string>(), "; this file's is ", d.cnn->fingerprint, ")");
    if (!df.encoder.empty()) {
      // An autoencoder: the features come from its own fine-tuned encoder, initialised from the recorded network.
      auto lm = std::make_shared<LoadedModel>(load_model(file));  // the network is not copyable: read it again
      for (const auto& [name, t] : df.encoder) {
        PI_CHECK(lm->net.parameters().count(name), path, ": encoder tensor '", name, "' is not a parameter of ",
                 file);
        try {
          lm->net.set_parameter(name, t.clone());
        } catch (const Error& e) {
          fail(path, ": encoder tensor '", name, "': ", e.what());
        }
      }
      lm->record["finetuned_encoder"] = {{"decoder_file", path}, {"tensors", df.encoder.size()},
                                         {"definition", "the layers up to " + d.cnn->output_layer +
                                                            " use the weights trained with the decoder"}};
      d.cnn->model = std::move(lm);
    }
    d.rep = d.cnn->representation();
  } else {
    PI_CHECK(model.empty(), "--model is for decoders of network layers; ", path, " decodes ", df.representation);
    d.rep = features::make_representation(df.representation, df.rep_options);
  }
  return d;
}

void DecoderSetup::check_features(const Tensor& f, const std::string& what) const {
  const Shape& want = file.decoder.input_shape();
  const Shape& s = f.shape();
  const bool fits = s.ndim() >= 2 && s[0] == 1 && s[1] == want[0] &&
                    (want.ndim() == 1 ? s.numel() == want[0] : s.ndim() == 4 && s[2] == want[1] && s[3] == want[2]);
  PI_CHECK(fits, what, ": features of shape ", s.str(), "; decoder ", path, " takes ", want.str(), " per image (",
           file.representation, ", ", file.image_size, "x", file.image_size, " reconstructions)");
}

void DecoderSetup::load(const std::string& image, Tensor* original, Tensor* features, Tensor* window) const {
  // Shallow: the S x S window is both the input and the original. Network: the window at the network's input size
  // gives the features; the original is it shrunk to the decoder's output size, as in training.
  Tensor rgb = cnn ? load_network_input(cnn->model->net, image, cnn->input_size, "square")
                   : load_input(image, false, file.image_size);
  Tensor f = solvers::window_features(rep, rgb.view());
  check_features(f, image);
  if (cnn) {
    Tensor shrunk = resize_antialiased(rgb.view(), file.image_size, file.image_size);
    if (window) *window = std::move(rgb);
    rgb = std::move(shrunk);
  }
  *original = std::move(rgb);
  *features = std::move(f);
}

Tensor stack_samples(const std::vector<Tensor>& xs) {
  PI_CHECK(!xs.empty(), "stack_samples: nothing to stack");
  Shape s = xs[0].shape();
  s[0] = static_cast<int64_t>(xs.size());
  Tensor out = Tensor::empty(s);
  for (size_t i = 0; i < xs.size(); ++i) {
    PI_CHECK(xs[i].numel() == xs[0].numel(), "stack_samples: sample ", i, " has shape ", xs[i].shape().str(),
             ", the first ", xs[0].shape().str());
    std::copy(xs[i].data(), xs[i].data() + xs[i].numel(), out.data() + int64_t(i) * xs[i].numel());
  }
  return out;
}

nlohmann::json DecoderSetup::record() const {
  nlohmann::json r = {{"file", path}, {"table", file.decoder.table().name}, {"width", file.decoder.width()},
                      {"representation", file.representation}, {"image_size", file.image_size},
                      {"training", file.training}};
  if (cnn) r["model"] = cnn->record();
  return r;
}

}  // namespace preimage::tools
