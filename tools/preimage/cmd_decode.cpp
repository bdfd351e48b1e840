// `preimage decode`: reconstructions by a trained decoder (seed 002), batched forward passes of up to 32 inputs.
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
#include <map>
#include <numeric>

#include "engine/atomic_file.h"
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
#include "tools/preimage/folder_run.h"
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
  bool resume = false;
};

// One input: the processed original (images only), its features, and for network decoders the window at the
// network's input size.
struct DecodeItem {
  Tensor original, features, window;
};

// Images decoded per forward pass: bounds the memory a folder of any size needs.
constexpr size_t kDecodeChunk = 32;

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

  // Inputs: image files (read one chunk at a time; a bad one is recorded and the others go on), or a features
  // file / one-hot vectors (read and checked before anything is written).
  const bool from_images = !o.input.empty();
  std::vector<std::string> names;
  std::vector<DecodeItem> preloaded;
  if (!o.features.empty()) {
    SafetensorsFile f = read_safetensors(o.features);
    PI_CHECK(f.tensors.count("features"), o.features, ": no tensor 'features' (write it with preimage features)");
    setup.check_features(f.tensors.at("features"), o.features);
    names.push_back(o.features);
    preloaded.push_back({Tensor(), std::move(f.tensors.at("features")), Tensor()});
  } else if (!o.one_hot.empty()) {
    for (const int64_t k : o.one_hot) {
      names.push_back("unit_" + std::to_string(k));
      Tensor f = solvers::one_hot_features(want, k, o.value);
      if (want.ndim() == 1) f.reshape_(Shape{1, want[0], 1, 1});  // as a network's fc layer gives its output
      preloaded.push_back({Tensor(), std::move(f), Tensor()});
    }
  } else {
    names = collect_images(o.input);
  }
  auto load_item = [&](size_t i) {
    if (!from_images) return DecodeItem{Tensor(), preloaded[i].features.clone(), Tensor()};
    DecodeItem it;
    setup.load(names[i], &it.original, &it.features, cnn ? &it.window : nullptr);
    return it;
  };
  prepare_output_dir(o.out);
  df.decoder.to(device);
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
                              {"definition", "seed 002 sect. 4.3-4.4, per image vector, random stream = the "
                                             "input's index in the folder; solvers/feature_perturb.h"}};
  if (!o.one_hot.empty()) config["one_hot"] = {{"units", o.one_hot}, {"value", o.value}};
  config["preprocessing"] = cnn ? weights::kCnnDecoderPreprocessing : weights::kDecoderPreprocessing;
  if (cnn) {
    config["model"] = cnn->record();
    if (cnn->model->random_weights) config["note"] = kRandomWeightsNote;
  }
  config["device"] = device_record(device);
  PI_CHECK(from_images || !o.resume, "--resume continues a folder of images");
  FolderRun folder(o.out, "file", names, o.resume, config);
  write_json((fs::path(o.out) / "config.json").string(), config);

  std::map<size_t, DecodeItem> decoded_now;  // originals and windows of this run's images, for the summary
  double decode_seconds = 0;
  size_t decoded_count = 0;
  std::vector<size_t> pending;
  for (size_t i = 0; i < names.size(); ++i)
    if (!folder.reused(i)) pending.push_back(i);
  for (size_t c = 0; c < pending.size() && !folder.stop_requested(); c += kDecodeChunk) {
    std::vector<size_t> idx;
    std::vector<DecodeItem> items;
    for (size_t k = c; k < std::min(pending.size(), c + kDecodeChunk); ++k) {
      try {
        items.push_back(load_item(pending[k]));
        idx.push_back(pending[k]);
      } catch (const WriteError&) {
        throw;
      } catch (const Error& e) {
        std::fprintf(stderr, "[%zu/%zu] %s: error: %s\n", pending[k] + 1, names.size(),
                     stem_of(names[pending[k]]).c_str(), e.what());
        folder.record(pending[k],
                      {{"file", names[pending[k]]}, {"stem", stem_of(names[pending[k]])}, {"error", e.what()}});
      }
    }
    if (idx.empty()) continue;
    std::vector<Tensor> fv;
    for (const DecodeItem& it : items) fv.push_back(it.features.clone());
    const Tensor features = stack_samples(fv);
    Tensor decoded = features.clone();
    const int64_t dim = features.numel() / features.shape()[0];
    if (perturbed)  // each vector on the random stream of its index in the folder (a resumed run draws the same)
      for (size_t j = 0; j < idx.size(); ++j)
        solvers::perturb_vector(decoded.data() + int64_t(j) * dim, dim, perturb, o.perturb_seed, uint64_t(idx[j]));
    const auto t0 = std::chrono::steady_clock::now();
    const Tensor recon = solvers::decode_batch(df.decoder, decoded.view(), device);
    decode_seconds += seconds_since(t0);
    decoded_count += idx.size();
    const Tensor clean = perturbed ? solvers::decode_batch(df.decoder, features.view(), device) : Tensor();
    for (size_t j = 0; j < idx.size(); ++j) {
      const std::string stem = stem_of(names[idx[j]]);
      DecodeItem& item = items[j];
      Tensor r = Tensor::copy_of(recon.view().batch(int64_t(j)));
      write_png((fs::path(o.out) / (stem + ".png")).string(), r.view());
      json m = {{"file", names[idx[j]]}, {"stem", stem}, {"png", stem + ".png"}};
      GalleryRow row;
      row.stem = stem;
      std::string caption;
      char text[96];
      if (item.original.defined()) {
        row.original = item.original.clone();
        const double e = l2_distance(item.original.view(), r.view());
        m["error"] = e;
        std::snprintf(text, sizeof text, "error %.1f", e);
        caption = text;
        if (cnn) {  // the paper's measure for network decoders (seed 002 sect. 4.1), per image
          const Tensor up = resize_bilinear(r.view(), cnn->input_size, cnn->input_size);
          m["error_at_input_size"] = l2_distance(item.window.view(), up.view());
        }
      } else {
        row.original = r.clone();
      }
      if (rep.render) {
        const Tensor shown = Tensor::copy_of(decoded.view().batch(int64_t(j)));  // the features as decoded
        const int64_t side = df.image_size + solvers::window_padding(rep);  // DSIFT: of the padded window
        row.features = rep.render(shown.view(), Shape{1, 1, side, side});
      }
      if (perturbed) {
        Tensor cl = Tensor::copy_of(clean.view().batch(int64_t(j)));
        write_png((fs::path(o.out) / (stem + "_unperturbed.png")).string(), cl.view());
        m["unperturbed_png"] = stem + "_unperturbed.png";
        if (item.original.defined()) {
          const double e = l2_distance(item.original.view(), cl.view());
          m["unperturbed_error"] = e;
          std::snprintf(text, sizeof text, " (%s; unperturbed %.1f)", o.perturb.c_str(), e);
          caption += text;
        }
        row.reconstructions.push_back(std::move(cl));
      }
      row.reconstructions.push_back(std::move(r));
      if (class_scores) {
        const std::vector<double> p = softmax_of(item.features.data(), item.features.numel());
        std::vector<size_t> order(p.size());
        std::iota(order.begin(), order.end(), size_t{0});
        const size_t k = std::min<size_t>(5, p.size());
        std::partial_sort(order.begin(), order.begin() + long(k), order.end(),
                          [&](size_t a, size_t b) { return p[a] > p[b]; });
        json top = json::array();
        caption += std::string(caption.empty() ? "" : "; ") + "network's top-5" +
                   (cnn->model->random_weights ? " [random weights]" : "") + ":";
        for (size_t q = 0; q < k; ++q) {
          top.push_back({{"class", order[q]}, {"name", classes[order[q]]}, {"probability", p[order[q]]}});
          std::snprintf(text, sizeof text, " %s %.1f %%", classes[order[q]].c_str(), 100 * p[order[q]]);
          caption += text;
        }
        m["top5"] = top;
      }
      write_png((fs::path(o.out) / (stem + "_sheet.png")).string(), row.sheet().view());
      m["sheet"] = stem + "_sheet.png";
      if (!caption.empty()) m["caption"] = caption;
      folder.record(idx[j], std::move(m));
      if (item.original.defined())
        decoded_now[idx[j]] = DecodeItem{std::move(item.original), Tensor(), std::move(item.window)};
      if (folder.stop_requested()) break;  // the rest of the chunk is written by --resume
    }
  }

  // The folder's figures over every finished image, this run's and a resumed run's alike (seed 002 sect. 2.2).
  json& summary = folder.header;
  summary["decode_seconds"] = decode_seconds;
  summary["seconds_per_image"] = decoded_count ? json(decode_seconds / double(decoded_count)) : json(nullptr);
  if (from_images) {
    std::vector<Tensor> originals, windows;
    double sum = 0, clean_sum = 0, sum_at_input = 0;
    for (const json& e : folder.entries()) {
      if (is_failure(e)) continue;
      size_t i = 0;
      while (i + 1 < names.size() && names[i] != e["file"]) ++i;
      auto it = decoded_now.find(i);
      DecodeItem item = it != decoded_now.end() ? std::move(it->second) : load_item(i);
      originals.push_back(std::move(item.original));
      if (cnn) windows.push_back(std::move(item.window));
      sum += e["error"].get<double>();
      if (perturbed) clean_sum += e["unperturbed_error"].get<double>();
      if (cnn) sum_at_input += e["error_at_input_size"].get<double>();
    }
    const double n = double(originals.size());
    const double pairwise =
        originals.size() > 1 ? solvers::mean_pairwise_distance(stack_samples(originals).view()) : 0.0;
    auto normalised = [&](double mean, double pw) { return originals.size() > 1 ? json(mean / pw) : json(nullptr); };
    if (n > 0) {
      summary["mean_error"] = sum / n;
      summary["mean_pairwise_distance"] = originals.size() > 1 ? json(pairwise) : json(nullptr);
      summary["normalised_error"] = normalised(sum / n, pairwise);
      if (perturbed)
        summary["unperturbed"] = {{"mean_error", clean_sum / n},
                                  {"normalised_error", normalised(clean_sum / n, pairwise)}};
      if (cnn) {
        const double pw = windows.size() > 1 ? solvers::mean_pairwise_distance(stack_samples(windows).view()) : 0.0;
        summary["at_input_size"] = {
            {"size", cnn->input_size}, {"mean_error", sum_at_input / n},
            {"normalised_error", normalised(sum_at_input / n, pw)},
            {"definition", "reconstruction upsampled bilinearly to the network's input size, against the input "
                           "window (seed 002 sect. 4.1)"}};
      }
      summary["error_definition"] = "||x - f(phi(x))||_2 over RGB 0..255 of the processed input; normalised = mean "
                                    "error / mean pairwise distance of the inputs (seed 002 sect. 2.2)";
      if (originals.size() > 1)
        std::fprintf(stderr, "decode: %zu images, mean error %.1f, normalised error %.4f\n", originals.size(),
                     sum / n, sum / n / pairwise);
    }
  }
  folder.write_metrics();
  const std::string index = (fs::path(o.out) / "index.html").string();
  write_gallery(index, "preimage decode (" + df.representation + " decoder)", gallery_rows(folder.entries()), config);
  if (decoded_count)
    std::fprintf(stderr, "decode: %.3f s/image\n", decode_seconds / double(decoded_count));
  return folder.finish(index);
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
  add_resume_option(cmd, &o->resume);
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o] { set_exit_code(run_decode(*o)); });
}

}  // namespace preimage::tools
