// The run loop and helpers of the deep commands (tools/preimage/deep_run.h).
#include "tools/preimage/deep_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "tools/preimage/channel_grid.h"
#include "tools/preimage/folder_run.h"
#include "tools/preimage/gallery.h"
#include "tools/preimage/run_common.h"
#include "weights/model_weights.h"

namespace preimage::tools {
namespace fs = std::filesystem;
using nlohmann::json;

const char* const kRandomWeightsNote =
    "RANDOM WEIGHTS: this network file was made by `preimage init-weights` (He-normal noise), not trained; its "
    "pre-images exercise the pipeline and say nothing about what the trained network encodes";

LoadedModel load_model(const std::string& path) {
  std::error_code ec;
  PI_CHECK(!path.empty(), "--model: give a network file (.safetensors; `preimage convert-weights` makes one from "
           "published weights, `preimage init-weights` a random one)");
  PI_CHECK(fs::is_regular_file(path, ec), path, ": no such network file (--model)");
  SafetensorsFile file = read_safetensors(path);
  const std::map<std::string, std::string> meta = file.metadata;
  LoadedModel m{weights::network_from_file(std::move(file), path), path, false, json::object()};
  auto it = meta.find("preimage.random_weights");
  m.random_weights = it != meta.end() && it->second == "true";
  const layers::Preprocessing& pre = m.net.preprocessing;
  json md = json::object();
  for (const auto& [k, v] : meta) md[k] = v;
  int64_t fc_width = 0, classes = 0;
  for (const layers::Layer& l : m.net.layers)
    if (l.kind == layers::LayerKind::fc) {
      if (l.name == "fc6") fc_width = l.out_channels;
      classes = l.out_channels;
    }
  m.record = {{"file", path},
              {"model", m.net.name},
              {"random_weights", m.random_weights},
              {"fc_width", fc_width},
              {"num_classes", classes},
              {"input_size", {pre.input_h, pre.input_w}},
              {"source_order", pre.source_order},
              {"metadata", md}};
  if (pre.mean_image.defined())
    m.record["mean"] = "mean image " + pre.mean_image.shape().str();
  else
    m.record["mean"] = pre.mean_pixel;
  if (m.random_weights) m.record["note"] = kRandomWeightsNote;
  return m;
}

void add_deep_options(CLI::App* cmd, DeepOptions* o, int default_iterations) {
  o->iterations = default_iterations;
  cmd->add_option("--model", o->model, "network file (.safetensors)")->required();
  cmd->add_option("--layer", o->layer, "layer name (conv1, relu1, ..., fc8; conv5_3 for VGG-VD-16)")->required();
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  cmd->add_option("--size", o->size, "centre-crop to a square and resize to SIZE x SIZE (0: the network's input size)")
      ->capture_default_str()->check(CLI::Range(0, 4096));
  cmd->add_option("--iters", o->iterations, "iterations T")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--C", o->C, "loss weight C (default 1, seed 001 sects. 6-7)");
  cmd->add_option("--jitter", o->jitter, "jitter T (default max(round(stride/4), 1) of the layer)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--alpha", o->alpha, "N_alpha exponent")->capture_default_str();
  cmd->add_option("--beta", o->beta, "TV exponent beta")->capture_default_str();
  cmd->add_option("--B", o->B, "typical pixel norm B (B+ = 2B, V = B/6.5)")->capture_default_str();
  cmd->add_option("--eta0", o->eta0, "Algorithm 1 learning rate (default 0.01 B^2/alpha x H W)");
  cmd->add_option("--seed", o->seed, "random seed of the initial image (restart k uses seed + k)")
      ->capture_default_str();
  cmd->add_option("--restarts", o->restarts, "runs per target from different seeds")
      ->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--snapshots", o->snapshot_every, "write a snapshot every N iterations to snapshots/")
      ->check(CLI::Range(0, 100000));
  add_preprocess_option(cmd, &o->preprocess);
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
}

void check_deep_options(const DeepOptions& o) {
  for (auto [name, v] : {std::pair{"--beta", o.beta}, {"--alpha", o.alpha}, {"--B", o.B}})
    PI_CHECK(std::isfinite(v) && v > 0, name, " must be a positive finite number, got ", v);
  PI_CHECK(o.C == -1.0f || (std::isfinite(o.C) && o.C > 0), "--C must be a positive finite number, got ", o.C);
  PI_CHECK(!(o.eta0 > 0) || std::isfinite(o.eta0), "--eta0 must be finite");
  PI_CHECK(!std::isnan(o.eta0), "--eta0 must be a number");
}

Tensor load_network_input(const layers::Network& net, const std::string& path, int size,
                          const std::string& preprocess) {
  const int64_t h = size > 0 ? size : net.preprocessing.input_h, w = size > 0 ? size : net.preprocessing.input_w;
  const Tensor img = read_image(path, ImageChannels::rgb);
  if (preprocess == "square") return resize_antialiased(center_square(img.view()).view(), h, w);
  // Both published pipelines resize to 256 first and crop the input size from the centre.
  const int64_t side = std::max<int64_t>({256, h, w});
  Tensor resized;
  if (preprocess == "caffe") {
    resized = resize_bilinear(img.view(), side, side);
  } else if (preprocess == "torchvision") {
    const int64_t ih = img.shape()[2], iw = img.shape()[3];
    const int64_t rh = ih <= iw ? side : std::llround(double(ih) * side / iw);
    const int64_t rw = ih <= iw ? std::llround(double(iw) * side / ih) : side;
    resized = resize_antialiased(img.view(), rh, rw);
  } else {
    fail("--preprocess ", preprocess, ": use square, caffe or torchvision");
  }
  const int64_t rh = resized.shape()[2], rw = resized.shape()[3];
  return crop_image(resized.view(), (rh - h) / 2, (rw - w) / 2, h, w);
}

const char* const kPreprocessingHelp =
    "how an image becomes the network's input: square (centre square, anti-aliased resize; default), caffe "
    "(warp to 256x256, bilinear, centre crop) or torchvision (shorter side to 256 anti-aliased, centre crop)";

void add_preprocess_option(CLI::App* cmd, std::string* preprocess) {
  cmd->add_option("--preprocess", *preprocess, kPreprocessingHelp)
      ->capture_default_str()
      ->check(CLI::IsMember({"square", "caffe", "torchvision"}));
}

Shape layer_output_shape(const layers::Network& net, const std::string& layer, const Shape& image_shape) {
  try {
    return net.output_shape(layer, image_shape);
  } catch (const Error& e) {
    fail("a ", image_shape[2], "x", image_shape[3], " image is too small for ", net.name, " up to ", layer, " (",
         e.what(), "); use a larger --size");
  }
}

Tensor layer_features(const layers::Network& net, const std::string& layer, const View& x) {
  const Device device = net.device();
  Tensor uploaded;
  View xv = x;
  if (x.device != device) {
    check_contiguous("layer_features", "image", x);
    uploaded = Tensor::empty(x.shape, device);
    copy_floats(uploaded.data(), device, x.data, x.device, static_cast<size_t>(x.numel()));
    xv = uploaded.view();
  }
  Tape t(device);
  Var f = net.forward(t, t.leaf(xv, false), layer);
  const View fv = t.value(f);
  if (device == Device::cpu) return Tensor::copy_of(fv);
  Tensor host = Tensor::empty(fv.shape, Device::cpu);
  copy_floats(host.data(), Device::cpu, fv.data, fv.device, static_cast<size_t>(fv.numel()));
  return host;
}

json layer_record(const layers::Network& net, const std::string& layer) {
  const size_t i = net.layer_index(layer);
  const layers::ReceptiveField rf = net.receptive_field(layer);
  return {{"name", layer},
          {"index", i},
          {"kind", layers::layer_kind_name(net.layers[i].kind)},
          {"channels", net.channels(layer)},
          {"receptive_field", {{"size", rf.size}, {"stride", rf.stride}, {"offset", rf.offset}}}};
}

json objective_record(const solvers::ObjectiveParams& p) {
  return {{"form", "ijcv"},
          {"loss", p.loss == solvers::LossKind::l2 ? "l2" : "inner_product"},
          {"C", p.C},
          {"Z", p.Z},
          {"alpha", p.alpha},
          {"B", p.B},
          {"B_plus", p.B_plus},
          {"beta", p.beta},
          {"V", p.V},
          {"jitter", p.jitter}};
}

solvers::ObjectiveParams deep_objective(const DeepOptions& o) {
  solvers::ObjectiveParams p;
  p.alpha = o.alpha;
  p.beta = o.beta;
  p.B = o.B;
  p.B_plus = 2 * o.B;
  p.V = o.B / 6.5f;
  return p;
}

json deep_config(const std::string& command, const LoadedModel& lm, const DeepOptions& o,
                 const solvers::ObjectiveParams& obj, const solvers::SolverParams& solver, Device device, int64_t h,
                 int64_t w) {
  json config = run_record(command);
  config["model"] = lm.record;
  config["random_weights"] = lm.random_weights;
  config["layer"] = layer_record(lm.net, o.layer);
  config["objective"] = objective_record(obj);
  config["solver"] = {{"kind", "adagrad"}, {"iterations", o.iterations}, {"rho", solver.rho},
                      {"eta0", o.eta0 > 0 ? json(o.eta0) : json("0.01 B^2/alpha * H W")}};
  config["seed"] = o.seed;
  config["device"] = device_record(device);
  config["restarts"] = o.restarts;
  config["size"] = {h, w};
  return config;
}

double relative_error(const Tensor& a, const Tensor& b, const Tensor* m) {
  double d = 0, n = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double w = m ? m->data()[i] : 1.0;
    const double e = (double(a.data()[i]) - b.data()[i]) * w, r = double(b.data()[i]) * w;
    d += e * e;
    n += r * r;
  }
  return n > 0 ? std::sqrt(d / n) : 0.0;
}

namespace {

json terms_json(const solvers::ObjectiveTerms& t) {
  return {{"objective", t.total}, {"loss", t.loss}, {"r_alpha", t.r_alpha}, {"r_tv", t.r_tv}};
}

// The run's figure of merit per reconstruction, shown in the gallery: inversion the (masked) feature error,
// caricature the feature change from the original, actmax the unit's activation over M.
double score_of(const DeepJob& job, DeepKind kind, const Tensor& phi, json& run) {
  if (kind == DeepKind::inversion) {
    const double err = relative_error(phi, job.phi0, job.mask.defined() ? &job.mask : nullptr);
    run["feature_error"] = err;
    if (job.mask.defined() && job.phi_x0.defined())
      run["feature_error_unmasked"] = relative_error(phi, job.phi_x0, nullptr);
    return err;
  }
  if (kind == DeepKind::caricature) {
    double dot = 0, sq = 0;
    for (int64_t i = 0; i < phi.numel(); ++i) {
      dot += double(phi.data()[i]) * job.phi0.data()[i];
      sq += double(job.phi0.data()[i]) * job.phi0.data()[i];
    }
    run["projection"] = dot / sq;  // <Phi(x*), Phi0> / ||Phi0||^2: 1 at the original
    const double change = relative_error(phi, job.phi_x0, nullptr);
    run["feature_change"] = change;
    return change;
  }
  const int64_t idx = std::max_element(job.phi0.data(), job.phi0.data() + job.phi0.numel()) - job.phi0.data();
  const double a = phi.data()[idx];
  run["activation"] = a;
  run["activation_over_M"] = a / job.M;
  return a / job.M;
}

}  // namespace

int run_deep(const LoadedModel& model, const DeepOptions& o, const DeepRun& run, const json& config) {
  const layers::Network& net = model.net;
  const Device device = parse_device(o.device);
  PI_CHECK(net.device() == device, "run_deep: the network is on ", device_name(net.device()), " but --device is ",
           o.device, "; move it with Network::to first");
  // Host job tensors -> the solver's device, once per job (the CPU path uses them in place).
  auto on_device = [device](const Tensor& t) {
    return device == Device::cpu || !t.defined() ? Tensor() : t.to(device);
  };
  FolderRun folder(o.out, "input", run.names, run.resume, config);
  write_json((fs::path(o.out) / "config.json").string(), config);
  folder.header = {{"random_weights", model.random_weights}};
  if (model.random_weights) folder.header["note"] = kRandomWeightsNote;
  Progress progress(50);
  const int total_iters = run.solver.iterations + run.final_stage.iterations;
  std::vector<int> snaps;
  for (int it = o.snapshot_every; o.snapshot_every > 0 && it <= total_iters; it += o.snapshot_every)
    snaps.push_back(it);
  const size_t n = run.names.size();
  for (size_t ji = 0; ji < n && !folder.stop_requested(); ++ji) {
    if (folder.reused(ji)) continue;
    const std::string& name = run.names[ji];
    std::string stem = stem_of(name);
    json m = {{"input", name}, {"stem", stem}};
    const auto t0 = std::chrono::steady_clock::now();
    try {
      DeepJob job = run.prepare(ji);
      stem = job.stem;
      m["stem"] = stem;
      m["size"] = {job.image_shape[2], job.image_shape[3]};
      m["feature_shape"] = job.phi0.shape().str();
      m["objective"] = objective_record(job.objective);
      for (auto& [k, v] : job.info.items()) m[k] = v;
      json runs = json::array();
      GalleryRow row;
      row.stem = stem;
      row.original = job.shown.clone();
      // The features of the input (inversion: the target, masked or not; caricature: the original's), as the
      // channel grid, beside it in the sheet. Actmax has no input image.
      const Tensor& shown_features = job.phi_x0.defined() ? job.phi_x0 : job.phi0;
      if (run.kind != DeepKind::actmax && shown_features.defined()) {
        row.features = channel_grid(shown_features.view(), job.image_shape[2]);
        write_png((fs::path(o.out) / (stem + "_features.png")).string(), row.features.view());
        m["features_png"] = stem + "_features.png";
      }
      const solvers::Representation phi = solvers::layer_representation(net, o.layer);
      const Tensor phi0_d = on_device(job.phi0), mask_d = on_device(job.mask), init_d = on_device(job.init);
      const View phi0v = phi0_d.defined() ? phi0_d.view() : job.phi0.view();
      const View maskv = mask_d.defined() ? mask_d.view() : job.mask.defined() ? job.mask.view() : View{};
      const View initv = init_d.defined() ? init_d.view() : job.init.defined() ? job.init.view() : View{};
      for (int r = 0; r < o.restarts; ++r) {
        solvers::SolverParams sp = run.solver;
        sp.seed = o.seed + static_cast<uint64_t>(r);
        solvers::PreimageProblem pb;
        pb.phi = phi;
        pb.phi0 = &phi0v;
        pb.mask = job.mask.defined() ? &maskv : nullptr;
        pb.init = job.init.defined() ? &initv : nullptr;
        pb.image_shape = job.image_shape;
        const std::string out_name = o.restarts > 1 ? stem + "_r" + std::to_string(r) : stem;
        const auto tr = std::chrono::steady_clock::now();
        solvers::PreimageResult res = solvers::invert_two_stage(
            pb, job.objective, sp, run.final_stage,
            [&](int it, const solvers::ObjectiveTerms& terms) {
              char line[256];
              std::snprintf(line, sizeof line, "[%zu/%zu] %s%s: iter %d/%d  E %.4f  loss %.4f  R_a %.4f  R_tv %.4f",
                            ji + 1, n, stem.c_str(), o.restarts > 1 ? (" r" + std::to_string(r)).c_str() : "", it,
                            total_iters, terms.total, terms.loss, terms.r_alpha, terms.r_tv);
              progress.update(line, it, total_iters);
            },
            snaps,
            [&](int it, const View& x) {
              Tensor shown = net.deprocess(x);
              write_png((fs::path(o.out) / "snapshots" / (out_name + "_it" + std::to_string(it) + ".png")).string(),
                        shown.view());
            });
        const Tensor phi_star = layer_features(net, o.layer, res.image.view());
        const Tensor image_host = device == Device::cpu ? Tensor() : res.image.to(Device::cpu);
        const View image_view = image_host.defined() ? image_host.view() : res.image.view();
        json rj = {{"restart", r}, {"seed", sp.seed}};
        const double score = score_of(job, run.kind, phi_star, rj);
        rj["final"] = terms_json(res.final_terms);
        rj["seconds"] = seconds_since(tr);
        Tensor recon = net.deprocess(image_view);
        rj.update(write_reconstruction(o.out, out_name, recon.view()));
        runs.push_back(rj);
        char line[200];
        std::snprintf(line, sizeof line, "[%zu/%zu] %s: %s %.1f %% (%.2f s)", ji + 1, n, out_name.c_str(),
                      run.kind == DeepKind::actmax ? "activation / M" :
                      run.kind == DeepKind::caricature ? "feature change" : "feature error",
                      100 * score, rj["seconds"].get<double>());
        progress.done(line);
        row.reconstructions.push_back(std::move(recon));
        row.errors.push_back(score);
      }
      m["runs"] = runs;
      for (const char* key : {"feature_error", "activation_over_M", "feature_change"})
        if (runs[0].contains(key)) m[key] = runs[0][key];
      m["sheet"] = stem + "_sheet.png";
      write_png((fs::path(o.out) / (stem + "_sheet.png")).string(), row.sheet().view());
    } catch (const WriteError&) {
      throw;  // the disk, not the input: the next ones would fail alike (docs/reliability.md)
    } catch (const Error& e) {
      m["error"] = e.what();
      std::fprintf(stderr, "[%zu/%zu] %s: error: %s\n", ji + 1, n, stem.c_str(), e.what());
    }
    m["seconds"] = seconds_since(t0);
    folder.record(ji, std::move(m));
  }
  const std::string index = (fs::path(o.out) / "index.html").string();
  write_gallery(index, run.title, gallery_rows(folder.entries()), config);
  if (model.random_weights) std::fprintf(stderr, "[RANDOM WEIGHTS] ");
  return folder.finish(index);
}

// The network file's class names ("preimage.class_names", a JSON array the converter stores when the source file
// has them), or "class <k>" when it has none.
std::vector<std::string> class_names(const LoadedModel& lm, int64_t classes) {
  std::vector<std::string> names;
  const nlohmann::json& md = lm.record["metadata"];
  if (md.contains("preimage.class_names")) {
    nlohmann::json parsed;
    try {
      parsed = json::parse(md["preimage.class_names"].get<std::string>());
    } catch (const nlohmann::json::exception& e) {
      fail(lm.path, ": metadata preimage.class_names is not a JSON array of strings (", e.what(), ")");
    }
    PI_CHECK(parsed.is_array() && static_cast<int64_t>(parsed.size()) == classes, lm.path,
             ": metadata preimage.class_names holds ", parsed.size(), " names for ", classes, " classes");
    for (const nlohmann::json& n : parsed) {
      PI_CHECK(n.is_string(), lm.path, ": metadata preimage.class_names must hold strings");
      names.push_back(n.get<std::string>());
    }
    return names;
  }
  for (int64_t k = 0; k < classes; ++k) names.push_back("class " + std::to_string(k));
  return names;
}


}  // namespace preimage::tools
