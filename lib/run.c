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

fj__worker *fj__run_job(fj__worker *w, fj__fiber *self, const fj__item *it, unsigned prio) {
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
  fj__store_release(&w->completed, fj__load_relaxed(&w->completed) + 1);
  return w;
}
