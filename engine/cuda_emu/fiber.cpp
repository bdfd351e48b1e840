// Context switch and stack pool for engine/cuda_emu/fiber.h.
#include "engine/cuda_emu/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/cuda_emu/fault_handler.h"

#ifndef PREIMAGE_EMU_USE_UCONTEXT
// pi_emu_switch(save_sp, load_sp): pushes the System V callee-saved registers and the MXCSR / x87 control words
// (they are callee-saved too) on the current stack, stores the stack pointer in *save_sp, switches to load_sp and
// pops the same frame from there. A new fiber's stack is prepared by make() to look like such a frame whose return
// address is the entry function.
extern "C" void pi_emu_switch(void** save_sp, void* load_sp);
asm(R"(
  .text
  .p2align 4
  .globl pi_emu_switch
  .hidden pi_emu_switch
  .type pi_emu_switch, @function
pi_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size pi_emu_switch, .-pi_emu_switch
)");
#endif

namespace preimage::emu::fiber {

#ifdef PREIMAGE_EMU_USE_UCONTEXT
void make(Context& c, void* stack, size_t size, void (*entry)()) {
  getcontext(&c.uc);
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = size;
  c.uc.uc_link = nullptr;
  makecontext(&c.uc, entry, 0);
}
void swap(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
#else
void make(Context& c, void* stack, size_t size, void (*entry)()) {
  // Stack top aligned to 16; after the final `ret` into entry, rsp is 8 mod 16 as at any function entry.
  auto* top = reinterpret_cast<uint64_t*>((reinterpret_cast<uintptr_t>(stack) + size) & ~uintptr_t(15));
  uint32_t mxcsr = 0;
  uint16_t fpcw = 0;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpcw));
  uint64_t* sp = top;
  *--sp = 0;                                    // entry's return address: entry never returns
  *--sp = reinterpret_cast<uint64_t>(entry);    // popped by `ret`
  for (int i = 0; i < 6; ++i) *--sp = 0;        // rbp rbx r12 r13 r14 r15
  *--sp = uint64_t(mxcsr) | (uint64_t(fpcw) << 32);
  c.sp = sp;
}
void swap(Context& from, Context& to) { pi_emu_switch(&from.sp, to.sp); }
#endif

StackPool::StackPool(size_t stack_bytes, size_t max_stacks) : max_stacks_(max_stacks) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  stack_bytes_ = (stack_bytes + page - 1) / page * page;
  slot_bytes_ = stack_bytes_ + page;
  region_bytes_ = slot_bytes_ * max_stacks;
  void* p = mmap(nullptr, region_bytes_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error("CUDA emulator: cannot reserve " + std::to_string(region_bytes_) + " bytes of fiber stacks");
  region_ = static_cast<char*>(p);
  register_fault_region(region_, region_bytes_,
                        "CUDA emulator: a kernel thread overflowed its fiber stack (large local arrays or deep "
                        "recursion); raise PREIMAGE_EMU_STACK_KIB (default 64) or shrink the kernel's locals\n");
}

StackPool::~StackPool() {
  unregister_fault_region(region_);
  munmap(region_, region_bytes_);
}

void* StackPool::acquire() {
  if (!free_.empty()) {
    void* s = free_.back();
    free_.pop_back();
    return s;
  }
  if (slots_used_ == max_stacks_) throw std::logic_error("CUDA emulator: more live fibers than stacks");
  char* stack = region_ + slots_used_ * slot_bytes_ + (slot_bytes_ - stack_bytes_);  // guard page below
  if (mprotect(stack, stack_bytes_, PROT_READ | PROT_WRITE) != 0)
    throw std::runtime_error("CUDA emulator: cannot map a fiber stack");
  ++slots_used_;
  return stack;
}

void StackPool::release(void* stack) { free_.push_back(stack); }

}  // namespace preimage::emu::fiber
