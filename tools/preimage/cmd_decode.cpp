// `preimage decode`: reconstructions by a trained decoder (seed 002): one batched forward pass per folder.
// Each input is processed as the decoder was trained (weights/decoder_file.h: centre square resized to its image
// size, features of the gray version); writes <stem>.png (colour, S x S), <stem>_sheet.png (original | features |
// reconstruction), metrics.json (||x - f(phi(x))|| per image and the folder's normalised error, seed 002 sect.
// 2.2), config.json and index.html. --features FILE decodes features saved by `preimage features` instead;
// --one-hot K,... decodes vectors with one unit active (seed 003 Fig. 4). --perturb NAME decodes the features
// changed as seed 002 sect. 4.3-4.4 does (solvers/feature_perturb.h) and reports both errors, perturbed and not.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "solvers/decoder_data.h"
#include "solvers/decoder_trainer.h"
#include "solvers/feature_perturb.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/decoder_cnn.h"
#include "tools/preimage/decoder_setup.h"
#include "tools/preimage/deep_run.h"
#include "tools/preimage/gallery.h"
#include "tools/preimage/run_common.h"
#include "weights/decoder_file.h"
#include "weights/safetensors.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct DecodeOptions {
  std::string decoder, input, features, model, out = "out/decode", device = "cpu", perturb = "none";
  std::vector<int64_t> one_hot;
  float value = 1.0f;
  uint64_t perturb_seed = 1;
  int threads = 0;
};

// Softmax of one vector of class scores.
std::vector<double> softmax_of(const float* v, int64_t n) {
  std::vector<double> p(v, v + n);
  const double m = *std::max_element(p.begin(), p.end());
  double s = 0;
  for (double& x : p) s += (x = std::exp(x - m));
  for (double& x : p) x /= s;
  return p;
}

int run_decode(const DecodeOptions& o) {
  apply_threads(o.threads);
  const Device device = select_device(o.device);
  const int sources = int(!o.input.empty()) + int(!o.features.empty()) + int(!o.one_hot.empty());
  PI_CHECK(sources == 1, "give one of: an INPUT image or folder, --features FILE, --one-hot UNITS");
  const solvers::Perturbation perturb = solvers::parse_perturbation(o.perturb);
  const bool perturbed = perturb != solvers::Perturbation::none;
  PI_CHECK(!perturbed || o.one_hot.empty(), "--perturb changes the features of images; it does not apply to "
           "--one-hot vectors");
  PI_CHECK(std::isfinite(o.value), "--value must be finite");
  DecoderSetup setup = open_decoder(o.decoder, o.model);
  weights::DecoderFile& df = setup.file;
  const std::unique_ptr<CnnDecoderInput>& cnn = setup.cnn;
  const features::Representation& rep = setup.rep;
  const Shape& want = df.decoder.input_shape();

  // Everything is read and checked before the first file is written (no partial output on bad input).
  std::vector<std::string> names;
  std::vector<Tensor> images, feats, windows;  // windows: network decoders, at the network's input size
  if (!o.features.empty()) {
    SafetensorsFile f = read_safetensors(o.features);
    PI_CHECK(f.tensors.count("features"), o.features, ": no tensor 'features' (write it with preimage features)");
    setup.check_features(f.tensors.at("features"), o.features);
    names.push_back(stem_of(o.features));
    feats.push_back(std::move(f.tensors.at("features")));
  } else if (!o.one_hot.empty()) {
    for (const int64_t k : o.one_hot) {
      names.push_back("unit_" + std::to_string(k));
      Tensor f = solvers::one_hot_features(want, k, o.value);
      if (want.ndim() == 1) f.reshape_(Shape{1, want[0], 1, 1});  // as a network's fc layer gives its output
      feats.push_back(std::move(f));
    }
  } else {
    for (const std::string& file : collect_images(o.input)) {
      Tensor original, f, window;
      setup.load(file, &original, &f, &window);
      names.push_back(file);
      images.push_back(std::move(original));
      if (cnn) windows.push_back(std::move(window));
      feats.push_back(std::move(f));
    }
  }
  prepare_output_dir(o.out);
  df.decoder.to(device);

  const Tensor features = stack_samples(feats);
  const Tensor decoded =
      perturbed ? solvers::perturb_features(features.view(), perturb, o.perturb_seed) : features.clone();
  const auto t0 = std::chrono::steady_clock::now();
  const Tensor recon = solvers::decode_batch(df.decoder, decoded.view(), device);
  const double decode_seconds = seconds_since(t0);
  const Tensor clean = perturbed ? solvers::decode_batch(df.decoder, features.view(), device) : Tensor();
  // The network's own predictions, when the decoded layer is its class scores (FC8, seed 002 sect. 4.3).
  const bool class_scores = cnn && df.decoder.table().name == "alexnet-fc8" && o.one_hot.empty();
  const std::vector<std::string> classes =
      class_scores ? class_names(*cnn->model, want[0]) : std::vector<std::string>{};

  json config = run_record("decode");
  config["decoder"] = o.decoder;
  config["decoder_meta"] = setup.record();
  config["input"] = o.features.empty() ? json(o.input) : json(nullptr);
  config["features"] = o.features.empty() ? json(nullptr) : json(o.features);
  config["files"] = names;
  if (perturbed)
    config["perturbation"] = {{"name", o.perturb}, {"seed", o.perturb_seed},
                              {"definition", "seed 002 sect. 4.3-4.4, per image vector; solvers/feature_perturb.h"}};
  if (!o.one_hot.empty()) config["one_hot"] = {{"units", o.one_hot}, {"value", o.value}};
  config["preprocessing"] = cnn ? weights::kCnnDecoderPreprocessing : weights::kDecoderPreprocessing;
  if (cnn) {
    config["model"] = cnn->record();
    if (cnn->model->random_weights) config["note"] = kRandomWeightsNote;
  }
  config["device"] = device_record(device);
  write_json((fs::path(o.out) / "config.json").string(), config);

  json metrics = {{"decode_seconds", decode_seconds},
                  {"seconds_per_image", decode_seconds / double(names.size())}};
  solvers::ReconstructionErrors err, clean_err;
  if (!images.empty()) {
    const Tensor originals = stack_samples(images);
    err = solvers::reconstruction_errors(originals.view(), recon.view());
    if (perturbed) {
      clean_err = solvers::reconstruction_errors(originals.view(), clean.view());
      metrics["unperturbed"] = {{"mean_error", clean_err.mean},
                                {"normalised_error", images.size() > 1 ? json(clean_err.normalised) : json(nullptr)}};
    }
    metrics["mean_error"] = err.mean;
    metrics["mean_pairwise_distance"] = images.size() > 1 ? json(err.mean_pairwise) : json(nullptr);
    metrics["normalised_error"] = images.size() > 1 ? json(err.normalised) : json(nullptr);
    if (cnn) {
      // The paper's measure for network decoders (seed 002 sect. 4.1): the reconstruction upsampled bilinearly to
      // the network's input size, against the input window.
      std::vector<Tensor> up;
      for (size_t i = 0; i < windows.size(); ++i)
        up.push_back(resize_bilinear(recon.view().batch(int64_t(i)), cnn->input_size, cnn->input_size));
      const solvers::ReconstructionErrors e =
          solvers::reconstruction_errors(stack_samples(windows).view(), stack_samples(up).view());
      metrics["at_input_size"] = {
          {"size", cnn->input_size}, {"mean_error", e.mean},
          {"normalised_error", images.size() > 1 ? json(e.normalised) : json(nullptr)},
          {"definition", "reconstruction upsampled bilinearly to the network's input size, against the input "
                         "window (seed 002 sect. 4.1)"}};
    }
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
    char text[96];
    if (!images.empty()) {
      row.original = images[i].clone();
      m["error"] = err.per_image[i];
      std::snprintf(text, sizeof text, "error %.1f", err.per_image[i]);
      row.caption = text;
      if (perturbed) {
        m["unperturbed_error"] = clean_err.per_image[i];
        std::snprintf(text, sizeof text, " (%s; unperturbed %.1f)", o.perturb.c_str(), clean_err.per_image[i]);
        row.caption += text;
      }
    } else {
      row.original = r.clone();
    }
    if (rep.render) {
      const Tensor shown = Tensor::copy_of(decoded.view().batch(int64_t(i)));  // the features as decoded
      const int64_t side = df.image_size + solvers::window_padding(rep);  // DSIFT: of the padded window
      row.features = rep.render(shown.view(), Shape{1, 1, side, side});
    }
    if (perturbed) {
      Tensor c = Tensor::copy_of(clean.view().batch(int64_t(i)));
      write_png((fs::path(o.out) / (stem + "_unperturbed.png")).string(), c.view());
      m["unperturbed_png"] = stem + "_unperturbed.png";
      row.reconstructions.push_back(std::move(c));
    }
    row.reconstructions.push_back(std::move(r));
    if (class_scores) {
      const std::vector<double> p = softmax_of(feats[i].data(), feats[i].numel());
      std::vector<size_t> order(p.size());
      std::iota(order.begin(), order.end(), size_t{0});
      const size_t k = std::min<size_t>(5, p.size());
      std::partial_sort(order.begin(), order.begin() + long(k), order.end(),
                        [&](size_t a, size_t b) { return p[a] > p[b]; });
      json top = json::array();
      row.caption += std::string(row.caption.empty() ? "" : "; ") + "network's top-5" +
                     (cnn->model->random_weights ? " [random weights]" : "") + ":";
      for (size_t j = 0; j < k; ++j) {
        top.push_back({{"class", order[j]}, {"name", classes[order[j]]}, {"probability", p[order[j]]}});
        std::snprintf(text, sizeof text, " %s %.1f %%", classes[order[j]].c_str(), 100 * p[order[j]]);
        row.caption += text;
      }
      m["top5"] = top;
    }
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
  cmd->add_option("--one-hot", o->one_hot, "decode feature vectors with one unit active instead of images: "
                  "unit indices into the flattened features, comma-separated (seed 003 Fig. 4)")->delimiter(',');
  cmd->add_option("--value", o->value, "the active unit's value for --one-hot")->capture_default_str();
  cmd->add_option("--perturb", o->perturb, "decode perturbed features (seed 002 sect. 4.3-4.4): none, binarize, "
                  "dropout, dropout-least, binarize-dropout, binarize-dropout-least, top5, drop-top5; "
                  "metrics.json then has both errors")->capture_default_str();
  cmd->add_option("--perturb-seed", o->perturb_seed, "seed of the random dropout")->capture_default_str();
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o] { set_exit_code(run_decode(*o)); });
}

}  // namespace preimage::tools
