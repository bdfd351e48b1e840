// `preimage caricature`: exaggerate what a CNN layer sees in an image (seed 001 sect. 7): eq. 1 with the
// inner-product loss against Phi0 = max(0, Phi(x0)), Z = ||Phi0||^2 (solvers/cnn_preimage.h caricature_Z), started
// from the image x0 itself.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/error.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/deep_run.h"
#include "tools/preimage/run_common.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct CaricatureOptions {
  DeepOptions deep;
  std::string input;
};

int run_caricature(const CaricatureOptions& c) {
  const DeepOptions& o = c.deep;
  apply_threads(o.threads);
  check_deep_options(o);
  const Device device = select_device(o.device);
  LoadedModel lm = load_model(o.model);
  const layers::Network& net = lm.net;
  net.layer_index(o.layer);
  lm.net.to(device);
  const std::vector<std::string> files = collect_images(c.input);
  const int64_t h = o.size > 0 ? o.size : net.preprocessing.input_h, w = o.size > 0 ? o.size : net.preprocessing.input_w;
  layer_output_shape(net, o.layer, Shape{1, 3, h, w});
  prepare_output_dir(o.out);
  if (o.snapshot_every > 0) prepare_output_dir((fs::path(o.out) / "snapshots").string());

  solvers::ObjectiveParams obj = deep_objective(o);
  obj.loss = solvers::LossKind::inner_product;
  obj.C = o.C > 0 ? o.C : 1.0f;
  obj.jitter = o.jitter > 0 ? o.jitter : solvers::default_jitter(net, o.layer);
  DeepRun run;
  run.kind = DeepKind::caricature;
  run.solver.iterations = o.iterations;
  run.solver.eta0 = o.eta0;
  run.final_stage.iterations = 0;  // one stage, as the authors' exp_enhance.m
  run.names = files;
  run.title = "preimage caricature --model " + net.name + " --layer " + o.layer +
              (lm.random_weights ? " [RANDOM WEIGHTS]" : "") +
              " (% = feature change ||Phi(x*) - Phi(x0)|| / ||Phi(x0)||)";

  json config = deep_config("caricature", lm, o, obj, run.solver, device, h, w);
  config["input"] = c.input;
  config["files"] = files;
  config["objective"]["target"] = "Phi0 = max(0, Phi(x0)), Z = ||Phi0||^2 (loss -1 at x0), started from x0";
  config["input_processing"] = {{"preprocess", o.preprocess}, {"then", "minus the network's mean"}};
  run.prepare = [&](size_t i) {
    DeepJob job;
    job.stem = stem_of(files[i]);
    job.shown = load_network_input(net, files[i], o.size, o.preprocess);
    job.image_shape = job.shown.shape();
    layer_output_shape(net, o.layer, job.image_shape);
    job.init = net.preprocess(job.shown.view());
    job.phi_x0 = layer_features(net, o.layer, job.init.view());
    job.phi0 = solvers::caricature_target(job.phi_x0.view());
    job.objective = obj;
    job.objective.Z = solvers::caricature_Z(job.phi0.view());
    job.info = {{"Z", job.objective.Z}};
    return job;
  };
  return run_deep(lm, o, run, config);
}

}  // namespace

void register_caricature(CLI::App& app) {
  auto c = std::make_shared<CaricatureOptions>();
  c->deep.out = "out/caricature";
  CLI::App* cmd = app.add_subcommand(
      "caricature",
      "Caricatures (IJCV 2016 sect. 7): starting from each image, exaggerate the patterns a CNN layer finds active "
      "in it. Writes <stem>.png (restarts: _r<k>), <stem>_sheet.png, config.json, metrics.json and index.html "
      "under --out.");
  cmd->add_option("input", c->input, "an image file or a folder of images")->required();
  add_deep_options(cmd, &c->deep, 300);
  cmd->callback([c] { set_exit_code(run_caricature(*c)); });
}

}  // namespace preimage::tools
