// engine/cuda_emu/fault_handler.h. The handler only does async-signal-safe work: a table scan and write(2).
#include "engine/cuda_emu/fault_handler.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace preimage::emu {
namespace {

struct Region {
  std::atomic<uintptr_t> lo{0}, hi{0};
  const char* message = nullptr;
};
constexpr int kMaxRegions = 8;
Region g_regions[kMaxRegions];
struct sigaction g_previous;

void on_segv(int sig, siginfo_t* info, void*) {
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (Region& r : g_regions) {
    if (addr >= r.lo.load() && addr < r.hi.load() && r.message) {
      ssize_t ignored = write(STDERR_FILENO, r.message, std::strlen(r.message));
      (void)ignored;
      break;
    }
  }
  // Hand over to whoever was installed before us; the faulting access re-executes and reaches it.
  sigaction(SIGSEGV, &g_previous, nullptr);
  if (info->si_code <= 0) raise(sig);  // sent by kill(), not a fault: nothing re-executes
}

void ensure_alt_stack() {
  // A fiber that overflowed its stack cannot run a handler on it.
  stack_t current;
  if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
  static thread_local void* alt = nullptr;
  if (!alt) alt = std::malloc(1 << 16);
  if (!alt) return;
  stack_t ss{};
  ss.ss_sp = alt;
  ss.ss_size = 1 << 16;
  sigaltstack(&ss, nullptr);
}

}  // namespace

void ensure_fault_handler() {
  struct sigaction current;
  if (sigaction(SIGSEGV, nullptr, &current) != 0) return;
  if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_segv) return;
  ensure_alt_stack();
  struct sigaction ours{};
  ours.sa_sigaction = on_segv;
  ours.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&ours.sa_mask);
  g_previous = current;
  sigaction(SIGSEGV, &ours, nullptr);
}

void register_fault_region(const void* base, size_t bytes, const char* message) {
  for (Region& r : g_regions) {
    if (r.hi.load() == 0) {
      r.message = message;
      r.lo = reinterpret_cast<uintptr_t>(base);
      r.hi = reinterpret_cast<uintptr_t>(base) + bytes;
      break;
    }
  }
  ensure_fault_handler();
}

void unregister_fault_region(const void* base) {
  for (Region& r : g_regions) {
    if (r.lo.load() == reinterpret_cast<uintptr_t>(base)) {
      r.hi = 0;
      r.lo = 0;
    }
  }
}

}  // namespace preimage::emu
