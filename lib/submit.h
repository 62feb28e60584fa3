/* SPDX-License-Identifier: MIT */
/*
 * submit.h — putting jobs into the system: from a running job (its
 * worker's deque) or from a plain thread (the shared queue, paired with
 * shutdown so no accepted job is lost).
 */
#ifndef FJ_SUBMIT_H
#define FJ_SUBMIT_H

#include <stddef.h>

#include "job_rec.h"
#include "types.h"

/* From inside a job: n (>= 1) jobs onto the calling worker's deque.
 * FJ_OK, FJ_ENOMEM or FJ_EOVERFLOW; nothing submitted on error.
 * Threads: the job owning ctx. */
int fj__spawn(fj_ctx *ctx, const fj_job *jobs, size_t n, unsigned prio, fj_counter *c);

/* From a plain thread into the shared queue.  FJ_OK, FJ_ENOMEM,
 * FJ_EOVERFLOW or FJ_ESHUTDOWN; nothing submitted on error. */
int fj__submit_external(fj_system *sys, const fj_job *jobs, size_t n, unsigned prio,
                        fj_counter *c);

/* fj__submit_external for one job, the common case of fj_run from a plain
 * thread, without building a one-job array.  Same errors. */
int fj__submit_external_one(fj_system *sys, fj_job_fn fn, void *arg, unsigned prio,
                            fj_counter *c);

/* Jobs with options, as records (job_rec.h), from inside a job: unpinned
 * ones onto the calling worker's deque, pinned ones to their worker's
 * pinned queue.  Errors as fj__spawn; nothing submitted on error (the
 * records are then still the caller's). */
int fj__spawn_recs(fj_ctx *ctx, fj__job_rec *const *recs, size_t n, const fj_run_opts *o);

/* The same from a plain thread: unpinned through the shared queue, pinned
 * to their worker's pinned queue, counted as accepted external jobs under
 * the shared queue's lock so shutdown waits for them.  Errors as
 * fj__submit_external. */
int fj__submit_external_recs(fj_system *sys, fj__job_rec *const *recs, size_t n,
                             const fj_run_opts *o);

/* Puts an item that was accepted before back at the end of its shared
 * queue (a LARGE job waiting for a LARGE fiber).  Cannot fail: without
 * memory to grow the queue it aborts with a message.  Threads: workers. */
void fj__requeue_shared(fj_system *sys, const fj__item *it, unsigned prio);

#endif
