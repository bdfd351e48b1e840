// engine/cuda_emu/device_arena.h.
#include "engine/cuda_emu/device_arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/cuda_emu/fault_handler.h"

namespace preimage::emu {
namespace {
constexpr size_t kAlign = 256;
constexpr size_t kReleaseAbove = size_t(1) << 20;  // freed blocks this large give their pages back to the OS

size_t page_size() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}
size_t round_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return static_cast<size_t>(std::strtoull(v, nullptr, 10));
}
}  // namespace

DeviceArena& DeviceArena::instance() {
  // Never destroyed: Storage destructors of static objects may still call cudaFree during exit.
  static DeviceArena* arena = new DeviceArena();
  return *arena;
}

DeviceArena::DeviceArena() {
  // Address space only (MAP_NORESERVE, PROT_NONE): pages cost memory once written.
  capacity_ = env_size("PREIMAGE_EMU_DEVICE_GIB", 16) << 30;
  const char* protect = std::getenv("PREIMAGE_EMU_PROTECT");
  protect_ = !(protect && std::string(protect) == "0");
  void* p = mmap(nullptr, capacity_, protect_ ? PROT_NONE : PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error("CUDA emulator: cannot reserve emulated device memory");
  base_ = static_cast<char*>(p);
  register_fault_region(base_, capacity_,
                        "CUDA emulator: host code dereferenced emulated device memory (a Device::cuda pointer read "
                        "or written outside a kernel); this crashes on a real GPU too: copy with Tensor::to / "
                        "copy_floats, or do the work in a kernel\n");
}

void DeviceArena::set_access(size_t from, size_t to, bool writable) {
  if (!protect_ || to <= from) return;
  mprotect(base_ + from, to - from, writable ? PROT_READ | PROT_WRITE : PROT_NONE);
}

void DeviceArena::open() {
  if (open_depth_++ > 0) return;
  mapped_top_ = round_up(top_, page_size());
  set_access(0, mapped_top_, true);
}

void DeviceArena::close() {
  if (--open_depth_ > 0) return;
  set_access(0, mapped_top_, false);
  mapped_top_ = 0;
  ensure_fault_handler();
}

void* DeviceArena::allocate(size_t bytes) {
  const size_t size = round_up(bytes == 0 ? 1 : bytes, kAlign);
  size_t offset = top_;
  bool found = false;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second >= size) {
      offset = it->first;
      if (it->second > size) free_.emplace(offset + size, it->second - size);
      free_.erase(it);
      found = true;
      break;
    }
  }
  if (!found) {
    if (size > capacity_ - top_) return nullptr;
    top_ += size;
  }
  live_.emplace(offset, Block{size, bytes});
  in_use_ += size;
  open();  // poison: fresh pages are zero and would hide reads of memory nobody wrote
  std::memset(base_ + offset, 0xFF, size);
  close();
  return base_ + offset;
}

bool DeviceArena::release(void* p) {
  if (!in_range(p)) return false;
  const size_t offset = static_cast<size_t>(static_cast<char*>(p) - base_);
  auto it = live_.find(offset);
  if (it == live_.end()) return false;
  size_t start = offset, size = it->second.size;
  live_.erase(it);
  in_use_ -= size;
  auto next = free_.lower_bound(start);
  if (next != free_.end() && next->first == start + size) {
    size += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      size += prev->second;
      free_.erase(prev);
    }
  }
  if (start + size == top_) {
    top_ = start;  // the block at the top shrinks the bump range instead of joining the free list
  } else {
    free_.emplace(start, size);
  }
  if (size >= kReleaseAbove) {
    const size_t lo = round_up(start, page_size()), hi = (start + size) / page_size() * page_size();
    if (hi > lo) madvise(base_ + lo, hi - lo, MADV_DONTNEED);
  }
  return true;
}

bool DeviceArena::in_range(const void* p) const {
  const char* c = static_cast<const char*>(p);
  return c >= base_ && c < base_ + capacity_;
}

bool DeviceArena::contains(const void* p, size_t bytes) const {
  if (!in_range(p)) return false;
  const size_t offset = static_cast<size_t>(static_cast<const char*>(p) - base_);
  auto it = live_.upper_bound(offset);
  if (it == live_.begin()) return false;
  --it;
  const size_t end = it->first + it->second.requested;
  return offset <= end && bytes <= end - offset;
}

}  // namespace preimage::emu
