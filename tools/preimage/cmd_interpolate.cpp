// `preimage interpolate`: decoded interpolations between the features of two images (seed 002 sect. 4.5, Fig. 10;
// seed 003 Figs. 6-7): frame k of K decodes (1 - t) phi(A) + t phi(B), t = k / (K - 1), so the first and last
// frames are the decoded originals. Writes frame_<k>.png, strip.png (A | frames | B), config.json, metrics.json
// (t and each frame's distance to the decoded endpoints) and index.html.
#include <filesystem>

#include "engine/error.h"
#include "engine/image_io.h"
#include "solvers/decoder_trainer.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/decoder_setup.h"
#include "tools/preimage/gallery.h"
#include "tools/preimage/run_common.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct InterpolateOptions {
  std::string decoder, a, b, model, out = "out/interpolate", device = "cpu";
  int steps = 8, threads = 0;
};

int run_interpolate(const InterpolateOptions& o) {
  apply_threads(o.threads);
  const Device device = select_device(o.device);
  PI_CHECK(o.steps >= 2, "--steps must be at least 2 (the two endpoints), got ", o.steps);
  PI_CHECK(!o.a.empty() && !o.b.empty(), "give two images A and B");
  DecoderSetup setup = open_decoder(o.decoder, o.model);
  Tensor xa, xb, fa, fb;
  setup.load(o.a, &xa, &fa);
  setup.load(o.b, &xb, &fb);
  std::vector<Tensor> mixed;
  json ts = json::array();
  for (int k = 0; k < o.steps; ++k) {
    const double t = double(k) / double(o.steps - 1);
    Tensor f = fa.clone();
    for (int64_t i = 0; i < f.numel(); ++i)
      f.data()[i] = static_cast<float>((1 - t) * double(fa.data()[i]) + t * double(fb.data()[i]));
    mixed.push_back(std::move(f));
    ts.push_back(t);
  }
  prepare_output_dir(o.out);
  setup.file.decoder.to(device);
  const Tensor frames = solvers::decode_batch(setup.file.decoder, stack_samples(mixed).view(), device);

  GalleryRow row;
  row.stem = "strip";
  row.original = xa.clone();
  json per = json::array();
  const View first = frames.view().batch(0), last = frames.view().batch(o.steps - 1);
  for (int k = 0; k < o.steps; ++k) {
    Tensor r = Tensor::copy_of(frames.view().batch(k));
    const std::string name = "frame_" + std::to_string(k) + ".png";
    write_png((fs::path(o.out) / name).string(), r.view());
    per.push_back({{"frame", k}, {"t", ts[size_t(k)]}, {"png", name},
                   {"distance_to_decoded_a", l2_distance(r.view(), first)},
                   {"distance_to_decoded_b", l2_distance(r.view(), last)}});
    row.reconstructions.push_back(std::move(r));
  }
  row.reconstructions.push_back(xb.clone());
  row.caption = "A (as the decoder sees it) | " + std::to_string(o.steps) + " decoded frames, t = 0 ... 1 | B";
  write_png((fs::path(o.out) / "strip.png").string(), row.sheet().view());

  json config = run_record("interpolate");
  config["decoder"] = setup.record();
  config["a"] = o.a;
  config["b"] = o.b;
  config["steps"] = o.steps;
  config["definition"] = "frame k decodes (1 - t) phi(A) + t phi(B), t = k / (steps - 1) (seed 002 sect. 4.5)";
  config["device"] = device_record(device);
  write_json((fs::path(o.out) / "config.json").string(), config);
  write_json((fs::path(o.out) / "metrics.json").string(), {{"frames", per}});
  std::vector<GalleryRow> rows;
  rows.push_back(std::move(row));
  write_gallery((fs::path(o.out) / "index.html").string(), "preimage interpolate", rows, config);
  std::fprintf(stderr, "interpolate: %d frames from %s to %s; wrote %s\n", o.steps, o.a.c_str(), o.b.c_str(),
               o.out.c_str());
  return 0;
}

}  // namespace

void register_interpolate(CLI::App& app) {
  auto o = std::make_shared<InterpolateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "interpolate",
      "Decode interpolations between the features of two images with a decoder trained by train-decoder: frame k "
      "decodes (1 - t) phi(A) + t phi(B), t = k / (steps - 1). Writes frame_<k>.png, strip.png, metrics.json, "
      "config.json, index.html under --out.");
  cmd->add_option("a", o->a, "the first image")->required();
  cmd->add_option("b", o->b, "the second image")->required();
  cmd->add_option("--decoder", o->decoder, "decoder file (.safetensors from train-decoder)")->required();
  cmd->add_option("--steps", o->steps, "frames, endpoints included")->capture_default_str();
  cmd->add_option("--model", o->model, "network decoders: the network file (default: the one it was trained "
                  "with); must be the same file");
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o] { set_exit_code(run_interpolate(*o)); });
}

}  // namespace preimage::tools
