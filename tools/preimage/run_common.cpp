#include "tools/preimage/run_common.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <cuda_runtime_api.h>

#include "engine/atomic_file.h"
#include "engine/cuda_check.h"
#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "engine/threads.h"
#include "kernels/cpu_isa.h"

#ifndef PREIMAGE_GIT_HASH
#define PREIMAGE_GIT_HASH "unknown"
#endif
#ifndef PREIMAGE_VERSION
#define PREIMAGE_VERSION "0.0.0"
#endif

namespace preimage::tools {
namespace fs = std::filesystem;

std::vector<std::string> collect_images(const std::string& input) {
  std::error_code ec;
  PI_CHECK(fs::exists(input, ec), input, ": no such file or folder");
  if (!fs::is_directory(input, ec)) return {input};
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(input, ec))
    if (e.is_regular_file() && is_image_file(e.path().string())) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  PI_CHECK(!files.empty(), input, ": the folder holds no images (png, jpg, jpeg, bmp, ppm, pgm, pnm)");
  return files;
}

void prepare_output_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  PI_CHECK(!ec && fs::is_directory(dir), dir, ": cannot create the output folder (", ec.message(), ")");
  const fs::path probe = fs::path(dir) / ".preimage_write_test";
  {
    std::ofstream f(probe);
    PI_CHECK(f.good(), dir, ": the output folder is not writable");
  }
  fs::remove(probe, ec);
}

std::string stem_of(const std::string& path) { return fs::path(path).stem().string(); }

nlohmann::json write_reconstruction(const std::string& dir, const std::string& name, const View& image) {
  write_png16((fs::path(dir) / (name + "_16bit.png")).string(), image);
  write_png((fs::path(dir) / (name + ".png")).string(), image);
  return {{"png", name + ".png"}, {"png16", name + "_16bit.png"}};
}

void write_json(const std::string& path, const nlohmann::json& j) { write_file_atomic(path, j.dump(2) + "\n"); }

nlohmann::json run_record(const std::string& command, int) {
  return {{"program", "preimage"}, {"version", PREIMAGE_VERSION}, {"git", PREIMAGE_GIT_HASH},
          {"command", command}, {"threads", num_threads()},
          {"cpu_isa", kernels::isa_name(kernels::cpu_kernels().isa)}};
}

Tensor load_input(const std::string& path, bool gray, int size) {
  Tensor img = read_image(path, gray ? ImageChannels::gray : ImageChannels::rgb);
  if (gray && img.shape()[1] != 1) img = rgb_to_gray(img.view());
  if (size > 0) {
    Tensor sq = center_square(img.view());
    img = resize_antialiased(sq.view(), size, size);
  }
  return img;
}

Progress::Progress(int every) : tty_(isatty(fileno(stderr)) != 0), every_(std::max(1, every)) {}

void Progress::update(const std::string& line, int step, int last_step) {
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
  } else if (step == 1 || step % every_ == 0 || step == last_step) {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

void Progress::done(const std::string& line) {
  std::fprintf(stderr, tty_ ? "\r\033[K%s\n" : "%s\n", line.c_str());
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void add_threads_option(CLI::App* cmd, int* threads) {
  cmd->add_option("--threads", *threads, "CPU threads (default: all cores)")->check(CLI::Range(1, 256));
}

void apply_threads(int threads) {
  if (threads > 0) set_num_threads(threads);
}

const char* cuda_backend() {
#ifdef PREIMAGE_CUDA_EMULATION
  return "emulated";
#else
  return "nvcc";
#endif
}

void add_device_option(CLI::App* cmd, std::string* device) {
  cmd->add_option("--device", *device,
                  std::string("where to compute: cpu or cuda (images are read and written on the host; this "
                              "build's CUDA backend: ") +
                      cuda_backend() + ")")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda"}));
}

Device select_device(const std::string& name) {
  const Device d = parse_device(name);
  if (d == Device::cuda)
    PI_CHECK(cuda::device_count() > 0, "--device cuda: no CUDA device found (no GPU, or no usable driver); use "
             "--device cpu");
  return d;
}

nlohmann::json device_record(Device device) {
  nlohmann::json j = {{"name", device_name(device)}};
  if (device == Device::cuda) {
    j["backend"] = cuda_backend();
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
      j["gpu"] = prop.name;
      j["sms"] = prop.multiProcessorCount;
    } else {
      (void)cudaGetLastError();
    }
  }
  return j;
}

double l2_distance(const View& a, const View& b) {
  PI_CHECK(a.numel() == b.numel(), "l2_distance: ", a.shape.str(), " vs ", b.shape.str());
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += double(a.data[i] - b.data[i]) * (a.data[i] - b.data[i]);
  return std::sqrt(s);
}

}  // namespace preimage::tools
