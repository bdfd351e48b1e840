// `preimage train-decoder`: learns an up-convolutional decoder (seed 002 sect. 3; docs/decoders.md) from a folder
// of photos: the loop over batches (solvers/decoder_data.h), train steps and checkpoints (solvers/decoder_trainer.h).
// Writes under --out: checkpoint.safetensors (the full trainer state), decoder.safetensors (what `decode` reads),
// config.json, metrics.jsonl, loss.png, val/step_<N>.png and index.html. --resume DIR continues a run in DIR bit
// for bit (same options required; differences are listed and refused).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "layers/decoders.h"
#include "solvers/decoder_trainer.h"
#include "solvers/lr_schedule.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/decoder_cnn.h"
#include "tools/preimage/plot.h"
#include "tools/preimage/run_common.h"
#include "weights/decoder_file.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct TrainOptions {
  std::string rep = "hog", data, val, out, resume, device = "cpu";
  features::RepresentationOptions rep_options;
  double val_fraction = 0.1, width = 0.25;
  int image_size = 0, batch = 64, checkpoint_every = 250, threads = 0, data_workers = 1, queue = 4;
  int64_t steps = 2000;
  int64_t feature_cache = 0, feature_cache_mb = 4096;  // 0: every sample is a fresh window
  bool finetune_encoder = false;
  float lr = 1e-3f;
  uint64_t seed = 0;
  std::string model, layer;
};

// The options a resumed run must share with its checkpoint: everything that changes the numbers.
json run_config(const TrainOptions& o, const std::string& table, const std::vector<std::string>& train,
                const std::vector<std::string>& val, const json& model) {
  json c = {{"representation", o.rep},
          {"model", model},
          {"rep_options", weights::rep_options_json(o.rep_options)},
          {"decoder", table},
          {"width", o.width},
          {"image_size", o.image_size},
          {"batch", o.batch},
          {"steps", o.steps},
          {"lr", o.lr},
          {"seed", o.seed},
          {"checkpoint_every", o.checkpoint_every},
          {"device", o.device},
          {"train_files", train},
          {"val_files", val}};
  // Only when used, so that the checkpoints of runs without it still resume.
  if (o.feature_cache > 0) c["feature_cache"] = o.feature_cache;
  if (o.finetune_encoder) c["finetune_encoder"] = true;
  return c;
}

std::string human_seconds(double s) {
  char b[64];
  if (s >= 3600) std::snprintf(b, sizeof b, "%dh%02dm", int(s / 3600), int(std::fmod(s, 3600) / 60));
  else if (s >= 60) std::snprintf(b, sizeof b, "%dm%02ds", int(s / 60), int(std::fmod(s, 60)));
  else std::snprintf(b, sizeof b, "%.0fs", s);
  return b;
}

// metrics.jsonl of a resumed run: only the lines up to the checkpoint's step survive, so the file reads as if the
// run had never stopped.
void truncate_metrics(const std::string& path, int64_t step) {
  std::ifstream in(path);
  std::ostringstream kept;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (json::parse(line).at("step").get<int64_t>() <= step) kept << line << "\n";
    } catch (const std::exception&) {
      // a line cut by the kill: dropped
    }
  }
  write_file_atomic(path, kept.str());
}

void write_index(const std::string& out, const json& config, const std::vector<json>& checkpoints) {
  std::ostringstream h;
  h << "<!doctype html><html><head><meta charset=\"utf-8\"><title>preimage train-decoder</title></head><body>\n"
    << "<h1>train-decoder: " << config.value("decoder", "") << " decoder of " << config.value("representation", "")
    << "</h1>\n<p><img src=\"loss.png\" alt=\"training loss\"></p>\n<table border=\"1\" cellpadding=\"4\">"
    << "<tr><th>step</th><th>validation normalised error</th><th>validation photos: original | reconstruction</th>"
    << "</tr>\n";
  for (const json& c : checkpoints)
    h << "<tr><td>" << c.at("step") << "</td><td>" << c.at("val_normalised_error") << "</td><td><img src=\""
      << c.at("sheet").get<std::string>() << "\"></td></tr>\n";
  h << "</table>\n<h2>config</h2><pre>" << config.dump(2) << "</pre></body></html>\n";
  write_file_atomic((fs::path(out) / "index.html").string(), h.str());
}

int run_train(TrainOptions o) {
  apply_threads(o.threads);
  PI_CHECK(o.layer.empty() || !o.model.empty(), "--layer needs --model NET (a network file)");
  const Device device = select_device(o.device);
  const bool resuming = !o.resume.empty();
  if (resuming) {
    PI_CHECK(o.out.empty() || fs::path(o.out) == fs::path(o.resume), "--resume DIR continues the run in DIR; "
             "--out ", o.out, " differs (leave --out out)");
    o.out = o.resume;
  }
  PI_CHECK(!o.out.empty(), "give --out DIR (a new folder for the run) or --resume DIR");
  PI_CHECK(!o.data.empty(), "give --data DIR, a folder of training photos (searched recursively)");
  PI_CHECK(o.steps >= 1 && o.batch >= 1 && o.checkpoint_every >= 1, "--steps, --batch and --checkpoint-every "
           "must be positive");
  PI_CHECK(std::isfinite(o.lr) && o.lr > 0, "--lr must be a positive finite number, got ", o.lr);
  const std::string ckpt_path = (fs::path(o.out) / "checkpoint.safetensors").string();
  std::error_code ec;
  if (resuming) PI_CHECK(fs::exists(ckpt_path, ec), "--resume ", o.resume, ": no checkpoint.safetensors there");
  else PI_CHECK(!fs::exists(ckpt_path, ec), "--out ", o.out, " already holds a training run (checkpoint."
                "safetensors); continue it with --resume ", o.out, " or choose another --out");

  // The features: a shallow representation of the gray window, or a network layer of the colour window.
  std::unique_ptr<CnnDecoderInput> cnn;
  if (!o.model.empty()) {
    cnn = std::make_unique<CnnDecoderInput>(make_cnn_decoder_input(o.model, o.layer, o.image_size));
    o.rep = "cnn";
    o.image_size = cnn->input_size;
  } else if (o.image_size == 0) {
    o.image_size = 64;
  }
  PI_CHECK(!o.finetune_encoder || cnn, "--finetune-encoder trains the network's layers with the decoder: it needs "
           "--model NET --layer L");
  // Autoencoder training: the batches carry the network input (window - mean); the encoder runs in the step.
  features::Representation rep;
  if (o.finetune_encoder) {
    const std::shared_ptr<const LoadedModel> m = cnn->model;
    rep.name = "cnn-input";
    rep.gray_input = false;
    rep.extract = [m](const View& rgb) { return m->net.preprocess(rgb); };
  } else {
    rep = cnn ? cnn->representation() : features::make_representation(o.rep, o.rep_options);
  }
  const std::string table = cnn ? cnn->table : layers::decoder_table_for_representation(o.rep);
  const json model_record = cnn ? cnn->record() : json(nullptr);
  std::vector<std::string> train_files, val_files;
  const std::vector<std::string> all = solvers::list_images_recursive(o.data);
  if (!o.val.empty()) {
    train_files = all;
    val_files = solvers::list_images_recursive(o.val);
  } else {
    solvers::split_by_file(all, o.val_fraction, &train_files, &val_files);
  }
  const json cfg = run_config(o, table, train_files, val_files, model_record);
  solvers::TrainerState state;
  if (resuming) {
    json ck_cfg;
    state = solvers::load_checkpoint(ckpt_path, &ck_cfg);
    const std::vector<std::string> diffs = solvers::config_differences(ck_cfg, cfg);
    if (!diffs.empty()) {
      std::string msg = "--resume " + o.resume + ": the options differ from the checkpoint's, refusing to mix runs:";
      for (const std::string& d : diffs) msg += "\n  " + (d.size() > 300 ? d.substr(0, 300) + "..." : d);
      fail(msg);
    }
    PI_CHECK(state.step < o.steps, "--resume ", o.resume, ": the run is complete (step ", state.step, " of ",
             o.steps, ")");
  }

  // The photos, decoded on the worker threads (the data pipeline's first stage).
  const int max_side = 3 * o.image_size;  // windows of 1/3 to all of a photo's short side (decoder_data.h)
  const solvers::PhotoSet train = solvers::load_photos(train_files, o.image_size, max_side, o.data_workers, "--data");
  const solvers::PhotoSet val = solvers::load_photos(val_files, o.image_size, max_side, o.data_workers,
                                                     o.val.empty() ? "validation files" : "--val");
  for (const auto* set : {&train, &val})
    for (const std::string& s : set->skipped) std::fprintf(stderr, "train-decoder: skipped %s\n", s.c_str());
  // A shallow decoder reconstructs the window itself (S x S); a network decoder a down-sampled window, of its
  // table's output side.
  Shape feat_shape;
  if (cnn) {
    feat_shape = Shape{1, cnn->feature_shape[0], cnn->feature_shape[1], cnn->feature_shape[2]};
  } else {
    Tensor probe = Tensor::zeros(Shape{1, 3, o.image_size, o.image_size});
    feat_shape = solvers::window_features(rep, probe.view()).shape();
  }
  if (!resuming) {
    state.decoder = layers::Decoder(layers::decoder_table(table, feat_shape[1]), o.width,
                                    Shape{feat_shape[1], feat_shape[2], feat_shape[3]});
    const Shape out_shape = state.decoder.output_shape(1);
    PI_CHECK(cnn || (out_shape[2] == o.image_size && out_shape[3] == o.image_size), "decoder ", table, " turns ",
             feat_shape.str(), " features into ", out_shape[2], "x", out_shape[3], " images, not ", o.image_size,
             "x", o.image_size, "; choose --image-size a multiple of 64");
    state.decoder.init_he(o.seed);
    state.adam = solvers::adam_state_for(state.decoder.parameters());
    if (o.finetune_encoder) state.encoder = solvers::make_encoder(cnn->model->net, cnn->output_layer);
  } else if (o.finetune_encoder) {
    // The checkpoint's encoder, attached to the network's structure (the names and shapes must be its own).
    const solvers::Encoder fresh = solvers::make_encoder(cnn->model->net, cnn->output_layer);
    PI_CHECK(state.encoder.names == fresh.names, "--resume ", o.resume, ": the checkpoint's encoder tensors do not "
             "match the layers of ", o.model, " up to ", cnn->output_layer);
    for (size_t i = 0; i < fresh.params.size(); ++i)
      PI_CHECK(state.encoder.params[i].shape() == fresh.params[i].shape(), "--resume ", o.resume, ": encoder tensor ",
               fresh.names[i], " is ", state.encoder.params[i].shape().str(), ", the network's ",
               fresh.params[i].shape().str());
    state.encoder.net = fresh.net;
    state.encoder.output_layer = fresh.output_layer;
  }
  const int target_size = static_cast<int>(state.decoder.output_shape(1)[2]);
  const solvers::Batch val_batch = solvers::make_validation_batch(val, rep, o.image_size, target_size);
  if (!resuming && cnn) {
    // Unit-scale inputs for the He-initialised decoder: features x 1 / RMS of the validation windows' features
    // (a random AlexNet's block outputs are in the hundreds; unscaled, the first steps blow the weights up).
    const Tensor f = state.encoder.defined()
                         ? solvers::encode(state.encoder, val_batch.features.view(), Device::cpu)
                         : Tensor::copy_of(val_batch.features.view());
    double ss = 0;
    for (int64_t i = 0; i < f.numel(); ++i) ss += double(f.data()[i]) * f.data()[i];
    const double rms = std::sqrt(ss / double(std::max<int64_t>(1, f.numel())));
    PI_CHECK(rms > 0 && std::isfinite(rms), "the ", o.layer, " features of the validation windows are all zero (or "
             "not finite): nothing to learn from");
    state.decoder.set_input_scale(static_cast<float>(1.0 / rms));
  }
  const Shape fs_ = cnn ? Shape{1, cnn->feature_shape[0], cnn->feature_shape[1], cnn->feature_shape[2]}
                        : val_batch.features.shape();
  state.decoder.to(device);
  for (Tensor& t : state.adam.m) t = t.to(device);
  for (Tensor& t : state.adam.v) t = t.to(device);
  for (std::vector<Tensor>* ts : {&state.encoder.params, &state.encoder.adam.m, &state.encoder.adam.v})
    for (Tensor& t : *ts) t = t.to(device);
  // The encoder-activation cache, before any output exists (a refused pool leaves nothing behind).
  std::unique_ptr<solvers::WindowPool> pool;
  if (o.feature_cache > 0) {
    Progress pool_progress(256);
    const auto tp = std::chrono::steady_clock::now();
    pool = std::make_unique<solvers::WindowPool>(
        train, rep, o.image_size, o.seed, o.feature_cache, target_size, o.data_workers, o.feature_cache_mb << 20,
        [&](int64_t done, int64_t total) {
          pool_progress.update("feature cache: window " + std::to_string(done) + "/" + std::to_string(total),
                               static_cast<int>(done), static_cast<int>(total));
        });
    char line[160];
    std::snprintf(line, sizeof line, "feature cache: %lld windows, %lld MiB, %s", static_cast<long long>(pool->size()),
                  static_cast<long long>(pool->bytes() >> 20), human_seconds(seconds_since(tp)).c_str());
    pool_progress.done(line);
  }

  prepare_output_dir(o.out);
  prepare_output_dir((fs::path(o.out) / "val").string());
  json record = run_record("train-decoder");
  record["config"] = cfg;
  record["resumed_at_step"] = resuming ? json(state.step) : json(nullptr);
  record["device"] = device_record(device);
  record["parameters"] = state.decoder.parameter_count();
  record["input_scale"] = {{"value", state.decoder.input_scale()},
                           {"definition", cnn ? "1 / RMS of the validation windows' features (network decoders)"
                                              : "1 (shallow decoders take their features as they are)"}};
  if (o.finetune_encoder) {
    int64_t n = 0;
    for (const Tensor& t : state.encoder.params) n += t.numel();
    record["finetune_encoder"] = {
        {"encoder_parameters", n}, {"layers", "first layer to " + cnn->output_layer},
        {"definition", "autoencoder training (seed 002 sect. 4.2): the encoder's weights, initialised from the "
                       "network file, are trained with the decoder's by the same Adam and rate; decoder.safetensors "
                       "holds both"}};
  }
  record["feature_shape"] = {fs_[1], fs_[2], fs_[3]};
  record["skipped_images"] = train.skipped.size() + val.skipped.size();
  record["target_scaling"] = "y = (RGB - 128) / 64; loss = mean of (y - target)^2";
  record["target_size"] = target_size;
  if (cnn) {
    record["model"] = cnn->model->record;
    record["model"]["layer"] = cnn->layer;
    record["model"]["output_layer"] = cnn->output_layer;
    if (cnn->model->random_weights) record["note"] = kRandomWeightsNote;
  }
  record["lr_schedule"] = "constant for 70 % of the steps, then halved at 70, 80 and 90 %";
  record["adam"] = {{"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}};
  record["init"] = "He for leaky ReLU 0.2, Philox(seed)";
  record["data"] = {{"train_photos", train.photos.size()}, {"val_photos", val.photos.size()},
                    {"window", "side uniform in [S, short side], shrunk to S; mirrored w.p. 1/2"},
                    {"photo_short_side_max", max_side}, {"workers", o.data_workers}, {"queue_batches", o.queue}};
  if (o.feature_cache > 0)
    record["data"]["feature_cache"] = {
        {"windows", o.feature_cache},
        {"definition", "a fixed pool of windows (draws 0 .. N-1) whose features and targets are computed once; "
                       "sample k takes pool window floor(u N), u = Philox draw 8k + 5 (solvers/decoder_data.h)"}};
  write_json((fs::path(o.out) / "config.json").string(), record);

  const std::string metrics_path = (fs::path(o.out) / "metrics.jsonl").string();
  std::vector<json> checkpoints;
  std::vector<std::pair<double, double>> loss_curve, val_curve;
  if (resuming) {
    truncate_metrics(metrics_path, state.step);
    std::ifstream in(metrics_path);
    for (std::string line; std::getline(in, line);) {
      const json j = json::parse(line);
      if (j.contains("loss")) loss_curve.emplace_back(j["step"].get<double>(), j["loss"].get<double>());
      if (j.contains("val_normalised_error")) {
        // null when the validation set has a single image (no pairwise distance)
        const json& v = j["val_normalised_error"];
        val_curve.emplace_back(j["step"].get<double>(), v.is_number() ? v.get<double>() : std::nan(""));
        checkpoints.push_back(j);
      }
    }
  } else {
    write_file_atomic(metrics_path, std::string());
  }
  std::ofstream metrics(metrics_path, std::ios::app);

  // Testing hook only (tests/cli): slows each step so a test can kill -9 the run between checkpoints.
  const char* delay_env = std::getenv("PREIMAGE_TEST_STEP_DELAY_MS");
  const int delay_ms = delay_env ? std::atoi(delay_env) : 0;

  const kernels::AdamParams hp;  // beta1 0.9, beta2 0.999, eps 1e-8
  solvers::BatchStream stream(train, rep, o.image_size, o.batch, o.seed, state.step, o.data_workers, o.queue,
                              target_size, pool.get());
  Progress progress(25);
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t first_step = state.step;
  std::fprintf(stderr, "train-decoder: %s decoder (%lld parameters) on %zu photos, %zu held out; %s step %lld/%lld\n",
               table.c_str(), static_cast<long long>(state.decoder.parameter_count()), train.photos.size(),
               val.photos.size(), resuming ? "resuming after" : "from", static_cast<long long>(state.step),
               static_cast<long long>(o.steps));
  while (state.step < o.steps) {
    const solvers::Batch batch = stream.next();
    const float lr = solvers::decoder_learning_rate(o.lr, state.step + 1, o.steps);
    solvers::StepResult r;
    try {
      r = solvers::train_step(state, batch, hp, lr, device);
    } catch (const Error& e) {
      metrics.flush();
      std::fprintf(stderr, "\ntrain-decoder: %s\ntrain-decoder: the last good checkpoint (step %s) is kept in %s\n",
                   e.what(), checkpoints.empty() ? "none written yet" : checkpoints.back()["step"].dump().c_str(),
                   ckpt_path.c_str());
      return 1;
    }
    const double secs = seconds_since(t0);
    metrics << json{{"step", state.step}, {"loss", r.loss}, {"grad_norm", r.grad_norm}, {"lr", lr}}.dump() << "\n";
    metrics.flush();
    loss_curve.emplace_back(double(state.step), r.loss);
    const double per_step = secs / double(state.step - first_step);
    char line[256];
    std::snprintf(line, sizeof line, "step %lld/%lld  loss %.5f  lr %.2g  %.1f images/s  ETA %s",
                  static_cast<long long>(state.step), static_cast<long long>(o.steps), r.loss, lr,
                  o.batch / per_step, human_seconds(per_step * double(o.steps - state.step)).c_str());
    progress.update(line, static_cast<int>(state.step), static_cast<int>(o.steps));

    if (state.step % o.checkpoint_every == 0 || state.step == o.steps) {
      const Tensor val_features =
          state.encoder.defined() ? solvers::encode(state.encoder, val_batch.features.view(), device) : Tensor();
      Tensor recon = solvers::decode_batch(
          state.decoder, state.encoder.defined() ? val_features.view() : val_batch.features.view(), device);
      const solvers::ReconstructionErrors e = solvers::reconstruction_errors(val_batch.images.view(), recon.view());
      std::vector<View> pairs;
      for (int64_t i = 0; i < std::min<int64_t>(6, val_batch.images.shape()[0]); ++i) {
        pairs.push_back(val_batch.images.view().batch(i));
        pairs.push_back(recon.view().batch(i));
      }
      const std::string sheet = "val/step_" + std::to_string(state.step) + ".png";
      write_png((fs::path(o.out) / sheet).string(), contact_sheet(pairs, target_size).view());
      val_curve.emplace_back(double(state.step), e.normalised);
      const json c = {{"step", state.step},           {"val_mean_error", e.mean},
                      {"val_normalised_error", e.normalised}, {"lr", lr},
                      {"seconds", secs},                {"sheet", sheet}};
      checkpoints.push_back(c);
      // Decoder and checkpoint first (each atomic), then the record of them: a kill between the two leaves a
      // checkpoint newer than metrics.jsonl's last line, which --resume handles (it replays from the checkpoint).
      weights::DecoderFile df;
      df.decoder = layers::Decoder(state.decoder.table(), state.decoder.width(), state.decoder.input_shape());
      df.decoder.set_input_scale(state.decoder.input_scale());
      for (size_t i = 0; i < df.decoder.parameters().size(); ++i)
        df.decoder.parameters()[i] = state.decoder.parameters()[i].to(Device::cpu);
      df.representation = o.rep;
      df.rep_options = o.rep_options;
      df.image_size = target_size;
      df.model = model_record;
      for (size_t i = 0; i < state.encoder.names.size(); ++i)
        df.encoder[state.encoder.names[i]] = state.encoder.params[i].to(Device::cpu);
      df.target_mean = solvers::kTargetMean;
      df.target_scale = solvers::kTargetScale;
      df.training = {{"step", state.step}, {"steps", o.steps}, {"seed", o.seed}, {"git", PREIMAGE_GIT_HASH},
                     {"train_photos", train.photos.size()}, {"val_normalised_error", e.normalised}};
      weights::save_decoder((fs::path(o.out) / "decoder.safetensors").string(), df);
      solvers::save_checkpoint(ckpt_path, state, cfg);
      metrics << c.dump() << "\n";
      metrics.flush();
      write_png((fs::path(o.out) / "loss.png").string(), plot_curves(loss_curve, val_curve).view());
      write_index(o.out, cfg, checkpoints);
      char cl[200];
      std::snprintf(cl, sizeof cl, "checkpoint at step %lld: validation normalised error %.4f",
                    static_cast<long long>(state.step), e.normalised);
      progress.done(cl);
    }
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  }
  std::fprintf(stderr, "train-decoder: done, %s; decoder in %s/decoder.safetensors\n",
               human_seconds(seconds_since(t0)).c_str(), o.out.c_str());
  return 0;
}

}  // namespace

void register_train_decoder(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "train-decoder",
      "Train an up-convolutional decoder (Dosovitskiy & Brox 2016) that reconstructs colour images from the "
      "features of their gray version: Adam, the networks of the papers' tables scaled by --width, random windows "
      "of the photos under --data. Checkpoints every --checkpoint-every steps; --resume DIR continues exactly.");
  // A repeated option takes its last value (scripts append overrides to a base command line).
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("--rep", o->rep, "representation: hog, hogb, lbp, sift-grid, dsift")->capture_default_str();
  cmd->add_option("--model", o->model, "network file (AlexNet/CaffeNet .safetensors): decode one of its layers "
                  "instead of --rep; features of the colour window at the network's input size");
  cmd->add_option("--layer", o->layer, "with --model: conv1 ... conv5, fc6, fc7, fc8 (the block's output: after its "
                  "ReLU, normalisation and pooling)");
  cmd->add_option("--data", o->data, "folder of training photos (recursive)");
  cmd->add_option("--val", o->val, "folder of validation photos (default: every round(1/f)-th file of --data)");
  cmd->add_option("--val-fraction", o->val_fraction, "fraction of --data files held out when --val is absent")
      ->capture_default_str();
  cmd->add_option("--image-size", o->image_size, "S: windows are S x S (--rep: a multiple of 64, default 64; "
                  "--model: the network's input, default its nominal size)")
      ->check(CLI::Range(32, 1024));
  cmd->add_option("--width", o->width, "channel scale of the table (1 = the paper)")->capture_default_str();
  cmd->add_option("--batch", o->batch, "batch size")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--steps", o->steps, "training steps (the schedule spans them)")->capture_default_str();
  cmd->add_option("--lr", o->lr, "Adam learning rate before the decay")->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the initial weights and of the data")->capture_default_str();
  cmd->add_option("--checkpoint-every", o->checkpoint_every, "steps between checkpoints")->capture_default_str();
  cmd->add_option("--out", o->out, "new output folder of the run");
  cmd->add_option("--resume", o->resume, "continue the run in this folder (same options)");
  cmd->add_option("--data-workers", o->data_workers, "threads preparing batches")
      ->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--queue", o->queue, "batches prepared ahead at most")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--feature-cache", o->feature_cache,
                  "train on a fixed pool of N windows whose features are computed once and kept in memory (cheap "
                  "training on a fixed network; 0: a fresh window per sample)")
      ->capture_default_str()->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  cmd->add_option("--feature-cache-mb", o->feature_cache_mb, "memory limit of --feature-cache, MiB")
      ->capture_default_str()->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  cmd->add_flag("--finetune-encoder", o->finetune_encoder,
                "with --model: autoencoder training (seed 002 sect. 4.2): the network's layers up to --layer are "
                "trained with the decoder; decoder.safetensors then holds both, and decode uses its encoder");
  cmd->add_option("--cell-size", o->rep_options.cell_size, "HOG cell size")->capture_default_str();
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o] { set_exit_code(run_train(*o)); });
}

}  // namespace preimage::tools
