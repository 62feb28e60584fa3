/* SPDX-License-Identifier: MIT */
/*
 * snapshot.h — a moment's picture of a system for the dump and the stall
 * report: every running and suspended job with its name, counters, state,
 * stack use and call stack.  Taking it reads racily (see snapshot.c); the
 * printers in dump.c work on the copy.
 */
#ifndef FJ_SNAPSHOT_H
#define FJ_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sys/backtrace.h"
#include "types.h"

enum { FJ__DUMP_FRAMES = 24, FJ__NAME_MAX = 112, FJ__FRAME_MAX = 200 };

/* Reads of one fiber at most, when it keeps running while being read;
 * after that it is shown marked "[resumed while being read]". */
enum { FJ__DUMP_READS = 8 };

/* One job as the dump saw it. */
typedef struct fj__job_snap {
  const fj_ctx *ctx;
  char name[FJ__NAME_MAX];
  unsigned prio;
  fj_counter *holds;     /* the counter the job counts toward */
  fj_counter *waits_on;  /* parked: the counter it waits on */
  unsigned state;        /* fj__fiber_view; RUNNING for a worker's job */
  unsigned worker;       /* the worker that runs it or last ran it */
  const fj__fiber *fiber;
  uint64_t suspended_ms; /* parked: how long; UINT64_MAX unknown */
  size_t stack_size, stack_in_use, stack_resident;
  bool torn;             /* resumed while being read */
  int nframes;
  char (*frames)[FJ__FRAME_MAX];
} fj__job_snap;

typedef struct fj__snapshot {
  fj__job_snap *jobs;
  size_t n, cap;
  fj__bt_session *bt;
} fj__snapshot;

/* Jobs nested on a waiting job's stack: the waiting job below has this
 * pseudo-state (it waits on waiting_on, and runs another job meanwhile). */
enum { FJ__JOB_NESTED_WAIT = 100 };

static inline bool fj__is_waiting(unsigned state) {
  return state == FJ__VIEW_PARKED || state == FJ__JOB_NESTED_WAIT;
}

/* Takes the snapshot under the fiber registry lock.  Threads: any; the
 * caller owns *s and frees it with fj__snapshot_free. */
void fj__snapshot_take(fj__snapshot *s, fj_system *sys);
void fj__snapshot_free(fj__snapshot *s);

#endif
