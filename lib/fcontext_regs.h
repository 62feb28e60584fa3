/* SPDX-License-Identifier: MIT */
/*
 * fcontext_regs.h — the registers a suspended context saved, for tools that
 * look at a fiber without resuming it (the dump's unwinder).  Only
 * fcontext_regs.c knows where Boost.Context keeps them.
 *
 * Registers are named by their DWARF numbers (the ABI's own numbering, which
 * call-frame information uses), so an unwinder can take them as they are
 * without knowing the architecture.
 */
#ifndef FJ_FCONTEXT_REGS_H
#define FJ_FCONTEXT_REGS_H

#include <stdbool.h>
#include <stdint.h>

#include "fcontext.h"

/* The DWARF number of the stack pointer, so an unwinder can read each
 * frame's; -1 where the saved layout is unknown. */
#if defined(__x86_64__)
#define FJ__DWARF_SP 7 /* rsp */
#elif defined(__aarch64__)
#define FJ__DWARF_SP 31 /* sp */
#else
#define FJ__DWARF_SP (-1)
#endif

/* Enough for aarch64: x19-x30 and d8-d15. */
#define FJ__SAVED_REGS_MAX 20

/* The callee-saved state at the moment of the switch: what an unwinder
 * needs to start walking the suspended call stack. */
typedef struct fj__saved_regs {
  uintptr_t pc; /* where the context resumes: a return address */
  uintptr_t sp; /* the stack pointer it resumes with */
  int n;        /* callee-saved registers below, by DWARF number */
  uint16_t dwarf[FJ__SAVED_REGS_MAX];
  uint64_t value[FJ__SAVED_REGS_MAX];
} fj__saved_regs;

/* Fills *out from a suspended context.  False on architectures whose
 * layout this file does not know (the caller then shows no call stack). */
bool fj__fctx_saved_regs(fj__fctx ctx, fj__saved_regs *out);

#endif
