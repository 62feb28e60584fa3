/* SPDX-License-Identifier: MIT */
/*
 * pinned.h — a worker's queue of pinned work: jobs submitted with
 * fj_run_opts.worker set to this worker, and suspended pinned jobs that are
 * ready to resume.  Any thread pushes; only the owning worker (the worker
 * thread, or the thread attached to the slot) pops, so pinned work never
 * runs anywhere else.  A spinlock guards the two intrusive FIFOs: pushes and
 * pops are a few pointer writes, and pinned work is a small share of all
 * work.  `size` lets the owner skip the lock while the queue is empty.
 */
#ifndef FJ_PINNED_H
#define FJ_PINNED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomics.h"
#include "item.h"
#include "job_rec.h"
#include "list.h"
#include "spinlock.h"

struct fj__fiber;

typedef struct fj__pinned_queue {
  fj__spinlock lock;
  fj__fifo jobs;   /* guarded by lock: fj__job_rec, through ->link */
  fj__fifo fibers; /* guarded by lock: ready fj__fiber, through ->link */
  /* Items in both; written under lock with seq_cst stores (the owner's
   * sleep check pairs with them, see fj__pinned_wake_owner); read without
   * the lock as a hint. */
  _Atomic uint32_t size;
} fj__pinned_queue;

void fj__pinned_init(fj__pinned_queue *q);

/* Appends n new jobs. */
void fj__pinned_push_jobs(fj__pinned_queue *q, fj__job_rec *const *recs, size_t n);
/* Appends a suspended pinned fiber that is ready to resume. */
void fj__pinned_push_fiber(fj__pinned_queue *q, struct fj__fiber *f);

/* Owner only.  Ready fibers first (finish old work before starting new),
 * then jobs in FIFO order.  *prio is the job's priority, or the fiber's. */
bool fj__pinned_pop(fj__pinned_queue *q, fj__item *out, unsigned *prio);

/* relaxed: a hint for the pick fast path; the pop re-reads under the lock. */
static inline bool fj__pinned_maybe_nonempty(fj__pinned_queue *q) {
  return fj__load_relaxed(&q->size) != 0;
}

/* seq_cst: for the sleep checks that pair with the pushes' stores. */
static inline bool fj__pinned_nonempty(fj__pinned_queue *q) {
  return fj__load_seq_cst(&q->size) != 0;
}

#endif
