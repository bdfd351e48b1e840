// `preimage stats`: per-channel statistics of a layer over a folder of images; the maximum is the M of activation
// maximisation's Z (seed 001 sect. 6; the authors' get_neuron_stats.m takes the maximum over positions and images).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>

#include "engine/error.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/deep_run.h"
#include "tools/preimage/run_common.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct StatsOptions {
  std::string model, layer, input, out = "stats.json", device = "cpu", preprocess = "square";
  int size = 0, threads = 0;
};

int run_stats(const StatsOptions& o) {
  apply_threads(o.threads);
  const Device device = select_device(o.device);
  LoadedModel lm = load_model(o.model);
  const layers::Network& net = lm.net;
  net.layer_index(o.layer);
  lm.net.to(device);
  const std::vector<std::string> files = collect_images(o.input);
  const fs::path out_dir = fs::path(o.out).parent_path();
  if (!out_dir.empty()) prepare_output_dir(out_dir.string());

  const int64_t channels = net.channels(o.layer);
  std::vector<double> max(static_cast<size_t>(channels), -std::numeric_limits<double>::infinity());
  std::vector<double> sum(static_cast<size_t>(channels), 0.0);
  int64_t positions = 0;
  Shape feature_shape;
  Progress progress(1);
  for (size_t i = 0; i < files.size(); ++i) {
    // Any unreadable image stops the command: statistics over part of the folder would be silently different.
    Tensor image = load_network_input(net, files[i], o.size, o.preprocess);
    layer_output_shape(net, o.layer, image.shape());
    Tensor x = net.preprocess(image.view());
    const Tensor f = layer_features(net, o.layer, x.view());  // [1, C, h, w], host (computed on the device)
    feature_shape = f.shape();
    const int64_t hw = f.shape()[2] * f.shape()[3];
    for (int64_t k = 0; k < channels; ++k) {
      const float* p = f.data() + k * hw;
      for (int64_t j = 0; j < hw; ++j) {
        max[static_cast<size_t>(k)] = std::max(max[static_cast<size_t>(k)], double(p[j]));
        sum[static_cast<size_t>(k)] += p[j];
      }
    }
    positions += hw;
    progress.update("[" + std::to_string(i + 1) + "/" + std::to_string(files.size()) + "] " + stem_of(files[i]),
                    static_cast<int>(i + 1), static_cast<int>(files.size()));
  }
  std::vector<double> mean(sum.size());
  for (size_t k = 0; k < sum.size(); ++k) mean[k] = sum[k] / static_cast<double>(positions);
  json j = run_record("stats");
  j["model"] = lm.record;
  j["random_weights"] = lm.random_weights;
  j["layer"] = layer_record(net, o.layer);
  j["device"] = device_record(device);
  j["input"] = o.input;
  j["files"] = files;
  j["preprocess"] = o.preprocess;
  j["image_size"] = o.size > 0 ? json({o.size, o.size}) : json({net.preprocessing.input_h, net.preprocessing.input_w});
  j["feature_shape"] = feature_shape.str();
  j["channels"] = channels;
  j["max"] = max;    // per channel, over positions and images: M of Z = M rho^2 / 10^4 (actmax)
  j["mean"] = mean;  // per channel, over positions and images
  write_json(o.out, j);
  std::fprintf(stderr, "wrote %s: %s %s, %lld channels over %zu images%s\n", o.out.c_str(), net.name.c_str(),
               o.layer.c_str(), static_cast<long long>(channels), files.size(),
               lm.random_weights ? " [RANDOM WEIGHTS]" : "");
  return 0;
}

}  // namespace

void register_stats(CLI::App& app) {
  auto o = std::make_shared<StatsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "stats",
      "Per-channel maximum (and mean) of a layer over a folder of images, written atomically as JSON: the M that "
      "`preimage actmax --stats` normalises a unit by (IJCV 2016 sect. 6).");
  cmd->add_option("input", o->input, "an image file or a folder of images")->required();
  cmd->add_option("--model", o->model, "network file (.safetensors)")->required();
  cmd->add_option("--layer", o->layer, "layer name")->required();
  cmd->add_option("--out", o->out, "output JSON file")->capture_default_str();
  cmd->add_option("--size", o->size, "centre-crop to a square and resize to SIZE x SIZE (0: the network's input size)")
      ->capture_default_str()->check(CLI::Range(0, 4096));
  add_preprocess_option(cmd, &o->preprocess);
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o] { set_exit_code(run_stats(*o)); });
}

}  // namespace preimage::tools
