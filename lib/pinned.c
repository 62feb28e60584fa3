/* SPDX-License-Identifier: MIT */
/*
 * pinned.c — a worker's queue of pinned work (see pinned.h).
 */
#include "pinned.h"

#include "fiber.h"

void fj__pinned_init(fj__pinned_queue *q) {
  atomic_init(&q->lock.locked, false);
  q->jobs = (fj__fifo){0};
  q->fibers = (fj__fifo){0};
  atomic_init(&q->size, 0);
}

void fj__pinned_push_jobs(fj__pinned_queue *q, fj__job_rec *const *recs, size_t n) {
  fj__spin_lock(&q->lock);
  for (size_t i = 0; i < n; i++)
    fj__fifo_push(&q->jobs, &recs[i]->link);
  /* seq_cst: the pusher then reads the owner's sleep state, the owner
   * reads size after announcing its sleep (Dekker pair, see
   * fj__pinned_wake_owner). */
  fj__store_seq_cst(&q->size, fj__load_relaxed(&q->size) + (uint32_t)n);
  fj__spin_unlock(&q->lock);
}

void fj__pinned_push_fiber(fj__pinned_queue *q, fj__fiber *f) {
  fj__spin_lock(&q->lock);
  fj__fifo_push(&q->fibers, &f->link);
  fj__store_seq_cst(&q->size, fj__load_relaxed(&q->size) + 1); /* as above */
  fj__spin_unlock(&q->lock);
}

bool fj__pinned_pop(fj__pinned_queue *q, fj__item *out, unsigned *prio) {
  if (!fj__pinned_maybe_nonempty(q))
    return false;
  fj__spin_lock(&q->lock);
  fj__fiber *f = fj__fiber_of_link(fj__fifo_pop(&q->fibers));
  fj__job_rec *r = f ? NULL : fj__job_rec_of_link(fj__fifo_pop(&q->jobs));
  if (f) {
    *out = fj__item_of_fiber(f);
    *prio = f->prio;
  } else if (r) {
    *out = fj__job_rec_item(r);
    *prio = r->prio;
  }
  if (f || r) /* relaxed: under the lock; only the owner decrements */
    fj__store_relaxed(&q->size, fj__load_relaxed(&q->size) - 1);
  fj__spin_unlock(&q->lock);
  return f || r;
}
