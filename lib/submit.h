/* SPDX-License-Identifier: MIT */
/*
 * submit.h — putting jobs into the system: from a running job (its
 * worker's deque) or from a plain thread (the shared queue, paired with
 * shutdown so no accepted job is lost).
 */
#ifndef FJ_SUBMIT_H
#define FJ_SUBMIT_H

#include <stddef.h>

#include "types.h"

/* From inside a job: n (>= 1) jobs onto the calling worker's deque.
 * FJ_OK, FJ_ENOMEM or FJ_EOVERFLOW; nothing submitted on error.
 * Threads: the job owning ctx. */
int fj__spawn(fj_ctx *ctx, const fj_job *jobs, size_t n, unsigned prio, fj_counter *c);

/* From a plain thread into the shared queue.  FJ_OK, FJ_ENOMEM,
 * FJ_EOVERFLOW or FJ_ESHUTDOWN; nothing submitted on error. */
int fj__submit_external(fj_system *sys, const fj_job *jobs, size_t n, unsigned prio,
                        fj_counter *c);

#endif
