#pragma once
// Training data of the decoders (seed 002 eq. 3: pairs (x_i, phi(x_i))): photos decoded once, then random
// windows with their features, produced on worker threads ahead of the trainer in a bounded queue.
//
// Determinism: sample k of a run (k = batch_index * batch + position) is a pure function of (seed, k): its photo,
// crop side, crop position and flip are the Philox draws 8k .. 8k+4 of (seed, stream kDataStream). Which worker
// builds a batch does not matter, so a given seed gives the same batches with any number of workers, and the data
// position of a checkpoint is just the index of the next batch.
//
// A window: side s uniform in [S, min(h, w)] of the stored photo (scale augmentation), position uniform, mirrored
// with probability 1/2, resized to S x S (bilinear; engine/image_ops.h). Target: that RGB window, 0..255. Features:
// of its gray version (ITU-R 601), as the papers.
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/tensor.h"
#include "features/representation.h"

namespace preimage::solvers {

constexpr uint64_t kDataStream = 0x64617461;  // "data": keeps the crops' draws apart from the weights' init

// Image files under `dir`, recursively, sorted by path. Throws when `dir` does not exist or holds none.
std::vector<std::string> list_images_recursive(const std::string& dir);

// The held-out split by file (never by crop): every file whose position in the sorted list is k mod round(1/f)
// == round(1/f) - 1 goes to validation (f = 0.1: the 10th, 20th, ...). Throws when either side would be empty.
void split_by_file(const std::vector<std::string>& files, double val_fraction, std::vector<std::string>* train,
                   std::vector<std::string>* val);

struct Photo {
  std::string path;
  Tensor rgb;  // [1, 3, h, w] 0..255, shrunk so that min(h, w) <= max_short_side
};

struct PhotoSet {
  std::vector<Photo> photos;
  std::vector<std::string> skipped;  // "path: reason" for unreadable images and images smaller than the crop
};

// Decodes `files` on `workers` threads. An unreadable file or one smaller than `crop` is skipped and listed; throws
// when none is usable or when most are bad (more skipped than kept: probably the wrong folder), naming examples.
PhotoSet load_photos(const std::vector<std::string>& files, int crop, int max_short_side, int workers,
                     const std::string& what);

struct Batch {
  int64_t index = -1;
  Tensor features;  // [B, D, h, w]
  Tensor images;    // [B, 3, T, T] 0..255: the windows (T = S), or shrunk to the decoder's output side T
};

struct WindowDraw {
  int64_t photo = 0, side = 0, top = 0, left = 0;
  bool flip = false;
};
WindowDraw draw_window(const PhotoSet& set, int size, uint64_t seed, int64_t k);
// The S x S RGB window of a draw, [1, 3, S, S].
Tensor cut_window(const PhotoSet& set, const WindowDraw& d, int size);

// Features of an RGB window [1, 3, S, S] 0..255: extracted from its gray version (the shallow representations),
// or from the window itself when the representation says gray_input = false (a CNN layer). DSIFT sees the window padded by
// replicated borders so that its frames form an S/step x S/step grid, one per cell (decoder_data.cpp).
Tensor window_features(const features::Representation& rep, const View& rgb);
// The replicated pixels window_features adds along each axis, split before and after (DSIFT: 3 bin + 1 - step;
// others 0): features of an S x S window describe an (S + P) x (S + P) image, which is what their rendering needs.
int64_t window_padding(const features::Representation& rep);

// Builds batch `index` (deterministic, see above). target_size > 0 and != size: the targets are the windows
// shrunk to target_size (anti-aliased; a CNN decoder's output is smaller than the network's input).
Batch make_batch(const PhotoSet& set, const features::Representation& rep, int size, int batch, uint64_t seed,
                 int64_t index, int target_size = 0);

// The fixed validation samples: the centre square of each photo, resized to S x S (no randomness).
Batch make_validation_batch(const PhotoSet& set, const features::Representation& rep, int size,
                            int target_size = 0);

// A fixed pool of n training windows with their features and targets, computed once (on `workers` threads) and
// kept in memory: the encoder-activation cache of `train-decoder --feature-cache N`, which makes training a decoder
// of a fixed network cost one encoder pass per pool window instead of one per sample. Window j of the pool is the
// draw j of the stream above (draw_window(set, size, seed, j)); sample k of the run takes pool window
// floor(u * n), u = the sixth Philox draw of sample k (8k + 5), so batches stay a pure function of (seed, k).
// Bounded: the constructor refuses a pool larger than max_bytes, saying how large it would be.
class WindowPool {
 public:
  WindowPool(const PhotoSet& set, const features::Representation& rep, int size, uint64_t seed, int64_t n,
             int target_size, int workers, int64_t max_bytes,
             const std::function<void(int64_t done, int64_t total)>& progress = {});
  int64_t size() const { return n_; }
  int64_t bytes() const { return 4 * (features_.numel() + images_.numel()); }
  // The pool index of sample k.
  int64_t index_of(int64_t k) const;
  // Batch `index` of the run, copied from the pool.
  Batch batch(int batch, int64_t index) const;

 private:
  int64_t n_;
  uint64_t seed_;
  Tensor features_, images_;  // [n, ...] each
};

// Worker threads computing batches first_index, first_index + 1, ... at most `capacity` ahead of the consumer.
class BatchStream {
 public:
  BatchStream(const PhotoSet& set, const features::Representation& rep, int size, int batch, uint64_t seed,
              int64_t first_index, int workers, int capacity, int target_size = 0, const WindowPool* pool = nullptr);
  ~BatchStream();  // stops and joins the workers
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;
  // The next batch in index order (blocks until it is ready). Rethrows a worker's error.
  Batch next();

 private:
  void work();
  const PhotoSet& set_;
  const features::Representation& rep_;
  int size_, batch_, capacity_, target_size_;
  uint64_t seed_;
  const WindowPool* pool_;  // when set, batches are copied from it
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Batch> ready_;
  int64_t next_claim_, next_out_;
  bool stop_ = false;
  std::string error_;
  std::vector<std::thread> threads_;
};

}  // namespace preimage::solvers
