// `preimage eval`: how faithful are reconstructions? For a folder of originals and a folder of reconstructions
// (<stem>_16bit.png, or <stem>.png, as `preimage invert` writes them) computes both error definitions of the papers:
//   IJCV 2016 (Table 4): ||Phi(x*) - Phi(x0)|| / ||Phi(x0)||
//   CVPR 2015 (Table 1): ||Phi(x*) - Phi(x0)|| / N_Phi, N_Phi = mean pairwise distance of the originals' codes
// with mean and standard deviation, as a table on stdout and as JSON.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "engine/error.h"
#include "features/representation.h"
#include "tools/preimage/deep_run.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/run_common.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct EvalOptions {
  std::string originals, reconstructions, rep = "hog", json_out, device = "cpu", model, layer, preprocess = "square";
  features::RepresentationOptions rep_options;
  int size = 0, threads = 0;
  bool eight_bit = false;
};

struct Stats {
  double mean = 0, std = 0;
};
Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x / v.size();
  for (double x : v) s.std += (x - s.mean) * (x - s.mean) / v.size();
  s.std = std::sqrt(s.std);
  return s;
}

int run_eval(const EvalOptions& o) {
  apply_threads(o.threads);
  const Device device = select_device(o.device);
  const bool deep = !o.model.empty();
  PI_CHECK(deep == !o.layer.empty(), "--model and --layer go together (a CNN layer's error); without them --rep "
           "names the representation");
  features::Representation rep;
  std::optional<LoadedModel> lm;
  if (deep) {
    lm.emplace(load_model(o.model));
    lm->net.layer_index(o.layer);
    lm->net.to(device);
  } else {
    rep = features::make_representation(o.rep, o.rep_options);
    PI_CHECK(device == Device::cpu || o.rep != "sift-grid", "--rep sift-grid runs on the CPU only (its keypoints "
             "come from VLFeat's vl_sift); use --device cpu");
  }
  // Features on the chosen device, downloaded for the distances (the device kernels match the CPU bit for bit).
  // CNN layers see the colour image in the network's domain, as `invert --model` inverted it.
  auto extract = [&](const Tensor& image) {
    if (deep) return layer_features(lm->net, o.layer, lm->net.preprocess(image.view()).view());
    return device == Device::cpu ? rep.extract(image.view()) : rep.extract(image.to(device).view()).to(Device::cpu);
  };
  auto load_original = [&](const std::string& file) {
    return deep ? load_network_input(lm->net, file, o.size, o.preprocess) : load_input(file, true, o.size);
  };
  const std::vector<std::string> originals = collect_images(o.originals);
  PI_CHECK(fs::is_directory(o.reconstructions), o.reconstructions, ": not a folder of reconstructions");

  std::vector<std::string> stems, files;
  std::vector<Tensor> phi0, phi;
  for (const std::string& file : originals) {
    const std::string stem = stem_of(file);
    // The lossless file when the run wrote one (write_reconstruction), else the 8-bit PNG.
    const fs::path rec16 = fs::path(o.reconstructions) / (stem + "_16bit.png");
    const fs::path rec = fs::exists(rec16) && !o.eight_bit ? rec16 : fs::path(o.reconstructions) / (stem + ".png");
    PI_CHECK(fs::exists(rec), rec.string(), ": no reconstruction for original ", file);
    files.push_back(rec.filename().string());
    Tensor x0 = load_original(file);
    Tensor x = load_input(rec.string(), !deep, 0);
    PI_CHECK(x.shape() == x0.shape(), rec.string(), " is ", x.shape().str(), " but the processed original is ",
             x0.shape().str(), "; pass the --size used for the inversion");
    if (deep)
      layer_output_shape(lm->net, o.layer, x0.shape());
    else
      rep.check_image(x0.shape());
    phi0.push_back(extract(x0));
    phi.push_back(extract(x));
    stems.push_back(stem);
  }
  const size_t n = stems.size();
  double n_phi = 0;
  bool same_dims = true;
  for (size_t i = 1; i < n; ++i) same_dims = same_dims && phi0[i].shape() == phi0[0].shape();
  if (n >= 2 && same_dims) {
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 1; j < n; ++j) n_phi += l2_distance(phi0[i].view(), phi0[j].view());
    n_phi /= double(n * (n - 1) / 2);
  }

  std::vector<double> e_ijcv, e_cvpr;
  json per_image = json::array();
  std::printf("%-24s %10s %10s\n", "image", "IJCV %", n_phi > 0 ? "CVPR %" : "CVPR -");
  for (size_t i = 0; i < n; ++i) {
    double norm0 = 0;
    for (int64_t k = 0; k < phi0[i].numel(); ++k) norm0 += double(phi0[i].data()[k]) * phi0[i].data()[k];
    norm0 = std::sqrt(norm0);
    const double d = l2_distance(phi[i].view(), phi0[i].view());
    const double ei = norm0 > 0 ? d / norm0 : NAN;
    e_ijcv.push_back(ei);
    json row = {{"image", stems[i]}, {"file", files[i]}, {"ijcv_error", ei}};
    if (n_phi > 0) {
      e_cvpr.push_back(d / n_phi);
      row["cvpr_error"] = d / n_phi;
    }
    per_image.push_back(row);
    std::printf("%-24s %10.2f %10.2f\n", stems[i].c_str(), 100 * ei, n_phi > 0 ? 100 * d / n_phi : NAN);
  }
  const Stats si = stats(e_ijcv);
  const std::string what = deep ? lm->net.name + "_" + o.layer : rep.name;
  json out = {{"representation", deep ? json{{"model", lm->record}, {"layer", layer_record(lm->net, o.layer)}}
                                      : rep.params},
              {"device", device_record(device)}, {"images", n},
              {"per_image", per_image},
              {"ijcv", {{"mean", si.mean}, {"std", si.std}}}};
  std::printf("%-24s %10.2f", "mean", 100 * si.mean);
  if (n_phi > 0) {
    const Stats sc = stats(e_cvpr);
    out["cvpr"] = {{"mean", sc.mean}, {"std", sc.std}, {"N_phi", n_phi}};
    std::printf(" %10.2f\n%-24s %10.2f %10.2f\n", 100 * sc.mean, "std", 100 * si.std, 100 * sc.std);
  } else {
    std::printf("\n%-24s %10.2f   (CVPR error needs >= 2 originals of one size)\n", "std", 100 * si.std);
  }
  const std::string json_path =
      o.json_out.empty() ? (fs::path(o.reconstructions) / ("eval_" + what + ".json")).string() : o.json_out;
  write_json(json_path, out);
  std::fprintf(stderr, "wrote %s\n", json_path.c_str());
  return 0;
}

}  // namespace

void register_eval(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Feature reconstruction errors of a folder of reconstructions against their originals: IJCV "
              "(normalised by ||Phi(x0)||) and CVPR (normalised by the mean pairwise distance of the originals)");
  cmd->add_option("originals", o->originals, "original image or folder")->required();
  cmd->add_option("reconstructions", o->reconstructions, "folder holding <stem>_16bit.png or <stem>.png for each original")->required();
  cmd->add_option("--rep", o->rep, "hog, hogb, hog-dt, dsift")->capture_default_str();
  cmd->add_option("--model", o->model, "network file (.safetensors): the error of a CNN layer (with --layer)");
  cmd->add_option("--layer", o->layer, "the layer of --model, e.g. conv5 or fc8");
  add_preprocess_option(cmd, &o->preprocess);
  cmd->add_option("--cell-size", o->rep_options.cell_size, "HOG cell size")->capture_default_str();
  cmd->add_option("--orientations", o->rep_options.orientations, "HOG orientations")->capture_default_str();
  cmd->add_option("--step", o->rep_options.dsift_step, "DSIFT step")->capture_default_str();
  cmd->add_option("--bin-size", o->rep_options.dsift_bin, "DSIFT bin size")->capture_default_str();
  cmd->add_flag("--flat-window", o->rep_options.flat_window, "DSIFT flat window");
  cmd->add_option("--size", o->size, "the --size the originals were inverted at (0 = as they are)");
  cmd->add_flag("--8bit", o->eight_bit, "read <stem>.png even where the lossless <stem>_16bit.png exists");
  cmd->add_option("--json", o->json_out, "where to write the JSON (default RECONSTRUCTIONS/eval_<rep>.json)");
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o] { set_exit_code(run_eval(*o)); });
}

}  // namespace preimage::tools
