// The operands and calls of every benchmark family (tools/gpubench/jobs.h).
#include "tools/gpubench/jobs.h"

#include <algorithm>
#include <cmath>

#include "engine/cuda_check.h"
#include "engine/error.h"
#include "engine/storage.h"
#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "kernels/dsift.h"
#include "kernels/hog.h"
#include "kernels/linear.h"
#include "kernels/lrn.h"
#include "kernels/max_pool2d.h"
#include "kernels/regularisers.h"

namespace preimage::gpubench {
namespace {
using tools::bench::BenchCase;
using tools::bench::Direction;
using tools::bench::Family;
namespace k = preimage::kernels;

// The check runs on at most this many samples of a batch (rows of a GEMM): the CPU launchers on a whole batch of
// 64 VGG-16 maps would take minutes; the full-batch GPU result is compared with cuDNN's instead.
constexpr int64_t kCheckSamples = 2;
constexpr int64_t kCheckRows = 64;

// Uniform values in [lo, hi) from a counter-based hash (SplitMix64 finaliser), so every run sees the same inputs.
float hash_uniform(uint64_t seed, uint64_t i, float lo, float hi) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + i + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return lo + (hi - lo) * float(double(z >> 40) / double(1ull << 24));
}

Shape with_batch(Shape s, int64_t n) {
  s[0] = n;
  return s;
}

// Device tensor `full` whose samples repeat the host prefix; host tensor of nb samples with values in [lo, hi).
Pair* batched_input(Job& j, const Shape& full, int64_t nb, uint64_t seed, float lo = -1, float hi = 1) {
  auto p = std::make_unique<Pair>();
  p->host = Tensor::empty(with_batch(full, nb));
  float* h = p->host.data();
  for (int64_t i = 0; i < p->host.numel(); ++i) h[i] = hash_uniform(seed, uint64_t(i), lo, hi);
  p->dev = Tensor::empty(full, Device::cuda);
  const int64_t chunk = p->host.numel(), total = p->dev.numel();
  copy_floats(p->dev.data(), Device::cuda, h, Device::cpu, static_cast<size_t>(chunk));
  for (int64_t at = chunk; at < total; at += chunk)
    copy_floats(p->dev.data() + at, Device::cuda, p->dev.data(), Device::cuda,
                static_cast<size_t>(std::min(chunk, total - at)));
  j.pairs.push_back(std::move(p));
  return j.pairs.back().get();
}

// A tensor without batch dimension (weights, scalars), the same on both devices.
Pair* whole_input(Job& j, const Shape& s, uint64_t seed, float lo = -1, float hi = 1) {
  auto p = std::make_unique<Pair>();
  p->batched = false;
  p->host = Tensor::empty(s);
  for (int64_t i = 0; i < p->host.numel(); ++i) p->host.data()[i] = hash_uniform(seed, uint64_t(i), lo, hi);
  p->dev = p->host.to(Device::cuda);
  j.pairs.push_back(std::move(p));
  return j.pairs.back().get();
}

// An output or intermediate (zero-initialised), or an operand whose values the op never reads (only its shape).
Pair* output(Job& j, const Shape& full, int64_t nb, bool batched = true) {
  auto p = std::make_unique<Pair>();
  p->batched = batched;
  p->host = Tensor::zeros(batched ? with_batch(full, nb) : full);
  p->dev = Tensor::zeros(full, Device::cuda);
  j.pairs.push_back(std::move(p));
  return j.pairs.back().get();
}

// A CPU-computed tensor (HOG's forward state for the backward case) uploaded as it is.
Pair* uploaded(Job& j, Tensor host) {
  auto p = std::make_unique<Pair>();
  p->dev = host.to(Device::cuda);
  p->host = std::move(host);
  j.pairs.push_back(std::move(p));
  return j.pairs.back().get();
}

// Zeroes an intermediate gradient inside a timed call: on the GPU an asynchronous memset (fill_floats would
// synchronise the host inside the timed interval).
void zero(const View& v) {
  const size_t n = static_cast<size_t>(v.numel());
  if (v.device == Device::cuda)
    PI_CUDA_CHECK(cudaMemsetAsync(v.data, 0, n * sizeof(float), nullptr));
  else
    fill_floats(v.data, v.device, 0.0f, n);
}

float* baseline_target(Job& j) {
  j.baseline_out = Tensor::zeros(j.result->dev.shape(), Device::cuda);
  return j.baseline_out.data();
}

int narrow(int64_t v) { return static_cast<int>(v); }

void conv_job(Job& j, const BenchCase& c) {
  const auto g = k::conv2d_geometry("bench conv2d", c.x, c.w, c.conv);
  const Shape ys{g.n, g.k, g.ho, g.wo};
  const int64_t nb = j.check_batch;
  const k::Conv2dParams p = c.conv;
  const ConvSpec spec{narrow(g.n), narrow(g.c), narrow(g.h), narrow(g.w), narrow(g.k), narrow(g.kh), narrow(g.kw),
                      narrow(g.ho), narrow(g.wo), p.pad_top, p.pad_left, p.stride_h, p.stride_w, p.groups};
  PI_CHECK(p.pad_top == p.pad_bottom && p.pad_left == p.pad_right, "bench ", c.name,
           ": cuDNN needs symmetric padding");
  if (c.direction == Direction::forward) {
    Pair *x = batched_input(j, c.x, nb, 1), *w = whole_input(j, c.w, 2), *y = output(j, ys, nb);
    j.result = y;
    j.call = [=](Device d, int64_t n) { k::conv2d_forward(x->side(d, n), w->side(d, n), View(), y->side(d, n), p); };
    j.reduction_length = double(c.w[1] * c.w[2] * c.w[3]);
    j.make_baseline = [&j, spec, x, w](const Libraries& l) {
      return cudnn_conv(l, spec, ConvOp::forward, x->dev.data(), w->dev.data(), baseline_target(j), 0.0f);
    };
  } else if (c.direction == Direction::backward_data) {
    Pair *x = output(j, c.x, nb), *w = whole_input(j, c.w, 2), *dy = batched_input(j, ys, nb, 3),
         *dx = output(j, c.x, nb);
    j.result = dx;
    j.call = [=](Device d, int64_t n) {
      k::conv2d_backward(x->side(d, n), w->side(d, n), dy->side(d, n), dx->side(d, n), View(), View(), p);
    };
    j.reduction_length = double(g.k / p.groups * g.kh * g.kw);
    j.make_baseline = [&j, spec, w, dy](const Libraries& l) {
      return cudnn_conv(l, spec, ConvOp::backward_data, w->dev.data(), dy->dev.data(), baseline_target(j), 1.0f);
    };
  } else {
    Pair *x = batched_input(j, c.x, nb, 1), *w = output(j, c.w, nb, false), *dy = batched_input(j, ys, nb, 3),
         *dw = output(j, c.w, nb, false);
    j.result = dw;
    j.call = [=](Device d, int64_t n) {
      k::conv2d_backward(x->side(d, n), w->side(d, n), dy->side(d, n), View(), dw->side(d, n), View(), p);
    };
    j.reduction_length = double(nb * g.ho * g.wo);
    j.make_baseline = [&j, spec, x, dy](const Libraries& l) {
      return cudnn_conv(l, spec, ConvOp::backward_filter, x->dev.data(), dy->dev.data(), baseline_target(j), 1.0f);
    };
  }
}

// The transposed conv is cuDNN's convolution with the roles of input and output exchanged: its input x [N, C, H, W]
// is the conv's output, its output y [N, K, Ho, Wo] the conv's input, its weight [C, K/g, kh, kw] the conv's filter.
void conv_transpose_job(Job& j, const BenchCase& c) {
  const auto g = k::conv_transpose2d_geometry("bench conv_transpose2d", c.x, c.w, c.conv_t);
  const Shape ys{g.n, g.k, g.ho, g.wo};
  const int64_t nb = j.check_batch;
  const k::ConvTranspose2dParams p = c.conv_t;
  PI_CHECK(p.pad_top == p.pad_bottom && p.pad_left == p.pad_right, "bench ", c.name,
           ": cuDNN needs symmetric padding");
  const ConvSpec spec{narrow(g.n), narrow(g.k), narrow(g.ho), narrow(g.wo), narrow(g.c), narrow(g.kh), narrow(g.kw),
                      narrow(g.h), narrow(g.w), p.pad_top, p.pad_left, p.stride_h, p.stride_w, p.groups};
  if (c.direction == Direction::forward) {
    Pair *x = batched_input(j, c.x, nb, 1), *w = whole_input(j, c.w, 2), *y = output(j, ys, nb);
    j.result = y;
    j.call = [=](Device d, int64_t n) {
      k::conv_transpose2d_forward(x->side(d, n), w->side(d, n), View(), y->side(d, n), p);
    };
    j.reduction_length = double(g.c / p.groups * g.kh * g.kw);
    j.make_baseline = [&j, spec, x, w](const Libraries& l) {
      return cudnn_conv(l, spec, ConvOp::backward_data, w->dev.data(), x->dev.data(), baseline_target(j), 0.0f);
    };
  } else if (c.direction == Direction::backward_data) {
    Pair *x = output(j, c.x, nb), *w = whole_input(j, c.w, 2), *dy = batched_input(j, ys, nb, 3),
         *dx = output(j, c.x, nb);
    j.result = dx;
    j.call = [=](Device d, int64_t n) {
      k::conv_transpose2d_backward(x->side(d, n), w->side(d, n), dy->side(d, n), dx->side(d, n), View(), View(), p);
    };
    j.reduction_length = double(g.k / p.groups * g.kh * g.kw);
    j.make_baseline = [&j, spec, w, dy](const Libraries& l) {
      return cudnn_conv(l, spec, ConvOp::forward, dy->dev.data(), w->dev.data(), baseline_target(j), 1.0f);
    };
  } else {
    Pair *x = batched_input(j, c.x, nb, 1), *w = output(j, c.w, nb, false), *dy = batched_input(j, ys, nb, 3),
         *dw = output(j, c.w, nb, false);
    j.result = dw;
    j.call = [=](Device d, int64_t n) {
      k::conv_transpose2d_backward(x->side(d, n), w->side(d, n), dy->side(d, n), View(), dw->side(d, n), View(), p);
    };
    j.reduction_length = double(nb * g.h * g.w);
    j.make_baseline = [&j, spec, x, dy](const Libraries& l) {
      return cudnn_conv(l, spec, ConvOp::backward_filter, dy->dev.data(), x->dev.data(), baseline_target(j), 1.0f);
    };
  }
}

void gemm_job(Job& j, const BenchCase& c) {
  const int64_t m = c.x[0], n = c.w[0], kd = c.x[1];
  j.check_batch = std::min(m, kCheckRows);
  Pair *x = batched_input(j, c.x, j.check_batch, 1), *w = whole_input(j, c.w, 2),
       *y = output(j, Shape{m, n}, j.check_batch);
  j.result = y;
  j.call = [=](Device d, int64_t rows) { k::linear_forward(x->side(d, rows), w->side(d, rows), View(), y->side(d, rows)); };
  j.reduction_length = double(kd);
  j.make_baseline = [&j, m, n, kd, x, w](const Libraries& l) {
    return cublas_linear(l, m, n, kd, x->dev.data(), w->dev.data(), baseline_target(j));
  };
}

void max_pool_job(Job& j, const BenchCase& c) {
  const auto g = k::max_pool2d_geometry("bench max_pool2d", c.x, c.pool);
  const Shape ys{g.n, g.c, g.ho, g.wo};
  const int64_t nb = j.check_batch;
  const k::MaxPool2dParams p = c.pool;
  const PoolSpec spec{narrow(g.n), narrow(g.c), narrow(g.h), narrow(g.w), narrow(g.ho), narrow(g.wo), p.kernel_h,
                      p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left};
  const double nx = double(c.x.numel()), ny = double(ys.numel());
  Pair* x = batched_input(j, c.x, nb, 1);
  if (c.direction == Direction::forward) {
    Pair* y = output(j, ys, nb);
    j.result = y;
    j.call = [=](Device d, int64_t n) { k::max_pool2d_forward(x->side(d, n), y->side(d, n), p); };
    j.bytes = 4 * (nx + ny);
    j.make_baseline = [&j, spec, x](const Libraries& l) {
      return cudnn_max_pool_forward(l, spec, x->dev.data(), baseline_target(j));
    };
  } else {
    Pair *dy = batched_input(j, ys, nb, 3), *dx = output(j, c.x, nb);
    j.result = dx;
    j.call = [=](Device d, int64_t n) { k::max_pool2d_backward(x->side(d, n), dy->side(d, n), dx->side(d, n), p); };
    j.bytes = 4 * (3 * nx + ny);  // x and d_y read, d_x read and written (accumulated)
    j.reduction_length = double(p.kernel_h * p.kernel_w);
    j.make_baseline = [&j, spec, x, dy, ys](const Libraries& l) {
      // cuDNN's backward takes the forward output: compute it with cuDNN first.
      j.extra.push_back(Tensor::empty(ys, Device::cuda));
      float* y = j.extra.back().data();
      cudnn_max_pool_forward(l, spec, x->dev.data(), y)->run();
      return cudnn_max_pool_backward(l, spec, x->dev.data(), y, dy->dev.data(), baseline_target(j), 1.0f);
    };
  }
}

void lrn_job(Job& j, const BenchCase& c) {
  const int64_t nb = j.check_batch;
  const k::LrnParams p = c.lrn;
  const double nx = double(c.x.numel());
  const int n = narrow(c.x[0]), ch = narrow(c.x[1]), h = narrow(c.x[2]), w = narrow(c.x[3]);
  Pair* x = batched_input(j, c.x, nb, 1);
  j.reduction_length = double(p.size);
  if (c.direction == Direction::forward) {
    Pair* y = output(j, c.x, nb);
    j.result = y;
    j.call = [=](Device d, int64_t m) { k::lrn_forward(x->side(d, m), y->side(d, m), p); };
    j.bytes = 4 * 2 * nx;
    j.make_baseline = [&j, p, x, n, ch, h, w](const Libraries& l) {
      return cudnn_lrn_forward(l, n, ch, h, w, unsigned(p.size), p.alpha, p.beta, p.k, x->dev.data(),
                               baseline_target(j));
    };
  } else {
    Pair *dy = batched_input(j, c.x, nb, 3), *dx = output(j, c.x, nb);
    j.result = dx;
    j.call = [=](Device d, int64_t m) { k::lrn_backward(x->side(d, m), dy->side(d, m), dx->side(d, m), p); };
    j.bytes = 4 * 4 * nx;  // x and d_y read, d_x read and written
    j.make_baseline = [&j, p, x, dy, n, ch, h, w](const Libraries& l) {
      j.extra.push_back(Tensor::empty(x->dev.shape(), Device::cuda));
      float* y = j.extra.back().data();
      cudnn_lrn_forward(l, n, ch, h, w, unsigned(p.size), p.alpha, p.beta, p.k, x->dev.data(), y)->run();
      return cudnn_lrn_backward(l, n, ch, h, w, unsigned(p.size), p.alpha, p.beta, p.k, x->dev.data(), y,
                                dy->dev.data(), baseline_target(j), 1.0f);
    };
  }
}

void leaky_relu_job(Job& j, const BenchCase& c) {
  const int64_t nb = j.check_batch;
  const float slope = c.slope;
  const double nx = double(c.x.numel());
  Pair* x = batched_input(j, c.x, nb, 1);
  j.no_baseline_reason = "cuDNN's legacy activation API has no leaky relu";
  if (c.direction == Direction::forward) {
    Pair* y = output(j, c.x, nb);
    j.result = y;
    j.call = [=](Device d, int64_t n) { k::leaky_relu_forward(x->side(d, n), y->side(d, n), slope); };
    j.bytes = 4 * 2 * nx;
  } else {
    Pair *dy = batched_input(j, c.x, nb, 3), *dx = output(j, c.x, nb);
    j.result = dx;
    j.call = [=](Device d, int64_t n) { k::leaky_relu_backward(x->side(d, n), dy->side(d, n), dx->side(d, n), slope); };
    j.bytes = 4 * 4 * nx;
  }
}

// TV^beta with beta = 2 (IJCV default) and V = 1 (the inputs are in [-1, 1]).
void tv_job(Job& j, const BenchCase& c) {
  const int64_t nb = j.check_batch;
  const double nx = double(c.x.numel());
  Pair* x = batched_input(j, c.x, nb, 1);
  j.no_baseline_reason = "no library equivalent";
  if (c.direction == Direction::forward) {
    Pair* y = output(j, Shape{1}, nb, false);
    j.result = y;
    j.call = [=](Device d, int64_t n) { k::tv_beta_forward(x->side(d, n), 2.0f, 1.0f, y->side(d, n)); };
    j.reduction_length = double(nb) * nx / double(c.x[0]);
    j.bytes = 4 * nx;
  } else {
    Pair *dy = whole_input(j, Shape{1}, 3, 0.5f, 1.5f), *dx = output(j, c.x, nb);
    j.result = dx;
    j.call = [=](Device d, int64_t n) {
      k::tv_beta_backward(x->side(d, n), dy->side(d, n), dx->side(d, n), 2.0f, 1.0f);
    };
    j.reduction_length = 3;  // a pixel's gradient gathers the terms of itself and its two predecessors
    j.bytes = 4 * 3 * nx;
  }
}

// HOG (UoCTTI, cell 8, 9 orientations) as the three launchers the tape runs. The backward case starts from the
// forward state computed by the CPU launchers and uploaded, so it needs no CUDA forward.
void hog_job(Job& j, const BenchCase& c) {
  const int64_t nb = j.check_batch, H = c.x[2], W = c.x[3];
  const k::HogBinningParams bp{};
  const k::HogVariant v = k::HogVariant::uoctti;
  const int64_t hh = k::hog_cells(H, bp.cell_size), hw = k::hog_cells(W, bp.cell_size);
  const Shape grad_s{c.x[0], 2, H, W}, chan_s{c.x[0], 1, H, W}, hist_s{c.x[0], 2 * bp.num_orientations, hh, hw};
  const Shape out_s{c.x[0], k::hog_dimension(v, bp.num_orientations), hh, hw};
  j.no_baseline_reason = "no library equivalent";
  j.metric = Metric::l2_relative;
  // Hard orientation binning is discontinuous: a gradient direction within rounding of a bin boundary may land in
  // the other bin on the GPU, which moves that pixel's magnitude to a neighbouring bin; the relative L2 error of
  // the whole map stays small when only such pixels differ.
  j.tolerance = 1e-3;
  Pair* img = batched_input(j, c.x, nb, 1, 0.0f, 1.0f);
  if (c.direction == Direction::forward) {
    Pair *grad = output(j, grad_s, nb), *chan = output(j, chan_s, nb), *hist = output(j, hist_s, nb),
         *out = output(j, out_s, nb);
    j.result = out;
    j.call = [=](Device d, int64_t n) {
      k::hog_gradient_forward(img->side(d, n), grad->side(d, n), chan->side(d, n));
      k::hog_binning_forward(grad->side(d, n), bp, hist->side(d, n));
      k::hog_normalise_forward(hist->side(d, n), v, out->side(d, n));
    };
  } else {
    PI_CHECK(nb == c.x[0], "bench ", c.name, ": the HOG backward case runs on its whole batch");
    Tensor g = Tensor::empty(grad_s), ch = Tensor::empty(chan_s), hi = Tensor::empty(hist_s);
    k::hog_gradient_forward(img->host.view(), g.view(), ch.view());
    k::hog_binning_forward(g.view(), bp, hi.view());
    Pair *grad = uploaded(j, std::move(g)), *chan = uploaded(j, std::move(ch)), *hist = uploaded(j, std::move(hi));
    Pair *d_out = batched_input(j, out_s, nb, 3), *d_hist = output(j, hist_s, nb), *d_grad = output(j, grad_s, nb),
         *d_img = output(j, c.x, nb);
    j.result = d_img;
    j.call = [=](Device d, int64_t n) {
      zero(d_hist->side(d, n));  // the intermediate gradients start from zero each pass, as on the tape
      zero(d_grad->side(d, n));
      k::hog_normalise_backward(hist->side(d, n), d_out->side(d, n), v, d_hist->side(d, n));
      k::hog_binning_backward(grad->side(d, n), d_hist->side(d, n), bp, d_grad->side(d, n));
      k::hog_gradient_backward(chan->side(d, n), d_grad->side(d, n), d_img->side(d, n));
    };
  }
}

// DSIFT (step 4, bin 8, Gaussian window), the exact-math forward the backward differentiates.
void dsift_job(Job& j, const BenchCase& c) {
  const int64_t nb = j.check_batch;
  const k::DsiftParams p{};
  const k::DsiftGeometry g = k::dsift_geometry(c.x[2], c.x[3], p);
  const Shape out_s{c.x[0], k::DsiftGeometry::kDims, g.frames_y, g.frames_x};
  j.no_baseline_reason = "no library equivalent";
  j.metric = Metric::l2_relative;
  j.tolerance = 1e-4;
  Pair* img = batched_input(j, c.x, nb, 1, 0.0f, 1.0f);
  if (c.direction == Direction::forward) {
    Pair* out = output(j, out_s, nb);
    j.result = out;
    j.call = [=](Device d, int64_t n) {
      k::dsift_forward(img->side(d, n), out->side(d, n), p, k::DsiftMath::exact);
    };
  } else {
    Pair *d_out = batched_input(j, out_s, nb, 3), *d_img = output(j, c.x, nb);
    j.result = d_img;
    j.call = [=](Device d, int64_t n) { k::dsift_backward(img->side(d, n), d_out->side(d, n), d_img->side(d, n), p); };
  }
}

}  // namespace

View Pair::side(Device d, int64_t nb) {
  Tensor& t = d == Device::cuda ? dev : host;
  Shape s = t.shape();
  if (batched) s[0] = std::min(nb, s[0]);
  return View(t.data(), s, d);
}

void make_job(const BenchCase& c, Job& j) {
  j.batch = c.x[0];
  j.check_batch = std::min(c.x[0], kCheckSamples);
  switch (c.family) {
    case Family::conv: conv_job(j, c); break;
    case Family::conv_transpose: conv_transpose_job(j, c); break;
    case Family::gemm: gemm_job(j, c); break;
    case Family::max_pool: max_pool_job(j, c); break;
    case Family::lrn: lrn_job(j, c); break;
    case Family::leaky_relu: leaky_relu_job(j, c); break;
    case Family::tv: tv_job(j, c); break;
    case Family::hog: hog_job(j, c); break;
    case Family::dsift: dsift_job(j, c); break;
  }
  // Random rounding error of a sum of L float terms grows like sqrt(L); 2e-6 sqrt(L) (at least 1e-5) leaves
  // a wide margin for any summation order while an indexing error (relative error of order 1) still fails.
  if (j.tolerance == 0) j.tolerance = std::max(1e-5, 2e-6 * std::sqrt(j.reduction_length));
}

}  // namespace preimage::gpubench
