// `preimage actmax`: activation maximisation of one unit of a CNN layer (seed 001 sect. 6): eq. 1 with the
// inner-product loss (eq. 4) against a one-hot Phi0 at the unit (conv layers: the map's centre position),
// normalised by Z = M rho^2 / 10^4 (solvers/cnn_preimage.h actmax_Z), started from noise.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "engine/error.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/deep_run.h"
#include "tools/preimage/run_common.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct ActmaxOptions {
  DeepOptions deep;
  int64_t unit = 0;
  std::string stats;
  double M = 0;  // > 0: given on the command line
};

// M of the unit from a `preimage stats` file, checked against the network and layer.
double unit_max_from_stats(const std::string& path, const layers::Network& net, const std::string& layer,
                           int64_t unit) {
  std::ifstream f(path);
  PI_CHECK(f.good(), path, ": cannot open the statistics file (--stats; make it with `preimage stats`)");
  json j;
  try {
    j = json::parse(f);
    const std::string model = j.at("model").at("model").get<std::string>();
    const std::string l = j.at("layer").at("name").get<std::string>();
    PI_CHECK(model == net.name && l == layer, path, ": statistics of ", model, " ", l, ", but this run is ", net.name,
             " ", layer);
    const json& mx = j.at("max");
    PI_CHECK(mx.is_array() && static_cast<int64_t>(mx.size()) == net.channels(layer), path, ": 'max' must list ",
             net.channels(layer), " channels");
    PI_CHECK(unit >= 0 && unit < static_cast<int64_t>(mx.size()), "--unit ", unit, " is out of range: ", layer,
             " has ", mx.size(), " channels (units 0..", mx.size() - 1, ")");
    return mx.at(static_cast<size_t>(unit)).get<double>();
  } catch (const json::exception& e) {
    fail(path, ": not a `preimage stats` file (", e.what(), ")");
  }
}

// The network's mean image with the unit's receptive field outlined in white (the sheet's first tile: what zero
// is, and where the unit looks).
Tensor mean_with_box(const layers::Network& net, const std::string& layer, const Shape& image, const Shape& feature) {
  Tensor zero = Tensor::zeros(image);
  Tensor shown = net.deprocess(zero.view());
  const layers::ReceptiveField rf = net.receptive_field(layer);
  const int64_t h = image[2], w = image[3];
  auto span = [&](int64_t centre_unit, int64_t limit) {
    const double c = rf.offset + static_cast<double>(centre_unit * rf.stride);
    const int64_t a = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(c - (rf.size - 1) / 2.0)));
    const int64_t b = std::min<int64_t>(limit - 1, static_cast<int64_t>(std::floor(c + (rf.size - 1) / 2.0)));
    return std::pair{a, b};
  };
  const auto [y0, y1] = span((feature[2] - 1) / 2, h);
  const auto [x0, x1] = span((feature[3] - 1) / 2, w);
  for (int64_t k = 0; k < 3; ++k)
    for (int64_t y = y0; y <= y1; ++y)
      for (int64_t x = x0; x <= x1; ++x)
        if (y == y0 || y == y1 || x == x0 || x == x1) shown.data()[(k * h + y) * w + x] = 255.0f;
  return shown;
}

int run_actmax(const ActmaxOptions& a) {
  const DeepOptions& o = a.deep;
  apply_threads(o.threads);
  check_deep_options(o);
  const Device device = select_device(o.device);
  PI_CHECK(!(a.M < 0) && !std::isnan(a.M), "--M must be positive, got ", a.M);
  LoadedModel lm = load_model(o.model);
  const layers::Network& net = lm.net;
  net.layer_index(o.layer);
  lm.net.to(device);
  const int64_t h = o.size > 0 ? o.size : net.preprocessing.input_h, w = o.size > 0 ? o.size : net.preprocessing.input_w;
  const Shape image_shape{1, 3, h, w};
  const Shape feature_shape = layer_output_shape(net, o.layer, image_shape);
  Tensor phi0 = solvers::actmax_target(feature_shape, a.unit);  // checks the unit's range
  double M = 1.0;
  std::string M_source = "none given: M = 1 (pass --stats from `preimage stats` for the paper's normalisation)";
  if (!a.stats.empty()) {
    M = unit_max_from_stats(a.stats, net, o.layer, a.unit);
    M_source = a.stats;
  }
  if (a.M > 0) {
    M = a.M;
    M_source = "--M";
  }
  const int64_t rho = net.receptive_field(o.layer).size;
  solvers::ObjectiveParams obj = deep_objective(o);
  obj.loss = solvers::LossKind::inner_product;
  obj.Z = solvers::actmax_Z(M, rho);
  obj.C = o.C > 0 ? o.C : 1.0f;
  obj.jitter = o.jitter > 0 ? o.jitter : solvers::default_jitter(net, o.layer);
  if (a.stats.empty() && !(a.M > 0)) std::fprintf(stderr, "actmax: no --stats: %s\n", M_source.c_str());
  prepare_output_dir(o.out);
  if (o.snapshot_every > 0) prepare_output_dir((fs::path(o.out) / "snapshots").string());

  const std::string stem = o.layer + "_unit" + std::to_string(a.unit);
  DeepRun run;
  run.kind = DeepKind::actmax;
  run.solver.iterations = o.iterations;
  run.solver.eta0 = o.eta0;
  run.final_stage.iterations = 0;  // one stage, as the authors' exp_maximization.m
  run.names = {stem};
  run.title = "preimage actmax --model " + net.name + " --layer " + o.layer + " --unit " + std::to_string(a.unit) +
              (lm.random_weights ? " [RANDOM WEIGHTS]" : "") +
              " (tiles: mean image with the unit's receptive field | results; % = activation / M)";

  json config = deep_config("actmax", lm, o, obj, run.solver, device, h, w);
  config["unit"] = a.unit;
  config["position"] = {(feature_shape[2] - 1) / 2, (feature_shape[3] - 1) / 2};
  config["M"] = M;
  config["M_source"] = M_source;
  config["rho"] = rho;
  config["objective"]["Z_rule"] = "Z = M rho^2 / 10^4 (seed 001 sect. 6, scaled as the authors' exp_maximization.m)";
  run.prepare = [&](size_t) {
    DeepJob job;
    job.stem = stem;
    job.image_shape = image_shape;
    job.shown = mean_with_box(net, o.layer, image_shape, feature_shape);
    job.phi0 = phi0.clone();
    job.objective = obj;
    job.unit = a.unit;
    job.M = M;
    job.info = {{"unit", a.unit}, {"M", M}, {"Z", obj.Z}};
    return job;
  };
  return run_deep(lm, o, run, config);
}

}  // namespace

void register_actmax(CLI::App& app) {
  auto a = std::make_shared<ActmaxOptions>();
  a->deep.out = "out/actmax";
  CLI::App* cmd = app.add_subcommand(
      "actmax",
      "Activation maximisation (IJCV 2016 sect. 6): the natural-looking image that most excites one unit of a CNN "
      "layer (for convolutional layers the unit at the centre of the map), from random noise. Writes "
      "<layer>_unit<K>.png (restarts: _r<k>), a contact sheet, config.json, metrics.json and index.html under --out.");
  add_deep_options(cmd, &a->deep, 300);
  cmd->add_option("--unit", a->unit, "channel of the unit, 0-based")->required();
  cmd->add_option("--stats", a->stats, "statistics file from `preimage stats` for the same layer (gives M)");
  cmd->add_option("--M", a->M, "the unit's natural maximum M directly (overrides --stats)");
  cmd->callback([a] { set_exit_code(run_actmax(*a)); });
}

}  // namespace preimage::tools
