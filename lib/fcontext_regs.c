/* SPDX-License-Identifier: MIT */
/*
 * fcontext_regs.c — reads a suspended fcontext's saved registers.  Both
 * layouts were checked against the disassembly of Debian's Boost 1.74
 * (x86-64 and arm64 libboost_context.so); tools/gdb/fiberjob.py switches
 * gdb onto the same layouts.
 *
 * x86-64 System V (jump_x86_64_sysv_elf_gas.S): jump_fcontext reserves 0x38
 * bytes below the return address its caller pushed and stores, relative to
 * the new stack pointer, which is also the fcontext_t it hands out:
 *   0x00 MXCSR (4 bytes) and 0x04 x87 control word (2 bytes)
 *   0x08 r12, 0x10 r13, 0x18 r14, 0x20 r15, 0x28 rbx, 0x30 rbp
 *   0x38 the return address (where the context resumes)
 * On resumption the stack pointer becomes fcontext_t + 0x40.
 *
 * aarch64 AAPCS64 (jump_arm64_aapcs_elf_gas.S): jump_fcontext lowers sp by
 * 0xb0 (bl pushes nothing) and stores, relative to the new sp, which is the
 * fcontext_t:
 *   0x00 d8, d9, ... 0x38 d15 (the low 64 bits of v8-v15)
 *   0x40 x19, x20, ... 0x88 x28, 0x90 x29 (frame pointer), 0x98 x30 (lr)
 *   0xa0 the address it resumes at (a copy of lr)
 * On resumption sp becomes fcontext_t + 0xb0.  A fresh context from
 * make_fcontext differs only in what the slots hold (0xa0 the entry
 * trampoline, 0x98 its exit path); the dump walks only fibers that a job's
 * wait or yield suspended, never a fresh one.
 */
#include "fcontext_regs.h"

/* Another thread's saved context: reads by design that sanitizers would
 * flag (a stack slot below a live fiber's frames; a race with a resume
 * that the caller detects). */
__attribute__((no_sanitize("address", "thread"))) bool
fj__fctx_saved_regs(fj__fctx ctx, fj__saved_regs *out) {
  const volatile uint64_t *p = ctx;
  if (!p)
    return false;
#if defined(__x86_64__)
  /* DWARF numbers: r12-r15 12-15, rbx 3, rbp 6. */
  static const uint16_t dwarf[6] = {12, 13, 14, 15, 3, 6};
  out->n = 6;
  for (int i = 0; i < 6; i++) {
    out->dwarf[i] = dwarf[i];
    out->value[i] = p[1 + i];
  }
  out->pc = (uintptr_t)p[7];
  out->sp = (uintptr_t)p + 0x40;
  return true;
#elif defined(__aarch64__)
  /* DWARF numbers: x19-x30 19-30; d8-d15 are v8-v15, 72-79. */
  out->n = 0;
  for (int i = 0; i < 12; i++) {
    out->dwarf[out->n] = (uint16_t)(19 + i);
    out->value[out->n++] = p[8 + i];
  }
  for (int i = 0; i < 8; i++) {
    out->dwarf[out->n] = (uint16_t)(72 + i);
    out->value[out->n++] = p[i];
  }
  out->pc = (uintptr_t)p[20];
  out->sp = (uintptr_t)p + 0xb0;
  return true;
#else
  (void)out;
  return false;
#endif
}
