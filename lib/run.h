/* SPDX-License-Identifier: MIT */
/*
 * run.h — running a job, and what happens when jobs finish: the counter
 * decrement (held back across a run of jobs of one counter) and making the
 * fibers a zero crossing released ready to run.
 *
 * Held-back completion: consecutive jobs of one counter on one worker (a
 * batch, a spread of siblings) decrement it once, not once each, which
 * keeps a shared counter's cache line from bouncing per job.  Invariant:
 * `finished_counter` is non-NULL only while the worker is about to run
 * another job of that same counter, which holds it above zero anyway — so
 * holding back never delays a zero crossing.  Every pick of other work,
 * every switch, wait and idle path flushes first (fj__flush_finished).
 */
#ifndef FJ_RUN_H
#define FJ_RUN_H

#include "counter.h"
#include "idle.h"
#include "list.h"
#include "trace.h"
#include "types.h"

/* The pinned fiber f becomes runnable: to its worker's pinned queue. */
void fj__ready_pinned_fiber(fj__worker *w, fj__fiber *f);

/* A parked or yielding fiber becomes runnable on this worker.  It goes to
 * the deque, where this worker finds it next (fork-join continuations
 * resume early) and idle workers can steal it — unless its job is pinned:
 * then only to its own worker's pinned queue. */
static inline void fj__ready_fiber(fj__worker *w, fj__fiber *f) {
#if FJ__DEBUG
  FJ__ASSERT(f->state == FJ__FIBER_SUSPENDED);
#endif
  if (__builtin_expect(f->pin != FJ_ANY_WORKER, 0)) {
    fj__ready_pinned_fiber(w, f);
    return;
  }
  fj__item it = fj__item_of_fiber(f);
  if (fj__worker_deque_push(w, f->prio, &it) != 0) {
    /* No memory to grow the deque: the intrusive yield queue cannot fail. */
    fj__fifo_push(&w->yieldq[f->prio], &f->link);
    return;
  }
  fj__notify(w->sys, 1, false);
}

/* n jobs of c finished: decrement, and make ready the fibers a zero
 * crossing released. */
static inline void fj__settle(fj__worker *w, fj_counter *c, size_t n_jobs) {
  fj__waiter *n = fj__counter_finish(c, n_jobs);
  while (n) {
    fj__fiber *f = n->fiber; /* read both before the fiber can run: */
    n = n->next;             /* the node lives on its stack */
    fj__fiber_debug_set(&f->dbg, FJ__VIEW_WOKEN);
    FJ__TRACE(w, fj__trace_wake(w, f, c));
    fj__ready_fiber(w, f);
  }
}

/* Applies the held-back decrements.  Out of line: the check in
 * fj__flush_finished sits on the yield path. */
void fj__flush_finished_now(fj__worker *w);

static inline void fj__flush_finished(fj__worker *w) {
  if (w->finished_counter)
    fj__flush_finished_now(w);
}

/* A job of counter c returned: hold its decrement back (see above). */
static inline void fj__job_finished(fj__worker *w, fj_counter *c) {
  if (!c)
    return;
  if (c == w->finished_counter) {
    w->finished++;
    return;
  }
  fj__flush_finished(w);
  w->finished_counter = c;
  w->finished = 1;
}

/* For waits, which check the counter right after: no holding back. */
static inline void fj__finish_now(fj__worker *w, fj_counter *c) {
  fj__flush_finished(w);
  if (c)
    fj__settle(w, c, 1);
}

/* The held-back decrements may wait for the picked item only if it is a
 * new job of the same counter. */
static inline void fj__flush_unless_same(fj__worker *w, const fj__item *it) {
  if (!it->fn || it->counter != w->finished_counter)
    fj__flush_finished(w);
}

/* Runs one job on the current stack (`self`: the fiber it is on, NULL for
 * the thread's own stack).  Returns the worker the job finished on (a job
 * that suspended may have moved).  The caller then settles the job's
 * counter: fj__job_finished (may hold back) or fj__finish_now.  Inlined:
 * it is most of every job's cost outside the job itself, and a call here
 * cost ~20 instructions per job (callgrind). */
__attribute__((always_inline)) static inline fj__worker *
fj__run_job(fj__worker *w, fj__fiber *self, const fj__item *it, unsigned prio) {
  FJ__ASSERT(it->fn != NULL); /* a job, not a fiber */
  fj_ctx ctx = {.sys = w->sys, .worker = w, .fiber = self, .prio = prio,
                .fn = it->fn, .arg = it->arg, .counter = it->counter};
  fj_ctx *outer = w->cur_ctx; /* non-NULL only for nested runs in a wait */
  fj_ctx *outer_fiber_ctx = NULL;
  unsigned outer_prio = 0;
  if (self) {
    outer_fiber_ctx = self->job_ctx;
    outer_prio = self->prio;
    self->job_ctx = &ctx;
    self->prio = prio;
  }
  ctx.outer = self ? outer_fiber_ctx : outer;
  w->cur_ctx = &ctx;
  FJ__TRACE(w, fj__trace_run_begin(w, &ctx, false));
  it->fn(&ctx, it->arg);
  w = ctx.worker;
  FJ__TRACE(w, fj__trace_run_end(w, &ctx, FJ__TRACE_FINISHED, NULL));
  if (self) {
    self->job_ctx = outer_fiber_ctx;
    self->prio = outer_prio;
    if (outer_fiber_ctx)
      outer_fiber_ctx->worker = w;
  }
  w->cur_ctx = outer_fiber_ctx ? outer_fiber_ctx : (self ? NULL : outer);
  /* release: shutdown's quiescence check reads completed with acquire and
   * must then see every spawn this job made (see fj__system_quiescent). */
  fj__stat_inc_release(&w->completed); /* single writer: this worker */
  return w;
}

#endif
