/* SPDX-License-Identifier: MIT */
/*
 * debug_state.h — the per-system state of the debugging tools: threads
 * blocked in fj_wait (for dumps and the wait graph), the monitor thread
 * (stall reports, dump signal) and the trace recorder.  None of it is read
 * by the scheduler (trace hooks test a flag in each worker, see trace.h).
 */
#ifndef FJ_DEBUG_STATE_H
#define FJ_DEBUG_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "fiberjob.h"
#include "spinlock.h"
#include "sys/sys.h"

struct fj__trace;

/* A plain thread blocked in fj_wait; lives on that thread's stack. */
typedef struct fj__thread_wait {
  struct fj__thread_wait *next, *prev; /* guarded by fj__sys_debug.lock */
  fj_counter *counter;
  uint64_t since_ns;
} fj__thread_wait;

typedef struct fj__sys_debug {
  fj__spinlock lock;              /* guards thread_waits */
  fj__thread_wait *thread_waits;
  _Atomic uint32_t threads_waiting;

  /* The monitor thread: runs when stall_report_ms or dump_signal is set. */
  fj__thread monitor;
  bool monitor_running;       /* owned by create/destroy */
  _Atomic uint32_t monitor_stop;
  /* Request and signal counts before the monitor started: written by
   * fj__monitor_start, read by the monitor thread (its creation orders
   * them).  Read in the thread instead, a signal sent while it was not yet
   * scheduled would count as already seen and never be dumped. */
  uint32_t monitor_seen, monitor_hits;

  /* Tracing: `tracing` is read on every traced event; `trace` is set
   * before it goes to 1 (release) and freed after it goes to 0 and every
   * worker has left its recording (see trace.c). */
  _Atomic int tracing;
  struct fj__trace *trace; /* guarded by trace_lock for start/stop */
  fj__spinlock trace_lock;
} fj__sys_debug;

/* Registration around a plain thread's blocking wait. */
void fj__thread_wait_begin(fj__sys_debug *d, fj__thread_wait *node, fj_counter *c);
void fj__thread_wait_end(fj__sys_debug *d, fj__thread_wait *node);

#endif
