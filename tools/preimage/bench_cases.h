#pragma once
// The cases `preimage bench` times (DESIGN.md "Benchmarks (protocol)", issue 6 item 4): the convolutions of the
// papers' networks, the decoder up-convolutions of seed 003 Table 6, SGEMM and the im2col GEMM shapes, and the
// memory-bound ops of the pre-image objective. Plain C++ (no CUDA): both builds list and filter the cases; only the
// real CUDA build runs them (tools/gpubench/run_bench.h).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/shape.h"
#include "kernels/conv2d.h"
#include "kernels/conv_transpose2d.h"
#include "kernels/lrn.h"
#include "kernels/max_pool2d.h"

namespace preimage::tools::bench {

enum class Family { conv, conv_transpose, gemm, max_pool, lrn, leaky_relu, tv, hog, dsift };
// Convolutions have three directions; the other ops forward and backward (backward = the launcher's backward,
// which accumulates into the input gradient).
enum class Direction { forward, backward_data, backward_filter, backward };

const char* family_name(Family f);
const char* direction_name(Direction d);  // "fwd", "bwd_data", "bwd_filter", "bwd"

struct BenchCase {
  std::string name;    // "alexnet.conv1.b64.fwd": network.layer.batch.direction; filtered by substring
  std::string note;    // e.g. "also conv3_3" for a VGG shape that repeats
  Family family = Family::conv;
  Direction direction = Direction::forward;
  int64_t batch = 1;
  // conv: x [N, C, H, W], w [K, C/g, kh, kw]; conv_transpose: x [N, C, H, W], w [C, K/g, kh, kw];
  // gemm: x [M, Kd], w [N, Kd] (y = x w^T, the linear launcher's product); pool, lrn, leaky_relu, tv, hog, dsift:
  // x is the op's input [N, C, H, W].
  Shape x, w;
  kernels::Conv2dParams conv;
  kernels::ConvTranspose2dParams conv_t;
  kernels::MaxPool2dParams pool;
  kernels::LrnParams lrn;
  float slope = 0.2f;  // leaky relu (seed 002)
};

// Every case. `batches` replaces the default batch sizes of the batched cases (network convolutions, pooling, LRN
// and leaky relu: 1 and 64; decoder up-convolutions and fc layers: 64) when not empty. TV, HOG and DSIFT are one
// 640x480 image, SGEMM and the im2col GEMMs have no batch.
std::vector<BenchCase> make_cases(const std::vector<int64_t>& batches);
// Cases whose name contains any of the comma-free patterns (all cases when `patterns` is empty).
std::vector<BenchCase> filter_cases(const std::vector<BenchCase>& cases, const std::vector<std::string>& patterns);

// Work of one case: the direct-convolution count 2 N K (C/g) kh kw Ho Wo for every conv direction (and the same for
// the transposed conv, whose input plays the conv's output), 2 M N Kd for GEMM; 0 for memory-bound ops.
double case_flops(const BenchCase& c);

// What `preimage bench` was asked for.
struct BenchOptions {
  std::vector<std::string> patterns;  // --cases
  std::vector<int64_t> batches;       // --batch
  std::string json;                   // --json FILE
  int runs = 30;                      // timed runs per measurement (L2 hot and L2 cold each)
  int warmup = 5;
  bool quick = false;                 // --quick: 5 runs, 2 warm-ups
  bool list = false;                  // --list: print the case names and exit
};

}  // namespace preimage::tools::bench
