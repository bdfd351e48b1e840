#pragma once
// Emulated device memory: one reserved address range, sub-allocated first-fit (256-byte aligned, like cudaMalloc).
// Outside runtime calls and kernel launches the range is PROT_NONE, so host code that dereferences a device pointer
// faults here as it would with a real GPU (set PREIMAGE_EMU_PROTECT=0 to turn this off when debugging). New
// allocations are filled with 0xFF bytes (NaN as float) so code that reads memory it never wrote shows it.
// Not thread-safe: callers hold emulator_mutex() (engine/cuda_emu/emulator.h).
#include <cstddef>
#include <cstdint>
#include <map>

namespace preimage::emu {

class DeviceArena {
 public:
  static DeviceArena& instance();

  void* allocate(size_t bytes);   // nullptr when the emulated device is full
  bool release(void* p);          // false unless p is the start of a live allocation
  // Whether [p, p + bytes) lies inside one live allocation (bytes == 0: p may be one past its end).
  bool contains(const void* p, size_t bytes) const;
  bool in_range(const void* p) const;  // anywhere in the arena, live or not
  size_t capacity() const { return capacity_; }
  size_t in_use() const { return in_use_; }

  // Host access to device memory, nested: memory is readable and writable between open() and the matching close().
  void open();
  void close();

 private:
  DeviceArena();
  void set_access(size_t from, size_t to, bool writable);

  char* base_ = nullptr;
  size_t capacity_ = 0;
  size_t top_ = 0;            // bytes of the range ever handed out (bump pointer)
  size_t mapped_top_ = 0;     // page-rounded part of [0, top_) currently writable (while open)
  size_t in_use_ = 0;
  int open_depth_ = 0;
  bool protect_ = true;
  struct Block {
    size_t size;       // rounded to kAlign: what the allocator hands out and takes back
    size_t requested;  // what the caller asked for: the bounds contains() checks
  };
  std::map<size_t, Block> live_;    // offset -> block
  std::map<size_t, size_t> free_;   // offset -> size, coalesced, all below top_
};

// RAII scope of host access to device memory.
class DeviceAccess {
 public:
  DeviceAccess() { DeviceArena::instance().open(); }
  ~DeviceAccess() { DeviceArena::instance().close(); }
  DeviceAccess(const DeviceAccess&) = delete;
  DeviceAccess& operator=(const DeviceAccess&) = delete;
};

}  // namespace preimage::emu
