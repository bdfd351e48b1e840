// Benchmark (not a test): training images/s and decode ms/image of the learned decoders (layers/decoders.h) on the
// CPU, ours against PyTorch (Debian's torch with oneDNN) timed in turn in the same run. One training step is
// solvers::train_step: forward, loss mean((y - target)^2) (target = (image - 128) / 64), backward, the Adam update
// (solvers/adam.h); decoding is solvers::decode_batch (forward without gradients, 128 + 64 y clamped to 0..255) of
// the whole batch in one chunk. Decoders: layers::decoder_table rows at a reduced width, He initialisation
// (Decoder::init_he), random features uniform in [0, 1) and random target images uniform in [0, 255).
//
// The PyTorch side is tools/bench/bench_decoder_torch.py, a child process driven over a pipe (bench::TorchPeer):
// it builds the same network from the description written here (the table's rows with their scaled channel counts,
// kernels, strides and paddings: decoder_spec below) with the same weights, features and images (safetensors), and
// runs the same step as torch users write it: F.mse_loss, loss.backward(), torch.optim.Adam (betas 0.9 / 0.999,
// eps 1e-8). Before timing, each case checks from the same initial weights that one step gives the same loss, the
// same gradients and the same updated weights on both sides, and that decoding gives the same images; a case that
// disagrees is not timed. Then, after warm-up, ours and PyTorch run one step each in turn (A B A B ...); the ratio
// torch / ours is taken per pair (> 1: ours is faster) and its median reported. Both sides keep training during the
// timed steps (the weights move as in a real run). Wall time is the figure; process CPU time (all threads) is
// recorded beside it, as a cross-check when other processes share the cores.
//
//   build/bench_decoder [--cases hog,alexnet-fc8] [--width 0.25] [--image-size 64] [--batch 64] [--threads 1,2]
//                       [--runs 9] [--warmup 2] [--json FILE] [--torch 1|0] [--seed 1] [--lr 1e-3]
//                       [--phases 0|1] [--verbose 0|1]
// --phases 1 adds a split of one step into forward + loss, backward, the gradients' finiteness/norm pass and Adam
// (ours) and forward + loss, backward, optimizer.step() (PyTorch), medians over --runs steps. --verbose 1 prints the
// check per parameter tensor. Results and timings: docs/benchmarks.md, "Decoder training step (CPU)".
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "engine/threads.h"
#include "layers/decoders.h"
#include "solvers/adam.h"
#include "solvers/decoder_trainer.h"
#include "tools/bench/bench_common.h"
#include "weights/safetensors.h"

using namespace preimage;
using nlohmann::json;
using preimage::bench::cpu_ms;
using preimage::bench::TorchPeer;

namespace {

const char* kUsage =
    "bench_decoder: decoder training images/s and decode ms/image on the CPU, ours vs PyTorch.\n"
    "  --cases LIST      decoder tables (default hog,alexnet-fc8; layers/decoders.h lists them)\n"
    "  --width W         channel width factor (default 0.25)\n"
    "  --image-size S    image side for the shallow tables (hog: a multiple of 64; default 64); the AlexNet\n"
    "                    tables have a fixed output (alexnet-fc8: 128)\n"
    "  --batch N         images per step (default 64)\n"
    "  --threads LIST    thread counts (default 1,2)\n"
    "  --runs N          timed steps (and decodes) per case and side (default 9)\n"
    "  --warmup N        untimed ones per case and side first (default 2)\n"
    "  --json FILE       also write the results as JSON\n"
    "  --torch 1|0       time PyTorch too (default 1)\n"
    "  --seed S          weights, features and images (default 1)\n"
    "  --lr R            Adam's rate (default 1e-3, train-decoder's)\n"
    "  --phases 0|1      also split a step into forward, backward and Adam (default 0)\n"
    "  --verbose 0|1     print the check per parameter (always printed when the check fails)\n"
    "  --python PATH     interpreter with torch (default /usr/bin/python3)\n"
    "  --torch-script PATH   default: bench_decoder_torch.py beside this source file\n";

// Agreement demanded before timing (float32 throughout on both sides, summing in other orders: oneDNN and
// im2col + reference BLAS there, Eigen GEMMs and our im2col here). The torch side also runs the step in float64 from
// the same weights; the distances of both float32 results to it are in the JSON (and printed with --verbose 1).
// - Loss: a mean of batch * 3 * S^2 squares after about 10 layers; rounding moves it by ~1e-6 relative, a wrong
//   layer by O(1).
constexpr double kLossRtol = 1e-4;
// - Gradients, per parameter tensor, ||g - g_torch|| / ||g_torch||. Rounding alone gives 1e-7 to 1e-5 (measured:
//   weight gradients sum up to batch * H * W = 2.6e5 products). On top of it, a pre-activation within rounding of
//   zero may get opposite signs in two float32 computations, so leaky ReLU passes its gradient with slope 1 on one
//   side and 0.2 on the other: a step, not rounding, in every gradient behind it. Measured at the defaults: hog's
//   stream A (maps down to 1 x 1, so one unit weighs a lot) 6e-4 at 1 thread, where our result is the one within
//   2e-7 of float64 and PyTorch's sits 6e-4 from it (at 2 threads ours lands where PyTorch does); elsewhere <= 8e-5.
//   The torch side counts such sign flips against float64 (JSON). A wrong backward (a transposed or unflipped
//   kernel, padding off by one, a missing term of the join) gives O(1e-1) to O(1).
constexpr double kGradRtol = 5e-3;
// - Updated weights: Adam's first step is w1 = w0 - lr g / (|g| + eps) (bias-corrected moments at t = 1), an
//   almost-sign function of the gradient, so comparing the two sides' updates directly only counts the elements
//   whose gradient is within its rounding of zero (one such element of a 1024-long bias moves its relative
//   difference by 6e-2). Instead each side's updated weights are checked against that formula applied, here in
//   double, to its own gradient (checked above), element by element: max |w1 - w1_expected| / lr. Float32 rounding
//   of w0 + dw is at most half an ulp of |w| < 2 (1.2e-7 = 1.2e-4 lr at lr 1e-3); a wrong rule (no bias correction:
//   3.2x the step; eps inside the square root; another lr) is O(1) lr. The direct comparison is in the JSON too.
constexpr double kUpdateTolLr = 1e-3;
// - Decoded images, ||r - r_torch|| / ||r_torch|| on 0..255: forward only, ~1e-6 relative.
constexpr double kDecodeRtol = 1e-4;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

json shape_json(const Shape& s) {
  json a = json::array();
  for (int i = 0; i < s.ndim(); ++i) a.push_back(s[i]);
  return a;
}

// The features' shape (without the batch) for a table at image size S: fc tables [C]; the AlexNet conv tables
// their layer's fixed map; the shallow tables the paper's feature side scaled with the image (hog: S / 8).
Shape feature_shape(const layers::DecoderTable& t, int64_t image_size) {
  if (t.paper_input_side == 0) return Shape{t.in_channels};
  if (t.name.rfind("alexnet-", 0) == 0) return Shape{t.in_channels, t.paper_input_side, t.paper_input_side};
  PI_CHECK(image_size > 0 && (image_size * t.paper_input_side) % t.paper_output_side == 0, t.name,
           " takes images whose side is a multiple of ", t.paper_output_side / t.paper_input_side, ", got ",
           image_size);
  const int64_t side = image_size * t.paper_input_side / t.paper_output_side;
  return Shape{t.in_channels, side, side};
}

// What bench_decoder_torch.py builds the network from: every row of the table with the shapes it has here.
json decoder_spec(const layers::Decoder& d, int64_t batch, const kernels::AdamParams& hp) {
  const layers::DecoderTable& t = d.table();
  const Shape& in = d.input_shape();
  const Shape batched = in.ndim() == 1 ? Shape{batch, in[0]} : Shape{batch, in[0], in[1], in[2]};
  const std::vector<Shape> shapes = layers::decoder_output_shapes(t, d.width(), batched);
  json rows = json::array();
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const layers::DecoderRow& r = t.rows[i];
    json row = {{"name", r.name},
                {"kind", layers::decoder_layer_kind_name(r.kind)},
                {"inputs", r.inputs},
                {"shape", shape_json(shapes[i])},
                // Leaky ReLU after every layer but the output; a reshape is not a layer (layers/decoders.cpp).
                {"activation", !r.is_output && r.kind != layers::DecoderLayerKind::reshape}};
    switch (r.kind) {
      case layers::DecoderLayerKind::conv: {
        const int p = (r.kernel - 1) / 2;  // "same" padding of conv rows
        row["kernel"] = r.kernel, row["stride"] = r.stride, row["pad"] = {p, p, p, p};
        break;
      }
      case layers::DecoderLayerKind::upconv: {
        const kernels::ConvTranspose2dParams p = layers::upconv_transpose_params(r.kernel);
        PI_CHECK(p.stride_h == p.stride_w && p.out_pad_h == 0 && p.out_pad_w == 0 && p.groups == 1,
                 "row ", r.name, ": the torch side handles square strides without output padding "
                 "or groups only");
        row["kernel"] = r.kernel, row["stride"] = p.stride_h;
        row["pad"] = {p.pad_top, p.pad_bottom, p.pad_left, p.pad_right};
        break;
      }
      case layers::DecoderLayerKind::fc: break;
      case layers::DecoderLayerKind::reshape:
        row["channels"] = shapes[i][1], row["side"] = r.reshape_side;
        break;
    }
    if (r.kind != layers::DecoderLayerKind::reshape) row["weight"] = r.name + ".weight", row["bias"] = r.name + ".bias";
    rows.push_back(row);
  }
  json names = json::array(), pshapes = json::object();
  for (const auto& [name, shape] : d.parameter_shapes()) names.push_back(name), pshapes[name] = shape_json(shape);
  return {{"table", t.name},
          {"source", t.source},
          {"width", d.width()},
          {"leaky_slope", 0.2},
          {"input_shape", shape_json(batched)},
          {"output_shape", shape_json(shapes.back())},
          {"rows", rows},
          {"parameters", names},
          {"parameter_shapes", pshapes},
          {"adam", {{"lr", hp.lr}, {"beta1", hp.beta1}, {"beta2", hp.beta2}, {"eps", hp.eps}}}};
}

// A trainer state at the initial weights w0 with fresh Adam moments.
solvers::TrainerState fresh_state(const layers::Decoder& proto) {
  solvers::TrainerState s;
  s.decoder = layers::Decoder(proto.table(), proto.width(), proto.input_shape());
  for (size_t i = 0; i < proto.parameters().size(); ++i) s.decoder.parameters()[i] = proto.parameters()[i].clone();
  s.adam = solvers::adam_state_for(s.decoder.parameters());
  return s;
}

// ||a - b|| / ||b|| (||a - b|| when b is zero).
double relative_l2(const float* a, const float* b, int64_t n) {
  double d = 0, nb = 0;
  for (int64_t i = 0; i < n; ++i) {
    d += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    nb += double(b[i]) * b[i];
  }
  return nb > 0 ? std::sqrt(d / nb) : std::sqrt(d);
}

struct Phases {
  double forward = 0, backward = 0, grad_check = 0, adam = 0;  // ms
};

// One training step of ours split into its phases: the same calls as solvers::train_step (which times as one
// piece), in the same order: forward + loss, backward, the per-gradient finiteness / norm pass, adam_update.
Phases our_step_phases(solvers::TrainerState& s, const solvers::Batch& b, const kernels::AdamParams& hp, float lr,
                       bool cpu_time) {
  auto measure = [&](const std::function<void()>& f) { return cpu_time ? cpu_ms(f) : bench::time_ms(f); };
  Phases ph;
  Tape t(Device::cpu);
  std::vector<Var> params;
  Var loss;
  ph.forward = measure([&] {
    params = s.decoder.bind(t, true);
    Var x = t.constant(Tensor::copy_of(b.features.view()));
    Tensor target = Tensor::copy_of(b.images.view());
    for (int64_t i = 0; i < target.numel(); ++i)
      target.data()[i] = (target.data()[i] - solvers::kTargetMean) / solvers::kTargetScale;
    Var y0 = t.constant(std::move(target));
    Var y = s.decoder.forward(t, params, x);
    Var diff = ops::add(t, y, ops::scale(t, y0, -1.0f));
    loss = ops::mean(t, ops::mul(t, diff, diff));
    (void)t.item(loss);
  });
  ph.backward = measure([&] { t.backward(loss); });
  std::vector<View> grads;
  ph.grad_check = measure([&] {
    double g2 = 0;
    for (const Var& p : params) {
      const View g = t.grad(p);
      for (int64_t i = 0; i < g.numel(); ++i) g2 += double(g.data[i]) * g.data[i];
      grads.push_back(g);
    }
    PI_CHECK(std::isfinite(g2), "a gradient is not finite");
  });
  ph.adam = measure([&] { solvers::adam_update(s.decoder.parameters(), s.adam, grads, hp, lr); });
  ++s.step;
  return ph;
}

json stats_json(const bench::Stats& s) {
  return json{{"median", s.median}, {"p10", s.p10}, {"p90", s.p90}, {"runs", s.runs}};
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args(argc, argv,
                         {"--cases", "--width", "--image-size", "--batch", "--threads", "--runs", "--warmup", "--json",
                          "--torch", "--seed", "--lr", "--phases", "--verbose", "--python", "--torch-script"},
                         kUsage);
  const int runs = args.get_int("--runs", 9), warmup = args.get_int("--warmup", 2);
  const int64_t batch = args.get_int("--batch", 64), image_size = args.get_int("--image-size", 64);
  const double width = std::stod(args.get("--width", "0.25"));
  const bool with_torch = args.get_int("--torch", 1) != 0, phases = args.get_int("--phases", 0) != 0;
  const bool verbose = args.get_int("--verbose", 0) != 0;
  const uint64_t seed = static_cast<uint64_t>(args.get_int("--seed", 1));
  const float lr = std::stof(args.get("--lr", "1e-3"));
  const std::string python = args.get("--python", "/usr/bin/python3");
  const std::string script = args.get(
      "--torch-script", (std::filesystem::path(__FILE__).parent_path() / "bench_decoder_torch.py").string());
  const std::vector<std::string> cases = split(args.get("--cases", "hog,alexnet-fc8"), ',');
  std::vector<int> thread_counts;
  for (const std::string& t : split(args.get("--threads", "1,2"), ',')) thread_counts.push_back(std::stoi(t));
  if (runs < 1 || warmup < 0 || batch < 1 || thread_counts.empty() || !(lr > 0)) {
    std::fprintf(stderr, "bench_decoder: --runs, --batch and --lr must be positive, --warmup not negative\n%s",
                 kUsage);
    return 2;
  }
  kernels::AdamParams hp;  // beta1 0.9, beta2 0.999, eps 1e-8 (seed 002 sect. 2.2), as train-decoder
  hp.lr = lr;

  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / ("bench_decoder." + std::to_string(getpid()));
  std::filesystem::create_directories(tmp);
  int rc = 0;
  try {
    const double load_before = bench::load_average();
    json results = json::array(), peer_info;
    std::printf("%-12s %2s  %-22s %-22s %-18s | %-24s %-24s %s\n", "decoder", "th", "ours img/s (p10-p90)",
                "torch img/s (p10-p90)", "torch/ours (cpu)", "decode ours ms/img", "decode torch ms/img",
                "torch/ours");
    for (const std::string& name : cases) {
      const layers::DecoderTable table = layers::decoder_table(name);
      const Shape fshape = feature_shape(table, image_size);
      layers::Decoder proto(table, width, fshape);
      proto.init_he(seed);
      solvers::Batch data;
      Shape fb = fshape.ndim() == 1 ? Shape{batch, fshape[0]} : Shape{batch, fshape[0], fshape[1], fshape[2]};
      data.features = Tensor::empty(fb);
      philox_fill_uniform(data.features.data(), data.features.numel(), seed, 0, 1);
      data.images = Tensor::empty(proto.output_shape(batch));
      philox_fill_uniform(data.images.data(), data.images.numel(), seed, 0, 2);
      for (int64_t i = 0; i < data.images.numel(); ++i) data.images.data()[i] *= 255.0f;
      const Shape out = data.images.shape();

      std::unique_ptr<TorchPeer> peer;
      if (with_torch) {
        const std::string spec_path = (tmp / (name + ".json")).string();
        const std::string tensors_path = (tmp / (name + ".safetensors")).string();
        std::ofstream(spec_path) << decoder_spec(proto, batch, hp).dump(1);
        std::vector<std::pair<std::string, View>> tensors = {{"features", data.features.view()},
                                                             {"images", data.images.view()}};
        for (size_t i = 0; i < proto.parameters().size(); ++i)
          tensors.emplace_back(proto.parameter_shapes()[i].first, proto.parameters()[i].view());
        write_safetensors(tensors_path, tensors);
        peer = std::make_unique<TorchPeer>("bench_decoder", python, script,
                                           std::vector<std::string>{"--spec", spec_path, "--tensors", tensors_path});
        peer_info = peer->hello();
        std::filesystem::remove(tensors_path);  // the child has read it
      }

      for (const int threads : thread_counts) {
        set_num_threads(threads);
        solvers::TrainerState s = fresh_state(proto);
        json check;
        if (peer) {
          PI_CHECK(peer->command("setup " + std::to_string(threads))["threads"] == threads, "PyTorch did not take ", threads, " threads");
          // Decoding from w0.
          const Tensor ours = solvers::decode_batch(proto, data.features.view(), Device::cpu, batch);
          const std::string dec_path = (tmp / "decoded.safetensors").string();
          peer->command("decode " + dec_path);
          SafetensorsFile df = read_safetensors(dec_path);
          const Tensor& theirs = df.tensors.at("decoded");
          PI_CHECK(theirs.shape() == ours.shape(), name, ": PyTorch decodes to ",
                   theirs.shape().str(), ", ours to ", ours.shape().str());
          double max_px = 0;
          for (int64_t i = 0; i < ours.numel(); ++i)
            max_px = std::max(max_px, std::abs(double(ours.data()[i]) - theirs.data()[i]));
          const double dec_rel = relative_l2(ours.data(), theirs.data(), ours.numel());
          check["decode_relative_l2_difference"] = dec_rel;
          check["decode_max_abs_difference_pixels"] = max_px;
          PI_CHECK(dec_rel <= kDecodeRtol, name, ": decoded images differ (relative ", dec_rel,
                   "): not timing it");
          // One training step from w0.
          const solvers::StepResult r = solvers::train_step(s, data, hp, lr, Device::cpu);
          const std::string step_path = (tmp / "step.safetensors").string();
          const json c = peer->command("check " + step_path);
          SafetensorsFile sf = read_safetensors(step_path);
          const double loss_torch = c["loss"], loss_rel = std::abs(r.loss - loss_torch) / std::abs(loss_torch);
          double worst_grad = 0, worst_update = 0, worst_rule = 0, worst_rule_torch = 0;
          std::string worst_grad_at, worst_update_at, worst_rule_at;
          json per = json::object();
          const float c1 = 1.0f - hp.beta1;
          // Adam's first update of one element from its gradient (header note at kUpdateTolLr).
          auto first_step = [&](double w0, double g) { return w0 - double(lr) * g / (std::abs(g) + double(hp.eps)); };
          for (size_t i = 0; i < proto.parameters().size(); ++i) {
            const std::string& pn = proto.parameter_shapes()[i].first;
            const Tensor& g_t = sf.tensors.at("grad." + pn);
            const Tensor& w_t = sf.tensors.at("param." + pn);
            const Tensor& g_64 = sf.tensors.at("grad64." + pn);
            const Tensor& w_64 = sf.tensors.at("param64." + pn);
            const Tensor& w0 = proto.parameters()[i];
            const Tensor& w1 = s.decoder.parameters()[i];
            PI_CHECK(g_t.shape() == w0.shape() && w_t.shape() == w0.shape(), name, ": ", pn, " has shape ",
                     w_t.shape().str(), " in PyTorch, ", w0.shape().str(), " here");
            // Our gradient of this step: after Adam's first update m = (1 - beta1) g exactly as train_step saw it
            // (up to one rounding), so the check reads train_step itself rather than a re-implementation.
            const int64_t n = w0.numel();
            const size_t un = static_cast<size_t>(n);
            std::vector<float> g(un), d_o(un), d_t(un), d_64(un);
            double rule_o = 0, rule_t = 0;
            for (int64_t k = 0; k < n; ++k) {
              const size_t uk = static_cast<size_t>(k);
              g[uk] = s.adam.m[i].data()[k] / c1;
              d_o[uk] = w1.data()[k] - w0.data()[k];
              d_t[uk] = w_t.data()[k] - w0.data()[k];
              d_64[uk] = w_64.data()[k] - w0.data()[k];
              rule_o = std::max(rule_o, std::abs(w1.data()[k] - first_step(w0.data()[k], g[uk])) / lr);
              rule_t = std::max(rule_t, std::abs(w_t.data()[k] - first_step(w0.data()[k], g_t.data()[k])) / lr);
            }
            const double rg = relative_l2(g.data(), g_t.data(), n), ru = relative_l2(d_o.data(), d_t.data(), n);
            per[pn] = {{"gradient", rg},
                       {"gradient_ours_vs_float64", relative_l2(g.data(), g_64.data(), n)},
                       {"gradient_torch_vs_float64", relative_l2(g_t.data(), g_64.data(), n)},
                       {"update", ru},
                       {"update_ours_vs_float64", relative_l2(d_o.data(), d_64.data(), n)},
                       {"update_torch_vs_float64", relative_l2(d_t.data(), d_64.data(), n)},
                       {"adam_rule_ours_over_lr", rule_o},
                       {"adam_rule_torch_over_lr", rule_t}};
            if (rg > worst_grad) worst_grad = rg, worst_grad_at = pn;
            if (ru > worst_update) worst_update = ru, worst_update_at = pn;
            if (std::max(rule_o, rule_t) > std::max(worst_rule, worst_rule_torch)) worst_rule_at = pn;
            worst_rule = std::max(worst_rule, rule_o), worst_rule_torch = std::max(worst_rule_torch, rule_t);
          }
          check["loss_ours"] = r.loss;
          check["loss_torch"] = loss_torch;
          check["loss_float64"] = c["loss_float64"];
          check["loss_relative_difference"] = loss_rel;
          check["gradient_relative_l2_difference_max"] = worst_grad;
          check["gradient_worst_parameter"] = worst_grad_at;
          check["update_relative_l2_difference_max"] = worst_update;
          check["update_worst_parameter"] = worst_update_at;
          check["adam_rule_max_abs_error_over_lr"] = {{"ours", worst_rule}, {"torch", worst_rule_torch},
                                                      {"worst_parameter", worst_rule_at}};
          check["leaky_relu_sign_flips_torch_vs_float64"] = c["leaky_relu_sign_flips_vs_float64"];
          check["tolerances"] = {{"loss_relative", kLossRtol}, {"gradient_relative_l2", kGradRtol},
                                 {"adam_rule_abs_over_lr", kUpdateTolLr}, {"decode_relative_l2", kDecodeRtol}};
          check["per_parameter"] = per;
          std::printf("  check %s %d threads: loss %.6g vs %.6g (rel %.1e), gradients rel <= %.1e (%s), Adam rule "
                      "<= %.1e lr ours, %.1e lr torch; updates differ by <= %.1e rel (%s); decode rel %.1e "
                      "(max %.3g px); torch leaky ReLU sign flips vs float64: %s\n",
                      name.c_str(), threads, r.loss, loss_torch, loss_rel, worst_grad, worst_grad_at.c_str(),
                      worst_rule, worst_rule_torch, worst_update, worst_update_at.c_str(), dec_rel, max_px,
                      c["leaky_relu_sign_flips_vs_float64"].dump().c_str());
          std::fflush(stdout);
          const bool agree = loss_rel <= kLossRtol && worst_grad <= kGradRtol && worst_rule <= kUpdateTolLr &&
                             worst_rule_torch <= kUpdateTolLr;
          if (!agree || verbose) {
            std::fprintf(agree ? stdout : stderr, "  %-18s %9s %9s %9s | %9s %9s %9s | %9s %9s\n", "parameter",
                         "grad o/t", "o/f64", "t/f64", "update o/t", "o/f64", "t/f64", "Adam o", "Adam t");
            for (const auto& [pn, v] : per.items())
              std::fprintf(agree ? stdout : stderr, "  %-18s %9.2e %9.2e %9.2e | %9.2e %9.2e %9.2e | %9.2e %9.2e\n",
                           pn.c_str(), v["gradient"].get<double>(), v["gradient_ours_vs_float64"].get<double>(),
                           v["gradient_torch_vs_float64"].get<double>(), v["update"].get<double>(),
                           v["update_ours_vs_float64"].get<double>(), v["update_torch_vs_float64"].get<double>(),
                           v["adam_rule_ours_over_lr"].get<double>(), v["adam_rule_torch_over_lr"].get<double>());
          }
          PI_CHECK(agree,
                   name, ": ours and PyTorch disagree (loss ", r.loss, " vs ", loss_torch, ", gradient relative "
                   "difference ", worst_grad, " at ", worst_grad_at, ", Adam rule error ", worst_rule, " lr ours, ",
                   worst_rule_torch, " lr torch, at ", worst_rule_at, "): not timing it");
        } else {
          check["loss_ours"] = solvers::train_step(s, data, hp, lr, Device::cpu).loss;
        }

        // Training steps, A B A B ...
        for (int i = 0; i < warmup; ++i) {
          solvers::train_step(s, data, hp, lr, Device::cpu);
          if (peer) peer->command("step");
        }
        std::vector<double> ours, torch, ratio, ours_cpu, torch_cpu, ratio_cpu;
        double last_loss = 0, last_loss_torch = 0;
        for (int i = 0; i < runs; ++i) {
          double cpu = 0;
          ours.push_back(bench::time_ms(
              [&] { cpu = cpu_ms([&] { last_loss = solvers::train_step(s, data, hp, lr, Device::cpu).loss; }); }));
          ours_cpu.push_back(cpu);
          if (peer) {
            const json t = peer->command("step");
            torch.push_back(t["ms"].get<double>());
            torch_cpu.push_back(t["cpu_ms"].get<double>());
            last_loss_torch = t["loss"].get<double>();
            ratio.push_back(torch.back() / ours.back());
            ratio_cpu.push_back(torch_cpu.back() / ours_cpu.back());
          }
        }
        // Decoding, A B A B ...
        for (int i = 0; i < warmup; ++i) {
          solvers::decode_batch(s.decoder, data.features.view(), Device::cpu, batch);
          if (peer) peer->command("time_decode");
        }
        std::vector<double> dours, dtorch, dratio, dours_cpu, dtorch_cpu;
        for (int i = 0; i < runs; ++i) {
          double cpu = 0;
          dours.push_back(bench::time_ms([&] {
            cpu = cpu_ms([&] { solvers::decode_batch(s.decoder, data.features.view(), Device::cpu, batch); });
          }));
          dours_cpu.push_back(cpu);
          if (peer) {
            const json t = peer->command("time_decode");
            dtorch.push_back(t["ms"].get<double>());
            dtorch_cpu.push_back(t["cpu_ms"].get<double>());
            dratio.push_back(dtorch.back() / dours.back());
          }
        }
        // Optional split by phase (ours, then PyTorch, in turn).
        json phase_json;
        if (phases) {
          std::vector<double> of, ob, oc, oa, ofc, obc, occ, oac, tf, tb, ta, tfc, tbc, tac;
          for (int i = 0; i < runs; ++i) {
            const Phases w = our_step_phases(s, data, hp, lr, false);
            const Phases c = our_step_phases(s, data, hp, lr, true);
            of.push_back(w.forward), ob.push_back(w.backward), oc.push_back(w.grad_check), oa.push_back(w.adam);
            ofc.push_back(c.forward), obc.push_back(c.backward), occ.push_back(c.grad_check), oac.push_back(c.adam);
            if (peer) {
              const json t = peer->command("phases");
              tf.push_back(t["forward_ms"]), tb.push_back(t["backward_ms"]), ta.push_back(t["adam_ms"]);
              tfc.push_back(t["forward_cpu_ms"]), tbc.push_back(t["backward_cpu_ms"]), tac.push_back(t["adam_cpu_ms"]);
            }
          }
          auto med = [](const std::vector<double>& v) { return bench::stats_of(v).median; };
          phase_json["ours_ms"] = {{"forward_loss", med(of)}, {"backward", med(ob)}, {"gradient_check", med(oc)},
                                   {"adam", med(oa)}};
          phase_json["ours_cpu_ms"] = {{"forward_loss", med(ofc)}, {"backward", med(obc)},
                                       {"gradient_check", med(occ)}, {"adam", med(oac)}};
          std::printf("  phases %s %d threads, ours  ms: forward+loss %.1f  backward %.1f  gradient check %.1f  "
                      "adam %.1f   (cpu %.1f / %.1f / %.1f / %.1f)\n",
                      name.c_str(), threads, med(of), med(ob), med(oc), med(oa), med(ofc), med(obc), med(occ),
                      med(oac));
          if (peer) {
            phase_json["torch_ms"] = {{"forward_loss", med(tf)}, {"backward", med(tb)}, {"adam", med(ta)}};
            phase_json["torch_cpu_ms"] = {{"forward_loss", med(tfc)}, {"backward", med(tbc)}, {"adam", med(tac)}};
            std::printf("  phases %s %d threads, torch ms: forward+loss %.1f  backward %.1f  adam %.1f   "
                        "(cpu %.1f / %.1f / %.1f)\n",
                        name.c_str(), threads, med(tf), med(tb), med(ta), med(tfc), med(tbc), med(tac));
          }
        }

        const bench::Stats so = bench::stats_of(ours), st = bench::stats_of(torch), sr = bench::stats_of(ratio);
        const bench::Stats dso = bench::stats_of(dours), dst = bench::stats_of(dtorch), dsr = bench::stats_of(dratio);
        const double b = double(batch);
        auto ips = [&](double ms) { return ms > 0 ? 1e3 * b / ms : 0.0; };
        if (peer)
          std::printf("%-12s %2d  %6.1f (%6.1f-%6.1f)   %6.1f (%6.1f-%6.1f)   %5.2f (%5.2f)       | "
                      "%6.3f (%6.3f-%6.3f)     %6.3f (%6.3f-%6.3f)     %5.2f\n",
                      name.c_str(), threads, ips(so.median), ips(so.p90), ips(so.p10), ips(st.median), ips(st.p90),
                      ips(st.p10), sr.median, bench::stats_of(ratio_cpu).median, dso.median / b, dso.p10 / b,
                      dso.p90 / b, dst.median / b, dst.p10 / b, dst.p90 / b, dsr.median);
        else
          std::printf("%-12s %2d  %6.1f (%6.1f-%6.1f)   %-22s %-18s | %6.3f (%6.3f-%6.3f)\n", name.c_str(), threads,
                      ips(so.median), ips(so.p90), ips(so.p10), "-", "-", dso.median / b, dso.p10 / b, dso.p90 / b);
        std::fflush(stdout);
        json rj = {{"decoder", name},
                   {"source", table.source},
                   {"width", width},
                   {"batch", batch},
                   {"threads", threads},
                   {"features", shape_json(fshape)},
                   {"output", shape_json(out)},
                   {"parameters", proto.parameter_count()},
                   {"check", check},
                   {"train_step_ms", {{"ours", stats_json(so)}, {"ours_cpu", stats_json(bench::stats_of(ours_cpu))}}},
                   {"train_images_per_s", {{"ours", ips(so.median)}}},
                   {"decode_ms", {{"ours", stats_json(dso)}, {"ours_cpu", stats_json(bench::stats_of(dours_cpu))}}},
                   {"decode_ms_per_image", {{"ours", dso.median / b}}},
                   {"loss_after_timed_steps", {{"ours", last_loss}}},
                   {"load_average_1min", bench::load_average()}};
        if (peer) {
          rj["train_step_ms"]["torch"] = stats_json(st);
          rj["train_step_ms"]["torch_cpu"] = stats_json(bench::stats_of(torch_cpu));
          rj["train_images_per_s"]["torch"] = ips(st.median);
          rj["train_torch_over_ours"] = stats_json(sr);
          rj["train_torch_over_ours_cpu"] = stats_json(bench::stats_of(ratio_cpu));
          rj["decode_ms"]["torch"] = stats_json(dst);
          rj["decode_ms"]["torch_cpu"] = stats_json(bench::stats_of(dtorch_cpu));
          rj["decode_ms_per_image"]["torch"] = dst.median / b;
          rj["decode_torch_over_ours"] = stats_json(dsr);
          rj["loss_after_timed_steps"]["torch"] = last_loss_torch;
        }
        if (phases) rj["phases"] = phase_json;
        results.push_back(rj);
      }
    }
    const json report = {
        {"benchmark", "bench_decoder"},
        {"step", "solvers::train_step: forward + mean((y - target)^2) + backward + Adam (beta 0.9/0.999, eps 1e-8)"},
        {"decode", "solvers::decode_batch, the whole batch in one chunk"},
        {"weights", "He initialisation (Decoder::init_he, seed " + std::to_string(seed) + ")"},
        {"data", "features uniform [0, 1), images uniform [0, 255) (Philox, seed " + std::to_string(seed) + ")"},
        {"lr", lr},
        {"image_size", image_size},
        {"cpu", bench::cpu_model()},
        {"pytorch", peer_info},
        {"load_average_1min", {{"before", load_before}, {"after", bench::load_average()}}},
        {"results", results}};
    bench::write_json_file(args.get("--json", ""), report);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_decoder: %s\n", e.what());
    rc = 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_decoder: %s\n", e.what());
    rc = 1;
  }
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  return rc;
}
