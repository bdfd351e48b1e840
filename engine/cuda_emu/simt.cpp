// The SIMT scheduler of the CUDA emulator (engine/cuda_emu/cuda_emu.h).
// A launch runs its blocks one after another on the calling OS thread. Within a block every CUDA thread is a fiber;
// the scheduler makes passes over the block's threads in linear order (x fastest, as CUDA numbers them into warps)
// and resumes each runnable one until it blocks: at __syncthreads (released when every thread of the block has
// arrived or exited), at a warp collective (released by the last of its lanes to arrive, which also computes every
// lane's result), or by finishing. A pass in which nothing can run while threads still wait is a deadlock, reported
// as a launch failure with the threads' states: on a GPU the same code would hang or be undefined.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cuda_emu/device_arena.h"
#include "engine/cuda_emu/emulator.h"
#include "engine/cuda_emu/fiber.h"

// CUDA's built-in variables. Plain globals: only one thread of one block runs at a time.
uint3 threadIdx{};
uint3 blockIdx{};
dim3 blockDim;
dim3 gridDim;

namespace preimage::emu {
namespace {

enum class State : uint8_t { not_started, runnable, at_barrier, at_warp, done, aborted };

struct Thread {
  uint3 idx{};
  unsigned lane = 0, warp = 0;
  State state = State::not_started;
  unsigned barrier_gen = 0;  // the barrier generation it waits at (selects the result slot)
  fiber::Context ctx;
  void* stack = nullptr;
};

struct LaneSlot {  // one lane's pending warp collective
  bool arrived = false;
  WarpOp op = WarpOp::sync;
  unsigned mask = 0;
  int param = 0;
  int width = 32;
  uint64_t value = 0;
  uint64_t result = 0;
};

struct Warp {
  LaneSlot lanes[32];
  unsigned existing = 0;  // lanes present in the block (the last warp may be partial)
  unsigned exited = 0;
};

struct Block {  // the running block; storage reused across blocks and launches
  std::vector<Thread> threads;
  std::vector<Warp> warps;
  unsigned count = 0, done = 0, waiting = 0;
  // __syncthreads_count: arrivals and votes of the current generation, results of the last two.
  unsigned gen = 0;
  int arrivals[2] = {0, 0}, votes[2] = {0, 0}, result_count[2] = {0, 0};
  bool result_all[2] = {false, false};
  Thread* current = nullptr;
  fiber::Context scheduler;
  std::string error;
};

struct Running {  // the launch in progress
  const LaunchConfig* config = nullptr;
  void (*body)(const void*) = nullptr;
  const void* bound = nullptr;
};

Block g_block;
Running* g_running = nullptr;
std::vector<float4> g_shared;  // dynamic shared memory, 16-byte aligned
size_t g_shared_bytes = 0;

fiber::StackPool& stacks() {
  static auto* pool = new fiber::StackPool(
      [] {
        const char* v = std::getenv("PREIMAGE_EMU_STACK_KIB");
        const size_t kib = v && *v ? std::strtoull(v, nullptr, 10) : 64;
        return (kib < 16 ? 16 : kib) * 1024;
      }(),
      1024);
  return *pool;
}

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::shfl_idx: return "__shfl_sync";
    case WarpOp::shfl_up: return "__shfl_up_sync";
    case WarpOp::shfl_down: return "__shfl_down_sync";
    case WarpOp::shfl_xor: return "__shfl_xor_sync";
    case WarpOp::ballot: return "__ballot_sync/__any_sync/__all_sync";
    case WarpOp::sync: return "__syncwarp";
    default: return "__reduce_*_sync";
  }
}

std::string hex(unsigned v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

std::string where(const Thread* t) {
  std::ostringstream s;
  s << "kernel " << (g_running ? g_running->config->kernel_name : "?") << ", block (" << blockIdx.x << ","
    << blockIdx.y << "," << blockIdx.z << ")";
  if (t) s << ", thread (" << t->idx.x << "," << t->idx.y << "," << t->idx.z << ")";
  return s.str();
}

Thread& current_thread(const char* what) {
  if (!g_running || !g_block.current) {
    std::fprintf(stderr, "CUDA emulator: %s called outside a kernel\n", what);
    std::abort();
  }
  return *g_block.current;
}

// Ends the block with an error; the fiber is abandoned (device code holds no resources to unwind).
[[noreturn]] void fail(const std::string& message) {
  Thread& t = *g_block.current;
  g_block.error = where(&t) + ": " + message;
  t.state = State::aborted;
  fiber::swap(t.ctx, g_block.scheduler);
  std::abort();  // never resumed
}

// Completes the collective of the lanes that called it with `mask`, if all of them (that exist and have not exited)
// have arrived: computes every participant's result and makes the waiting ones runnable.
bool try_complete(Warp& w, unsigned warp_index, unsigned mask) {
  const unsigned need = mask & w.existing & ~w.exited;
  if (need == 0) return false;
  int first = -1;
  for (unsigned l = 0; l < 32; ++l) {
    if (!(need >> l & 1u)) continue;
    if (!w.lanes[l].arrived || w.lanes[l].mask != mask) return false;
    if (first < 0) first = static_cast<int>(l);
  }
  const LaneSlot& f = w.lanes[first];
  for (unsigned l = 0; l < 32; ++l) {
    if ((need >> l & 1u) && (w.lanes[l].op != f.op || w.lanes[l].width != f.width))
      fail(std::string("lanes of warp ") + std::to_string(warp_index) + " met in different warp collectives (" +
           op_name(w.lanes[l].op) + " and " + op_name(f.op) + ") or widths: they are not in lock-step");
  }
  auto value_of = [&](unsigned src) -> uint64_t {
    // A lane outside the participants has no value: poison it (NaN as float, -1 as int) as the GPU leaves it undefined.
    return src < 32 && (need >> src & 1u) ? w.lanes[src].value : ~uint64_t(0);
  };
  uint64_t common = 0;
  switch (f.op) {
    case WarpOp::ballot:
      for (unsigned l = 0; l < 32; ++l)
        if ((need >> l & 1u) && w.lanes[l].value) common |= 1ull << l;
      break;
    case WarpOp::reduce_add: {
      uint32_t s = 0;
      for (unsigned l = 0; l < 32; ++l)
        if (need >> l & 1u) s += static_cast<uint32_t>(w.lanes[l].value);
      common = s;
      break;
    }
    case WarpOp::reduce_min_u:
    case WarpOp::reduce_max_u:
    case WarpOp::reduce_min_i:
    case WarpOp::reduce_max_i: {
      const bool is_min = f.op == WarpOp::reduce_min_u || f.op == WarpOp::reduce_min_i;
      const bool is_signed = f.op == WarpOp::reduce_min_i || f.op == WarpOp::reduce_max_i;
      int64_t best = 0;
      bool have = false;
      for (unsigned l = 0; l < 32; ++l) {
        if (!(need >> l & 1u)) continue;
        const uint32_t raw = static_cast<uint32_t>(w.lanes[l].value);
        const int64_t v = is_signed ? int64_t(static_cast<int32_t>(raw)) : int64_t(raw);
        if (!have || (is_min ? v < best : v > best)) best = v;
        have = true;
      }
      common = static_cast<uint32_t>(best);
      break;
    }
    default:
      break;
  }
  for (unsigned l = 0; l < 32; ++l) {
    if (!(need >> l & 1u)) continue;
    LaneSlot& s = w.lanes[l];
    const unsigned seg = l & ~unsigned(s.width - 1);
    unsigned src = l;
    switch (s.op) {
      case WarpOp::shfl_idx: src = seg + (static_cast<unsigned>(s.param) & unsigned(s.width - 1)); break;
      case WarpOp::shfl_up: {
        const unsigned d = static_cast<unsigned>(s.param) & 31u;
        src = l >= seg + d ? l - d : l;
        break;
      }
      case WarpOp::shfl_down: {
        const unsigned d = static_cast<unsigned>(s.param) & 31u;
        src = l + d < seg + unsigned(s.width) ? l + d : l;
        break;
      }
      case WarpOp::shfl_xor: {
        const unsigned x = l ^ (static_cast<unsigned>(s.param) & 31u);
        src = x < seg + unsigned(s.width) ? x : l;
        break;
      }
      default: break;
    }
    const bool is_shuffle = s.op == WarpOp::shfl_idx || s.op == WarpOp::shfl_up || s.op == WarpOp::shfl_down ||
                            s.op == WarpOp::shfl_xor;
    s.result = is_shuffle ? value_of(src) : common;
    s.arrived = false;
    Thread& t = g_block.threads[warp_index * 32 + l];
    if (t.state == State::at_warp) t.state = State::runnable;
  }
  return true;
}

// After a lane exits, collectives that were waiting only for lanes that are gone can complete.
void complete_after_exit(Warp& w, unsigned warp_index) {
  for (unsigned l = 0; l < 32; ++l)
    if (w.lanes[l].arrived) try_complete(w, warp_index, w.lanes[l].mask);
}

void fiber_entry() {
  std::string thrown;
  try {
    g_running->body(g_running->bound);
  } catch (const std::exception& e) {  // leave the catch block before switching fibers: the exception state is per OS thread
    thrown = e.what();
  } catch (...) {
    thrown = "unknown exception";
  }
  if (!thrown.empty()) fail("the kernel threw a C++ exception: " + thrown);
  Thread& t = *g_block.current;
  t.state = State::done;
  Warp& w = g_block.warps[t.warp];
  w.exited |= 1u << t.lane;
  complete_after_exit(w, t.warp);
  fiber::swap(t.ctx, g_block.scheduler);
  std::abort();  // a finished fiber is never resumed
}

void release_barrier(Block& b) {
  const unsigned slot = b.gen & 1u;
  b.result_count[slot] = b.votes[slot];
  b.result_all[slot] = b.votes[slot] == b.arrivals[slot];
  ++b.gen;
  b.arrivals[b.gen & 1u] = 0;
  b.votes[b.gen & 1u] = 0;
  for (unsigned i = 0; i < b.count; ++i)
    if (b.threads[i].state == State::at_barrier) b.threads[i].state = State::runnable;
  b.waiting = 0;
}

std::string deadlock_report(const Block& b) {
  std::ostringstream s;
  unsigned at_warp = 0;
  for (unsigned i = 0; i < b.count; ++i) at_warp += b.threads[i].state == State::at_warp;
  s << "deadlock: " << b.waiting << " thread(s) wait at __syncthreads, " << at_warp
    << " wait in warp collectives, " << b.done << " exited, of " << b.count
    << " (a barrier in divergent code, or a warp collective whose mask names lanes that never reach it)";
  for (unsigned i = 0; i < b.count; ++i) {
    const Thread& t = b.threads[i];
    if (t.state != State::at_warp) continue;
    const Warp& w = b.warps[t.warp];
    const LaneSlot& sl = w.lanes[t.lane];
    unsigned missing = 0;
    for (unsigned l = 0; l < 32; ++l)
      if ((sl.mask & w.existing & ~w.exited) >> l & 1u && !(w.lanes[l].arrived && w.lanes[l].mask == sl.mask))
        missing |= 1u << l;
    s << "; e.g. warp " << t.warp << " lane " << t.lane << " waits in " << op_name(sl.op) << " with mask "
      << hex(sl.mask) << " for lanes " << hex(missing);
    break;
  }
  return s.str();
}

void release_stacks(Block& b) {
  for (unsigned i = 0; i < b.count; ++i) {
    if (b.threads[i].stack) stacks().release(b.threads[i].stack);
    b.threads[i].stack = nullptr;
  }
}

void run_block(Block& b) {
  for (unsigned i = 0; i < b.count; ++i) {
    b.threads[i].state = State::not_started;
    b.threads[i].stack = nullptr;
  }
  for (Warp& w : b.warps) {
    for (LaneSlot& s : w.lanes) s.arrived = false;
    w.exited = 0;
  }
  b.done = b.waiting = 0;
  b.gen = 0;
  b.arrivals[0] = b.arrivals[1] = b.votes[0] = b.votes[1] = 0;
  // Shared memory starts undefined on a GPU; poison it so a kernel that reads before writing shows it.
  if (g_shared_bytes) std::memset(g_shared.data(), 0xFF, g_shared_bytes);
  fiber::StackPool& pool = stacks();
  for (;;) {
    for (unsigned i = 0; i < b.count; ++i) {
      Thread& t = b.threads[i];
      if (t.state == State::not_started) {
        t.stack = pool.acquire();
        fiber::make(t.ctx, t.stack, pool.stack_bytes(), &fiber_entry);
      } else if (t.state != State::runnable) {
        continue;
      }
      t.state = State::runnable;
      b.current = &t;
      threadIdx = t.idx;
      fiber::swap(b.scheduler, t.ctx);
      b.current = nullptr;
      if (t.state == State::done) {
        pool.release(t.stack);  // a thread that never blocked hands its stack straight to the next one
        t.stack = nullptr;
        ++b.done;
      }
      if (!b.error.empty()) {
        release_stacks(b);
        return;
      }
    }
    if (b.done == b.count) return;
    if (b.waiting > 0 && b.waiting + b.done == b.count) {
      release_barrier(b);
      continue;
    }
    bool runnable = false;
    for (unsigned i = 0; i < b.count && !runnable; ++i) runnable = b.threads[i].state == State::runnable;
    if (!runnable) {
      b.error = where(nullptr) + ": " + deadlock_report(b);
      release_stacks(b);
      return;
    }
  }
}

void prepare_block(Block& b, dim3 block) {
  b.count = block.x * block.y * block.z;
  b.threads.resize(b.count);
  b.warps.resize((b.count + 31) / 32);
  for (unsigned i = 0; i < b.count; ++i) {
    Thread& t = b.threads[i];
    t.idx = uint3{i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
    t.lane = i % 32;
    t.warp = i / 32;
  }
  for (unsigned w = 0; w < b.warps.size(); ++w) {
    const unsigned lanes = b.count - w * 32 < 32 ? b.count - w * 32 : 32;
    b.warps[w].existing = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1u;
  }
}

std::string pointer_text(const void* p) {
  std::ostringstream s;
  s << p;
  return s.str();
}

// Checks a launch as the GPU would, plus the emulator's own check that pointer arguments point to device memory.
cudaError_t validate(const LaunchConfig& c, const void* const* pointers, size_t count) {
  const std::string k = std::string("launch of ") + c.kernel_name + ": ";
  const dim3 b = c.block, g = c.grid;
  const unsigned long long threads = 1ull * b.x * b.y * b.z;
  if (b.x == 0 || b.y == 0 || b.z == 0 || threads > 1024 || b.x > 1024 || b.y > 1024 || b.z > 64)
    return record_error(cudaErrorInvalidConfiguration,
                        k + "block (" + std::to_string(b.x) + "," + std::to_string(b.y) + "," + std::to_string(b.z) +
                            ") must have 1..1024 threads (z <= 64)");
  if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > 2147483647u || g.y > 65535 || g.z > 65535)
    return record_error(cudaErrorInvalidConfiguration,
                        k + "grid (" + std::to_string(g.x) + "," + std::to_string(g.y) + "," + std::to_string(g.z) +
                            ") must be >= 1 in every dimension (y, z <= 65535)");
  const int limit = max_dynamic_shared(c.kernel);
  if (c.dynamic_shared_bytes > static_cast<size_t>(limit))
    return record_error(cudaErrorInvalidValue,
                        k + std::to_string(c.dynamic_shared_bytes) + " bytes of dynamic shared memory exceed the " +
                            std::to_string(limit) +
                            " allowed for this kernel (raise it with cudaFuncSetAttribute("
                            "cudaFuncAttributeMaxDynamicSharedMemorySize), at most 227 KiB)");
  if (!valid_stream(c.stream)) return record_error(cudaErrorInvalidResourceHandle, k + "not a live stream");
  const DeviceArena& arena = DeviceArena::instance();
  for (size_t i = 0; i < count; ++i) {
    if (pointers[i] && !arena.contains(pointers[i], 0))
      return record_error(cudaErrorIllegalAddress,
                          k + "pointer argument " + std::to_string(i + 1) + " (counting pointer parameters) = " +
                              pointer_text(pointers[i]) +
                              " is not in a live device allocation: a host pointer, or freed memory");
  }
  return cudaSuccess;
}

}  // namespace

int syncthreads_count(int pred, bool* all) {
  Thread& t = current_thread("__syncthreads");
  Block& b = g_block;
  const unsigned slot = b.gen & 1u;
  ++b.arrivals[slot];
  if (pred) ++b.votes[slot];
  t.barrier_gen = b.gen;
  t.state = State::at_barrier;
  ++b.waiting;
  fiber::swap(t.ctx, b.scheduler);
  const unsigned s = t.barrier_gen & 1u;
  if (all) *all = b.result_all[s];
  return b.result_count[s];
}

uint64_t warp_collective(WarpOp op, unsigned mask, uint64_t value, int param, int width) {
  Thread& t = current_thread(op_name(op));
  if (!(mask >> t.lane & 1u))
    fail(std::string(op_name(op)) + " called by lane " + std::to_string(t.lane) + " with mask " + hex(mask) +
         " that does not include the lane itself");
  if (width < 1 || width > 32 || (width & (width - 1)) != 0)
    fail(std::string(op_name(op)) + ": width " + std::to_string(width) + " must be a power of 2 up to 32");
  Warp& w = g_block.warps[t.warp];
  LaneSlot& s = w.lanes[t.lane];
  s.arrived = true;
  s.op = op;
  s.mask = mask;
  s.param = param;
  s.width = width;
  s.value = value;
  if (!try_complete(w, t.warp, mask)) {
    t.state = State::at_warp;
    fiber::swap(t.ctx, g_block.scheduler);
  }
  return s.result;
}

unsigned active_mask() {
  Thread& t = current_thread("__activemask");
  const Warp& w = g_block.warps[t.warp];
  return w.existing & ~w.exited;
}

void* dynamic_shared_memory() {
  current_thread("dynamic shared memory");
  return g_shared.data();
}

uint64_t clock_ticks() {
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

void run_grid(const LaunchConfig& config, void (*body)(const void*), const void* bound,
              const void* const* pointer_args, size_t pointer_count) {
  std::lock_guard<std::recursive_mutex> lock(emulator_mutex());
  if (g_running) {
    record_error(cudaErrorNotSupported, std::string("launch of ") + config.kernel_name +
                                            " from inside a kernel (dynamic parallelism) is not emulated");
    return;
  }
  if (validate(config, pointer_args, pointer_count) != cudaSuccess) return;
  blockDim = config.block;
  gridDim = config.grid;
  Block& b = g_block;
  prepare_block(b, config.block);
  g_shared_bytes = config.dynamic_shared_bytes;
  g_shared.resize((g_shared_bytes + sizeof(float4) - 1) / sizeof(float4) + 1);
  Running running{&config, body, bound};
  g_running = &running;
  struct Reset {
    ~Reset() { g_running = nullptr; }
  } reset;
  DeviceAccess access;
  b.error.clear();
  for (unsigned z = 0; z < config.grid.z; ++z)
    for (unsigned y = 0; y < config.grid.y; ++y)
      for (unsigned x = 0; x < config.grid.x; ++x) {
        blockIdx = uint3{x, y, z};
        run_block(b);
        if (!b.error.empty()) {
          record_error(cudaErrorLaunchFailure, b.error);
          return;
        }
      }
}

}  // namespace preimage::emu
