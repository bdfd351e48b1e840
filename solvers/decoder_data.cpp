// Decoder training data: photos, random windows, features, and the worker queue (solvers/decoder_data.h).
#include "solvers/decoder_data.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/image_ops.h"
#include "engine/rng.h"

namespace preimage::solvers {
namespace fs = std::filesystem;

std::vector<std::string> list_images_recursive(const std::string& dir) {
  std::error_code ec;
  PI_CHECK(fs::is_directory(dir, ec), "data folder '", dir, "' does not exist or is not a folder");
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && is_image_file(it->path().string())) files.push_back(it->path().string());
  PI_CHECK(!ec, "cannot list '", dir, "': ", ec.message());
  std::sort(files.begin(), files.end());
  PI_CHECK(!files.empty(), "data folder '", dir, "' holds no image files (png, jpg, jpeg, bmp, ppm, pgm, pnm)");
  return files;
}

void split_by_file(const std::vector<std::string>& files, double val_fraction, std::vector<std::string>* train,
                   std::vector<std::string>* val) {
  PI_CHECK(val_fraction > 0 && val_fraction < 1, "--val-fraction must be in (0, 1), got ", val_fraction);
  const int64_t every = std::max<int64_t>(2, std::llround(1.0 / val_fraction));
  train->clear();
  val->clear();
  for (size_t i = 0; i < files.size(); ++i)
    (static_cast<int64_t>(i) % every == every - 1 ? val : train)->push_back(files[i]);
  PI_CHECK(!val->empty() && !train->empty(), "the data folder has ", files.size(), " images: too few to hold out ",
           "every ", every, "th for validation; add images or give --val DIR");
}

PhotoSet load_photos(const std::vector<std::string>& files, int crop, int max_short_side, int workers,
                     const std::string& what) {
  std::vector<Tensor> images(files.size());
  std::vector<std::string> reasons(files.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < files.size(); i = next++) {
      try {
        Tensor img = read_image(files[i], ImageChannels::rgb);
        const int64_t h = img.shape()[2], w = img.shape()[3], s = std::min(h, w);
        if (s < crop) {
          reasons[i] = files[i] + ": " + std::to_string(w) + "x" + std::to_string(h) + " is smaller than the " +
                       std::to_string(crop) + "x" + std::to_string(crop) + " crop";
          continue;
        }
        if (s > max_short_side) {
          // Shrink once here: windows are cut from the stored photo, and no window is larger than its short side.
          const double f = double(max_short_side) / double(s);
          img = resize_bilinear(img.view(), std::max<int64_t>(crop, std::llround(h * f)),
                                std::max<int64_t>(crop, std::llround(w * f)));
        }
        images[i] = std::move(img);
      } catch (const Error& e) {
        reasons[i] = e.what();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, workers); ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  PhotoSet set;
  for (size_t i = 0; i < files.size(); ++i) {
    if (images[i].defined()) set.photos.push_back(Photo{files[i], std::move(images[i])});
    else set.skipped.push_back(reasons[i]);
  }
  PI_CHECK(!set.photos.empty(), what, ": none of the ", files.size(), " images is usable; first problem: ",
           set.skipped.empty() ? std::string("?") : set.skipped[0]);
  PI_CHECK(set.skipped.size() <= set.photos.size(), what, ": ", set.skipped.size(), " of ", files.size(),
           " images are unreadable or smaller than the crop (first: ", set.skipped[0],
           "); refusing to train on the rest: is this the right folder?");
  return set;
}

WindowDraw draw_window(const PhotoSet& set, int size, uint64_t seed, int64_t k) {
  float u[8];
  philox_fill_uniform(u, 8, seed, 8 * static_cast<uint64_t>(k), kDataStream);
  const int64_t n = static_cast<int64_t>(set.photos.size());
  WindowDraw d;
  d.photo = std::min<int64_t>(n - 1, static_cast<int64_t>(u[0] * n));
  const Shape& s = set.photos[static_cast<size_t>(d.photo)].rgb.shape();
  const int64_t h = s[2], w = s[3], short_side = std::min(h, w);
  d.side = std::min<int64_t>(short_side, size + static_cast<int64_t>(u[1] * (short_side - size + 1)));
  d.top = std::min<int64_t>(h - d.side, static_cast<int64_t>(u[2] * (h - d.side + 1)));
  d.left = std::min<int64_t>(w - d.side, static_cast<int64_t>(u[3] * (w - d.side + 1)));
  d.flip = u[4] < 0.5f;
  return d;
}

Tensor cut_window(const PhotoSet& set, const WindowDraw& d, int size) {
  const View photo = set.photos[static_cast<size_t>(d.photo)].rgb.view();
  Tensor c = crop_image(photo, d.top, d.left, d.side, d.side);
  Tensor r = d.side == size ? std::move(c) : resize_bilinear(c.view(), size, size);
  if (d.flip) {
    // Mirror left-right, in place: [1, 3, S, S].
    float* p = r.data();
    for (int64_t row = 0; row < 3 * int64_t(size); ++row)
      std::reverse(p + row * size, p + (row + 1) * size);
  }
  return r;
}

int64_t window_padding(const features::Representation& rep) {
  if (!rep.gray_input || rep.name != "dsift") return 0;
  const int64_t step = rep.params.at("step").get<int64_t>(), bin = rep.params.at("bin_size").get<int64_t>();
  return std::max<int64_t>(0, 3 * bin + 1 - step);
}

Tensor window_features(const features::Representation& rep, const View& rgb) {
  if (!rep.gray_input) return rep.extract(rgb);
  Tensor gray = rgb_to_gray(rgb);
  if (const int64_t pad = window_padding(rep); pad > 0) {
    // vl_dsift places frame k on pixels k*step .. k*step + 3*bin, so floor((H - 1 - 3 bin) / step) + 1 frames
    // fit. P = 3 bin + 1 - step replicated pixels (floor(P/2) before, the rest after) make that exactly H / step
    // frames, frame k centred at step k + 1.5 bin - floor(P/2) in the window, in (or next to) the k-th step x step
    // cell: a grid like the sparse SIFT one (bin 8, step 4: pad 10 / 11, centres 4k + 2 in cells [4k, 4k + 3]).
    gray = pad_edge(gray.view(), pad / 2, pad / 2, pad - pad / 2, pad - pad / 2);
  }
  return rep.extract(gray.view());
}

namespace {
// Copies one sample into row `b` of a batch, allocating the batch on the first sample.
void put_sample(Batch& out, int64_t batch, int64_t b, const Tensor& feat, const Tensor& img) {
  if (!out.features.defined()) {
    const Shape& f = feat.shape();
    out.features = Tensor::empty(Shape{batch, f[1], f[2], f[3]});
    out.images = Tensor::empty(Shape{batch, img.shape()[1], img.shape()[2], img.shape()[3]});
  }
  PI_CHECK(feat.numel() * batch == out.features.numel(), "decoder data: features of differing shapes in a batch");
  std::memcpy(out.features.data() + b * feat.numel(), feat.data(), sizeof(float) * size_t(feat.numel()));
  std::memcpy(out.images.data() + b * img.numel(), img.data(), sizeof(float) * size_t(img.numel()));
}

// The target of a window: itself, or shrunk to the decoder's output side (CNN decoders predict down-sampled
// images, seed 002 sect. 2.2).
Tensor target_of(Tensor window, int target_size) {
  if (target_size <= 0 || window.shape()[2] == target_size) return window;
  return resize_antialiased(window.view(), target_size, target_size);
}

// Draw k of the window stream: its features and its target.
std::pair<Tensor, Tensor> sample_of(const PhotoSet& set, const features::Representation& rep, int size, uint64_t seed,
                                    int64_t k, int target_size) {
  Tensor img = cut_window(set, draw_window(set, size, seed, k), size);
  Tensor f = window_features(rep, img.view());
  return {std::move(f), target_of(std::move(img), target_size)};
}
}  // namespace

Batch make_batch(const PhotoSet& set, const features::Representation& rep, int size, int batch, uint64_t seed,
                 int64_t index, int target_size) {
  Batch out;
  out.index = index;
  for (int64_t b = 0; b < batch; ++b) {
    const auto [f, t] = sample_of(set, rep, size, seed, index * batch + b, target_size);
    put_sample(out, batch, b, f, t);
  }
  return out;
}

Batch make_validation_batch(const PhotoSet& set, const features::Representation& rep, int size, int target_size) {
  Batch out;
  const int64_t n = static_cast<int64_t>(set.photos.size());
  for (int64_t i = 0; i < n; ++i) {
    Tensor sq = center_square(set.photos[static_cast<size_t>(i)].rgb.view());
    Tensor img = resize_bilinear(sq.view(), size, size);
    Tensor f = window_features(rep, img.view());
    put_sample(out, n, i, f, target_of(std::move(img), target_size));
  }
  return out;
}

WindowPool::WindowPool(const PhotoSet& set, const features::Representation& rep, int size, uint64_t seed, int64_t n,
                       int target_size, int workers, int64_t max_bytes,
                       const std::function<void(int64_t, int64_t)>& progress)
    : n_(n), seed_(seed) {
  PI_CHECK(n >= 1, "--feature-cache must be at least 1 window, got ", n);
  // The first window fixes the shapes (and so the pool's size) before anything large is allocated.
  const auto [f0, t0] = sample_of(set, rep, size, seed, 0, target_size);
  const int64_t per = f0.numel() + t0.numel();
  PI_CHECK(per * n * 4 <= max_bytes, "--feature-cache ", n, ": ", n, " windows of ", f0.numel(), " feature and ",
           t0.numel(), " target values take ", (per * n * 4) >> 20, " MiB, over the limit of ", max_bytes >> 20,
           " MiB (--feature-cache-mb); use fewer windows");
  Shape fs = f0.shape(), ts = t0.shape();
  fs[0] = ts[0] = n;
  features_ = Tensor::empty(fs);
  images_ = Tensor::empty(ts);
  std::memcpy(features_.data(), f0.data(), sizeof(float) * size_t(f0.numel()));
  std::memcpy(images_.data(), t0.data(), sizeof(float) * size_t(t0.numel()));
  const int64_t feature_numel = f0.numel();  // (C++17 lambdas cannot capture a structured binding)
  std::atomic<int64_t> next{1}, done{1};
  std::mutex mu;
  std::string error;
  auto work = [&] {
    for (int64_t j; (j = next++) < n;) {
      try {
        const auto [f, t] = sample_of(set, rep, size, seed, j, target_size);
        PI_CHECK(f.numel() == feature_numel, "decoder data: features of differing shapes in the pool");
        std::memcpy(features_.data() + j * f.numel(), f.data(), sizeof(float) * size_t(f.numel()));
        std::memcpy(images_.data() + j * t.numel(), t.data(), sizeof(float) * size_t(t.numel()));
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (error.empty()) error = "feature cache, window " + std::to_string(j) + ": " + e.what();
        next = n;
      }
      const int64_t d = ++done;
      if (progress) {
        std::lock_guard<std::mutex> lock(mu);
        progress(d, n);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < std::max(1, workers); ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  PI_CHECK(error.empty(), error);
}

int64_t WindowPool::index_of(int64_t k) const {
  float u[8];
  philox_fill_uniform(u, 8, seed_, 8 * static_cast<uint64_t>(k), kDataStream);
  return std::min<int64_t>(n_ - 1, static_cast<int64_t>(u[5] * n_));
}

Batch WindowPool::batch(int batch, int64_t index) const {
  Batch out;
  out.index = index;
  const int64_t fper = features_.numel() / n_, iper = images_.numel() / n_;
  Shape fs = features_.shape(), is = images_.shape();
  fs[0] = is[0] = batch;
  out.features = Tensor::empty(fs);
  out.images = Tensor::empty(is);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t j = index_of(index * batch + b);
    std::memcpy(out.features.data() + b * fper, features_.data() + j * fper, sizeof(float) * size_t(fper));
    std::memcpy(out.images.data() + b * iper, images_.data() + j * iper, sizeof(float) * size_t(iper));
  }
  return out;
}

BatchStream::BatchStream(const PhotoSet& set, const features::Representation& rep, int size, int batch,
                         uint64_t seed, int64_t first_index, int workers, int capacity, int target_size,
                         const WindowPool* pool)
    : set_(set), rep_(rep), size_(size), batch_(batch), capacity_(std::max(1, capacity)),
      target_size_(target_size), seed_(seed), pool_(pool),
      next_claim_(first_index), next_out_(first_index) {
  for (int t = 0; t < std::max(1, workers); ++t) threads_.emplace_back([this] { work(); });
}

BatchStream::~BatchStream() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void BatchStream::work() {
  for (;;) {
    int64_t index;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Bounded: never more than capacity batches claimed ahead of the one the trainer waits for.
      cv_.wait(lock, [&] { return stop_ || next_claim_ < next_out_ + capacity_; });
      if (stop_) return;
      index = next_claim_++;
    }
    Batch b;
    std::string err;
    try {
      b = pool_ ? pool_->batch(batch_, index) : make_batch(set_, rep_, size_, batch_, seed_, index, target_size_);
    } catch (const std::exception& e) {
      err = e.what();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!err.empty() && error_.empty()) error_ = "decoder data, batch " + std::to_string(index) + ": " + err;
      ready_[index] = std::move(b);
    }
    cv_.notify_all();
  }
}

Batch BatchStream::next() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !error_.empty() || ready_.count(next_out_) > 0; });
  PI_CHECK(error_.empty(), error_);
  Batch b = std::move(ready_[next_out_]);
  ready_.erase(next_out_);
  ++next_out_;
  lock.unlock();
  cv_.notify_all();
  return b;
}

}  // namespace preimage::solvers
