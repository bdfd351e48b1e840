// Benchmark (not a test): milliseconds per CNN inversion iteration on the CPU, ours against PyTorch (Debian's
// torch with oneDNN) timed in turn in the same run. One iteration is one step of `preimage invert` without the
// regularisers: forward to the layer, the loss l = ||phi(x) - phi0||^2 / ||phi0||^2 (seed 001 eq. 3), backward to
// the image; the weights take no gradient. Networks: layers/models.h with random weights (init_random), batch 1,
// the nominal input size (227 for AlexNet, 224 for VGG-M and VGG-VD-16).
//
// The PyTorch side is tools/bench/bench_cnn_torch.py, started as a child process and driven over a pipe: it builds
// the same network from Network::spec_json() with the weights, input and targets written here, so both run the
// same numbers. Before timing, each case checks that both give the same loss and the same input gradient. Then,
// after warm-up, ours and PyTorch run one iteration each in turn (A B A B ...), so that a change of the machine's
// load affects both alike; the ratio is taken per pair (torch / ours: > 1 means ours is faster). Wall time is the
// figure; process CPU time (all threads) is recorded beside it, as a cross-check when other processes share the
// cores (at 1 thread it is close to the work done).
//
//   build-*/bench_cnn [--cases alexnet:conv5,alexnet:fc8,vgg-m:fc8,vgg-vd-16:conv5_3,vgg-vd-16:fc8]
//                     [--threads 1,2] [--runs 11] [--warmup 2] [--json FILE] [--cpu-path fast|reference]
//                     [--torch 1|0] [--profile 0|1] [--seed 1]
// --profile 1 adds our cost per layer (forward, and backward of that layer alone, in process CPU time), for finding
// what to speed up.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "engine/threads.h"
#include "kernels/dispatch.h"
#include "layers/models.h"
#include "tools/bench/bench_common.h"
#include "weights/safetensors.h"

using namespace preimage;
using nlohmann::json;
using preimage::bench::cpu_ms;
using preimage::bench::TorchPeer;

namespace {

const char* kUsage =
    "bench_cnn: ms per CNN inversion iteration (forward + L2 loss + backward to the image), ours vs PyTorch.\n"
    "  --cases LIST     model:layer,... (default alexnet:conv5,alexnet:fc8,vgg-m:fc8,vgg-vd-16:conv5_3,"
    "vgg-vd-16:fc8)\n"
    "  --threads LIST   thread counts (default 1,2)\n"
    "  --runs N         timed iterations per case and side (default 11)\n"
    "  --warmup N       untimed iterations per case and side first (default 2)\n"
    "  --json FILE      also write the results as JSON\n"
    "  --cpu-path P     fast (default) or reference kernels for ours\n"
    "  --torch 1|0      time PyTorch too (default 1)\n"
    "  --profile 0|1    also time our layers one by one (default 0)\n"
    "  --seed S         weights and images (default 1)\n"
    "  --python PATH    interpreter with torch (default /usr/bin/python3)\n"
    "  --torch-script PATH   default: bench_cnn_torch.py beside this source file\n";

// Loss and gradient agreement demanded before timing. Float32 through up to 16 layers in another summation order
// (oneDNN's blocked kernels vs our GEMMs) moves the loss by ~1e-6 relative; a wrong layer moves it by O(1). The
// input gradient is looser: where two inputs of a max-pooling window are within rounding of each other the two
// implementations may pick different winners, and each such flip routes one unit's gradient elsewhere (measured:
// 2e-6 up to VGG-M's conv2, 5e-4 after pool2, ~1e-2 at pool5); a wrong backward gives O(1).
constexpr double kLossRtol = 1e-4;
constexpr double kGradRtol = 5e-2;  // ||g - g_torch|| / ||g_torch||

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

// A random image in the network's input domain (image - mean: roughly uniform on +-128).
Tensor random_image(const layers::Network& net, uint64_t seed, uint64_t stream) {
  Tensor x = Tensor::empty(Shape{1, 3, net.preprocessing.input_h, net.preprocessing.input_w});
  philox_fill_uniform(x.data(), x.numel(), seed, 0, stream);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = 256.0f * x.data()[i] - 128.0f;
  return x;
}

// One inversion iteration of ours; returns the loss and leaves the input gradient in *grad when given.
float iteration(const layers::Network& net, const std::string& layer, const Tensor& input, const Tensor& target,
                Tensor* grad) {
  Tape t;
  const Var x = t.leaf(input.view(), true);
  const Var y = net.forward(t, x, layer);
  const Var phi0 = t.leaf(target.view(), false);
  const Var loss = ops::normalised_l2(t, y, phi0, Var{});
  t.backward(loss);
  if (grad) *grad = Tensor::copy_of(t.grad(x));
  return t.item(loss);
}

// Our cost per layer: each layer alone on a tape (input leaf requiring a gradient, the sum of its output as the
// loss), forward and backward measured separately in process CPU time; medians of `runs`.
json profile_layers(const layers::Network& net, const std::string& last, const Tensor& input, int runs) {
  json rows = json::array();
  Tensor x = input.clone();
  for (size_t i = 0; i <= net.layer_index(last); ++i) {
    const std::string& name = net.layers[i].name;
    std::vector<double> fwd, bwd;
    Tensor out;
    for (int r = 0; r < runs + 1; ++r) {
      Tape t;
      const Var xv = t.leaf(x.view(), true);
      Var y;
      const double f = cpu_ms([&] { y = net.forward_range(t, xv, name, name).back(); });
      const Var s = ops::sum(t, y);
      const double b = cpu_ms([&] { t.backward(s); });
      if (r > 0) fwd.push_back(f), bwd.push_back(b);  // the first run is a warm-up
      if (r == runs) out = Tensor::copy_of(t.value(y));
    }
    const bench::Stats f = bench::stats_of(fwd), b = bench::stats_of(bwd);
    std::printf("    %-8s %-16s cpu ms: fwd %8.2f  bwd %8.2f\n", name.c_str(), out.shape().str().c_str(), f.median,
                b.median);
    rows.push_back({{"layer", name}, {"forward_cpu_ms", f.median}, {"backward_cpu_ms", b.median}});
    x = std::move(out);
  }
  return rows;
}

struct Case {
  std::string model, layer;
};

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args(argc, argv,
                         {"--cases", "--threads", "--runs", "--warmup", "--json", "--cpu-path", "--torch", "--profile",
                          "--seed", "--python", "--torch-script"},
                         kUsage);
  const int runs = args.get_int("--runs", 11), warmup = args.get_int("--warmup", 2);
  const bool with_torch = args.get_int("--torch", 1) != 0, profile = args.get_int("--profile", 0) != 0;
  const uint64_t seed = static_cast<uint64_t>(args.get_int("--seed", 1));
  const std::string python = args.get("--python", "/usr/bin/python3");
  const std::string script =
      args.get("--torch-script", (std::filesystem::path(__FILE__).parent_path() / "bench_cnn_torch.py").string());
  std::vector<Case> cases;
  for (const std::string& c :
       split(args.get("--cases", "alexnet:conv5,alexnet:fc8,vgg-m:fc8,vgg-vd-16:conv5_3,vgg-vd-16:fc8"), ',')) {
    const auto colon = c.find(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "bench_cnn: a case is model:layer, got '%s'\n", c.c_str());
      return 2;
    }
    cases.push_back({c.substr(0, colon), c.substr(colon + 1)});
  }
  std::vector<int> thread_counts;
  for (const std::string& t : split(args.get("--threads", "1,2"), ',')) thread_counts.push_back(std::stoi(t));
  const std::string cpu_path = args.get("--cpu-path", "fast");
  if (cpu_path != "fast" && cpu_path != "reference") {
    std::fprintf(stderr, "bench_cnn: --cpu-path must be fast or reference\n");
    return 2;
  }
  kernels::set_cpu_path(cpu_path == "fast" ? kernels::CpuPath::fast : kernels::CpuPath::reference);

  const std::filesystem::path tmp = std::filesystem::temp_directory_path() / ("bench_cnn." + std::to_string(getpid()));
  std::filesystem::create_directories(tmp);
  int rc = 0;
  try {
    const double load_before = bench::load_average();
    json results = json::array(), peer_info;
    std::printf("%-10s %-8s %2s  %24s  %24s  %18s  %s\n", "model", "layer", "th", "ours ms median (p10-p90)",
                "torch ms median (p10-p90)", "torch/ours (p10-p90)", "torch/ours cpu time");
    // Cases of one model share its network, its files and one PyTorch process.
    std::vector<std::string> models;
    for (const Case& c : cases)
      if (std::find(models.begin(), models.end(), layers::canonical_model_name(c.model)) == models.end())
        models.push_back(layers::canonical_model_name(c.model));
    for (const std::string& model : models) {
      layers::Network net = layers::make_model(model);
      layers::init_random(net, seed);
      std::vector<std::string> model_layers;
      for (const Case& c : cases)
        if (layers::canonical_model_name(c.model) == model) model_layers.push_back(c.layer);
      const Tensor input = random_image(net, seed, 1);
      const Tensor other = random_image(net, seed, 2);  // phi0 = phi(other)
      std::map<std::string, Tensor> targets;
      for (const std::string& layer : model_layers) {
        Tape t;
        targets[layer] = Tensor::copy_of(t.value(net.forward(t, t.leaf(other.view(), false), layer)));
      }
      std::unique_ptr<TorchPeer> peer;
      if (with_torch) {
        const std::string spec_path = (tmp / (model + ".json")).string();
        const std::string tensors_path = (tmp / (model + ".safetensors")).string();
        std::ofstream(spec_path) << net.spec_json();
        std::vector<std::pair<std::string, View>> tensors = {{"input", input.view()}};
        for (const auto& [name, value] : net.parameters()) tensors.emplace_back(name, value.view());
        for (const auto& [layer, value] : targets) tensors.emplace_back("target." + layer, value.view());
        write_safetensors(tensors_path, tensors);
        peer = std::make_unique<TorchPeer>("bench_cnn", python, script,
                                           std::vector<std::string>{"--spec", spec_path, "--tensors", tensors_path});
        peer_info = peer->hello();
        std::filesystem::remove(tensors_path);  // the child has read it
      }
      for (const std::string& layer : model_layers) {
        const Tensor& target = targets.at(layer);
        for (const int threads : thread_counts) {
          set_num_threads(threads);
          json check;
          Tensor grad;
          const float loss = iteration(net, layer, input, target, &grad);
          PI_CHECK(std::isfinite(loss) && loss > 0, "bench_cnn: ", model, " ", layer, ": loss ", loss);
          check["loss_ours"] = loss;
          if (peer) {
            PI_CHECK(peer->command("layer " + layer + " " + std::to_string(threads))["threads"] == threads,
                     "bench_cnn: PyTorch did not take ", threads, " threads");
            const std::string grad_path = (tmp / "grad.f32").string();
            const json c = peer->command("check " + grad_path);
            std::vector<float> g(static_cast<size_t>(grad.numel()));
            std::ifstream f(grad_path, std::ios::binary);
            f.read(reinterpret_cast<char*>(g.data()), static_cast<std::streamsize>(g.size() * sizeof(float)));
            PI_CHECK(f.gcount() == static_cast<std::streamsize>(g.size() * sizeof(float)), "bench_cnn: ", model,
                     " ", layer, ": PyTorch's gradient file has the wrong size (shapes differ?)");
            double diff = 0, norm = 0;
            for (size_t i = 0; i < g.size(); ++i) {
              diff += std::pow(double(grad.data()[i]) - g[i], 2);
              norm += double(g[i]) * g[i];
            }
            const double loss_torch = c["loss"], loss_rel = std::abs(loss - loss_torch) / std::abs(loss_torch);
            const double grad_rel = std::sqrt(diff / norm);
            check["loss_torch"] = loss_torch;
            check["loss_relative_difference"] = loss_rel;
            check["gradient_relative_l2_difference"] = grad_rel;
            PI_CHECK(loss_rel <= kLossRtol && grad_rel <= kGradRtol, "bench_cnn: ", model, " ", layer,
                     ": ours and PyTorch disagree (loss ", loss, " vs ", loss_torch, ", gradient relative difference ",
                     grad_rel, "): not timing it");
          }
          for (int i = 0; i < warmup; ++i) {
            iteration(net, layer, input, target, nullptr);
            if (peer) peer->command("time");
          }
          std::vector<double> ours, torch, ratio, ours_cpu, torch_cpu, ratio_cpu;
          for (int i = 0; i < runs; ++i) {
            double cpu = 0;
            ours.push_back(bench::time_ms([&] { cpu = cpu_ms([&] { iteration(net, layer, input, target, nullptr); }); }));
            ours_cpu.push_back(cpu);
            if (peer) {
              const json t = peer->command("time");
              torch.push_back(t["ms"].get<double>());
              torch_cpu.push_back(t["cpu_ms"].get<double>());
              ratio.push_back(torch.back() / ours.back());
              ratio_cpu.push_back(torch_cpu.back() / ours_cpu.back());
            }
          }
          const bench::Stats so = bench::stats_of(ours), st = bench::stats_of(torch), sr = bench::stats_of(ratio);
          std::printf("%-10s %-8s %2d  %9.1f (%6.1f-%6.1f)  %9.1f (%6.1f-%6.1f)  %5.2f (%4.2f-%4.2f)  %5.2f\n",
                      model.c_str(), layer.c_str(), threads, so.median, so.p10, so.p90, st.median, st.p10, st.p90,
                      sr.median, sr.p10, sr.p90, bench::stats_of(ratio_cpu).median);
          std::fflush(stdout);
          auto js = [](const bench::Stats& s) {
            return json{{"median", s.median}, {"p10", s.p10}, {"p90", s.p90}, {"runs", s.runs}};
          };
          json r = {{"model", model},
                    {"layer", layer},
                    {"threads", threads},
                    {"input", net.preprocessing.input_h},
                    {"ours_ms", js(so)},
                    {"ours_cpu_ms", js(bench::stats_of(ours_cpu))},
                    {"check", check},
                    {"load_average_1min", bench::load_average()}};
          if (peer) {
            r["torch_ms"] = js(st), r["torch_over_ours"] = js(sr);
            r["torch_cpu_ms"] = js(bench::stats_of(torch_cpu));
            r["torch_over_ours_cpu"] = js(bench::stats_of(ratio_cpu));
          }
          if (profile) r["ours_per_layer"] = profile_layers(net, layer, input, 3);
          results.push_back(r);
        }
      }
    }
    const json report = {{"benchmark", "bench_cnn"},
                         {"iteration", "forward to the layer + normalised L2 loss + backward to the image, batch 1"},
                         {"weights", "random (layers::init_random, seed " + std::to_string(seed) + ")"},
                         {"cpu_path", cpu_path},
                         {"cpu", bench::cpu_model()},
                         {"pytorch", peer_info},
                         {"load_average_1min", {{"before", load_before}, {"after", bench::load_average()}}},
                         {"results", results}};
    std::printf("%s\n", report.dump(2).c_str());
    bench::write_json_file(args.get("--json", ""), report);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_cnn: %s\n", e.what());
    rc = 1;
  }
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  return rc;
}
