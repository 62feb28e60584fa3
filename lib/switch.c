/* SPDX-License-Identifier: MIT */
/*
 * switch.c — the post-switch hand-over (see switch.h): the one place that
 * publishes a fiber after it has left its stack.
 */
#include "switch.h"

void fj__after_switch(fj__worker *w, fj__fctx from) {
  fj__fiber *cur = w->current;
  cur->worker = w;
  if (cur->job_ctx)
    cur->job_ctx->worker = w; /* the job may have moved to this worker */
  w->cur_ctx = cur->job_ctx;

  fj__fiber *gone = w->leaving;
  if (!gone)
    return;
  w->leaving = NULL;
  gone->ctx = from; /* only now is it safe for anyone to resume it */
  FJ__FIBER_SET(gone, FJ__FIBER_LEAVING, FJ__FIBER_SUSPENDED);
  switch (w->leave) {
  case FJ__LEAVE_NONE:
    break;
  case FJ__LEAVE_YIELD:
    fj__fifo_push(&w->yieldq[gone->prio], &gone->link);
    break;
  case FJ__LEAVE_WAIT:
    FJ__ASSERT(w->leave_node != NULL && w->leave_node->fiber == gone);
    if (!fj__counter_park(w->leave_node->counter, w->leave_node))
      fj__ready_fiber(w, gone); /* reached zero while we were switching */
    break;
  case FJ__LEAVE_RETIRE:
    fj__fiber_pool_put(&w->pool, gone);
    break;
  }
}
