#pragma once
// SIMT emulation of the CUDA language for the host compiler (DESIGN.md core decision 3, docs/cuda_emulation.md).
// In the emulated build (PREIMAGE_CUDA_EMULATION) g++ compiles kernels/cuda/*.cu as C++ against this header:
//   - each thread of a block is a fiber (engine/cuda_emu/fiber.h) on the launching OS thread; the threads of a block
//     run cooperatively (one at a time, switching only at barriers and warp collectives), blocks one after another;
//   - `__shared__` is `static`: a function-scope static is one object shared by every fiber of the running block,
//     which is exactly CUDA's per-block shared memory because only one block runs at a time;
//   - threadIdx/blockIdx/blockDim/gridDim are globals the scheduler rewrites before resuming a fiber;
//   - warp collectives (__shfl*_sync, __ballot_sync, __syncwarp, ...) are rendezvous of the 32 lanes of a warp;
//   - atomics are plain read-modify-write: only one fiber runs at a time and launches are serialised.
// Kernels are launched with PI_LAUNCH (kernels/cuda/launch.h), which expands to <<<...>>> under nvcc and to
// preimage::emu::launch here. Dynamic shared memory: PI_DYNAMIC_SHARED (also in launch.h), because
// `extern __shared__` cannot be expressed with a macro (`extern static` is ill-formed).
#ifndef PREIMAGE_CUDA_EMULATION
#error "engine/cuda_emu/cuda_emu.h is for the emulated CUDA build only (PREIMAGE_CUDA_EMULATION)"
#endif

#include <math.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include <cuda_runtime_api.h>

// ---- qualifiers ----
#define __global__
#define __device__
#define __host__
#define __constant__
#define __shared__ static
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

// ---- built-in variables (defined in engine/cuda_emu/simt.cpp; the scheduler sets them per fiber / per block) ----
extern uint3 threadIdx;
extern uint3 blockIdx;
extern dim3 blockDim;
extern dim3 gridDim;
constexpr int warpSize = 32;

namespace preimage::emu {

// Blocks the calling fiber until every non-exited thread of its block arrives; returns how many arrivals had
// pred != 0 (`all` = whether all of them had).
int syncthreads_count(int pred, bool* all = nullptr);

enum class WarpOp : uint8_t {
  shfl_idx, shfl_up, shfl_down, shfl_xor, ballot, sync, reduce_add, reduce_min_u, reduce_max_u, reduce_min_i,
  reduce_max_i
};
// Rendezvous of the lanes named in `mask` (that exist and have not exited); returns this lane's result. `value` is the
// lane's operand as raw bits, `param` the source lane / delta / lane mask, `width` the shuffle segment (power of 2).
uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int param, int width);
unsigned active_mask();                 // existing, non-exited lanes of the caller's warp
void* dynamic_shared_memory();          // the launch's dynamic shared memory (16-byte aligned; 0xFF-poisoned per block)
uint64_t clock_ticks();

template <typename T> uint64_t to_bits(T v) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "warp shuffles move at most 8 bytes");
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <typename T> T from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

}  // namespace preimage::emu

// ---- barriers and memory fences ----
// The asm statements stop the compiler from moving shared-memory accesses across a barrier; the call itself
// already clobbers memory, they make the intent explicit.
inline void __syncthreads() {
  asm volatile("" ::: "memory");
  preimage::emu::syncthreads_count(0);
  asm volatile("" ::: "memory");
}
inline int __syncthreads_count(int pred) { return preimage::emu::syncthreads_count(pred); }
inline int __syncthreads_or(int pred) { return preimage::emu::syncthreads_count(pred) != 0; }
inline int __syncthreads_and(int pred) {
  bool all = false;
  preimage::emu::syncthreads_count(pred, &all);
  return all;
}
inline void __threadfence() { asm volatile("" ::: "memory"); }
inline void __threadfence_block() { asm volatile("" ::: "memory"); }

// ---- warp collectives ----
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  asm volatile("" ::: "memory");
  preimage::emu::warp_collective(preimage::emu::WarpOp::sync, mask, 0, 0, 32);
  asm volatile("" ::: "memory");
}
inline unsigned __activemask() { return preimage::emu::active_mask(); }
template <typename T> T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {
  using namespace preimage::emu;
  return from_bits<T>(warp_collective(WarpOp::shfl_idx, mask, to_bits(var), src_lane, width));
}
template <typename T> T __shfl_up_sync(unsigned mask, T var, unsigned int delta, int width = warpSize) {
  using namespace preimage::emu;
  return from_bits<T>(warp_collective(WarpOp::shfl_up, mask, to_bits(var), static_cast<int>(delta), width));
}
template <typename T> T __shfl_down_sync(unsigned mask, T var, unsigned int delta, int width = warpSize) {
  using namespace preimage::emu;
  return from_bits<T>(warp_collective(WarpOp::shfl_down, mask, to_bits(var), static_cast<int>(delta), width));
}
template <typename T> T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {
  using namespace preimage::emu;
  return from_bits<T>(warp_collective(WarpOp::shfl_xor, mask, to_bits(var), lane_mask, width));
}
inline unsigned __ballot_sync(unsigned mask, int pred) {
  using namespace preimage::emu;
  return static_cast<unsigned>(warp_collective(WarpOp::ballot, mask, pred != 0, 0, 32));
}
inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }
inline int __all_sync(unsigned mask, int pred) {
  // Every participating lane must have voted yes: compare with the ballot of "participates".
  return __ballot_sync(mask, pred) == __ballot_sync(mask, 1);
}
inline unsigned __reduce_add_sync(unsigned mask, unsigned v) {
  using namespace preimage::emu;
  return static_cast<unsigned>(warp_collective(WarpOp::reduce_add, mask, v, 0, 32));
}
inline int __reduce_add_sync(unsigned mask, int v) {
  return static_cast<int>(__reduce_add_sync(mask, static_cast<unsigned>(v)));
}
inline unsigned __reduce_min_sync(unsigned mask, unsigned v) {
  using namespace preimage::emu;
  return static_cast<unsigned>(warp_collective(WarpOp::reduce_min_u, mask, v, 0, 32));
}
inline unsigned __reduce_max_sync(unsigned mask, unsigned v) {
  using namespace preimage::emu;
  return static_cast<unsigned>(warp_collective(WarpOp::reduce_max_u, mask, v, 0, 32));
}
inline int __reduce_min_sync(unsigned mask, int v) {
  using namespace preimage::emu;
  return static_cast<int>(warp_collective(WarpOp::reduce_min_i, mask, static_cast<uint32_t>(v), 0, 32));
}
inline int __reduce_max_sync(unsigned mask, int v) {
  using namespace preimage::emu;
  return static_cast<int>(warp_collective(WarpOp::reduce_max_i, mask, static_cast<uint32_t>(v), 0, 32));
}

// ---- atomics: one fiber runs at a time, so a plain read-modify-write is atomic ----
template <typename T> T pi_emu_atomic_add(T* a, T v) {
  T old = *a;
  *a = old + v;
  return old;
}
inline float atomicAdd(float* a, float v) { return pi_emu_atomic_add(a, v); }
inline double atomicAdd(double* a, double v) { return pi_emu_atomic_add(a, v); }
inline int atomicAdd(int* a, int v) { return pi_emu_atomic_add(a, v); }
inline unsigned atomicAdd(unsigned* a, unsigned v) { return pi_emu_atomic_add(a, v); }
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) { return pi_emu_atomic_add(a, v); }
inline int atomicSub(int* a, int v) { return pi_emu_atomic_add(a, -v); }
inline unsigned atomicSub(unsigned* a, unsigned v) { return pi_emu_atomic_add(a, 0u - v); }
template <typename T> T pi_emu_atomic_max(T* a, T v) {
  T old = *a;
  *a = old < v ? v : old;
  return old;
}
template <typename T> T pi_emu_atomic_min(T* a, T v) {
  T old = *a;
  *a = v < old ? v : old;
  return old;
}
inline int atomicMax(int* a, int v) { return pi_emu_atomic_max(a, v); }
inline unsigned atomicMax(unsigned* a, unsigned v) { return pi_emu_atomic_max(a, v); }
inline long long atomicMax(long long* a, long long v) { return pi_emu_atomic_max(a, v); }
inline unsigned long long atomicMax(unsigned long long* a, unsigned long long v) { return pi_emu_atomic_max(a, v); }
inline int atomicMin(int* a, int v) { return pi_emu_atomic_min(a, v); }
inline unsigned atomicMin(unsigned* a, unsigned v) { return pi_emu_atomic_min(a, v); }
inline long long atomicMin(long long* a, long long v) { return pi_emu_atomic_min(a, v); }
inline unsigned long long atomicMin(unsigned long long* a, unsigned long long v) { return pi_emu_atomic_min(a, v); }
template <typename T> T pi_emu_atomic_exch(T* a, T v) {
  T old = *a;
  *a = v;
  return old;
}
inline int atomicExch(int* a, int v) { return pi_emu_atomic_exch(a, v); }
inline unsigned atomicExch(unsigned* a, unsigned v) { return pi_emu_atomic_exch(a, v); }
inline unsigned long long atomicExch(unsigned long long* a, unsigned long long v) { return pi_emu_atomic_exch(a, v); }
inline float atomicExch(float* a, float v) { return pi_emu_atomic_exch(a, v); }
template <typename T> T pi_emu_atomic_cas(T* a, T compare, T v) {
  T old = *a;
  if (old == compare) *a = v;
  return old;
}
inline int atomicCAS(int* a, int c, int v) { return pi_emu_atomic_cas(a, c, v); }
inline unsigned atomicCAS(unsigned* a, unsigned c, unsigned v) { return pi_emu_atomic_cas(a, c, v); }
inline unsigned long long atomicCAS(unsigned long long* a, unsigned long long c, unsigned long long v) {
  return pi_emu_atomic_cas(a, c, v);
}
inline unsigned atomicInc(unsigned* a, unsigned limit) {
  unsigned old = *a;
  *a = old >= limit ? 0u : old + 1u;
  return old;
}
inline int atomicAnd(int* a, int v) { int o = *a; *a = o & v; return o; }
inline unsigned atomicAnd(unsigned* a, unsigned v) { unsigned o = *a; *a = o & v; return o; }
inline int atomicOr(int* a, int v) { int o = *a; *a = o | v; return o; }
inline unsigned atomicOr(unsigned* a, unsigned v) { unsigned o = *a; *a = o | v; return o; }
inline int atomicXor(int* a, int v) { int o = *a; *a = o ^ v; return o; }
inline unsigned atomicXor(unsigned* a, unsigned v) { unsigned o = *a; *a = o ^ v; return o; }

// ---- loads and stores with cache hints: plain accesses here ----
template <typename T> T __ldg(const T* p) { return *p; }
template <typename T> T __ldcg(const T* p) { return *p; }
template <typename T> T __ldca(const T* p) { return *p; }
template <typename T> T __ldcs(const T* p) { return *p; }
template <typename T> T __ldlu(const T* p) { return *p; }
template <typename T> void __stcg(T* p, T v) { *p = v; }
template <typename T> void __stcs(T* p, T v) { *p = v; }
template <typename T> void __stwt(T* p, T v) { *p = v; }

// ---- math intrinsics: the fast-math variants are computed exactly here (document your tolerance for the GPU) ----
inline float __expf(float x) { return std::exp(x); }
inline float __exp10f(float x) { return std::pow(10.0f, x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __log10f(float x) { return std::log10(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanf(float x) { return std::tan(x); }
inline void __sincosf(float x, float* s, float* c) { *s = std::sin(x); *c = std::cos(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }  // NaN -> 0, as CUDA
inline int __float_as_int(float x) { return preimage::emu::from_bits<int>(preimage::emu::to_bits(x)); }
inline unsigned __float_as_uint(float x) { return preimage::emu::from_bits<unsigned>(preimage::emu::to_bits(x)); }
inline float __int_as_float(int x) { return preimage::emu::from_bits<float>(preimage::emu::to_bits(x)); }
inline float __uint_as_float(unsigned x) { return preimage::emu::from_bits<float>(preimage::emu::to_bits(x)); }
inline long long __double_as_longlong(double x) { return preimage::emu::from_bits<long long>(preimage::emu::to_bits(x)); }
inline double __longlong_as_double(long long x) { return preimage::emu::from_bits<double>(preimage::emu::to_bits(x)); }
inline int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rd(float x) { return static_cast<int>(std::floor(x)); }
inline int __float2int_ru(float x) { return static_cast<int>(std::ceil(x)); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline unsigned __umulhi(unsigned a, unsigned b) { return static_cast<unsigned>((uint64_t(a) * b) >> 32); }
inline long long clock64() { return static_cast<long long>(preimage::emu::clock_ticks()); }

// CUDA device code has unqualified min/max overloads in the global namespace.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline unsigned long min(unsigned long a, unsigned long b) { return a < b ? a : b; }
inline unsigned long max(unsigned long a, unsigned long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }

// ---- the launch ----
namespace preimage::emu {

struct LaunchConfig {
  const char* kernel_name;   // as written at the launch site
  const void* kernel;        // identifies the kernel for cudaFuncSetAttribute
  dim3 grid, block;
  size_t dynamic_shared_bytes;
  cudaStream_t stream;
};

// Validates the configuration and the pointer arguments (each must lie in emulated device memory), then runs the
// grid block by block. Failures set the error cudaGetLastError reports, as a failed launch does on a GPU.
void run_grid(const LaunchConfig& config, void (*body)(const void* bound), const void* bound,
              const void* const* pointer_args, size_t pointer_count);

template <typename... P> class Launch {
 public:
  Launch(void (*kernel)(P...), const LaunchConfig& config) : kernel_(kernel), config_(config) {}

  template <typename... A> void operator()(A&&... args) const {
    static_assert(sizeof...(A) == sizeof...(P), "kernel launched with the wrong number of arguments");
    // Parameters are copied at the launch, converted to the kernel's parameter types, as CUDA does.
    const Bound bound{kernel_, std::tuple<std::decay_t<P>...>(std::forward<A>(args)...)};
    const void* pointers[sizeof...(P) + 1] = {};
    size_t count = 0;
    std::apply([&](const auto&... v) { (collect(v, pointers, count), ...); }, bound.params);
    run_grid(config_, &invoke, &bound, pointers, count);
  }

 private:
  struct Bound {
    void (*kernel)(P...);
    std::tuple<std::decay_t<P>...> params;
  };
  static void invoke(const void* b) {
    const Bound& bound = *static_cast<const Bound*>(b);
    std::apply(bound.kernel, bound.params);  // each fiber gets its own copy of the by-value parameters
  }
  template <typename T> static void collect(const T& v, const void** out, size_t& count) {
    if constexpr (std::is_pointer_v<T> && std::is_object_v<std::remove_pointer_t<T>>) out[count++] = v;
  }
  void (*kernel_)(P...);
  LaunchConfig config_;
};

template <typename... P>
Launch<P...> launch(void (*kernel)(P...), const char* name, dim3 grid, dim3 block, size_t shared_bytes,
                    cudaStream_t stream) {
  return Launch<P...>(kernel, LaunchConfig{name, reinterpret_cast<const void*>(kernel), grid, block, shared_bytes,
                                           stream});
}

}  // namespace preimage::emu
