/* SPDX-License-Identifier: MIT */
/*
 * fcontext_regs.c — reads a suspended fcontext's saved registers.
 *
 * Boost.Context's x86-64 System V jump_fcontext (checked against the
 * disassembly of Debian's Boost 1.74) reserves 0x38 bytes below the return
 * address its caller pushed and stores, relative to the new stack pointer,
 * which is also the fcontext_t it hands out:
 *   0x00 MXCSR (4 bytes) and 0x04 x87 control word (2 bytes)
 *   0x08 r12, 0x10 r13, 0x18 r14, 0x20 r15, 0x28 rbx, 0x30 rbp
 *   0x38 the return address (where the context resumes)
 * On resumption the stack pointer becomes fcontext_t + 0x40.  The same
 * layout is described in tools/gdb/fiberjob.py, which switches gdb onto it.
 */
#include "fcontext_regs.h"

/* Another thread's saved context: reads by design that sanitizers would
 * flag (a stack slot below a live fiber's frames; a race with a resume
 * that the caller detects). */
__attribute__((no_sanitize("address", "thread"))) bool
fj__fctx_saved_regs(fj__fctx ctx, fj__saved_regs *out) {
#if defined(__x86_64__)
  const volatile uintptr_t *p = ctx;
  uintptr_t w[8];
  if (!p)
    return false;
  for (int i = 0; i < 8; i++)
    w[i] = p[i];
  *out = (fj__saved_regs){.r12 = w[1], .r13 = w[2], .r14 = w[3], .r15 = w[4],
                          .rbx = w[5], .rbp = w[6], .pc = w[7],
                          .sp = (uintptr_t)p + 0x40};
  return true;
#else
  (void)ctx;
  (void)out;
  return false;
#endif
}
