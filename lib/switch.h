/* SPDX-License-Identifier: MIT */
/*
 * switch.h — switching a worker from one fiber to another, and the
 * post-switch hand-over.
 *
 * Every switch goes directly from fiber to fiber.  The fiber that leaves
 * cannot publish itself (queue itself, park on a counter, return to the
 * pool) before the switch: another worker could resume it while it is still
 * running on its stack.  So it records what it wants in the worker
 * (`leaving`, `leave`, `leave_node`), and the code that runs right after the
 * switch, on the new fiber and the same thread (fj__after_switch), saves the
 * left fiber's context and only then publishes it.  The `data` passed along
 * the switch is the worker, which is how a fiber that resumes on another
 * thread learns where it is.
 */
#ifndef FJ_SWITCH_H
#define FJ_SWITCH_H

#include "run.h"
#include "types.h"

/* Runs on the fiber that was just resumed, on thread `w`.  `from` is the
 * saved context of the fiber that left. */
void fj__after_switch(fj__worker *w, fj__fctx from);

/* Switches from `self` (running on w) to `to` (suspended), which then
 * disposes of self as `leave` says.  Returns when self is resumed, maybe on
 * another worker (read ctx->worker again).  Inlined: a call here costs ~20
 * instructions per yield (measured with callgrind). */
__attribute__((always_inline)) static inline void
fj__switch_to(fj__worker *w, fj__fiber *self, fj__fiber *to, fj__leave leave,
              fj__waiter *node) {
  fj__flush_finished(w); /* the fiber we switch to may run for long */
  FJ__ASSERT(w->current == self && w->leaving == NULL);
  w->leaving = self;
  w->leave = leave;
  w->leave_node = node;
  w->current = to;
  fj__transfer t = fj__fiber_switch(self, to, w, leave == FJ__LEAVE_RETIRE);
  /* Resumed, possibly by another worker: t.data is the worker we are on. */
  fj__after_switch((fj__worker *)t.data, t.from);
}

#endif
