/* SPDX-License-Identifier: MIT */
/*
 * fcontext_regs.h — the registers a suspended context saved, for tools that
 * look at a fiber without resuming it (the dump's unwinder).  Only
 * fcontext_regs.c knows where Boost.Context keeps them.
 */
#ifndef FJ_FCONTEXT_REGS_H
#define FJ_FCONTEXT_REGS_H

#include <stdbool.h>
#include <stdint.h>

#include "fcontext.h"

/* The callee-saved state of x86-64 System V at the moment of the switch:
 * what an unwinder needs to start walking the suspended call stack. */
typedef struct fj__saved_regs {
  uintptr_t pc;  /* where the context resumes: a return address */
  uintptr_t sp;  /* the stack pointer it resumes with */
  uintptr_t rbp, rbx, r12, r13, r14, r15;
} fj__saved_regs;

/* Fills *out from a suspended context.  False on architectures whose
 * layout this file does not know (the caller then shows no call stack). */
bool fj__fctx_saved_regs(fj__fctx ctx, fj__saved_regs *out);

#endif
