/* SPDX-License-Identifier: MIT */
/*
 * submit.c — nested spawns, external submission (lock-free ring for single
 * jobs, locked queue for batches), and how external submission pairs with
 * shutdown.
 */
#include "submit.h"

#include <stdlib.h>

#include "atomics.h"
#include "idle.h"

int fj__spawn(fj_ctx *ctx, const fj_job *jobs, size_t n, unsigned prio, fj_counter *c) {
  fj__worker *w = ctx->worker;
  fj__deque *d = &w->deque[prio];
  if (fj__deque_reserve(d, (int64_t)n) != 0)
    return FJ_ENOMEM;
  if (c) {
    int r = fj__counter_add(c, n);
    if (r != FJ_OK)
      return r;
  }
  /* release: counted before any of them can complete (quiescence check). */
  fj__store_release(&w->spawned, fj__load_relaxed(&w->spawned) + n);
  for (size_t i = 0; i < n; i++) {
    FJ__ASSERT(jobs[i].fn != NULL); /* NULL fn tags a fiber: never a job */
    fj__item it = {.fn = jobs[i].fn, .arg = jobs[i].arg, .counter = c};
    int r = fj__worker_deque_push(w, prio, &it);
    FJ__ASSERT(r == 0); /* reserved above: cannot fail */
    (void)r;
  }
  /* Unfenced: this worker runs the jobs itself if no thief wakes up, so a
   * missed wake-up costs parallelism until the next spawn, never progress. */
  fj__notify(w->sys, (unsigned)(n < w->sys->num_workers ? n : w->sys->num_workers), false);
  return FJ_OK;
}

/* Stands in for a job whose fast-ring cell was claimed before its counter
 * refused it (FJ_EOVERFLOW): a claimed cell must be published. */
static void fj__noop_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
}

/*
 * One job into a lock-free ring cell the caller has claimed.  Returns FJ_OK
 * or the error; the cell is published either way.
 *
 * Shutdown pairs with this without any extra atomic: the claim of the cell
 * was a seq_cst CAS on the ring's tail, and only then is `stopping` read
 * (seq_cst); destroy sets `stopping` (seq_cst) and then reads the tail as
 * the count of jobs accepted here.  Either we see `stopping`, or destroy's
 * read of the tail includes our claim and it waits for that job.  A claimed
 * cell is always published, with a no-op job when the submission fails.
 */
static inline int fj__fill_claimed(fj_system *sys, unsigned prio, fj__ring_cell *cell,
                                   fj_job_fn fn, void *arg, fj_counter *c) {
  int r = FJ_OK;
  if (fj__load_seq_cst(&sys->stopping))
    r = FJ_ESHUTDOWN;
  else if (c) /* up before the job is visible: its decrement cannot come first */
    r = fj__counter_add(c, 1);
  fj__item item = {fn, arg, c};
  if (r != FJ_OK)
    item = (fj__item){fj__noop_job, NULL, NULL};
  fj__ring_publish(cell, &item);
  fj__inject_mark_after_rmw(&sys->inject_maybe, prio);
  return r;
}

/* Reached by a tail call: fj__submit_external_one's common case calls nothing. */
__attribute__((noinline)) static int fj__wake_one_then(fj_system *sys, int r) {
  fj__wake(sys, 1);
  return r;
}

/* fj__fill_claimed, then a sleeper woken if one must be.  No fence needed:
 * the claim was a seq_cst RMW and already makes the job visible to
 * fj__work_visible (the ring hint reads the tail); these seq_cst loads
 * complete the Dekker pairs with fj__idle (see fj__notify for why a
 * spinning worker makes the wake unnecessary). */
static inline int fj__push_claimed(fj_system *sys, unsigned prio, fj__ring_cell *cell,
                                   fj_job_fn fn, void *arg, fj_counter *c) {
  int r = fj__fill_claimed(sys, prio, cell, fn, arg, c);
  if (fj__load_seq_cst(&sys->sleepers) != 0 && fj__load_seq_cst(&sys->spinning) == 0)
    return fj__wake_one_then(sys, r);
  return r;
}

/* Behind the lock: batches, and single jobs the rings cannot take. */
static int fj__submit_locked(fj_system *sys, unsigned prio, const fj_job *jobs, size_t n,
                             fj_counter *c) {
  fj__inject_queue *q = &sys->inject[prio];
  fj__mutex_lock(&q->lock);
  /* relaxed: stopping is written under this same lock in destroy. */
  if (fj__load_relaxed(&sys->stopping)) {
    fj__mutex_unlock(&q->lock);
    return FJ_ESHUTDOWN;
  }
  if (fj__inject_push_locked(q, jobs, n, c) != 0) {
    fj__mutex_unlock(&q->lock);
    return FJ_ENOMEM;
  }
  if (c) {
    int r = fj__counter_add(c, n);
    if (r != FJ_OK) { /* take the jobs back out; we still hold the lock */
      fj__inject_unpush_locked(q, n);
      fj__mutex_unlock(&q->lock);
      return r;
    }
  }
  fj__mutex_unlock(&q->lock);
  fj__inject_mark_after_lock(&sys->inject_maybe, prio);
  /* Fenced: if every worker sleeps, nobody else would notice these jobs. */
  fj__notify(sys, (unsigned)(n < sys->num_workers ? n : sys->num_workers), true);
  return FJ_OK;
}

/* fj__submit_external_one's other cases: its one try at a cell lost a race
 * to another producer, the ring was full (the overflow ring then, allocated
 * at the first need), or older jobs are in the locked part. */
__attribute__((noinline)) static int fj__submit_one_slow(fj_system *sys, fj_job_fn fn, void *arg,
                                                         unsigned prio, fj_counter *c) {
  fj__inject_queue *q = &sys->inject[prio];
  if (fj__inject_locked_hint(q) == 0) {
    fj__ring_cell *cell = fj__inject_claim_single(q);
    if (cell)
      return fj__push_claimed(sys, prio, cell, fn, arg, c);
  }
  fj_job job = {fn, arg};
  return fj__submit_locked(sys, prio, &job, 1, c);
}

int fj__submit_external_one(fj_system *sys, fj_job_fn fn, void *arg, unsigned prio,
                            fj_counter *c) {
  /* A single job may take a lock-free ring only while the locked part is
   * empty, or it would overtake older jobs (FIFO, see inject_queue.h).
   * Every call below is a tail call: the common case makes none.  One try
   * at a cell, no retry loop: the loop holds so many values at once that
   * this function saved six registers for it (16 instructions of 80 per
   * submission, callgrind); fj__submit_one_slow retries. */
  fj__inject_queue *q = &sys->inject[prio];
  fj__ring_cell *cell;
  if (fj__inject_locked_hint(q) != 0 ||
      !(cell = fj__ring_claim_once(fj__inject_ring_for_single(q))))
    return fj__submit_one_slow(sys, fn, arg, prio, c);
  return fj__push_claimed(sys, prio, cell, fn, arg, c);
}

int fj__submit_external(fj_system *sys, const fj_job *jobs, size_t n, unsigned prio,
                        fj_counter *c) {
  if (n == 1)
    return fj__submit_external_one(sys, jobs[0].fn, jobs[0].arg, prio, c);
  return fj__submit_locked(sys, prio, jobs, n, c);
}

/* ---- jobs with options ------------------------------------------------- */

int fj__spawn_recs(fj_ctx *ctx, fj__job_rec *const *recs, size_t n, const fj_run_opts *o) {
  fj__worker *w = ctx->worker;
  fj_system *sys = w->sys;
  fj__deque *d = &w->deque[o->priority];
  bool pinned = o->worker != FJ_ANY_WORKER;
  if (!pinned && fj__deque_reserve(d, (int64_t)n) != 0)
    return FJ_ENOMEM;
  if (o->counter) {
    int r = fj__counter_add(o->counter, n);
    if (r != FJ_OK)
      return r;
  }
  /* release: counted before any of them can complete (quiescence check). */
  fj__store_release(&w->spawned, fj__load_relaxed(&w->spawned) + n);
  if (pinned) {
    fj__worker *owner = &sys->workers[o->worker];
    fj__pinned_push_jobs(&owner->pinned, recs, n);
    if (owner != w)
      fj__pinned_wake_owner(owner);
    return FJ_OK;
  }
  for (size_t i = 0; i < n; i++) {
    fj__item it = fj__job_rec_item(recs[i]);
    int r = fj__worker_deque_push(w, (unsigned)o->priority, &it);
    FJ__ASSERT(r == 0); /* reserved above: cannot fail */
    (void)r;
  }
  fj__notify(sys, (unsigned)(n < sys->num_workers ? n : sys->num_workers), false); /* as fj__spawn */
  return FJ_OK;
}

int fj__submit_external_recs(fj_system *sys, fj__job_rec *const *recs, size_t n,
                             const fj_run_opts *o) {
  fj__inject_queue *q = &sys->inject[o->priority];
  if (o->worker == FJ_ANY_WORKER) {
    enum { ON_STACK = 16 };
    fj_job on_stack[ON_STACK] = {{0}};
    fj_job *jobs = n <= ON_STACK ? on_stack : malloc(n * sizeof *jobs);
    if (!jobs)
      return FJ_ENOMEM;
    for (size_t i = 0; i < n; i++)
      jobs[i] = (fj_job){fj__job_rec_run, recs[i]};
    int r = fj__submit_external(sys, jobs, n, (unsigned)o->priority, o->counter);
    if (jobs != on_stack)
      free(jobs);
    return r;
  }
  fj__mutex_lock(&q->lock);
  /* relaxed: stopping is written under this same lock in destroy. */
  if (fj__load_relaxed(&sys->stopping)) {
    fj__mutex_unlock(&q->lock);
    return FJ_ESHUTDOWN;
  }
  if (o->counter) {
    int r = fj__counter_add(o->counter, n);
    if (r != FJ_OK) {
      fj__mutex_unlock(&q->lock);
      return r;
    }
  }
  fj__worker *owner = &sys->workers[o->worker];
  fj__pinned_push_jobs(&owner->pinned, recs, n);
  q->pushed += n; /* destroy sums `pushed` under this lock: it waits for these */
  fj__mutex_unlock(&q->lock);
  fj__pinned_wake_owner(owner);
  return FJ_OK;
}

void fj__requeue_shared(fj_system *sys, const fj__item *it, unsigned prio) {
  fj__inject_queue *q = &sys->inject[prio];
  fj_job job = {it->fn, it->arg};
  fj__mutex_lock(&q->lock);
  if (fj__inject_push_locked(q, &job, 1, it->counter) != 0)
    fj__fatal("out of memory putting a job back into the shared queue");
  q->pushed -= 1; /* accepted once already, when it was first submitted */
  fj__mutex_unlock(&q->lock);
  fj__inject_mark_after_lock(&sys->inject_maybe, prio);
  fj__notify(sys, 1, true);
}
