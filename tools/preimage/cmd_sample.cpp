// `preimage sample`: images decoded from random feature vectors (seed 002 sect. 4.5, Fig. 11; seed 003 Figs. 8-10).
// The distribution of each feature dimension is fitted on the features of up to --max-images real images
// (solvers/feature_sampler.h: per-dimension histograms with the real sparsity, or one shifted truncated Gaussian),
// --n vectors are drawn (deterministic per --seed), multiplied by --contrast and decoded. Writes sample_<k>.png,
// samples.png (all in a row), config.json, metrics.json (the fit and the samples' sparsity), index.html.
#include <cmath>
#include <filesystem>

#include "engine/error.h"
#include "engine/image_io.h"
#include "solvers/decoder_trainer.h"
#include "solvers/feature_sampler.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/decoder_setup.h"
#include "tools/preimage/deep_run.h"
#include "tools/preimage/gallery.h"
#include "tools/preimage/run_common.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct SampleOptions {
  std::string decoder, from, model, method = "histogram", out = "out/sample", device = "cpu";
  int n = 16, max_images = 4096, threads = 0;
  double contrast = 2.0;
  uint64_t seed = 1;
};

int run_sample(const SampleOptions& o) {
  apply_threads(o.threads);
  const Device device = select_device(o.device);
  const solvers::SamplerMethod method = solvers::parse_sampler_method(o.method);
  PI_CHECK(o.n >= 1 && o.n <= 4096, "--n must be between 1 and 4096, got ", o.n);
  PI_CHECK(o.max_images >= 2, "--max-images must be at least 2, got ", o.max_images);
  PI_CHECK(std::isfinite(o.contrast) && o.contrast > 0, "--contrast must be positive, got ", o.contrast);
  PI_CHECK(!o.from.empty(), "give --from DIR: the images whose features fit the distribution");
  DecoderSetup setup = open_decoder(o.decoder, o.model);
  std::vector<std::string> files = collect_images(o.from);
  PI_CHECK(files.size() >= 2, "--from ", o.from, ": the fit needs at least 2 images, found ", files.size());
  if (files.size() > size_t(o.max_images)) files.resize(size_t(o.max_images));  // sorted: the first ones
  std::vector<Tensor> feats;
  for (size_t i = 0; i < files.size(); ++i) {
    Tensor original, f;
    setup.load(files[i], &original, &f);
    feats.push_back(std::move(f));
    if (files.size() >= 64 && (i + 1) % 64 == 0)
      std::fprintf(stderr, "sample: features of %zu/%zu images\n", i + 1, files.size());
  }
  const solvers::FeatureSampler sampler(stack_samples(feats).view(), method);
  const Tensor vectors = sampler.sample(o.n, o.seed, o.contrast);
  prepare_output_dir(o.out);
  setup.file.decoder.to(device);
  const Tensor images = solvers::decode_batch(setup.file.decoder, vectors.view(), device);

  int64_t zeros = 0;
  for (int64_t i = 0; i < vectors.numel(); ++i) zeros += vectors.data()[i] == 0;
  GalleryRow row;
  row.stem = "samples";
  json per = json::array();
  for (int k = 0; k < o.n; ++k) {
    Tensor r = Tensor::copy_of(images.view().batch(k));
    const std::string name = "sample_" + std::to_string(k) + ".png";
    write_png((fs::path(o.out) / name).string(), r.view());
    per.push_back(name);
    if (k == 0) row.original = r.clone(); else row.reconstructions.push_back(std::move(r));
  }
  row.caption = std::to_string(o.n) + " images from random feature vectors (" + o.method + ", contrast " +
                std::to_string(o.contrast).substr(0, 4) + "), not selected";
  write_png((fs::path(o.out) / "samples.png").string(), row.sheet().view());

  json config = run_record("sample");
  config["decoder"] = setup.record();
  config["from"] = o.from;
  config["images_used"] = files.size();
  config["method"] = o.method;
  config["n"] = o.n;
  config["contrast"] = o.contrast;
  config["seed"] = o.seed;
  config["device"] = device_record(device);
  if (setup.cnn && setup.cnn->model->random_weights) config["note"] = kRandomWeightsNote;
  write_json((fs::path(o.out) / "config.json").string(), config);
  write_json((fs::path(o.out) / "metrics.json").string(),
             {{"fit", sampler.record()}, {"samples_zero_fraction", double(zeros) / double(vectors.numel())},
              {"samples", per}});
  std::vector<GalleryRow> rows;
  rows.push_back(std::move(row));
  write_gallery((fs::path(o.out) / "index.html").string(), "preimage sample", rows, config);
  std::fprintf(stderr, "sample: %d images from %s feature vectors fitted on %zu images; wrote %s\n", o.n,
               o.method.c_str(), files.size(), o.out.c_str());
  return 0;
}

}  // namespace

void register_sample(CLI::App& app) {
  auto o = std::make_shared<SampleOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sample",
      "Decode random feature vectors with a decoder trained by train-decoder: each feature dimension's "
      "distribution is fitted on the features of real images (--from), vectors are drawn, scaled by --contrast and "
      "decoded. Writes sample_<k>.png, samples.png, metrics.json, config.json, index.html under --out.");
  cmd->add_option("--decoder", o->decoder, "decoder file (.safetensors from train-decoder)")->required();
  cmd->add_option("--from", o->from, "folder of images whose features fit the distribution")->required();
  cmd->add_option("--method", o->method, "histogram (per dimension, with the real sparsity) or gaussian (one "
                  "shifted truncated Gaussian for all dimensions)")->capture_default_str();
  cmd->add_option("--n", o->n, "number of samples")->capture_default_str();
  cmd->add_option("--contrast", o->contrast, "factor on the sampled vectors (the paper's alpha)")
      ->capture_default_str();
  cmd->add_option("--max-images", o->max_images, "at most this many images of --from (the first, sorted)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the draws")->capture_default_str();
  cmd->add_option("--model", o->model, "network decoders: the network file (default: the one it was trained "
                  "with); must be the same file");
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o] { set_exit_code(run_sample(*o)); });
}

}  // namespace preimage::tools
