/* SPDX-License-Identifier: MIT */
/*
 * api_check.h — the argument checks the public entry points share
 * (api.c, api_opts.c).
 */
#ifndef FJ_API_CHECK_H
#define FJ_API_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "fiberjob.h"
#include "sys/sys.h"
#include "types.h"

static inline bool fj__priority_valid(fj_priority prio) {
  return (unsigned)prio < FJ_PRIORITY_COUNT;
}

/* The ctx of the job running on the calling thread, or NULL.  Reads the
 * worker through the non-inlined fj__this_worker: callers may be on either
 * side of a fiber switch. */
static inline fj_ctx *fj__current_ctx(void) {
  fj__worker *w = fj__this_worker();
  return w ? w->cur_ctx : NULL;
}

/* The ctx of the job running on this thread if it belongs to sys. */
static inline fj_ctx *fj__ctx_of(fj_system *sys) {
  fj_ctx *ctx = fj__current_ctx();
  return ctx && ctx->sys == sys ? ctx : NULL;
}

/* A ctx is only usable by its job, on the worker that runs it now.  The
 * callers check before they may switch, so the inlined read is safe. */
static inline bool fj__ctx_valid(const fj_ctx *ctx) {
  return ctx && ctx->worker == fj__this_worker_before_switch();
}

static inline int fj__check_jobs(const fj_job *jobs, size_t n) {
  if (n > 0 && !jobs)
    return FJ_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!jobs[i].fn)
      return FJ_EINVAL;
  return FJ_OK;
}

#endif
