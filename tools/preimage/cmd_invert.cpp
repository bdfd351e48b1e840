// `preimage invert`: pre-images by optimisation (IJCV 2016 sect. 3; CVPR 2015 sect. 2).
//   --rep R (shallow, default hog): for each input image, features of its gray version -> reconstruction(s).
//   --model F --layer L (a CNN layer, seed 001 sect. 5.2): the colour image in the network's input domain -> its
//     layer-L code -> reconstruction(s), with the paper's per-layer C and jitter (solvers/cnn_preimage.h).
// Both write PNGs, contact sheets, config.json, metrics.json and index.html (docs/preimage.md, docs/deep.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "engine/threads.h"
#include "features/representation.h"
#include "solvers/cnn_preimage.h"
#include "solvers/decoder_data.h"
#include "solvers/decoder_trainer.h"
#include "solvers/preimage.h"
#include "solvers/straight_through.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/decoder_setup.h"
#include "tools/preimage/deep_run.h"
#include "tools/preimage/folder_run.h"
#include "tools/preimage/gallery.h"
#include "tools/preimage/run_common.h"
#include "tools/preimage/shard.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// Pixel value the zero-mean optimisation domain is centred on. HOG and DSIFT only see gradients, so the mean is
// not recoverable from the features; we add back the mid-grey rather than the original's mean (which would leak
// information the representation does not carry).
constexpr float kMeanPixel = 128.0f;
// --batch 0 (the default): batch sizes measured on a 2-core CPU (docs/benchmarks.md, "Batched inversion"): on one
// thread a batch is slower per image than one image at a time (its intermediates leave the caches), with two
// threads a batch of 8 runs its samples in parallel and is faster; on CUDA a batch fills the device.
int auto_batch(Device device) {
  if (device == Device::cuda) return 32;
  return num_threads() > 1 ? 8 : 1;
}

struct InvertOptions {
  std::string input, out = "out/invert", rep = "hog", solver = "adagrad", form = "ijcv", device = "cpu";
  std::string init_decoder;  // start from a trained decoder's reconstruction instead of noise
  features::RepresentationOptions rep_options;
  int iterations = 300, restarts = 1, size = 0, snapshot_every = 0, threads = 0;
  int batch = 0;  // --rep: samples (image x restart) optimised together; 0: auto_batch
  float C = 20.0f, beta = 2.0f, alpha = 6.0f, B = 80.0f, eta0 = -1.0f;
  float anneal_from = -1.0f;             // < 0: 0 for --rep (annealed from the start), 1 for --model (the paper's)
  std::string hog_gradient = "bilinear";  // --rep hog: derivative of hard HOG taken through HOGb (straight-through)
  uint64_t seed = 0;
  // CNN inversion (--model)
  std::string model, layer, channel_group, preprocess = "square";
  int mask_window = 0, jitter = 0, final_iterations = 50;
  bool rep_given = false, C_given = false;
  bool resume = false;
  std::string shard;  // --shard i/n
};

double l2_norm(const Tensor& a) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += double(a.data()[i]) * a.data()[i];
  return std::sqrt(s);
}

Tensor shifted(const View& x, float offset) {
  Tensor y = Tensor::copy_of(x);
  for (int64_t i = 0; i < y.numel(); ++i) y.data()[i] += offset;
  return y;
}

// CVPR 2015 eq. 3 with the HOG/DSIFT settings of its sect. 4 (lambda_alpha = 2.16e8, lambda_V = 5): there the
// optimised image is x = image / sigma, sigma the typical Euclidean norm of a natural image. We optimise the image
// in pixel units, so R_alpha(x) = R_alpha(image) / sigma^alpha and R_V(x) = R_V(image) / sigma^beta. sigma is
// taken as B sqrt(H W D / 3): B is the typical norm of an RGB pixel, so B / sqrt(3) per channel.
void set_cvpr_weights(solvers::ObjectiveParams& p, const Shape& image) {
  const double sigma = p.B * std::sqrt(double(image[1]) * image[2] * image[3] / 3.0);
  p.C = 1.0f;
  p.lambda_alpha = static_cast<float>(2.16e8 / std::pow(sigma, p.alpha));
  p.lambda_tv = static_cast<float>(5.0 / std::pow(sigma, p.beta));
}

json terms_json(const solvers::ObjectiveTerms& t) {
  return {{"objective", t.total}, {"loss", t.loss}, {"r_alpha", t.r_alpha}, {"r_tv", t.r_tv}};
}

// The VLFeat-exact features of a host image, computed on `device` and brought back to the host (the CUDA HOG,
// DSIFT and LBP kernels match the CPU reference bit for bit).
Tensor extract_on(const features::Representation& rep, const Tensor& image, Device device) {
  if (device == Device::cpu) return rep.extract(image.view());
  Tensor on_device = image.to(device);
  return rep.extract(on_device.view()).to(Device::cpu);
}

// One input of `preimage invert --rep`: its target on the solver's device and what its outputs need, filled as its
// restarts finish (possibly in several batches).
struct InvertJob {
  size_t fi = 0;
  std::string file, stem;
  json m;
  std::chrono::steady_clock::time_point t0;
  Tensor image, phi0, ref_features, init;  // image [1, 1, H, W] 0..255; init [1, 1, S, S] in the solver's domain
  double ref_norm = 0;
  solvers::ObjectiveParams obj;
  GalleryRow row;          // reconstructions and errors by restart
  std::vector<json> runs;  // by restart
  std::string error;           // set: the input failed (recorded with this reason)
};

int run_invert(const InvertOptions& o) {
  apply_threads(o.threads);
  const Device device = select_device(o.device);
  const features::Representation rep = features::make_representation(o.rep, o.rep_options);
  PI_CHECK(rep.differentiable && rep.phi, "--rep ", o.rep, " is not differentiable and cannot be inverted");
  PI_CHECK(o.hog_gradient == "hard" || o.hog_gradient == "bilinear", "--hog-gradient must be hard or bilinear, got ",
           o.hog_gradient);
  // Hard HOG's own derivative cannot move an edge into another orientation bin; HOGb's can (docs/preimage.md).
  const bool use_straight_through = o.rep == "hog" && o.hog_gradient == "bilinear";
  const solvers::Representation phi =
      use_straight_through ? solvers::straight_through(rep.phi, features::make_representation("hogb", o.rep_options).phi)
                       : rep.phi;
  PI_CHECK(o.solver == "adagrad" || o.solver == "momentum", "--solver must be adagrad or momentum");
  PI_CHECK(o.form == "ijcv" || o.form == "cvpr", "--form must be ijcv or cvpr");
  for (auto [name, v] : {std::pair{"--C", o.C}, {"--beta", o.beta}, {"--alpha", o.alpha}, {"--B", o.B}})
    PI_CHECK(std::isfinite(v) && v > 0, name, " must be a positive finite number, got ", v);
  PI_CHECK(!(o.eta0 > 0) || std::isfinite(o.eta0), "--eta0 must be finite");
  // Decoder-initialised optimisation: the decoder's reconstruction of each image, in the solver's domain (gray
  // minus the mean pixel), is the starting point; the objective is unchanged.
  std::unique_ptr<DecoderSetup> init_dec;
  if (!o.init_decoder.empty()) {
    init_dec = std::make_unique<DecoderSetup>(open_decoder(o.init_decoder, ""));
    const weights::DecoderFile& df = init_dec->file;
    PI_CHECK(df.representation == o.rep && weights::rep_options_json(df.rep_options) ==
                                               weights::rep_options_json(o.rep_options),
             "--init-decoder ", o.init_decoder, " decodes ", df.representation, " ",
             weights::rep_options_json(df.rep_options).dump(), "; this run inverts ", o.rep, " ",
             weights::rep_options_json(o.rep_options).dump(), ": give a decoder of the same representation");
    PI_CHECK(o.size == df.image_size, "--init-decoder ", o.init_decoder, " reconstructs ", df.image_size, "x",
             df.image_size, " images; give --size ", df.image_size, " (got --size ", o.size, ")");
    init_dec->file.decoder.to(device);
  }
  const Shard shard = parse_shard(o.shard);
  const std::vector<std::string> files = select_shard(collect_images(o.input), shard);
  prepare_output_dir(o.out);
  if (o.snapshot_every > 0) prepare_output_dir((fs::path(o.out) / "snapshots").string());

  solvers::ObjectiveParams obj;
  obj.C = o.C;
  obj.beta = o.beta;
  obj.alpha = o.alpha;
  obj.B = o.B;
  obj.B_plus = 2 * o.B;
  obj.V = o.B / 6.5f;
  obj.form = o.form == "ijcv" ? solvers::ObjectiveForm::ijcv : solvers::ObjectiveForm::cvpr;
  solvers::SolverParams sp;
  sp.kind = o.solver == "adagrad" ? solvers::SolverKind::adagrad : solvers::SolverKind::momentum;
  sp.iterations = o.iterations;
  sp.eta0 = o.eta0;
  sp.anneal_from = o.anneal_from >= 0 ? o.anneal_from : 0.0f;

  json config = run_record("invert");
  config["input"] = o.input;
  if (shard.active()) config["shard"] = shard_record(shard);
  config["files"] = files;
  config["representation"] = rep.params;
  config["objective"] = {{"form", o.form}, {"C", obj.C},         {"alpha", obj.alpha}, {"B", obj.B},
                         {"B_plus", obj.B_plus}, {"beta", obj.beta}, {"V", obj.V}, {"jitter", obj.jitter}};
  if (o.form == "cvpr")
    config["objective"]["cvpr_weights"] =
        "C = 1, lambda_alpha = 2.16e8 / sigma^alpha, lambda_V = 5 / sigma^beta, sigma = B sqrt(H W D / 3)";
  config["solver"] = {{"kind", o.solver}, {"iterations", sp.iterations}, {"rho", sp.rho},
                      {"eta0", sp.eta0 > 0 ? json(sp.eta0) : json("0.01 B^2/alpha * H W")},
                      {"anneal_from", sp.anneal_from}};
  config["gradient"] = use_straight_through ? "straight-through: hard HOG's value, HOGb's derivative"
                                        : "the representation's own derivative";
  config["seed"] = o.seed;
  config["device"] = device_record(device);
  config["restarts"] = o.restarts;
  const int batch = o.batch > 0 ? o.batch : auto_batch(device);
  config["batch"] = batch;
  config["size"] = o.size;
  config["mean_pixel"] = kMeanPixel;
  config["input_processing"] = "gray (ITU-R 601), centre square + resize when --size > 0";
  config["init"] = init_dec ? json{{"decoder", init_dec->record()},
                                   {"definition", "the decoder's reconstruction of the image, in gray (ITU-R 601), "
                                                  "is the starting point of every restart; written as "
                                                  "<stem>_init.png"}}
                            : json("noise");
  FolderRun folder(o.out, "file", files, o.resume, config);
  write_json((fs::path(o.out) / "config.json").string(), config);

  std::vector<int> snaps;
  for (int it = o.snapshot_every; o.snapshot_every > 0 && it <= o.iterations; it += o.snapshot_every)
    snaps.push_back(it);
  Progress progress(50);
  // Prepares file fi: its target on the solver's device and what its outputs need. Throws preimage::Error for a
  // file that cannot be inverted (the caller records it).
  auto prepare = [&](InvertJob& job) {
    const std::string& file = job.file;
    Tensor image = load_input(file, true, o.size);
    rep.check_image(image.shape());
    Tensor x0 = shifted(image.view(), -kMeanPixel);
    job.obj = obj;
    if (obj.form == solvers::ObjectiveForm::cvpr) set_cvpr_weights(job.obj, image.shape());
    // The target is computed by the same differentiable network the solver optimises through, on the solver's
    // device, where it stays (only its norm is read back, once).
    {
      Tape t(device);
      Tensor x0d = device == Device::cpu ? Tensor() : x0.to(device);
      Var f = t.leaf(device == Device::cpu ? x0.view() : x0d.view(), false);
      job.phi0 = Tensor::copy_of(t.value(rep.phi(t, f)));
    }
    PI_CHECK(l2_norm(job.phi0.to(Device::cpu)) > 0, file,
             ": the image's features are all zero (a flat image?): nothing to invert");
    job.ref_features = extract_on(rep, image, device);
    job.ref_norm = l2_norm(job.ref_features);
    job.m["size"] = {image.shape()[2], image.shape()[3]};
    job.row.stem = job.stem;
    job.row.original = image.clone();
    if (rep.render) {
      job.row.features = rep.render(job.ref_features.view(), image.shape());
      write_png((fs::path(o.out) / (job.stem + "_features.png")).string(), job.row.features.view());
    }
    if (init_dec) {
      Tensor window, f;
      init_dec->load(file, &window, &f);
      const Tensor guess = solvers::decode_batch(init_dec->file.decoder, f.view(), device);  // [1, 3, S, S]
      const Tensor gray = rgb_to_gray(guess.view());
      write_png((fs::path(o.out) / (job.stem + "_init.png")).string(), gray.view());
      job.m["init_png"] = job.stem + "_init.png";
      // The decoder alone, measured as the reconstructions are (VLFeat-exact features of the gray start).
      job.m["init_feature_error"] =
          l2_distance(extract_on(rep, gray, device).view(), job.ref_features.view()) / job.ref_norm;
      job.init = shifted(gray.view(), -kMeanPixel);  // [1, 1, S, S] in the solver's domain
    }
    job.image = std::move(image);
    job.runs.assign(static_cast<size_t>(o.restarts), json());
    job.row.reconstructions.resize(static_cast<size_t>(o.restarts));
    job.row.errors.resize(static_cast<size_t>(o.restarts));
  };
  auto run_name = [&](const InvertJob& job, int r) {
    return o.restarts > 1 ? job.stem + "_r" + std::to_string(r) : job.stem;
  };
  // Inverts samples (job, restart) of one image shape together and writes each one's outputs.
  auto run_batch = [&](std::vector<InvertJob>& jobs, const std::vector<std::pair<size_t, int>>& members) {
    const size_t k = members.size();
    const InvertJob& first = jobs[members[0].first];
    Shape shape = first.image.shape();
    shape[0] = static_cast<int64_t>(k);
    Shape fshape = first.phi0.shape();
    fshape[0] = static_cast<int64_t>(k);
    Tensor phi0 = k == 1 ? Tensor() : Tensor::empty(fshape, device);
    Tensor init = k == 1 || !init_dec ? Tensor() : Tensor::empty(shape);
    solvers::BatchProblem pb;
    pb.phi = phi;
    pb.image_shape = shape;
    for (size_t i = 0; i < k; ++i) {
      const InvertJob& job = jobs[members[i].first];
      pb.seeds.push_back(o.seed + static_cast<uint64_t>(members[i].second));
      if (k > 1) {
        copy_floats(phi0.view().batch(static_cast<int64_t>(i)).data, device, job.phi0.data(), device,
                    static_cast<size_t>(job.phi0.numel()));
        if (init_dec)
          std::copy(job.init.data(), job.init.data() + job.init.numel(),
                    init.view().batch(static_cast<int64_t>(i)).data);
      }
    }
    const View phi0v = k == 1 ? first.phi0.view() : phi0.view();
    const View initv = !init_dec ? View() : k == 1 ? first.init.view() : init.view();
    pb.phi0 = &phi0v;
    if (init_dec) pb.init = &initv;
    const size_t fa = members.front().first, fb = members.back().first;
    const std::string label =
        k == 1 ? "[" + std::to_string(first.fi + 1) + "/" + std::to_string(files.size()) + "] " +
                     run_name(first, members[0].second)
               : "[" + std::to_string(jobs[fa].fi + 1) + "-" + std::to_string(jobs[fb].fi + 1) + "/" +
                     std::to_string(files.size()) + "] batch of " + std::to_string(k);
    const auto tr = std::chrono::steady_clock::now();
    solvers::BatchResult res = solvers::invert_batch(
        pb, first.obj, sp,
        [&](int it, const solvers::ObjectiveTerms& terms) {
          char line[320];
          std::snprintf(line, sizeof line, "%s: iter %d/%d  E %.4f  loss %.4f  R_a %.4f  R_tv %.4f%s",
                        label.c_str(), it, o.iterations, terms.total, terms.loss, terms.r_alpha, terms.r_tv,
                        k > 1 ? " (sums)" : "");
          progress.update(line, it, o.iterations);
        },
        snaps,
        [&](int it, const View& x) {
          for (size_t i = 0; i < k; ++i) {
            Tensor shown = shifted(x.batch(static_cast<int64_t>(i)), kMeanPixel);
            write_png((fs::path(o.out) / "snapshots" /
                       (run_name(jobs[members[i].first], members[i].second) + "_it" + std::to_string(it) + ".png"))
                          .string(),
                      shown.view());
          }
        });
    // A batch's wall time is shared by its samples: each run's "seconds" is its share.
    const double secs = seconds_since(tr) / static_cast<double>(k);
    const Tensor images = res.images.to(Device::cpu);
    for (size_t i = 0; i < k; ++i) {
      InvertJob& job = jobs[members[i].first];
      const int r = members[i].second;
      const std::string name = run_name(job, r);
      Tensor recon = shifted(images.view().batch(static_cast<int64_t>(i)), kMeanPixel);
      Tensor rec_features = extract_on(rep, recon, device);
      const double err = l2_distance(rec_features.view(), job.ref_features.view()) / job.ref_norm;
      json run = {{"restart", r}, {"seed", pb.seeds[i]}, {"feature_error", err},
                  {"final", terms_json(res.final_terms[i])}, {"seconds", secs}, {"batch", k}};
      run.update(write_reconstruction(o.out, name, recon.view()));
      job.runs[static_cast<size_t>(r)] = run;
      char line[200];
      std::snprintf(line, sizeof line, "[%zu/%zu] %s: feature error %.1f %% (%.2f s%s)", job.fi + 1, files.size(),
                    name.c_str(), 100 * err, secs, k > 1 ? " per image of the batch" : "");
      progress.done(line);
      job.row.reconstructions[static_cast<size_t>(r)] = std::move(recon);
      job.row.errors[static_cast<size_t>(r)] = err;
    }
  };
  // Runs a batch; when it fails (a non-finite objective in some sample), runs each of its samples alone so that the
  // others still finish, with the results they would have had in the batch, and the failing one is named.
  auto run_or_split = [&](std::vector<InvertJob>& jobs, const std::vector<std::pair<size_t, int>>& members) {
    try {
      run_batch(jobs, members);
      return;
    } catch (const WriteError&) {
      throw;
    } catch (const Error& e) {
      if (members.size() == 1) {
        InvertJob& job = jobs[members[0].first];
        if (job.error.empty()) job.error = e.what();
        return;
      }
    }
    for (const auto& sample : members) {
      if (jobs[sample.first].error.empty()) {
        try {
          run_batch(jobs, {sample});
        } catch (const WriteError&) {
          throw;
        } catch (const Error& e) {
          jobs[sample.first].error = e.what();
        }
      }
    }
  };
  auto finish_job = [&](InvertJob& job) {
    if (job.error.empty()) {
      try {
        job.m["runs"] = job.runs;
        job.m["feature_error"] = job.runs[0]["feature_error"];
        job.m["sheet"] = job.stem + "_sheet.png";
        write_png((fs::path(o.out) / (job.stem + "_sheet.png")).string(), job.row.sheet().view());
      } catch (const WriteError&) {
        throw;
      } catch (const Error& e) {
        job.error = e.what();
      }
    }
    if (!job.error.empty()) {
      job.m.erase("runs");
      job.m.erase("feature_error");
      job.m.erase("sheet");
      job.m["error"] = job.error;
      std::fprintf(stderr, "[%zu/%zu] %s: error: %s\n", job.fi + 1, files.size(), job.stem.c_str(),
                   job.error.c_str());
    }
    job.m["seconds"] = seconds_since(job.t0);
    folder.record(job.fi, std::move(job.m));
  };
  // Chunks of consecutive files holding about --batch samples (file x restart); within a chunk the samples are
  // grouped by image size (no padding), each group inverted in batches of at most --batch.
  size_t fi = 0;
  while (fi < files.size() && !folder.stop_requested()) {
    std::vector<InvertJob> jobs;
    int samples = 0;
    for (; fi < files.size() && samples < batch && !folder.stop_requested(); ++fi) {
      if (folder.reused(fi)) continue;
      InvertJob job;
      job.fi = fi;
      job.file = files[fi];
      job.stem = stem_of(job.file);
      job.m = {{"file", job.file}, {"stem", job.stem}};
      job.t0 = std::chrono::steady_clock::now();
      try {
        prepare(job);
        samples += o.restarts;
      } catch (const WriteError&) {
        throw;
      } catch (const Error& e) {
        job.error = e.what();
      }
      jobs.push_back(std::move(job));
    }
    std::vector<bool> grouped(jobs.size(), false);
    for (size_t j = 0; j < jobs.size(); ++j) {
      if (grouped[j] || !jobs[j].error.empty()) continue;
      std::vector<std::pair<size_t, int>> group;
      for (size_t q = j; q < jobs.size(); ++q) {
        if (grouped[q] || !jobs[q].error.empty() || !(jobs[q].image.shape() == jobs[j].image.shape())) continue;
        grouped[q] = true;
        for (int r = 0; r < o.restarts; ++r) {
          group.emplace_back(q, r);
          if (static_cast<int>(group.size()) == batch) {
            if (!folder.stop_requested()) run_or_split(jobs, group);
            group.clear();
          }
        }
      }
      if (!group.empty() && !folder.stop_requested()) run_or_split(jobs, group);
    }
    // After a SIGINT/SIGTERM the batch under way finishes; inputs with restarts still to run are left for --resume.
    for (InvertJob& job : jobs)
      if (!job.error.empty() || std::all_of(job.runs.begin(), job.runs.end(), [](const json& r) { return !r.is_null(); }))
        finish_job(job);
  }
  const std::string index = (fs::path(o.out) / "index.html").string();
  write_gallery(index, "preimage invert --rep " + o.rep, gallery_rows(folder.entries()), config);
  return folder.finish(index);
}


// "K/G" -> (K, G); 0/0 when empty.
std::pair<int, int> parse_channel_group(const std::string& s) {
  if (s.empty()) return {0, 0};
  const size_t slash = s.find('/');
  int k = 0, g = 0;
  try {
    size_t a = 0, b = 0;
    PI_CHECK(slash != std::string::npos, "");
    k = std::stoi(s.substr(0, slash), &a);
    g = std::stoi(s.substr(slash + 1), &b);
    PI_CHECK(a == slash && b == s.size() - slash - 1, "");
  } catch (const std::exception&) {
    fail("--channel-group '", s, "': expected K/G, e.g. 1/2 for the first half of the channels");
  }
  return {k, g};
}

// CNN layer inversion (seed 001 sect. 5.2; docs/deep.md).
int run_invert_model(const InvertOptions& o) {
  apply_threads(o.threads);
  PI_CHECK(!o.rep_given, "--rep and --model are mutually exclusive: --rep inverts a shallow representation (hog, "
           "hogb, hog-dt, dsift), --model a layer of a network file");
  PI_CHECK(!o.layer.empty(), "--model needs --layer NAME, the layer to invert");
  PI_CHECK(o.solver == "adagrad" && o.form == "ijcv", "--model inverts with the IJCV objective and Algorithm 1; "
           "--solver momentum and --form cvpr are for --rep only");
  DeepOptions d;
  d.model = o.model;
  d.layer = o.layer;
  d.out = o.out;
  d.size = o.size;
  d.iterations = o.iterations;
  d.final_iterations = o.final_iterations;
  d.restarts = o.restarts;
  d.snapshot_every = o.snapshot_every;
  d.C = o.C_given ? o.C : -1.0f;
  d.jitter = o.jitter;
  d.alpha = o.alpha;
  d.beta = o.beta;
  d.B = o.B;
  d.eta0 = o.eta0;
  d.seed = o.seed;
  d.device = o.device;
  d.preprocess = o.preprocess;
  check_deep_options(d);
  const Device device = select_device(o.device);
  const auto [group, groups] = parse_channel_group(o.channel_group);
  LoadedModel lm = load_model(o.model);
  const layers::Network& net = lm.net;
  net.layer_index(o.layer);  // an unknown layer lists the valid names
  const Shard shard = parse_shard(o.shard);
  const std::vector<std::string> files = select_shard(collect_images(o.input), shard);
  const int64_t h = o.size > 0 ? o.size : net.preprocessing.input_h, w = o.size > 0 ? o.size : net.preprocessing.input_w;
  // Decoder-initialised optimisation: the decoder's reconstruction of the block output of the inverted layer,
  // upsampled bilinearly to the input size (as seed 002 compares it) and moved to the network's input domain.
  std::unique_ptr<DecoderSetup> init_dec;
  if (!o.init_decoder.empty()) {
    init_dec = std::make_unique<DecoderSetup>(open_decoder(o.init_decoder, o.model));  // refuses shallow ones
    const CnnDecoderInput& c = *init_dec->cnn;
    PI_CHECK(o.layer == c.output_layer, "--init-decoder ", o.init_decoder, " decodes ", c.layer, " (the output of ",
             c.output_layer, "); this run inverts ", o.layer, ": give --layer ", c.output_layer,
             " or a decoder of ", o.layer);
    PI_CHECK(h == c.input_size && w == c.input_size, "--init-decoder ", o.init_decoder, " was trained on ",
             c.input_size, "x", c.input_size, " windows; this run inverts ", h, "x", w, " images: give --size ",
             c.input_size);
    init_dec->file.decoder.to(device);
  }
  lm.net.to(device);

  // The masks depend only on the layer's output shape at the run's image size: check them before writing anything.
  const Shape feature_shape = layer_output_shape(net, o.layer, Shape{1, 3, h, w});
  Tensor mask;
  if (o.mask_window > 0) mask = solvers::window_mask(feature_shape, o.mask_window);
  if (groups > 0) mask = solvers::combine_masks(std::move(mask), solvers::channel_group_mask(feature_shape, group, groups));
  prepare_output_dir(o.out);
  if (o.snapshot_every > 0) prepare_output_dir((fs::path(o.out) / "snapshots").string());

  solvers::ObjectiveParams obj = deep_objective(d);
  obj.loss = solvers::LossKind::l2;
  obj.C = o.C_given ? o.C : solvers::default_C(net, o.layer);
  obj.jitter = o.jitter > 0 ? o.jitter : solvers::default_jitter(net, o.layer);
  DeepRun run;
  run.kind = DeepKind::inversion;
  run.solver.iterations = o.iterations;
  run.solver.eta0 = o.eta0;
  run.solver.anneal_from = o.anneal_from >= 0 ? o.anneal_from : 1.0f;
  run.final_stage.iterations = o.final_iterations;
  run.names = files;
  run.resume = o.resume;
  run.title = "preimage invert --model " + net.name + " --layer " + o.layer +
              (lm.random_weights ? " [RANDOM WEIGHTS]" : "");

  json config = deep_config("invert", lm, d, obj, run.solver, device, h, w);
  config["input"] = o.input;
  if (shard.active()) config["shard"] = shard_record(shard);
  config["files"] = files;
  config["objective"]["C_source"] =
      o.C_given ? "--C" : "seed 001 sect. 5.2.1 per-layer rule (solvers/cnn_preimage.h default_C)";
  config["objective"]["jitter_source"] =
      o.jitter > 0 ? "--jitter" : "max(round(stride / 4), 1), stride of the layer's receptive field";
  config["solver"]["anneal_from"] = run.solver.anneal_from;
  config["solver"]["final_stage"] = {{"iterations", run.final_stage.iterations},
                                     {"rate_factor", run.final_stage.rate_factor}, {"jitter", 1}};
  config["mask"] = {{"window", o.mask_window}, {"channel_group", o.channel_group.empty() ? json(nullptr)
                                                                                       : json(o.channel_group)}};
  config["input_processing"] = {{"preprocess", o.preprocess}, {"then", "minus the network's mean"}};
  if (init_dec)
    config["init"] = {{"decoder", init_dec->record()},
                      {"definition", "the decoder's reconstruction of the image's " + init_dec->cnn->output_layer +
                                         " code, upsampled bilinearly to the input size, minus the network's mean, "
                                         "is the starting point of every restart; written as <stem>_init.png"}};
  run.prepare = [&](size_t i) {
    DeepJob job;
    job.stem = stem_of(files[i]);
    job.shown = load_network_input(net, files[i], o.size, o.preprocess);
    job.image_shape = job.shown.shape();
    layer_output_shape(net, o.layer, job.image_shape);
    Tensor x0 = net.preprocess(job.shown.view());
    job.phi0 = layer_features(net, o.layer, x0.view());
    job.phi_x0 = job.phi0.clone();
    if (mask.defined()) job.mask = mask.clone();
    double sq = 0;
    for (int64_t k = 0; k < job.phi0.numel(); ++k) {
      const double v = double(job.phi0.data()[k]) * (mask.defined() ? mask.data()[k] : 1.0f);
      sq += v * v;
    }
    PI_CHECK(sq > 0, files[i], ": the ", o.layer, " code of this image is all zeros", mask.defined() ? " inside the mask" : "",
             "; nothing to invert");
    job.objective = obj;
    if (init_dec) {
      Tensor f = solvers::window_features(init_dec->rep, job.shown.view());
      init_dec->check_features(f, files[i]);
      const Tensor guess = solvers::decode_batch(init_dec->file.decoder, f.view(), device);  // [1, 3, T, T]
      const Tensor up = resize_bilinear(guess.view(), job.image_shape[2], job.image_shape[3]);
      write_png((fs::path(o.out) / (job.stem + "_init.png")).string(), up.view());
      job.info["init_png"] = job.stem + "_init.png";
      job.init = net.preprocess(up.view());
      // The decoder alone, measured as the inversions are (metrics.json feature_error).
      job.info["init_feature_error"] =
          relative_error(layer_features(net, o.layer, job.init.view()), job.phi0, mask.defined() ? &mask : nullptr);
    }
    return job;
  };
  return run_deep(lm, d, run, config);
}
}  // namespace

void register_invert(CLI::App& app) {
  auto o = std::make_shared<InvertOptions>();
  CLI::App* cmd = app.add_subcommand(
      "invert",
      "Reconstruct images from their HOG / HOGb / DSIFT features (--rep) or from a CNN layer (--model F --layer L) "
      "by regularised optimisation (IJCV 2016 eq. 1, Algorithm 1). With --rep, as in the papers, each image is "
      "converted to gray and inverted from the features of its gray version; with --model, the colour image is "
      "inverted in the network's input domain with the per-layer C and jitter of IJCV sect. 5.2 (docs/deep.md). "
      "Writes <stem>.png (restarts: <stem>_r<k>.png) and its lossless <stem>_16bit.png, <stem>_features.png "
      "(rendering of the features; --model: the layer's channels as a grid), <stem>_sheet.png (original | features "
      "| reconstructions contrast-stretched for display), config.json, metrics.json and index.html under --out.");
  cmd->add_option("input", o->input, "an image file or a folder of images")->required();
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  CLI::Option* rep_opt =
      cmd->add_option("--rep", o->rep, "representation: hog, hogb, hog-dt, dsift")->capture_default_str();
  cmd->add_option("--model", o->model, "CNN network file (.safetensors) to invert a layer of, instead of --rep");
  cmd->add_option("--layer", o->layer, "--model: layer to invert (conv1, relu1, ..., fc8; conv5_3 for VGG-VD-16)");
  add_preprocess_option(cmd, &o->preprocess);
  cmd->add_option("--mask-window", o->mask_window,
                  "--model: keep only the central N x N window of the layer's map (IJCV Fig. 9: 5)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--channel-group", o->channel_group,
                  "--model: keep only channel group K of G, 1-based (IJCV Fig. 10: 1/2 or 2/2)");
  cmd->add_option("--jitter", o->jitter, "--model: jitter T (default max(round(stride/4), 1) of the layer)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--final-iters", o->final_iterations,
                  "--model: iterations of the final no-jitter stage at 0.1 x the rate (authors' code: 50)")
      ->capture_default_str()->check(CLI::Range(0, 100000));
  cmd->add_option("--cell-size", o->rep_options.cell_size, "HOG cell size")->capture_default_str();
  cmd->add_option("--orientations", o->rep_options.orientations, "HOG orientations")->capture_default_str();
  cmd->add_option("--step", o->rep_options.dsift_step, "DSIFT step")->capture_default_str();
  cmd->add_option("--bin-size", o->rep_options.dsift_bin, "DSIFT bin size")->capture_default_str();
  cmd->add_flag("--flat-window", o->rep_options.flat_window, "DSIFT flat window (VLFeat 'fast')");
  cmd->add_option("--iters", o->iterations, "iterations T")->capture_default_str()->check(CLI::Range(1, 100000));
  CLI::Option* C_opt = cmd->add_option(
      "--C", o->C, "loss weight C (--rep: 20, IJCV sect. 5.1; --model: 300/100/20/1 by layer, sect. 5.2.1)");
  cmd->add_option("--beta", o->beta, "TV exponent beta")->capture_default_str();
  cmd->add_option("--alpha", o->alpha, "N_alpha exponent")->capture_default_str();
  cmd->add_option("--B", o->B, "typical pixel norm B (B+ = 2B, V = B/6.5)")->capture_default_str();
  cmd->add_option("--eta0", o->eta0, "Algorithm 1 learning rate (default 0.01 B^2/alpha x H W)");
  cmd->add_option("--anneal-from", o->anneal_from,
                  "scale Algorithm 1's step down linearly to 0 from iteration F*T on (default: 0 for --rep, 1 = never "
                  "for --model, the paper's)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--hog-gradient", o->hog_gradient,
                  "--rep hog: bilinear (hard HOG's value, HOGb's derivative: straight-through) or hard")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "random seed of the initial image (restart k uses seed + k)")
      ->capture_default_str();
  cmd->add_option("--restarts", o->restarts, "reconstructions per image from different seeds")
      ->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--solver", o->solver, "adagrad (IJCV Algorithm 1) or momentum (CVPR)")->capture_default_str();
  cmd->add_option("--form", o->form, "objective: ijcv (N_alpha + TV^beta + C loss) or cvpr (eq. 3)")
      ->capture_default_str();
  cmd->add_option("--init-decoder", o->init_decoder, "start from the reconstruction of a decoder trained by "
                  "train-decoder instead of noise: --rep: of the same representation, --size = its image size; "
                  "--model: of the same network file, --layer = the block output it decodes (pool5 for conv5)");
  cmd->add_option("--size", o->size, "centre-crop to a square and resize to SIZE x SIZE (0 keeps the image size)")
      ->capture_default_str()->check(CLI::Range(0, 4096));
  cmd->add_option("--snapshots", o->snapshot_every, "write a snapshot every N iterations to snapshots/")
      ->check(CLI::Range(0, 100000));
  CLI::Option* batch_opt = cmd->add_option("--batch", o->batch,
                  "--rep: invert up to B images (x restarts) of one size together, one tape pass per iteration; "
                  "each result is bit for bit the one of inverting the image alone. 0 (default): 1 on one CPU "
                  "thread, 8 with several, 32 on CUDA")
      ->capture_default_str()->check(CLI::Range(0, 4096));
  add_shard_option(cmd, &o->shard);
  add_resume_option(cmd, &o->resume);
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o, rep_opt, C_opt, batch_opt] {
    o->rep_given = rep_opt->count() > 0;
    o->C_given = C_opt->count() > 0;
    if (!o->model.empty()) {
      PI_CHECK(batch_opt->count() == 0, "--batch is for --rep; --model inverts one image at a time");
      set_exit_code(run_invert_model(*o));
      return;
    }
    PI_CHECK(o->layer.empty() && o->mask_window == 0 && o->channel_group.empty() && o->jitter == 0,
             "--layer, --mask-window, --channel-group and --jitter need --model (a CNN network file)");
    set_exit_code(run_invert(*o));
  });
}

}  // namespace preimage::tools
