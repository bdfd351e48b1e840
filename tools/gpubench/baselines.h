#pragma once
// The library calls our kernels are compared with: cuDNN 9 (legacy convolution, pooling and LRN API) and cuBLAS
// SGEMM. Math modes are fixed so the comparison is strict FP32 against our strict FP32 kernels: cuDNN convolutions
// use CUDNN_FMA_MATH (CUDNN_DEFAULT_MATH would let cuDNN pick TF32 tensor-core kernels on sm_80 and later), and an
// algorithm cudnnFind reports with a tensor-op math type is never chosen; cuBLAS uses CUBLAS_DEFAULT_MATH, which
// for SGEMM keeps FP32 inputs and accumulation (TF32 only with CUBLAS_TF32_TENSOR_OP_MATH). TF32 is not compared:
// none of our kernels uses it.
#include <cstdint>
#include <memory>
#include <string>

#include <cublas_v2.h>
#include <cudnn.h>

namespace preimage::gpubench {

// One prepared library call: descriptors, chosen algorithm and workspace are set up once; run() only launches.
class Baseline {
 public:
  virtual ~Baseline() = default;
  virtual void run() = 0;
  std::string library;    // "cuDNN 9.19.0", "cuBLAS 130000"
  std::string call;       // "cudnnConvolutionForward"
  std::string algorithm;  // what cudnnFind chose, with its reported time and workspace
  std::string math;       // the math mode the call ran with
};

// Owning handles (move-free, one per benchmark run), on the legacy default stream.
class Libraries {
 public:
  Libraries();
  ~Libraries();
  Libraries(const Libraries&) = delete;
  Libraries& operator=(const Libraries&) = delete;
  cudnnHandle_t cudnn() const { return cudnn_; }
  cublasHandle_t cublas() const { return cublas_; }
  std::string cudnn_version() const;
  std::string cublas_version() const;

 private:
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
};

// A convolution in cuDNN's terms: input X [n, c, h, w], filter [k, c/groups, r, s], output Y [n, k, p, q],
// symmetric padding and stride (cuDNN has no asymmetric padding; every benchmark case is symmetric).
struct ConvSpec {
  int n, c, h, w, k, r, s, p, q;
  int pad_h, pad_w, stride_h, stride_w, groups;
};
enum class ConvOp { forward, backward_data, backward_filter };
// forward: a = X, b = filter, out = Y; backward_data: a = filter, b = dY, out = dX; backward_filter: a = X, b = dY,
// out = dW. out = alpha * op + beta * out with alpha 1 and the given beta (1 accumulates, as our backward does).
std::unique_ptr<Baseline> cudnn_conv(const Libraries& libs, const ConvSpec& spec, ConvOp op, const float* a,
                                     const float* b, float* out, float beta);

// Max pooling x [n, c, h, w] -> y [n, c, ho, wo], window kh x kw, stride, symmetric padding (floor mode).
// backward: d_x = beta d_x + dL/dx given x, y (cuDNN needs the forward output) and d_y.
struct PoolSpec {
  int n, c, h, w, ho, wo, kh, kw, stride_h, stride_w, pad_h, pad_w;
};
std::unique_ptr<Baseline> cudnn_max_pool_forward(const Libraries& libs, const PoolSpec& s, const float* x, float* y);
std::unique_ptr<Baseline> cudnn_max_pool_backward(const Libraries& libs, const PoolSpec& s, const float* x,
                                                  const float* y, const float* d_y, float* d_x, float beta);

// Cross-channel LRN on x [n, c, h, w] (cuDNN's alpha is Caffe's: divided by the window size inside).
std::unique_ptr<Baseline> cudnn_lrn_forward(const Libraries& libs, int n, int c, int h, int w, unsigned size,
                                            double alpha, double beta_exp, double k, const float* x, float* y);
std::unique_ptr<Baseline> cudnn_lrn_backward(const Libraries& libs, int n, int c, int h, int w, unsigned size,
                                             double alpha, double beta_exp, double k, const float* x, const float* y,
                                             const float* d_y, float* d_x, float beta);

// y [m, n] = x [m, kd] w [n, kd]^T (row-major; the linear launcher's product) with cublasSgemm.
std::unique_ptr<Baseline> cublas_linear(const Libraries& libs, int64_t m, int64_t n, int64_t kd, const float* x,
                                        const float* w, float* y);

}  // namespace preimage::gpubench
