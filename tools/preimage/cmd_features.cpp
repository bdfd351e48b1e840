// `preimage features`: extract a representation from an image or a folder and write, per image,
// <stem>.safetensors (the features, shape and layout in the metadata), <stem>.png (their rendering) and
// <stem>_sheet.png (image | rendering); config.json, metrics.json (one entry per image, failures with their
// reason) and index.html. Resumable (--resume, tools/preimage/folder_run.h).
#include <cstdio>
#include <filesystem>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/image_io.h"
#include "features/representation.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/folder_run.h"
#include "tools/preimage/gallery.h"
#include "tools/preimage/run_common.h"
#include "tools/preimage/shard.h"
#include "weights/safetensors.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;

struct FeaturesOptions {
  std::string input, out = "out/features", rep = "hog", device = "cpu";
  features::RepresentationOptions rep_options;
  bool gray = false, resume = false;
  int size = 0, threads = 0;
  std::string shard;  // --shard i/n
};

int run_features(const FeaturesOptions& o) {
  apply_threads(o.threads);
  const Device device = select_device(o.device);
  const features::Representation rep = features::make_representation(o.rep, o.rep_options);
  PI_CHECK(device == Device::cpu || o.rep != "sift-grid", "--rep sift-grid runs on the CPU only (its keypoints come "
           "from VLFeat's vl_sift); use --device cpu");
  const Shard shard = parse_shard(o.shard);
  const std::vector<std::string> files = select_shard(collect_images(o.input), shard);
  prepare_output_dir(o.out);
  nlohmann::json config = run_record("features");
  config["input"] = o.input;
  if (shard.active()) config["shard"] = shard_record(shard);
  config["files"] = files;
  config["representation"] = rep.params;
  config["gray"] = o.gray || rep.gray_input;
  config["size"] = o.size;
  config["device"] = device_record(device);
  FolderRun folder(o.out, "file", files, o.resume, config);
  write_json((fs::path(o.out) / "config.json").string(), config);
  for (size_t i = 0; i < files.size() && !folder.stop_requested(); ++i) {
    if (folder.reused(i)) continue;
    const std::string stem = stem_of(files[i]);
    nlohmann::json m = {{"file", files[i]}, {"stem", stem}};
    const auto t0 = std::chrono::steady_clock::now();
    try {
      Tensor image = load_input(files[i], o.gray || rep.gray_input, o.size);
      rep.check_image(image.shape());
      // On the GPU: upload the image, extract there, download the features (the kernels match the CPU bit for bit).
      Tensor f = device == Device::cpu ? rep.extract(image.view())
                                       : rep.extract(image.to(device).view()).to(Device::cpu);
      const double secs = seconds_since(t0);
      nlohmann::json meta = rep.params;
      meta["source"] = files[i];
      meta["image_size"] = {image.shape()[2], image.shape()[3]};
      meta["image_channels"] = image.shape()[1];
      meta["device"] = device_name(device);
      write_safetensors((fs::path(o.out) / (stem + ".safetensors")).string(), {{"features", f.view()}},
                        {{"representation", rep.name},
                         {"layout", "NCHW [1, D, rows, cols]; D channels in VLFeat's order (docs/features)"},
                         {"params", meta.dump()}});
      m["safetensors"] = stem + ".safetensors";
      m["shape"] = f.shape().str();
      GalleryRow row;
      row.stem = stem;
      row.original = std::move(image);
      if (rep.render) {
        row.features = rep.render(f.view(), row.original.shape());
        write_png((fs::path(o.out) / (stem + ".png")).string(), row.features.view());
        m["features_png"] = stem + ".png";
      }
      write_png((fs::path(o.out) / (stem + "_sheet.png")).string(), row.sheet().view());
      m["sheet"] = stem + "_sheet.png";
      m["extract_seconds"] = secs;
      std::fprintf(stderr, "[%zu/%zu] %s: %s %s features %s (%.1f ms)\n", i + 1, files.size(), stem.c_str(),
                   rep.name.c_str(), row.original.shape().str().c_str(), f.shape().str().c_str(), 1e3 * secs);
    } catch (const WriteError&) {
      throw;  // the disk, not the image: the next ones would fail alike (docs/reliability.md)
    } catch (const Error& e) {
      m["error"] = e.what();
      std::fprintf(stderr, "[%zu/%zu] %s: error: %s\n", i + 1, files.size(), stem.c_str(), e.what());
    }
    m["seconds"] = seconds_since(t0);
    folder.record(i, std::move(m));
  }
  const std::string index = (fs::path(o.out) / "index.html").string();
  write_gallery(index, "preimage features --rep " + o.rep, gallery_rows(folder.entries()), config);
  return folder.finish(index);
}

}  // namespace

void register_features(CLI::App& app) {
  auto o = std::make_shared<FeaturesOptions>();
  CLI::App* cmd = app.add_subcommand(
      "features", "Extract HOG / HOGb / DSIFT / LBP / sparse-SIFT features of an image or a folder: writes "
                  "<stem>.safetensors (tensor 'features', [1, D, rows, cols]), <stem>.png (a rendering), <stem>_sheet.png, "
                  "config.json, metrics.json and index.html");
  cmd->add_option("input", o->input, "an image file or a folder of images")->required();
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  cmd->add_option("--rep", o->rep, "hog, hogb, hog-dt, dsift, lbp, sift-grid")->capture_default_str();
  cmd->add_option("--cell-size", o->rep_options.cell_size, "HOG / LBP cell size")->capture_default_str();
  cmd->add_option("--orientations", o->rep_options.orientations, "HOG orientations")->capture_default_str();
  cmd->add_option("--step", o->rep_options.dsift_step, "DSIFT step")->capture_default_str();
  cmd->add_option("--bin-size", o->rep_options.dsift_bin, "DSIFT bin size")->capture_default_str();
  cmd->add_flag("--flat-window", o->rep_options.flat_window, "DSIFT flat window (VLFeat 'fast')");
  cmd->add_option("--lbp-cell", o->rep_options.lbp_cell, "LBP cell size")->capture_default_str();
  cmd->add_flag("--gray", o->gray, "use the gray image even where the representation accepts colour (HOG)");
  cmd->add_option("--size", o->size, "centre-crop to a square and resize to SIZE x SIZE (0 keeps the size)")
      ->check(CLI::Range(0, 4096));
  add_shard_option(cmd, &o->shard);
  add_resume_option(cmd, &o->resume);
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o] { set_exit_code(run_features(*o)); });
}

}  // namespace preimage::tools
