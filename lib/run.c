/* SPDX-License-Identifier: MIT */
/*
 * run.c — running one job with its fj_ctx, and applying held-back counter
 * decrements (see run.h).
 */
#include "run.h"

#include "atomics.h"

__attribute__((noinline)) void fj__flush_finished_now(fj__worker *w) {
  fj_counter *c = w->finished_counter;
  FJ__ASSERT(c != NULL && w->finished > 0);
  w->finished_counter = NULL;
  fj__settle(w, c, w->finished);
}

void fj__ready_pinned_fiber(fj__worker *w, fj__fiber *f) {
  fj__worker *owner = &w->sys->workers[f->pin];
  fj__pinned_push_fiber(&owner->pinned, f);
  if (owner != w)
    fj__pinned_wake_owner(owner);
}
