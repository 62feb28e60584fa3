/* SPDX-License-Identifier: MIT */
/*
 * wait.h — a running job giving way: yielding, and waiting on a counter
 * (parking its fiber, or running other jobs on its own stack).
 */
#ifndef FJ_WAIT_H
#define FJ_WAIT_H

#include "types.h"

/* fj_ctx_yield.  Threads: the job owning ctx.  Suspends: yes. */
int fj__yield(fj_ctx *ctx);

/* fj_ctx_wait (and fj_wait from a job).  Threads: the job owning ctx.
 * Suspends: yes. */
int fj__wait(fj_ctx *ctx, fj_counter *c);

#endif
