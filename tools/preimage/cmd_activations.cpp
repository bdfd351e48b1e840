// `preimage activations`: what a network computes on an image, layer by layer: each layer's activations
// (safetensors), a picture of its channels (tools/preimage/channel_grid.h), and for the classifier the top-k
// classes with their probabilities.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <sstream>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/image_io.h"
#include "tools/preimage/channel_grid.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/deep_run.h"
#include "tools/preimage/gallery.h"
#include "tools/preimage/run_common.h"
#include "weights/safetensors.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct ActivationsOptions {
  std::string model, layers, input, out = "activations", device = "cpu", preprocess = "square";
  int size = 0, threads = 0, top = 5;
};

std::vector<std::string> split_layers(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  PI_CHECK(!out.empty(), "--layer: give one or more layer names, comma-separated (e.g. conv5,fc8)");
  return out;
}

// Class probabilities of a classifier layer: prob as it is, the last fc layer (the logits) through a softmax;
// empty for other layers.
std::vector<double> probabilities(const layers::Network& net, const std::string& layer, const Tensor& f) {
  const layers::Layer& l = net.layers[net.layer_index(layer)];
  const bool last_fc = l.kind == layers::LayerKind::fc &&
                       std::none_of(net.layers.begin() + static_cast<long>(net.layer_index(layer)) + 1,
                                    net.layers.end(), [](const layers::Layer& x) { return x.kind == layers::LayerKind::fc; });
  if (l.kind != layers::LayerKind::softmax && !last_fc) return {};
  std::vector<double> p(f.data(), f.data() + f.numel());
  if (last_fc) {
    const double m = *std::max_element(p.begin(), p.end());
    double s = 0;
    for (double& v : p) s += (v = std::exp(v - m));
    for (double& v : p) v /= s;
  }
  return p;
}

int run_activations(const ActivationsOptions& o) {
  PI_CHECK(o.top >= 1, "--top must be at least 1, got ", o.top);
  apply_threads(o.threads);
  const Device device = select_device(o.device);
  LoadedModel lm = load_model(o.model);
  const std::vector<std::string> layer_names = split_layers(o.layers);
  for (const std::string& l : layer_names) lm.net.layer_index(l);  // unknown names fail here, listing the layers
  const std::vector<std::string> files = collect_images(o.input);
  prepare_output_dir(o.out);
  lm.net.to(device);
  const layers::Network& net = lm.net;

  json config = run_record("activations");
  config["model"] = lm.record;
  config["random_weights"] = lm.random_weights;
  config["layers"] = json::array();
  for (const std::string& l : layer_names) config["layers"].push_back(layer_record(net, l));
  config["device"] = device_record(device);
  config["size"] = o.size;
  config["preprocess"] = o.preprocess;
  config["top"] = o.top;
  write_json((fs::path(o.out) / "config.json").string(), config);

  json metrics = json::array();
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>activations</title><style>body{font-family:"
          "sans-serif;margin:2em}img{max-width:100%;image-rendering:pixelated}td,th{padding:4px 10px;vertical-align:"
          "top;text-align:left}</style></head><body>\n<h1>"
       << html_escape(net.name) << " activations</h1>\n<p>Each picture: the layer's channels as tiles, one display stretch for "
       << "all channels of the layer (1st-99th percentile to black-white).</p>\n<table>\n";
  int failures = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string stem = stem_of(files[i]);
    json m = {{"input", files[i]}, {"stem", stem}};
    try {
      const Tensor image = load_network_input(net, files[i], o.size, o.preprocess);
      for (const std::string& l : layer_names) layer_output_shape(net, l, image.shape());
      const Tensor x = net.preprocess(image.view());
      json per_layer = json::array();
      html << "<tr><th>" << html_escape(stem) << "</th><td>";
      for (const std::string& l : layer_names) {
        const Tensor f = layer_features(net, l, x.view());  // [1, C, h, w], host
        const std::string base = stem + "_" + l;
        write_safetensors((fs::path(o.out) / (base + ".safetensors")).string(), {{"activations", f.view()}},
                          {{"preimage.model", net.name}, {"preimage.layer", l}, {"preimage.image", files[i]}});
        write_png((fs::path(o.out) / (base + ".png")).string(), channel_grid(f.view()).view());
        json lj = {{"layer", l}, {"shape", f.shape().str()}, {"safetensors", base + ".safetensors"},
                   {"png", base + ".png"}};
        html << "<p><b>" << html_escape(l) << "</b> " << f.shape().str() << "<br><img src=\"" << html_escape(base)
             << ".png\"></p>";
        const std::vector<double> p = probabilities(net, l, f);
        if (!p.empty()) {
          const std::vector<std::string> names = class_names(lm, static_cast<int64_t>(p.size()));
          std::vector<size_t> order(p.size());
          std::iota(order.begin(), order.end(), 0);
          const size_t k = std::min<size_t>(static_cast<size_t>(o.top), p.size());
          std::partial_sort(order.begin(), order.begin() + static_cast<long>(k), order.end(),
                            [&](size_t a, size_t b) { return p[a] > p[b]; });
          json top = json::array();
          std::printf("%s %s top-%zu%s:\n", stem.c_str(), l.c_str(), k, lm.random_weights ? " [RANDOM WEIGHTS]" : "");
          html << "<ol>";
          for (size_t r = 0; r < k; ++r) {
            top.push_back({{"class", order[r]}, {"name", names[order[r]]}, {"probability", p[order[r]]}});
            std::printf("  %zu. %-40s %6.2f %%\n", r + 1, names[order[r]].c_str(), 100 * p[order[r]]);
            html << "<li>" << html_escape(names[order[r]]) << " (" << 100 * p[order[r]] << " %)</li>";
          }
          html << "</ol>";
          lj["top"] = top;
          if (l != "prob" && net.layers[net.layer_index(l)].kind == layers::LayerKind::fc)
            lj["probabilities_from"] = "softmax of " + l;
        }
        per_layer.push_back(lj);
      }
      html << "</td></tr>\n";
      m["layers"] = per_layer;
      std::fprintf(stderr, "[%zu/%zu] %s: %zu layers written\n", i + 1, files.size(), stem.c_str(),
                   layer_names.size());
    } catch (const Error& e) {
      ++failures;
      m["error"] = e.what();
      std::fprintf(stderr, "[%zu/%zu] %s: error: %s\n", i + 1, files.size(), stem.c_str(), e.what());
    }
    metrics.push_back(m);
  }
  html << "</table>\n</body></html>\n";
  write_json((fs::path(o.out) / "metrics.json").string(), {{"images", metrics}, {"failures", failures}});
  write_file_atomic((fs::path(o.out) / "index.html").string(), html.str());
  std::fprintf(stderr, "wrote %s/index.html (%zu images, %d failed)\n", o.out.c_str(), files.size(), failures);
  return failures ? 1 : 0;
}

}  // namespace

void register_activations(CLI::App& app) {
  auto o = std::make_shared<ActivationsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "activations",
      "A network's activations on images, layer by layer: writes <stem>_<layer>.safetensors, <stem>_<layer>.png (the "
      "channels as a grid), metrics.json with the top-k classes of a classifier layer (prob, or the last fc layer "
      "through a softmax), config.json and index.html under --out.");
  cmd->add_option("input", o->input, "an image file or a folder of images")->required();
  cmd->add_option("--model", o->model, "network file (.safetensors)")->required();
  cmd->add_option("--layer", o->layers, "layer name(s), comma-separated, e.g. conv5,fc8,prob")->required();
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  cmd->add_option("--top", o->top, "classes listed for a classifier layer")->capture_default_str();
  cmd->add_option("--size", o->size, "centre-crop to a square and resize to SIZE x SIZE (0: the network's input size)")
      ->capture_default_str()->check(CLI::Range(0, 4096));
  add_preprocess_option(cmd, &o->preprocess);
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o] { set_exit_code(run_activations(*o)); });
}

}  // namespace preimage::tools
