/* SPDX-License-Identifier: MIT */
/*
 * switch.c — the post-switch hand-over's rarer cases (see switch.h): with
 * the inline part there, the one place that publishes a fiber after it has
 * left its stack.
 */
#include "switch.h"

void fj__after_switch_other(fj__worker *w, fj__fiber *gone) {
  switch (w->leave) {
  case FJ__LEAVE_NONE:
    fj__fiber_debug_suspended(&gone->dbg, FJ__VIEW_IDLE);
    break;
  case FJ__LEAVE_YIELD: /* handled inline in fj__after_switch */
    FJ__ASSERT(0);
    break;
  case FJ__LEAVE_WAIT:
    FJ__ASSERT(w->leave_node != NULL && w->leave_node->fiber == gone);
    /* Before the park: once parked, a waker may store WOKEN at any time. */
    fj__fiber_debug_suspended(&gone->dbg, FJ__VIEW_PARKED);
    if (!fj__counter_park(w->leave_node->counter, w->leave_node)) {
      fj__fiber_debug_set(&gone->dbg, FJ__VIEW_WOKEN);
      fj__ready_fiber(w, gone); /* reached zero while we were switching */
    }
    break;
  case FJ__LEAVE_RETIRE:
    fj__fiber_debug_suspended(&gone->dbg, FJ__VIEW_IDLE);
    fj__fiber_pool_put(&w->pools[gone->stack_class], gone);
    break;
  }
}
