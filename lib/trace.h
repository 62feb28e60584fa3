/* SPDX-License-Identifier: MIT */
/*
 * trace.h — recording what the workers do (fj_trace_start/stop) and
 * writing it as Chrome Trace Event JSON for Perfetto or chrome://tracing.
 *
 * Each worker appends to its own buffer, so recording takes no lock.  When
 * no trace runs, every hook is one relaxed load of a flag in the worker's
 * own struct and a branch predicted not taken (FJ__TRACE); the recording
 * functions are out of line.
 */
#ifndef FJ_TRACE_H
#define FJ_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "types.h"

enum fj__trace_end {
  FJ__TRACE_FINISHED, /* the job returned */
  FJ__TRACE_YIELDED,  /* it yielded to other work */
  FJ__TRACE_PARKED,   /* it waits on a counter */
};

/* w: the worker recording.  relaxed: a stale flag only means an event
 * more or less at the trace's edges; fj__trace_slot re-checks with the
 * protocol described in trace.c. */
#define FJ__TRACE(w, call)                                                     \
  do {                                                                         \
    if (__builtin_expect(fj__load_relaxed(&(w)->trace_on), 0))                 \
      call;                                                                    \
  } while (0)

/* A run of job ctx starts on w: the job's start, or its resumption. */
void fj__trace_run_begin(fj__worker *w, fj_ctx *ctx, bool resumed);
/* The run ends; c is the counter for FJ__TRACE_PARKED. */
void fj__trace_run_end(fj__worker *w, fj_ctx *ctx, enum fj__trace_end why,
                       const fj_counter *c);
/* w took work from victim's queue. */
void fj__trace_steal(fj__worker *w, unsigned victim);
/* w made a fiber parked on c runnable again. */
void fj__trace_wake(fj__worker *w, const fj__fiber *f, const fj_counter *c);

/* FJ_OK, FJ_ESTATE (already tracing), FJ_ENOMEM. */
int fj__trace_start(fj_system *sys, size_t max_events_per_worker);
/* Stops; writes the JSON unless json_path is NULL.  FJ_OK, FJ_ESTATE (no
 * trace running), FJ_EIO (the file could not be written; the recording is
 * discarded either way). */
int fj__trace_stop(fj_system *sys, const char *json_path);

#endif
