/* SPDX-License-Identifier: MIT */
/*
 * api_opts.c — the public entry points of the scheduling controls:
 * submitting with fj_run_opts, and attaching threads.  Argument checks
 * only, then a call into the module that does the work; every rejected
 * input returns an FJ_E code before anything changes.
 */
#include <stdlib.h>

#include "api_check.h"
#include "attach.h"
#include "job_rec.h"
#include "submit.h"

/* Shared by fj_submit and fj_ctx_submit once the caller is known: plain
 * options take the ordinary path; anything else travels as records. */
static int fj__submit_opts(fj_system *sys, fj_ctx *ctx, const fj_job *jobs, size_t n,
                           const fj_run_opts *user) {
  int r = fj__check_jobs(jobs, n);
  if (r != FJ_OK)
    return r;
  fj_run_opts o;
  r = fj__run_opts_load(user, &o, sys->num_indices);
  if (r != FJ_OK)
    return r;
  if (o.counter && o.counter->sys != sys)
    return FJ_EWRONGSYSTEM;
  if (n == 0)
    return FJ_OK;
  if (!fj__run_opts_need_rec(&o)) {
    if (ctx)
      return fj__spawn(ctx, jobs, n, (unsigned)o.priority, o.counter);
    return fj__submit_external(sys, jobs, n, (unsigned)o.priority, o.counter);
  }
  enum { ON_STACK = 16 };
  fj__job_rec *on_stack[ON_STACK];
  fj__job_rec **recs = n <= ON_STACK ? on_stack : malloc(n * sizeof *recs);
  if (!recs)
    return FJ_ENOMEM;
  r = fj__job_recs_alloc(jobs, n, &o, recs);
  if (r == FJ_OK) {
    r = ctx ? fj__spawn_recs(ctx, recs, n, &o) : fj__submit_external_recs(sys, recs, n, &o);
    if (r != FJ_OK)
      fj__job_recs_free(recs, n); /* nothing was queued */
  }
  if (recs != on_stack)
    free(recs);
  return r;
}

int fj_submit(fj_system *sys, const fj_job *jobs, size_t n, const fj_run_opts *opts) {
  if (!sys)
    return FJ_EINVAL;
  return fj__submit_opts(sys, fj__ctx_of(sys), jobs, n, opts);
}

int fj_ctx_submit(fj_ctx *ctx, const fj_job *jobs, size_t n, const fj_run_opts *opts) {
  if (!fj__ctx_valid(ctx))
    return FJ_EINVAL;
  return fj__submit_opts(ctx->sys, ctx, jobs, n, opts);
}

int fj_thread_attach(fj_system *sys, unsigned *worker_index) {
  if (!sys || !worker_index)
    return FJ_EINVAL;
  return fj__thread_attach(sys, worker_index);
}

int fj_thread_detach(fj_system *sys) {
  if (!sys)
    return FJ_EINVAL;
  return fj__thread_detach(sys);
}
