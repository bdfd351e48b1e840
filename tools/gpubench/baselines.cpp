// cuDNN and cuBLAS calls for the GPU benchmark (tools/gpubench/baselines.h).
#include "tools/gpubench/baselines.h"

#include <cstdio>
#include <vector>

#include "engine/cuda_check.h"
#include "engine/error.h"
#include "tools/gpubench/check.h"

namespace preimage::gpubench {
namespace {

// Move-free owners of the cuDNN descriptors (destroyed with their Baseline; destroy errors cannot be reported from a
// destructor and are ignored).
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc(int n, int c, int h, int w) {
    PI_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
    PI_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
  }
  ~TensorDesc() { (void)cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};
struct FilterDesc {
  cudnnFilterDescriptor_t d = nullptr;
  FilterDesc(int k, int c, int r, int s) {
    PI_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d));
    PI_CUDNN_CHECK(cudnnSetFilter4dDescriptor(d, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, k, c, r, s));
  }
  ~FilterDesc() { (void)cudnnDestroyFilterDescriptor(d); }
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
};
struct ConvDesc {
  cudnnConvolutionDescriptor_t d = nullptr;
  explicit ConvDesc(const ConvSpec& s) {
    PI_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d));
    PI_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d, s.pad_h, s.pad_w, s.stride_h, s.stride_w, 1, 1,
                                                   CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    PI_CUDNN_CHECK(cudnnSetConvolutionGroupCount(d, s.groups));
    PI_CUDNN_CHECK(cudnnSetConvolutionMathType(d, CUDNN_FMA_MATH));
  }
  ~ConvDesc() { (void)cudnnDestroyConvolutionDescriptor(d); }
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
};

struct DeviceWorkspace {
  void* p = nullptr;
  size_t bytes = 0;
  void allocate(size_t n) {
    bytes = n;
    if (n) PI_CUDA_CHECK(cudaMalloc(&p, n));
  }
  ~DeviceWorkspace() {
    if (p) (void)cudaFree(p);
  }
};

const char* math_name(cudnnMathType_t m) {
  switch (m) {
    case CUDNN_DEFAULT_MATH: return "CUDNN_DEFAULT_MATH";
    case CUDNN_TENSOR_OP_MATH: return "CUDNN_TENSOR_OP_MATH";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION";
    case CUDNN_FMA_MATH: return "CUDNN_FMA_MATH";
  }
  return "unknown";
}
const char* algo_name(cudnnConvolutionFwdAlgo_t a) {
  static const char* names[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                                "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  const int i = static_cast<int>(a);
  return i >= 0 && i < 8 ? names[i] : "?";
}
const char* algo_name(cudnnConvolutionBwdDataAlgo_t a) {
  static const char* names[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  const int i = static_cast<int>(a);
  return i >= 0 && i < 6 ? names[i] : "?";
}
const char* algo_name(cudnnConvolutionBwdFilterAlgo_t a) {
  static const char* names[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED", "FFT_TILING"};
  const int i = static_cast<int>(a);
  return i >= 0 && i < 7 ? names[i] : "?";
}

// The fastest algorithm cudnnFind measured that succeeded without tensor-op math (results come sorted by time).
template <typename Perf>
const Perf& pick(const std::vector<Perf>& perfs, int count, const char* what) {
  for (int i = 0; i < count; ++i) {
    const Perf& p = perfs[static_cast<size_t>(i)];
    if (p.status == CUDNN_STATUS_SUCCESS && p.mathType != CUDNN_TENSOR_OP_MATH &&
        p.mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
      return p;
  }
  fail("cuDNN ", what, ": cudnnFind returned no usable FP32 (FMA) algorithm for this shape");
}

template <typename Perf>
std::string describe(const Perf& p, const char* family) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s_ALGO %s (cudnnFind: %.3f ms, workspace %.1f MiB, %s)", family,
                algo_name(p.algo), double(p.time), double(p.memory) / (1 << 20), math_name(p.mathType));
  return buf;
}

class CudnnConv final : public Baseline {
 public:
  CudnnConv(const Libraries& libs, const ConvSpec& s, ConvOp op, const float* a, const float* b, float* out,
            float beta)
      : h_(libs.cudnn()), x_(s.n, s.c, s.h, s.w), w_(s.k, s.c / s.groups, s.r, s.s), y_(s.n, s.k, s.p, s.q), conv_(s),
        op_(op), a_(a), b_(b), out_(out), beta_(beta) {
    library = "cuDNN " + libs.cudnn_version();
    math = "CUDNN_FMA_MATH (strict FP32)";
    int max_count = 0;
    if (op == ConvOp::forward) {
      call = "cudnnConvolutionForward";
      PI_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h_, &max_count));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perfs(static_cast<size_t>(max_count));
      int n = 0;
      PI_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h_, x_.d, w_.d, conv_.d, y_.d, max_count, &n, perfs.data()));
      const auto& p = pick(perfs, n, "convolution forward");
      fwd_ = p.algo;
      algorithm = describe(p, "FWD");
      ws_.allocate(p.memory);
    } else if (op == ConvOp::backward_data) {
      call = "cudnnConvolutionBackwardData";
      PI_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h_, &max_count));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perfs(static_cast<size_t>(max_count));
      int n = 0;
      PI_CUDNN_CHECK(
          cudnnFindConvolutionBackwardDataAlgorithm(h_, w_.d, y_.d, conv_.d, x_.d, max_count, &n, perfs.data()));
      const auto& p = pick(perfs, n, "convolution backward data");
      bwd_data_ = p.algo;
      algorithm = describe(p, "BWD_DATA");
      ws_.allocate(p.memory);
    } else {
      call = "cudnnConvolutionBackwardFilter";
      PI_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h_, &max_count));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perfs(static_cast<size_t>(max_count));
      int n = 0;
      PI_CUDNN_CHECK(
          cudnnFindConvolutionBackwardFilterAlgorithm(h_, x_.d, y_.d, conv_.d, w_.d, max_count, &n, perfs.data()));
      const auto& p = pick(perfs, n, "convolution backward filter");
      bwd_filter_ = p.algo;
      algorithm = describe(p, "BWD_FILTER");
      ws_.allocate(p.memory);
    }
  }

  void run() override {
    const float one = 1.0f;
    if (op_ == ConvOp::forward)
      PI_CUDNN_CHECK(cudnnConvolutionForward(h_, &one, x_.d, a_, w_.d, b_, conv_.d, fwd_, ws_.p, ws_.bytes, &beta_,
                                             y_.d, out_));
    else if (op_ == ConvOp::backward_data)
      PI_CUDNN_CHECK(cudnnConvolutionBackwardData(h_, &one, w_.d, a_, y_.d, b_, conv_.d, bwd_data_, ws_.p, ws_.bytes,
                                                  &beta_, x_.d, out_));
    else
      PI_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h_, &one, x_.d, a_, y_.d, b_, conv_.d, bwd_filter_, ws_.p,
                                                    ws_.bytes, &beta_, w_.d, out_));
  }

 private:
  cudnnHandle_t h_;
  TensorDesc x_;
  FilterDesc w_;
  TensorDesc y_;
  ConvDesc conv_;
  ConvOp op_;
  const float* a_;
  const float* b_;
  float* out_;
  float beta_;
  cudnnConvolutionFwdAlgo_t fwd_{};
  cudnnConvolutionBwdDataAlgo_t bwd_data_{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter_{};
  DeviceWorkspace ws_;
};

class CudnnPool final : public Baseline {
 public:
  CudnnPool(const Libraries& libs, const PoolSpec& s, const float* x, const float* y, const float* d_y, float* out,
            float beta, bool backward)
      : h_(libs.cudnn()), x_(s.n, s.c, s.h, s.w), y_(s.n, s.c, s.ho, s.wo), x_ptr_(x), y_ptr_(y), d_y_(d_y),
        out_(out), beta_(beta), backward_(backward) {
    PI_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&pool_));
    PI_CUDNN_CHECK(cudnnSetPooling2dDescriptor(pool_, CUDNN_POOLING_MAX, CUDNN_PROPAGATE_NAN, s.kh, s.kw, s.pad_h,
                                               s.pad_w, s.stride_h, s.stride_w));
    int n = 0, c = 0, ho = 0, wo = 0;
    PI_CUDNN_CHECK(cudnnGetPooling2dForwardOutputDim(pool_, x_.d, &n, &c, &ho, &wo));
    PI_CHECK(ho == s.ho && wo == s.wo, "cuDNN max pooling: output ", ho, "x", wo, " differs from ours ", s.ho, "x",
             s.wo, " (cuDNN has no ceil mode)");
    library = "cuDNN " + libs.cudnn_version();
    call = backward ? "cudnnPoolingBackward" : "cudnnPoolingForward";
    algorithm = "CUDNN_POOLING_MAX";
    math = "FP32";
  }
  ~CudnnPool() override { (void)cudnnDestroyPoolingDescriptor(pool_); }
  void run() override {
    const float one = 1.0f;
    if (backward_)
      PI_CUDNN_CHECK(cudnnPoolingBackward(h_, pool_, &one, y_.d, y_ptr_, y_.d, d_y_, x_.d, x_ptr_, &beta_, x_.d, out_));
    else
      PI_CUDNN_CHECK(cudnnPoolingForward(h_, pool_, &one, x_.d, x_ptr_, &beta_, y_.d, out_));
  }

 private:
  cudnnHandle_t h_;
  TensorDesc x_, y_;
  cudnnPoolingDescriptor_t pool_ = nullptr;
  const float* x_ptr_;
  const float* y_ptr_;
  const float* d_y_;
  float* out_;
  float beta_;
  bool backward_;
};

class CudnnLrn final : public Baseline {
 public:
  CudnnLrn(const Libraries& libs, int n, int c, int h, int w, unsigned size, double alpha, double beta_exp, double k,
           const float* x, const float* y, const float* d_y, float* out, float beta, bool backward)
      : h_(libs.cudnn()), t_(n, c, h, w), x_(x), y_(y), d_y_(d_y), out_(out), beta_(beta), backward_(backward) {
    PI_CUDNN_CHECK(cudnnCreateLRNDescriptor(&lrn_));
    PI_CUDNN_CHECK(cudnnSetLRNDescriptor(lrn_, size, alpha, beta_exp, k));
    library = "cuDNN " + libs.cudnn_version();
    call = backward ? "cudnnLRNCrossChannelBackward" : "cudnnLRNCrossChannelForward";
    algorithm = "CUDNN_LRN_CROSS_CHANNEL_DIM1";
    math = "FP32";
  }
  ~CudnnLrn() override { (void)cudnnDestroyLRNDescriptor(lrn_); }
  void run() override {
    const float one = 1.0f;
    if (backward_)
      PI_CUDNN_CHECK(cudnnLRNCrossChannelBackward(h_, lrn_, CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, t_.d, y_, t_.d, d_y_,
                                                  t_.d, x_, &beta_, t_.d, out_));
    else
      PI_CUDNN_CHECK(cudnnLRNCrossChannelForward(h_, lrn_, CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, t_.d, x_, &beta_, t_.d,
                                                 out_));
  }

 private:
  cudnnHandle_t h_;
  TensorDesc t_;
  cudnnLRNDescriptor_t lrn_ = nullptr;
  const float* x_;
  const float* y_;
  const float* d_y_;
  float* out_;
  float beta_;
  bool backward_;
};

class CublasLinear final : public Baseline {
 public:
  CublasLinear(const Libraries& libs, int64_t m, int64_t n, int64_t kd, const float* x, const float* w, float* y)
      : h_(libs.cublas()), m_(static_cast<int>(m)), n_(static_cast<int>(n)), kd_(static_cast<int>(kd)), x_(x), w_(w),
        y_(y) {
    library = "cuBLAS " + libs.cublas_version();
    call = "cublasSgemm";
    // Row-major y [m, n] is column-major y^T [n, m] = w [n, kd] x^T; column-major w^T is row-major w, hence op T on
    // w (ld kd) and op N on x read as column-major [kd, m] (ld kd).
    algorithm = "cublasSgemm(T, N), cuBLAS heuristics";
    math = "CUBLAS_DEFAULT_MATH (FP32, no TF32)";
  }
  void run() override {
    const float one = 1.0f, zero = 0.0f;
    PI_CUBLAS_CHECK(cublasSgemm(h_, CUBLAS_OP_T, CUBLAS_OP_N, n_, m_, kd_, &one, w_, kd_, x_, kd_, &zero, y_, n_));
  }

 private:
  cublasHandle_t h_;
  int m_, n_, kd_;
  const float* x_;
  const float* w_;
  float* y_;
};

}  // namespace

Libraries::Libraries() {
  PI_CUDNN_CHECK(cudnnCreate(&cudnn_));
  PI_CUBLAS_CHECK(cublasCreate(&cublas_));
  PI_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
}

Libraries::~Libraries() {
  if (cublas_) (void)cublasDestroy(cublas_);
  if (cudnn_) (void)cudnnDestroy(cudnn_);
}

std::string Libraries::cudnn_version() const {
  const size_t v = cudnnGetVersion();  // major * 10000 + minor * 100 + patch (cuDNN 9)
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

std::string Libraries::cublas_version() const {
  int v = 0;
  PI_CUBLAS_CHECK(cublasGetVersion(cublas_, &v));
  return std::to_string(v);
}

std::unique_ptr<Baseline> cudnn_conv(const Libraries& libs, const ConvSpec& spec, ConvOp op, const float* a,
                                     const float* b, float* out, float beta) {
  return std::make_unique<CudnnConv>(libs, spec, op, a, b, out, beta);
}

std::unique_ptr<Baseline> cudnn_max_pool_forward(const Libraries& libs, const PoolSpec& s, const float* x, float* y) {
  return std::make_unique<CudnnPool>(libs, s, x, nullptr, nullptr, y, 0.0f, false);
}

std::unique_ptr<Baseline> cudnn_max_pool_backward(const Libraries& libs, const PoolSpec& s, const float* x,
                                                  const float* y, const float* d_y, float* d_x, float beta) {
  return std::make_unique<CudnnPool>(libs, s, x, y, d_y, d_x, beta, true);
}

std::unique_ptr<Baseline> cudnn_lrn_forward(const Libraries& libs, int n, int c, int h, int w, unsigned size,
                                            double alpha, double beta_exp, double k, const float* x, float* y) {
  return std::make_unique<CudnnLrn>(libs, n, c, h, w, size, alpha, beta_exp, k, x, nullptr, nullptr, y, 0.0f, false);
}

std::unique_ptr<Baseline> cudnn_lrn_backward(const Libraries& libs, int n, int c, int h, int w, unsigned size,
                                             double alpha, double beta_exp, double k, const float* x, const float* y,
                                             const float* d_y, float* d_x, float beta) {
  return std::make_unique<CudnnLrn>(libs, n, c, h, w, size, alpha, beta_exp, k, x, y, d_y, d_x, beta, true);
}

std::unique_ptr<Baseline> cublas_linear(const Libraries& libs, int64_t m, int64_t n, int64_t kd, const float* x,
                                        const float* w, float* y) {
  return std::make_unique<CublasLinear>(libs, m, n, kd, x, w, y);
}

}  // namespace preimage::gpubench
