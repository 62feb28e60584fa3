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

/* Suspends the caller and resumes `to`, handing it `data`.  Returns when
 * some context jumps back to the caller. */
fj__transfer fj__fctx_jump(fj__fctx to, void *data);

#endif
