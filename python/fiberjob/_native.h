/* SPDX-License-Identifier: MIT */
/*
 * _native.h — the C half of the Python binding, shared by _native.c and the
 * cffi-generated module (python/build_ffi.py declares the same names).
 *
 * fjpy_job is the trampoline every Python job runs as.  It asks Python for
 * one step of the job (fjpy_step, an extern "Python+C" callback that takes
 * the GIL, runs the function or advances the generator, and returns with no
 * Python frame left on this fiber's stack), and only then yields or waits.
 *
 * fjn_job runs the native workloads (spin, yield, fork-join tree, wait on
 * a shared counter) without touching Python, recording what it did in its
 * fjn_task.
 */
#ifndef FIBERJOB_PY_NATIVE_H
#define FIBERJOB_PY_NATIVE_H

#include <stdint.h>
#include "fiberjob.h"

/* What one Python step asks the trampoline to do next. */
enum { FJPY_DONE = 0, FJPY_YIELD = 1, FJPY_WAIT = 2 };

/* Implemented in Python (build_ffi.py).  status is the result of the
 * previous fj_ctx_yield/fj_ctx_wait (FJ_OK on the first step); on FJPY_WAIT
 * the step stores the counter to wait on in *wait_on. */
int fjpy_step(fj_ctx *ctx, uintptr_t job_id, int status, fj_counter **wait_on);

void fjpy_job(fj_ctx *ctx, void *arg);

/* ---- native workloads ---- */
enum { FJN_SPIN = 0, FJN_YIELD = 1, FJN_TREE = 2, FJN_WAIT = 3 };

typedef struct fjn_task {
  /* in */
  int kind;
  uint64_t spin_ns;     /* SPIN: spin this long; YIELD: spin this long before each yield */
  uint32_t yields;      /* YIELD: how many fj_ctx_yield calls */
  uint32_t depth;       /* TREE: levels below the root */
  uint32_t fanout;      /* TREE: children per inner node (1..64) */
  fj_counter *wait_on;  /* WAIT: the shared counter */
  int64_t *yield_ns;    /* YIELD: if not NULL, CLOCK_MONOTONIC after each yield returns */
  /* out */
  int64_t start_ns, end_ns;          /* CLOCK_MONOTONIC */
  uint32_t start_worker, end_worker;
  uint32_t yields_done;
  uint64_t nodes;                    /* TREE: nodes run, root included */
  uint64_t value_after_wait;         /* WAIT: counter value seen after the wait */
  int status;                        /* first FJ_E... code met, FJ_OK otherwise */
  int done;                          /* 1 once the job returned */
} fjn_task;

void fjn_job(fj_ctx *ctx, void *arg);
int64_t fjn_now_ns(void);

#endif
