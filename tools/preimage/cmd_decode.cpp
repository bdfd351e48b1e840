// `preimage decode`: reconstructions by a trained decoder (seed 002): one batched forward pass per folder.
// Each input is processed as the decoder was trained (weights/decoder_file.h: centre square resized to its image
// size, features of the gray version); writes <stem>.png (colour, S x S), <stem>_sheet.png (original | features |
// reconstruction), metrics.json (||x - f(phi(x))|| per image and the folder's normalised error, seed 002 sect.
// 2.2), config.json and index.html. --features FILE decodes features saved by `preimage features` instead.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "solvers/decoder_data.h"
#include "solvers/decoder_trainer.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/decoder_cnn.h"
#include "tools/preimage/gallery.h"
#include "tools/preimage/run_common.h"
#include "weights/decoder_file.h"
#include "weights/safetensors.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct DecodeOptions {
  std::string decoder, input, features, model, out = "out/decode", device = "cpu";
  int threads = 0;
};

// Stacks [1, ...] tensors into [N, ...].
Tensor stack(const std::vector<Tensor>& xs) {
  Shape s = xs[0].shape();
  s[0] = static_cast<int64_t>(xs.size());
  Tensor out = Tensor::empty(s);
  for (size_t i = 0; i < xs.size(); ++i)
    std::copy(xs[i].data(), xs[i].data() + xs[i].numel(), out.data() + int64_t(i) * xs[i].numel());
  return out;
}

int run_decode(const DecodeOptions& o) {
  apply_threads(o.threads);
  const Device device = select_device(o.device);
  PI_CHECK(!o.decoder.empty(), "give --decoder FILE (a decoder.safetensors written by train-decoder)");
  PI_CHECK(o.input.empty() != o.features.empty(), "give either an INPUT image/folder or --features FILE, not both");
  weights::DecoderFile df = weights::load_decoder(o.decoder);
  // A network decoder needs its network: the file it was trained with (recorded) or --model, checked to be the
  // same bytes, so that the features mean what the decoder learned.
  std::unique_ptr<CnnDecoderInput> cnn;
  if (df.representation == "cnn") {
    const std::string file = o.model.empty() ? df.model["file"].get<std::string>() : o.model;
    std::error_code ec;
    PI_CHECK(fs::exists(file, ec), o.decoder, " decodes layer ", df.model["layer"].get<std::string>(), " of the "
             "network ", df.model["file"].get<std::string>(), ", which is not there; give it with --model FILE");
    cnn = std::make_unique<CnnDecoderInput>(make_cnn_decoder_input(file, df.model["layer"].get<std::string>(),
                                                                   df.model["input_size"].get<int>()));
    PI_CHECK(cnn->fingerprint == df.model["fingerprint"].get<std::string>(), "--model ", file, " is not the network "
             "decoder ", o.decoder, " was trained with (", df.model["file"].get<std::string>(), ", fingerprint ",
             df.model["fingerprint"].get<std::string>(), "; this file's is ", cnn->fingerprint, ")");
  } else {
    PI_CHECK(o.model.empty(), "--model is for decoders of network layers; ", o.decoder, " decodes ",
             df.representation);
  }
  const features::Representation rep =
      cnn ? cnn->representation() : features::make_representation(df.representation, df.rep_options);
  const Shape& want = df.decoder.input_shape();
  auto check_features = [&](const Tensor& f, const std::string& what) {
    PI_CHECK(f.shape().ndim() == 4 && f.shape()[0] == 1 && f.shape()[1] == want[0] && f.shape()[2] == want[1] &&
                 f.shape()[3] == want[2],
             what, ": features of shape ", f.shape().str(), "; decoder ", o.decoder, " takes [1, ", want[0], ", ",
             want[1], ", ", want[2], "] (", df.representation, " of ", df.image_size, "x", df.image_size,
             " images)");
  };

  // Everything is read and checked before the first file is written (no partial output on bad input).
  std::vector<std::string> names;
  std::vector<Tensor> images, feats;
  if (!o.features.empty()) {
    SafetensorsFile f = read_safetensors(o.features);
    PI_CHECK(f.tensors.count("features"), o.features, ": no tensor 'features' (write it with preimage features)");
    check_features(f.tensors.at("features"), o.features);
    names.push_back(stem_of(o.features));
    feats.push_back(std::move(f.tensors.at("features")));
  } else {
    for (const std::string& file : collect_images(o.input)) {
      // Shallow: the S x S window is both the input and the original. Network: the window at the network's input
      // size gives the features; the original is it shrunk to the decoder's output size, as in training.
      Tensor rgb = cnn ? load_network_input(cnn->model->net, file, cnn->input_size, "square")
                       : load_input(file, false, df.image_size);
      Tensor f = solvers::window_features(rep, rgb.view());
      check_features(f, file);
      if (cnn) rgb = resize_antialiased(rgb.view(), df.image_size, df.image_size);
      names.push_back(file);
      images.push_back(std::move(rgb));
      feats.push_back(std::move(f));
    }
  }
  prepare_output_dir(o.out);
  df.decoder.to(device);

  const Tensor features = stack(feats);
  const auto t0 = std::chrono::steady_clock::now();
  const Tensor recon = solvers::decode_batch(df.decoder, features.view(), device);
  const double decode_seconds = seconds_since(t0);

  json config = run_record("decode");
  config["decoder"] = o.decoder;
  config["decoder_meta"] = {{"table", df.decoder.table().name}, {"width", df.decoder.width()},
                            {"representation", df.representation}, {"image_size", df.image_size},
                            {"training", df.training}};
  config["input"] = o.features.empty() ? json(o.input) : json(nullptr);
  config["features"] = o.features.empty() ? json(nullptr) : json(o.features);
  config["files"] = names;
  config["preprocessing"] = cnn ? weights::kCnnDecoderPreprocessing : weights::kDecoderPreprocessing;
  if (cnn) {
    config["model"] = cnn->record();
    if (cnn->model->random_weights) config["note"] = kRandomWeightsNote;
  }
  config["device"] = device_record(device);
  write_json((fs::path(o.out) / "config.json").string(), config);

  json metrics = {{"decode_seconds", decode_seconds},
                  {"seconds_per_image", decode_seconds / double(names.size())}};
  solvers::ReconstructionErrors err;
  if (!images.empty()) {
    const Tensor originals = stack(images);
    err = solvers::reconstruction_errors(originals.view(), recon.view());
    metrics["mean_error"] = err.mean;
    metrics["mean_pairwise_distance"] = images.size() > 1 ? json(err.mean_pairwise) : json(nullptr);
    metrics["normalised_error"] = images.size() > 1 ? json(err.normalised) : json(nullptr);
    metrics["error_definition"] = "||x - f(phi(x))||_2 over RGB 0..255 of the processed input; normalised = mean "
                                  "error / mean pairwise distance of the inputs (seed 002 sect. 2.2)";
  }
  json per = json::array();
  std::vector<GalleryRow> rows;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string stem = stem_of(names[i]);
    Tensor r = Tensor::copy_of(recon.view().batch(int64_t(i)));
    write_png((fs::path(o.out) / (stem + ".png")).string(), r.view());
    json m = {{"file", names[i]}, {"png", stem + ".png"}};
    GalleryRow row;
    row.stem = stem;
    if (!images.empty()) {
      row.original = images[i].clone();
      m["error"] = err.per_image[i];
      row.errors.push_back(err.per_image[i]);
    } else {
      row.original = r.clone();
    }
    if (rep.render) row.features = rep.render(feats[i].view(), Shape{1, 1, df.image_size, df.image_size});
    row.reconstructions.push_back(std::move(r));
    write_png((fs::path(o.out) / (stem + "_sheet.png")).string(), row.sheet().view());
    m["sheet"] = stem + "_sheet.png";
    per.push_back(m);
    rows.push_back(std::move(row));
  }
  metrics["images"] = per;
  write_json((fs::path(o.out) / "metrics.json").string(), metrics);
  write_gallery((fs::path(o.out) / "index.html").string(), "preimage decode (" + df.representation + " decoder)",
                rows, config);
  if (!images.empty() && images.size() > 1)
    std::fprintf(stderr, "decode: %zu images, mean error %.1f, normalised error %.4f, %.3f s/image; wrote %s\n",
                 names.size(), err.mean, err.normalised, decode_seconds / double(names.size()), o.out.c_str());
  else
    std::fprintf(stderr, "decode: %zu image(s), %.3f s/image; wrote %s\n", names.size(),
                 decode_seconds / double(names.size()), o.out.c_str());
  return 0;
}

}  // namespace

void register_decode(CLI::App& app) {
  auto o = std::make_shared<DecodeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "decode",
      "Reconstruct images with a decoder trained by train-decoder: the decoder's own representation and "
      "preprocessing (centre square resized to its image size, features of the gray image), one batched forward "
      "pass. Writes <stem>.png, <stem>_sheet.png, metrics.json (per-image error, normalised error), config.json, "
      "index.html under --out.");
  cmd->add_option("input", o->input, "an image file or a folder of images");
  cmd->add_option("--decoder", o->decoder, "decoder file (.safetensors from train-decoder)")->required();
  cmd->add_option("--features", o->features, "decode features saved by `preimage features` instead of images");
  cmd->add_option("--model", o->model, "network decoders: the network file (default: the one it was trained "
                  "with); must be the same file");
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o] { set_exit_code(run_decode(*o)); });
}

}  // namespace preimage::tools
