/* SPDX-License-Identifier: MIT */
/*
 * job_rec.c — records of jobs submitted with options, and reading a
 * caller's fj_run_opts.
 */
#include "job_rec.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "fiber.h"
#include "versioned.h"

/* The first published fj_run_opts ends after name: the smallest we accept. */
#define FJ__RUN_OPTS_V1_SIZE (offsetof(fj_run_opts, name) + sizeof(const char *))

void fj_run_opts_init(fj_run_opts *opts) {
  if (!opts)
    return;
  memset(opts, 0, sizeof *opts);
  opts->struct_size = sizeof *opts;
  opts->priority = FJ_PRIORITY_NORMAL;
  opts->counter = NULL;
  opts->stack = FJ_STACK_SMALL;
  opts->worker = FJ_ANY_WORKER;
  opts->name = NULL;
}

int fj__run_opts_load(const fj_run_opts *user, fj_run_opts *out, unsigned n_indices) {
  fj_run_opts_init(out);
  if (user) {
    /* Too small: not filled by fj_run_opts_init?  Too big: a newer caller
     * asks for something this library lacks. */
    if (!fj__copy_versioned(user, user->struct_size, out, sizeof *out, FJ__RUN_OPTS_V1_SIZE))
      return FJ_EINVAL;
    out->struct_size = sizeof *out;
  }
  if ((unsigned)out->priority >= FJ_PRIORITY_COUNT)
    return FJ_EPRIORITY;
  if ((unsigned)out->stack >= FJ_STACK_CLASS_COUNT)
    return FJ_EINVAL;
  if (out->worker != FJ_ANY_WORKER && (out->worker < 0 || (unsigned)out->worker >= n_indices))
    return FJ_EWORKER;
  return FJ_OK;
}

int fj__job_recs_alloc(const fj_job *jobs, size_t n, const fj_run_opts *o,
                       fj__job_rec **recs) {
  for (size_t i = 0; i < n; i++) {
    fj__job_rec *r = malloc(sizeof *r);
    if (!r) {
      fj__job_recs_free(recs, i);
      return FJ_ENOMEM;
    }
    *r = (fj__job_rec){.fn = jobs[i].fn,
                       .arg = jobs[i].arg,
                       .counter = o->counter,
                       .name = o->name,
                       .worker = o->worker,
                       .stack = (uint8_t)o->stack,
                       .prio = (uint8_t)o->priority};
    recs[i] = r;
  }
  return FJ_OK;
}

void fj__job_recs_free(fj__job_rec **recs, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(recs[i]);
}

void fj__job_rec_run(fj_ctx *ctx, void *arg) {
  fj__job_rec *rec = arg;
  fj_job_fn fn = rec->fn;
  void *job_arg = rec->arg;
  ctx->fn = fn; /* what dumps, traces and overflow messages show */
  ctx->arg = job_arg;
  ctx->name = rec->name;
  /* The pin lives on the fiber, where fj__ready_fiber reads it when the job
   * resumes; a job nested on a pinned fiber keeps the outer pin (it is on
   * that worker anyway). */
  fj__fiber *f = ctx->fiber;
  int outer_pin = f ? f->pin : FJ_ANY_WORKER;
  if (f && rec->worker != FJ_ANY_WORKER)
    f->pin = rec->worker;
  free(rec);
  fn(ctx, job_arg);
  if (f)
    f->pin = outer_pin;
}
