/* SPDX-License-Identifier: MIT */
/*
 * scheduler.c — creating and destroying the system, external submission,
 * the idle/wake protocol, and shutdown's quiescence check.
 */
#include "scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack_guard.h"

/* An idle worker first spins briefly (a few microseconds of pauses), then
 * offers its core with sched_yield for a while (a thread submitting work may
 * be waiting for that core: the machine may have no spare one), and only
 * then sleeps, since a futex sleep/wake round trip costs ~3 µs. */
enum { FJ__IDLE_SPINS = 256, FJ__IDLE_YIELDS = 64 };

/* ---- waking ------------------------------------------------------------ */

static void fj__wake(fj_system *sys, unsigned n) {
  fj__fetch_add_seq_cst(&sys->wake_seq, 1);
  fj__futex_wake(&sys->wake_seq, (int)n);
}

void fj__notify(fj_system *sys, unsigned n, bool fenced) {
  if (fenced) {
    /* seq_cst fence: orders the caller's publication of work before the
     * read of sleepers, against the fence in fj__idle that orders a
     * sleeper's increment of sleepers before its re-check for work: either
     * we see the sleeper, or it sees the work. */
    fj__fence_seq_cst();
  }
  /* relaxed: when unfenced the caller accepts a missed wake-up (see
   * fj__worker_spawn); when fenced the fence above orders it. */
  if (fj__load_relaxed(&sys->sleepers) == 0)
    return;
  /* A worker still spinning in fj__idle will see the work: it re-checks
   * after leaving `spinning` and before sleeping (the same Dekker pair,
   * through its seq_cst decrement and fence).  Without this, a steady
   * trickle of submissions would pay a futex wake per job just to keep
   * re-waking a worker that finds nothing. */
  if (fj__load_relaxed(&sys->spinning) != 0)
    return;
  fj__wake(sys, n);
}

/* Leaving the spinning state with work in sight.  The last spinner out
 * wakes a sleeper: submitters skipped waking because we were spinning,
 * and we may take other work than theirs. */
static void fj__stop_spinning_found_work(fj_system *sys) {
  if (fj__fetch_sub_seq_cst(&sys->spinning, 1) == 1 && fj__load_relaxed(&sys->sleepers) != 0)
    fj__wake(sys, 1);
}

bool fj__work_visible(fj__worker *w) {
  fj_system *sys = w->sys;
  if (fj__worker_has_local_work(w))
    return true;
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
    if (fj__inject_size_hint(&sys->inject[p]) > 0)
      return true;
    for (unsigned i = 0; i < sys->num_workers; i++)
      if (fj__deque_size_hint(&sys->workers[i].deque[p]) > 0)
        return true;
  }
  return false;
}

void fj__idle(fj__worker *w) {
  fj_system *sys = w->sys;
  /* At most half the workers (at least one) spin at once; the others go
   * straight to sleep.  More spinners find nothing more, and on a machine
   * with no spare core they take it from the threads submitting work.  A
   * spinner that finds work wakes a sleeper (fj__stop_spinning_found_work),
   * so wake-ups still propagate. */
  unsigned max_spinning = sys->num_workers / 2 ? sys->num_workers / 2 : 1;
  int spins = FJ__IDLE_SPINS + FJ__IDLE_YIELDS;
  if (fj__fetch_add_seq_cst(&sys->spinning, 1) >= max_spinning)
    spins = 0;
  /* Look for work every 16 pauses, not every one: each look reads lines a
   * submitting thread is writing, and pulling them away slows it down. */
  for (int i = 0; i < spins; i++) {
    if ((i % 16 == 0 || i >= FJ__IDLE_SPINS) &&
        (fj__work_visible(w) || fj__load_relaxed(&sys->exiting))) {
      fj__stop_spinning_found_work(sys);
      return;
    }
    if (i < FJ__IDLE_SPINS)
      fj__cpu_relax();
    else
      fj__thread_yield();
  }
  /* seq_cst: leaving `spinning` comes before the re-check below, so a
   * submitter that saw us spinning (and skipped the wake) is seen. */
  fj__fetch_sub_seq_cst(&sys->spinning, 1);
  fj__fetch_add_seq_cst(&sys->sleepers, 1);
  /* seq_cst fence: pairs with the fence in fj__notify (see there). */
  fj__fence_seq_cst();
  uint32_t seq = fj__load_relaxed(&sys->wake_seq);
  if (!fj__work_visible(w) && !fj__load_relaxed(&sys->exiting))
    fj__futex_wait(&sys->wake_seq, seq, -1);
  fj__fetch_sub_seq_cst(&sys->sleepers, 1);
}

/* ---- submission -------------------------------------------------------- */

/* Stands in for a job whose fast-ring cell was claimed before its counter
 * refused it (FJ_EOVERFLOW): a claimed cell must be published. */
static void fj__noop_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
}

enum { FJ__FAST_FULL = 1 };

/*
 * One job through the lock-free ring.  FJ_OK, an error, or FJ__FAST_FULL
 * (nothing done; use the locked queue).
 *
 * Shutdown pairs with this without any extra atomic: we claim a cell (a
 * seq_cst CAS on the ring's tail) and only then read `stopping` (seq_cst);
 * destroy sets `stopping` (seq_cst) and then reads the tail as the count
 * of jobs accepted here.  Either we see `stopping`, or destroy's read of
 * the tail includes our claim and it waits for that job.  A claimed cell
 * is always published, with a no-op job when the submission fails.
 */
static int fj__submit_fast(fj_system *sys, fj__inject_queue *q, const fj_job *job,
                           fj_counter *c) {
  fj__ring_cell *cell = fj__ring_claim(&q->fast);
  if (!cell)
    return FJ__FAST_FULL;
  int r = FJ_OK;
  if (fj__load_seq_cst(&sys->stopping))
    r = FJ_ESHUTDOWN;
  else if (c) /* up before the job is visible: its decrement cannot come first */
    r = fj__counter_add(c, 1);
  fj__item item = {job->fn, job->arg, c};
  if (r != FJ_OK)
    item = (fj__item){fj__noop_job, NULL, NULL};
  fj__ring_publish(cell, &item);
  /* No fence needed: the claim was a seq_cst RMW and already makes the
   * job visible to fj__work_visible (the ring hint reads the tail); these
   * seq_cst loads complete the Dekker pairs with fj__idle (see fj__notify
   * for why a spinning worker makes the wake unnecessary). */
  if (fj__load_seq_cst(&sys->sleepers) != 0 && fj__load_seq_cst(&sys->spinning) == 0)
    fj__wake(sys, 1);
  return r;
}

int fj__submit_external(fj_system *sys, const fj_job *jobs, size_t n, unsigned prio,
                        fj_counter *c) {
  fj__inject_queue *q = &sys->inject[prio];
  /* A single job may take the fast ring only while the locked part is
   * empty, or it would overtake older jobs (FIFO, see inject_queue.h). */
  if (n == 1 && fj__inject_locked_hint(q) == 0) {
    int r = fj__submit_fast(sys, q, jobs, c);
    if (r != FJ__FAST_FULL)
      return r;
  }
  pthread_mutex_lock(&q->lock);
  /* relaxed: stopping is written under this same lock in destroy. */
  if (fj__load_relaxed(&sys->stopping)) {
    pthread_mutex_unlock(&q->lock);
    return FJ_ESHUTDOWN;
  }
  if (fj__inject_push_locked(q, jobs, n, c) != 0) {
    pthread_mutex_unlock(&q->lock);
    return FJ_ENOMEM;
  }
  if (c) {
    int r = fj__counter_add(c, n);
    if (r != FJ_OK) { /* take the jobs back out; we still hold the lock */
      fj__store_relaxed(&q->count, fj__load_relaxed(&q->count) - n);
      q->pushed -= n;
      pthread_mutex_unlock(&q->lock);
      return r;
    }
  }
  pthread_mutex_unlock(&q->lock);
  /* Fenced: if every worker sleeps, nobody else would notice these jobs. */
  fj__notify(sys, (unsigned)(n < sys->num_workers ? n : sys->num_workers), true);
  return FJ_OK;
}

/* ---- create / destroy -------------------------------------------------- */

static void fj__system_free(fj_system *sys, unsigned workers_inited) {
  for (unsigned i = 0; i < workers_inited; i++)
    fj__worker_fini(&sys->workers[i]);
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++)
    fj__inject_fini(&sys->inject[p]);
  free(sys->workers);
  free(sys);
}

static void fj__stop_and_join(fj_system *sys, unsigned started) {
  /* release: pairs with the acquire in fj__loop's exit check. */
  fj__store_release(&sys->exiting, 1);
  fj__fetch_add_seq_cst(&sys->wake_seq, 1);
  fj__futex_wake(&sys->wake_seq, (int)sys->num_workers);
  for (unsigned i = 0; i < started; i++)
    fj__thread_join(&sys->workers[i].thread);
}

int fj__system_create(const fj_config *cfg, fj_system **out) {
  fj_system *sys = calloc(1, sizeof *sys);
  if (!sys)
    return FJ_ENOMEM;
  sys->cfg = *cfg;
  sys->num_workers = cfg->num_workers;
  atomic_init(&sys->wake_seq, 0);
  atomic_init(&sys->sleepers, 0);
  atomic_init(&sys->spinning, 0);
  atomic_init(&sys->stopping, 0);
  atomic_init(&sys->exiting, 0);
  atomic_init(&sys->fibers_live, 0);
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
    if (fj__inject_init(&sys->inject[p]) != 0) {
      while (p--)
        fj__inject_fini(&sys->inject[p]);
      free(sys);
      return FJ_ENOMEM;
    }
  }
  sys->workers = aligned_alloc(64, sizeof(fj__worker) * sys->num_workers);
  if (!sys->workers) {
    fj__system_free(sys, 0);
    return FJ_ENOMEM;
  }
  for (unsigned i = 0; i < sys->num_workers; i++) {
    if (fj__worker_init(&sys->workers[i], sys, i) != 0) {
      fj__system_free(sys, i);
      return FJ_ENOMEM;
    }
    if (cfg->enable_yielding) {
      /* Map each worker's first fiber now, so a stack size that cannot be
       * mapped is an error here rather than a degraded system later. */
      fj__fiber *f = fj__fiber_pool_get(&sys->workers[i].pool);
      if (!f) {
        fj__system_free(sys, i + 1);
        return FJ_ENOMEM;
      }
      fj__fiber_pool_put(&sys->workers[i].pool, f);
    }
  }
  if (cfg->enable_yielding)
    fj__stack_guard_install();
  for (unsigned i = 0; i < sys->num_workers; i++) {
    if (fj__thread_start(&sys->workers[i].thread, fj__worker_main, &sys->workers[i]) != 0) {
      fj__stop_and_join(sys, i);
      fj__system_free(sys, sys->num_workers);
      return FJ_ETHREAD;
    }
  }
  *out = sys;
  return FJ_OK;
}

/*
 * True when no job is queued, running or suspended.  Jobs only come from
 * external submissions (frozen: `stopping` is set, and `external` was
 * summed under the queue locks after that) and from running jobs.
 * We read every worker's `completed` first, then every `spawned`: a job is
 * counted as spawned before it can complete, and its completion is
 * published (release) after all of its own spawns, so
 *   completed_read <= completed(t) <= spawned(t) + external <= spawned_read + external
 * for the instant t between the two passes.  Equality means nothing was
 * unfinished at t, and nothing can create work after that.
 */
static bool fj__system_quiescent(fj_system *sys, uint64_t external) {
  uint64_t completed = 0, spawned = 0;
  for (unsigned i = 0; i < sys->num_workers; i++)
    completed += fj__load_acquire(&sys->workers[i].completed); /* pairs with fj__run_job */
  for (unsigned i = 0; i < sys->num_workers; i++)
    spawned += fj__load_acquire(&sys->workers[i].spawned); /* pairs with fj__worker_spawn */
  return completed == spawned + external;
}

void fj__system_destroy(fj_system *sys) {
  uint64_t external = 0;
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
    pthread_mutex_lock(&sys->inject[p].lock);
    /* Under the lock for the locked path; seq_cst for the fast path's
     * pair (see fj__submit_fast). */
    fj__store_seq_cst(&sys->stopping, 1);
    external += sys->inject[p].pushed; /* final: no locked push after stopping */
    pthread_mutex_unlock(&sys->inject[p].lock);
  }
  /* seq_cst: the other half of the pair described at fj__submit_fast. */
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++)
    external += fj__load_seq_cst(&sys->inject[p].fast.tail);
  /* Drain: the workers keep running everything already submitted and
   * whatever it spawns.  Shutdown is rare, so a short poll is fine here. */
  while (!fj__system_quiescent(sys, external)) {
    _Atomic uint32_t never = 0;
    fj__futex_wait(&never, 0, 200 * 1000);
  }
  fj__stop_and_join(sys, sys->num_workers);
  fj__system_free(sys, sys->num_workers);
}

void fj__system_stats(const fj_system *sys, fj_stats *out) {
  memset(out, 0, sizeof *out);
  for (unsigned i = 0; i < sys->num_workers; i++) {
    fj__worker *w = &sys->workers[i];
    out->jobs_run += fj__load_relaxed(&w->completed);
    out->jobs_stolen += fj__load_relaxed(&w->stolen);
    out->yields += fj__load_relaxed(&w->yields);
    out->waits_suspended += fj__load_relaxed(&w->waits);
    out->fibers_created += fj__load_relaxed(&w->pool.created);
    out->fibers_pooled += fj__load_relaxed(&w->pool.pooled);
  }
  out->fibers_live = fj__load_relaxed(&((fj_system *)sys)->fibers_live);
}
