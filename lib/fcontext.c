/* SPDX-License-Identifier: MIT */
/*
 * fcontext.c — the shim over Boost.Context's fcontext; with fcontext.h (which
 * declares jump_fcontext so the switch inlines) the only code that knows
 * about it.  Debian 12's Boost 1.74 exports make_fcontext and jump_fcontext
 * with C linkage; newer Boost (2024 on) hides them behind C++ wrappers, and
 * this file would then become a small C++ file exporting a C-linkage jump.
 *
 * Context-switch contract (x86-64 System V, as implemented by Boost's
 * jump_fcontext): a switch saves and restores the callee-saved registers
 * (rbx, rbp, r12-r15), the stack pointer, the instruction pointer, and the
 * x87 control word and MXCSR.  It does not save the signal mask, errno or any
 * caller-saved register, and it does not change thread-local storage: a
 * context resumed on another thread sees that thread's thread-locals.
 * On aarch64 (AAPCS64, jump_arm64_aapcs_elf_gas.S) the same holds with
 * x19-x29, lr, sp, pc and d8-d15 saved; FPCR and FPSR are not.
 *
 * transfer_t is two pointers returned in registers; fj__transfer has the
 * same layout, so the Boost functions are declared with it directly.
 */
#include "fcontext.h"

extern fj__fctx make_fcontext(void *sp, size_t size, void (*fn)(fj__transfer));

fj__fctx fj__fctx_make(void *stack_top, size_t size, void (*entry)(fj__transfer)) {
  return make_fcontext(stack_top, size, entry);
}

