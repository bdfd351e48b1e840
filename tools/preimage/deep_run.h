#pragma once
// What `invert --model`, `actmax` and `caricature` share (seed 001 sects. 5.2, 6, 7; docs/deep.md): loading a network
// file (and saying when its weights are random), the options, preparing images in the network's input domain, and
// the run loop that writes the same outputs as the shallow `invert` (PNGs per restart, snapshots, contact sheets,
// metrics.json, index.html; config.json is written by the caller).
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "layers/network.h"
#include "solvers/cnn_preimage.h"

namespace preimage::tools {

// The text every output of a random-weight network carries.
extern const char* const kRandomWeightsNote;

struct LoadedModel {
  layers::Network net;
  std::string path;
  bool random_weights = false;  // metadata preimage.random_weights = "true" (written by `preimage init-weights`)
  nlohmann::json record;        // for config.json: file, model, head widths, preprocessing, metadata
};
// Reads and validates a network file (weights/model_weights.h); errors name the file.
LoadedModel load_model(const std::string& path);
// The network file's class names (metadata "preimage.class_names", a JSON array the converter stores when the
// source file has them), or "class <k>" when it has none. Throws when the metadata is malformed or of another size.
std::vector<std::string> class_names(const LoadedModel& lm, int64_t classes);

// Options of the deep commands (the names match the shallow `invert`'s where they mean the same).
struct DeepOptions {
  std::string model, layer, out;
  int size = 0;              // 0: the network's nominal input size
  int iterations = 300;      // T of the first (jittered) stage
  int final_iterations = 50; // the no-jitter final stage (inversion; 0 for actmax and caricature)
  int restarts = 1, snapshot_every = 0, threads = 0;
  float C = -1.0f;           // <= 0: the command's default (per-layer rule for inversion, 1 otherwise)
  int jitter = 0;            // 0: max(round(stride / 4), 1)
  float alpha = 6.0f, beta = 2.0f, B = 80.0f, eta0 = -1.0f;
  uint64_t seed = 0;
  std::string device = "cpu";  // --device; the network must already be there when run_deep starts
  std::string preprocess = "square";  // --preprocess (load_network_input)
};
// Adds --model --layer --out --size --iters --C --jitter --alpha --beta --B --eta0 --seed --restarts --snapshots
// --threads --device (actmax and caricature; invert adds its own).
void add_deep_options(CLI::App* cmd, DeepOptions* o, int default_iterations);
// Checks the numeric options (positive, finite) and throws naming the option.
void check_deep_options(const DeepOptions& o);

// Reads an RGB image and brings it to size x size (size > 0) or to the network's nominal input size, by
// `preprocess` (docs/deep.md "Input preprocessing"):
//   square       the centred square, resized anti-aliased (resize_antialiased);
//   caffe        the whole image warped to 256x256 by plain bilinear interpolation (Caffe's OpenCV resize),
//                then the centred crop (the published Caffe models' evaluation);
//   torchvision  shorter side resized anti-aliased to 256 (PIL/torchvision Resize(256)), then the centred crop.
Tensor load_network_input(const layers::Network& net, const std::string& path, int size,
                          const std::string& preprocess = "square");
// Adds --preprocess square|caffe|torchvision.
void add_preprocess_option(CLI::App* cmd, std::string* preprocess);
extern const char* const kPreprocessingHelp;
// The layer's output shape for `image_shape`, with a clear error when the image is too small for the layer.
Shape layer_output_shape(const layers::Network& net, const std::string& layer, const Shape& image_shape);
// Phi(x) of layer `layer` for a zero-mean image x [1, 3, H, W] (no gradient), computed on the network's device (x is
// uploaded there when it is elsewhere), as a host tensor.
Tensor layer_features(const layers::Network& net, const std::string& layer, const View& x);
// ||(a - b) . m|| / ||b . m|| over host tensors of one size (m null: all ones): the feature error of inversion.
double relative_error(const Tensor& a, const Tensor& b, const Tensor* m);
// Layer facts for config.json: index, kind, receptive field, channels.
nlohmann::json layer_record(const layers::Network& net, const std::string& layer);
// The objective and solver settings for config.json.
nlohmann::json objective_record(const solvers::ObjectiveParams& p);
// The IJCV priors from the options: alpha, beta, B, B+ = 2B, V = B/6.5 (the loss, C, Z and jitter are the caller's).
solvers::ObjectiveParams deep_objective(const DeepOptions& o);
// config.json's fields common to the three commands: run_record(command), the model and whether its weights are
// random, the layer, the objective, Algorithm 1's settings, seed, device, restarts and the image size h x w.
nlohmann::json deep_config(const std::string& command, const LoadedModel& lm, const DeepOptions& o,
                           const solvers::ObjectiveParams& obj, const solvers::SolverParams& solver, Device device,
                           int64_t h, int64_t w);

enum class DeepKind { inversion, actmax, caricature };

// One target of a run: an input image (inversion, caricature) or a unit (actmax).
struct DeepJob {
  std::string stem;
  Tensor shown;         // [1, 3, H, W] 0..255: the first tile of the contact sheet (the input; actmax: mean + box)
  Tensor phi0;          // target of the loss, [1, C, h, w]
  Tensor phi_x0;        // Phi(x0) when there is an input image (feature errors); may be undefined
  Tensor mask;          // optional (inversion)
  Tensor init;          // optional zero-mean starting image (caricature)
  Shape image_shape;    // [1, 3, H, W]
  solvers::ObjectiveParams objective;
  int64_t unit = -1;    // actmax: the unit's channel (its centre position is phi0's one)
  double M = 0;         // actmax: the normalising maximum
  nlohmann::json info;  // extra fields for metrics.json
};

struct DeepRun {
  DeepKind kind = DeepKind::inversion;
  std::string title;                         // index.html's title
  std::vector<std::string> names;            // one per job (file names or unit labels), for progress and metrics
  std::function<DeepJob(size_t)> prepare;    // builds job i; an Error is recorded for that job and the run goes on
  solvers::SolverParams solver;              // iterations, eta0 (seed set per restart)
  solvers::FinalStage final_stage;           // iterations 0: none
  bool resume = false;                       // keep the jobs an earlier run in o.out finished (FolderRun)
};

// Runs every job with o.restarts restarts on the network's device (phi0, mask and init are uploaded once per job;
// the reconstructions come back once per restart); writes <stem>.png / <stem>_r<k>.png, snapshots/, <stem>_sheet.png,
// config.json (after checking it against an earlier run's when resuming), metrics.json (after each job) and
// index.html under o.out. Returns the exit code (tools/preimage/folder_run.h: 0, 2 when jobs failed, 128 + signal
// when interrupted).
int run_deep(const LoadedModel& model, const DeepOptions& o, const DeepRun& run, const nlohmann::json& config);

}  // namespace preimage::tools
