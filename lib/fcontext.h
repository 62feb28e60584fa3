/* SPDX-License-Identifier: MIT */
/*
 * fcontext.h — the context-switch primitive, as plain C.  Only fcontext.c
 * knows that Boost.Context provides it.
 */
#ifndef FJ_FCONTEXT_H
#define FJ_FCONTEXT_H

#include <stddef.h>

typedef void *fj__fctx; /* a suspended execution context */

/* What a resumed context receives: the context that jumped to it (now
 * suspended) and the pointer that was passed along. */
typedef struct fj__transfer {
  fj__fctx from;
  void *data;
} fj__transfer;

/* Prepares a context that will run entry() on [stack_top - size, stack_top).
 * entry must never return; it leaves by jumping to another context. */
fj__fctx fj__fctx_make(void *stack_top, size_t size, void (*entry)(fj__transfer));

/* Boost.Context's switch (libboost_context), declared here rather than in
 * fcontext.c so that fj__fctx_jump inlines into the fiber switch: a yield
 * then makes one call, to the switch itself, instead of three.  fcontext.h
 * and fcontext.c together are the only files that know Boost.Context.
 * transfer_t is two pointers returned in registers; fj__transfer has the
 * same layout, so the function is declared with it directly. */
extern fj__transfer jump_fcontext(fj__fctx const to, void *vp);

/* Suspends the caller and resumes `to`, handing it `data`.  Returns when
 * some context jumps back to the caller.
 *
 * x86-64: jump_fcontext resumes the other context with an indirect jmp, not
 * a ret.  A `call` into it would push a return address on the CPU's
 * return-stack predictor that no ret ever pops, and the resumed fiber's
 * next ret would be mispredicted on every switch (about a third of a
 * yield's time).  So the address to resume at is pushed by hand and
 * jump_fcontext entered with jmp: the stack holds what a call would have
 * left, the predictor nothing.  The jmp goes through the GOT entry, not the
 * PLT: one indirect jump instead of a jump to a stub that jumps.
 * jump_fcontext saves and restores the callee-saved registers; everything
 * a call may clobber is listed.
 * Red zone: the push writes below the stack pointer, where the compiler
 * may keep a leaf function's locals.  The yield fast path is such a leaf,
 * so lib/ is built with -mno-red-zone on x86-64 (lib/meson.build).  At
 * the label the stack pointer is what it was before the push, so the
 * compiler's unwind info holds there (dumps unwind from it). */
#if defined(__x86_64__) && defined(__GNUC__)
static inline __attribute__((always_inline)) fj__transfer fj__fctx_jump(fj__fctx to,
                                                                        void *data) {
  register void *rax __asm__("rax");
  register void *rdx __asm__("rdx");
  register void *rdi __asm__("rdi") = to;
  register void *rsi __asm__("rsi") = data;
  __asm__ volatile("lea 1f(%%rip), %%rax\n\t"
                   "push %%rax\n\t"
                   "jmp *jump_fcontext@GOTPCREL(%%rip)\n"
                   "1:"
                   : "=a"(rax), "=d"(rdx), "+D"(rdi), "+S"(rsi)
                   :
                   : "rcx", "r8", "r9", "r10", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2",
                     "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                     "xmm12", "xmm13", "xmm14", "xmm15");
  return (fj__transfer){rax, rdx};
}
#else
static inline fj__transfer fj__fctx_jump(fj__fctx to, void *data) {
  return jump_fcontext(to, data);
}
#endif

#endif
