/* SPDX-License-Identifier: MIT */
/*
 * switch.h — switching a worker from one fiber to another, and the
 * post-switch hand-over.
 *
 * Every switch goes directly from fiber to fiber.  The fiber that leaves
 * cannot publish itself (park on a counter, return to the pool) before the
 * switch: another worker could resume it while it is still running on its
 * stack.  So it records what it wants in the worker (`leaving`, `leave`,
 * `leave_node`), and the code that runs right after the switch, on the new
 * fiber and the same thread (fj__after_switch), saves the left fiber's
 * context and only then publishes it.  A yield is the exception: it queues
 * itself first (fj__queue_yielding), because its queue is private.  The
 * `data` passed along the switch is the worker, which is how a fiber that
 * resumes on another thread learns where it is.
 */
#ifndef FJ_SWITCH_H
#define FJ_SWITCH_H

#include "run.h"
#include "types.h"

/* The hand-over of a left fiber whose `leave` is not FJ__LEAVE_YIELD
 * (parking, retiring: rarer, and larger). */
void fj__after_switch_other(fj__worker *w, fj__fiber *gone);

/* The second half of fj__after_switch: disposes of the fiber that left
 * (w->leaving), whose saved context is `from`.  Every switch sets
 * `leaving`, so there always is one.  Inlined: the yield case (queue it on
 * this worker) is the hot one, a handful of stores; the others go out of
 * line. */
__attribute__((always_inline)) static inline void fj__dispose_left(fj__worker *w,
                                                                   fj__fctx from) {
  fj__fiber *gone = w->leaving;
  FJ__ASSERT(gone != NULL);
  w->leaving = NULL;
  gone->ctx = from; /* only now is it safe for anyone to resume it */
  FJ__FIBER_SET(gone, FJ__FIBER_LEAVING, FJ__FIBER_SUSPENDED);
  if (__builtin_expect(w->leave == FJ__LEAVE_YIELD, 1)) {
    /* Already queued (fj__queue_yielding).  After ctx: a dump must not
     * unwind a stale one (fiber_debug.h). */
    fj__fiber_debug_suspended(&gone->dbg, FJ__VIEW_YIELDED);
  } else
    fj__after_switch_other(w, gone);
}

/* Runs on the fiber that was just resumed, on thread `w`.  `from` is the
 * saved context of the fiber that left. */
__attribute__((always_inline)) static inline void fj__after_switch(fj__worker *w,
                                                                   fj__fctx from) {
  fj__fiber *cur = w->current;
  cur->worker = w;
  if (cur->job_ctx)
    cur->job_ctx->worker = w; /* the job may have moved to this worker */
  w->cur_ctx = cur->job_ctx;
  fj__dispose_left(w, from);
}

/* Puts self, about to switch away with FJ__LEAVE_YIELD, at the back of w's
 * yield queue while it still runs.  Safe, unlike any other early
 * publication: only w's thread ever takes fibers from its own yield queue,
 * and the first thing it runs after the switch, fj__dispose_left on the
 * fiber switched to, saves self's context.  (Debug builds check it: a
 * fiber is resumed only SUSPENDED, which it becomes once its context is
 * saved.)  Queuing here rather than there lets the yield fast path pop and
 * push in one step (fj__fifo_rotate). */
static inline void fj__queue_yielding(fj__worker *w, fj__fiber *self) {
  fj__fifo_push(&w->yieldq[self->prio], &self->link);
}

/* The first half of every switch, on self's stack: records what self wants
 * done once it is off its stack (see the file comment) and makes `to` the
 * worker's current fiber.  `node` is kept only for FJ__LEAVE_WAIT, the one
 * leave that reads it (the branch folds away: `leave` is a constant at
 * every call). */
__attribute__((always_inline)) static inline void fj__before_switch(fj__worker *w,
                                                                    fj__fiber *self,
                                                                    fj__fiber *to,
                                                                    fj__leave leave,
                                                                    fj__waiter *node) {
  /* The fiber we switch to may run for long: held-back decrements were
   * flushed (by the caller: see fj__switch_to and fj__switch_yield). */
  FJ__ASSERT(w->finished_counter == NULL);
  FJ__ASSERT(w->current == self && w->leaving == NULL);
  w->leaving = self;
  w->leave = leave;
  if (leave == FJ__LEAVE_WAIT)
    w->leave_node = node;
  w->current = to;
  /* Descriptive only (fiber_debug.h): what dumps and gdb show.  Self's
   * suspended view is stored after the switch, with its saved context. */
  fj__fiber_debug_resume(&to->dbg);
}

/* Switches from `self` (running on w) to `to` (suspended), which then
 * disposes of self as `leave` says.  Returns when self is resumed, maybe on
 * another worker (read ctx->worker again).  Self's C++ exception state, if
 * any, goes along (eh_carry.h): a retiring fiber holds no job, so none.
 * Inlined: a call here costs ~20 instructions per yield (measured with
 * callgrind). */
__attribute__((always_inline)) static inline void
fj__switch_to(fj__worker *w, fj__fiber *self, fj__fiber *to, fj__leave leave,
              fj__waiter *node) {
  fj__flush_finished(w);
  fj__eh_state eh = {NULL, 0};
  if (leave != FJ__LEAVE_RETIRE)
    eh = fj__eh_take(w->eh_globals);
  else
    FJ__ASSERT(!fj__eh_held(w->eh_globals));
  fj__before_switch(w, self, to, leave, node);
  fj__transfer t = fj__fiber_switch(self, to, w, leave == FJ__LEAVE_RETIRE);
  /* Resumed, possibly by another worker: t.data is the worker we are on. */
  w = (fj__worker *)t.data;
  fj__after_switch(w, t.from);
  fj__eh_put(w->eh_globals, eh);
}

/* fj__switch_to(w, self, to, FJ__LEAVE_YIELD, NULL) for the yield fast
 * path, minus what a same-worker resume makes redundant, minus the flush,
 * and minus the C++ exception state (eh_carry.h: the yielding fiber holds
 * none): the caller saw no decrement held back (w->finished_counter NULL),
 * so the path makes no call and needs no stack frame.  The caller has put
 * self at the back of w's yield queue (as fj__queue_yielding does), and
 * only w ever takes fibers from its own yield queue (owner-only, like every
 * fj__fifo): so self is resumed by w, on w's thread, and its fiber and job
 * already name w.  Only the running job (w->cur_ctx) and the fiber that
 * left need seeing to. */
__attribute__((always_inline)) static inline void fj__switch_yield(fj__worker *w,
                                                                   fj__fiber *self,
                                                                   fj__fiber *to) {
  fj__before_switch(w, self, to, FJ__LEAVE_YIELD, NULL);
  fj__transfer t = fj__fiber_switch(self, to, w, false);
  /* Everything from here is reloaded from what the switch returns (t.data
   * is w): nothing then has to live in a callee-saved register across the
   * jump, and the caller needs no register saves of its own. */
  w = (fj__worker *)t.data;
  self = w->current;
  FJ__ASSERT(self->worker == w);
  FJ__ASSERT(self->job_ctx != NULL && self->job_ctx->worker == w);
  w->cur_ctx = self->job_ctx;
  fj__dispose_left(w, t.from);
}

#endif
