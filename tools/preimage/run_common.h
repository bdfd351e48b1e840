#pragma once
// What every image-processing subcommand shares: collecting input images, preparing the output folder, writing
// JSON atomically, the run record (config.json), and progress lines on stderr.
#include <chrono>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "engine/tensor.h"

namespace preimage::tools {

// A file -> [file]; a folder -> its image files (png, jpg, jpeg, bmp, ppm, pgm, pnm), sorted by name.
// Throws when the path does not exist or the folder holds no images.
std::vector<std::string> collect_images(const std::string& input);
// Creates the folder if needed and checks that it is writable (throws otherwise).
void prepare_output_dir(const std::string& dir);
std::string stem_of(const std::string& path);
// A reconstruction as <dir>/<name>.png (8 bits, what viewers open) and <dir>/<name>_16bit.png (lossless to 1/514
// of a grey level: what `preimage eval` reads, so its error is the optimiser's). Returns the two file names.
nlohmann::json write_reconstruction(const std::string& dir, const std::string& name, const View& image);
void write_json(const std::string& path, const nlohmann::json& j);
// Fields every config.json carries: program version, git commit, command line.
nlohmann::json run_record(const std::string& command, int argc_hint = 0);

// Reads an image for a representation: gray (ITU-R 601) or RGB; with size > 0, centre square crop then resize to
// size x size.
Tensor load_input(const std::string& path, bool gray, int size);

// Progress on stderr: a live line (carriage return) on a terminal, plain lines at most every `every` steps
// otherwise.
class Progress {
 public:
  explicit Progress(int every = 50);
  void update(const std::string& line, int step, int last_step);
  void done(const std::string& line);

 private:
  bool tty_;
  int every_;
};

// ||a - b||_2 over all entries, in double (host tensors of equal size: features or images).
double l2_distance(const View& a, const View& b);

double seconds_since(std::chrono::steady_clock::time_point start);

// --threads for every command.
void add_threads_option(CLI::App* cmd, int* threads);
void apply_threads(int threads);

// --device cpu|cuda (default cpu) for the commands that compute (docs/device.md). The help text names this build's
// CUDA backend ("nvcc" or "emulated"), so scripts can tell the builds apart.
void add_device_option(CLI::App* cmd, std::string* device);
// "nvcc" (real GPU) or "emulated" (PREIMAGE_CUDA_EMULATION: kernels run on the host's SIMT emulator).
const char* cuda_backend();
// Parses --device; for cuda, checks that a CUDA device is present (the emulated device counts in the emulated
// build) and throws "no CUDA device found; use --device cpu" otherwise. Commands call it before writing anything.
Device select_device(const std::string& name);
// For config.json: {"name": "cpu"} or {"name": "cuda", "backend": ..., "gpu": <device name>, "sms": <SM count>}.
nlohmann::json device_record(Device device);

}  // namespace preimage::tools
