#pragma once
// Fibers for the SIMT emulator: a minimal context switch and a pool of small stacks with guard pages.
// x86-64 uses a hand-written switch (callee-saved registers + SSE/x87 control words, a few nanoseconds);
// other targets, or PREIMAGE_EMU_UCONTEXT, fall back to POSIX ucontext (swapcontext makes a syscall per switch).
#include <cstddef>
#include <vector>

#if !defined(__x86_64__) || defined(PREIMAGE_EMU_UCONTEXT)
#define PREIMAGE_EMU_USE_UCONTEXT 1
#include <ucontext.h>
#endif

namespace preimage::emu::fiber {

struct Context {
#ifdef PREIMAGE_EMU_USE_UCONTEXT
  ucontext_t uc;
#else
  void* sp = nullptr;  // saved stack pointer; the registers live on the fiber's own stack
#endif
};

// Prepares `c` so that switching to it runs entry() on [stack, stack + size). entry must never return.
void make(Context& c, void* stack, size_t size, void (*entry)());
// Saves the running context into `from` and resumes `to`.
void swap(Context& from, Context& to);

// Stacks for up to `max_stacks` live fibers (a block of 1024 threads all waiting at a barrier needs 1024).
// Each stack has a PROT_NONE guard page below it, so an overflow faults instead of corrupting a neighbour.
class StackPool {
 public:
  StackPool(size_t stack_bytes, size_t max_stacks);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  void* acquire();            // lowest address of a free stack of stack_bytes(); most recently released first
  void release(void* stack);
  size_t stack_bytes() const { return stack_bytes_; }

 private:
  char* region_ = nullptr;
  size_t region_bytes_ = 0;
  size_t stack_bytes_ = 0;
  size_t slot_bytes_ = 0;     // guard + stack
  size_t slots_used_ = 0;     // slots made writable so far
  size_t max_stacks_ = 0;
  std::vector<void*> free_;
};

}  // namespace preimage::emu::fiber
