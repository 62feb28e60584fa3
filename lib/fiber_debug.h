/* SPDX-License-Identifier: MIT */
/*
 * fiber_debug.h — what a fiber records so that a dump, a stall report or a
 * debugger can see it while it is not running: its state, the counter it
 * is parked on, when it parked, and its link in the process-wide registry
 * of fibers (fiber_registry.h).
 *
 * Writers: the thread that owns the fiber at the time (the worker switching
 * away from it, or the worker that wakes it), with relaxed stores: these
 * fields steer nothing in the scheduler, they only describe.  fj_system_stats
 * also ORs FJ__VIEW_SAMPLED into `state` with a CAS (see there).  Readers: the
 * dump, racily, under the registry lock (which keeps the fiber mapped); a
 * reader that sees `state` or the saved context change while it looks
 * marks what it read as possibly torn.  Two stores per switch, nothing
 * more: the yield path is ~120 instructions.  The gdb extension reads `state`, `parked_on` and the
 * registry links by name: keep them in step with tools/gdb/fiberjob.py.
 */
#ifndef FJ_FIBER_DEBUG_H
#define FJ_FIBER_DEBUG_H

#include <stdatomic.h>
#include <stdint.h>

#include "atomics.h"

struct fj__fiber;
struct fj_counter;

typedef enum fj__fiber_view {
  FJ__VIEW_IDLE,    /* pooled or blank: holds no job */
  FJ__VIEW_RUNNING, /* some worker runs it now */
  FJ__VIEW_YIELDED, /* its job yielded; ready, queued behind other work */
  FJ__VIEW_PARKED,  /* its job waits on parked_on */
  FJ__VIEW_WOKEN,   /* parked_on reached zero; ready, queued */
} fj__fiber_view;

/* Or'ed into `state` by fj_system_stats once it has sampled a suspended
 * fiber's stack: the stack cannot have grown since, because every resume
 * stores a plain FJ__VIEW_RUNNING first (fj__fiber_debug_set), which clears
 * the bit.  So a stats call makes a system call only for the stacks that
 * ran since the last one, not for every live fiber (with ten thousand
 * parked fibers, a per-job stats call used to cost ten thousand mincore
 * calls under the process-wide registry lock).  Readers of the view mask
 * it off (fj__fiber_debug_view). */
#define FJ__VIEW_SAMPLED 0x100u

typedef struct fj__fiber_debug {
  struct fj__fiber *reg_next, *reg_prev; /* guarded by the registry lock */
  _Atomic uint32_t state;                /* fj__fiber_view, maybe | FJ__VIEW_SAMPLED */
  struct fj_counter *_Atomic parked_on;  /* set before state = PARKED */
  _Atomic uint64_t parked_ns;            /* coarse monotonic clock at the park */
  uint64_t stack_sampled; /* resident stack bytes at the FJ__VIEW_SAMPLED mark;
                             guarded by the registry lock */
} fj__fiber_debug;

/* For functions that read other threads' fibers, jobs and stacks racily
 * on purpose (dumps, stats, the unwinder): sanitizers would report those
 * reads, which are by design and only ever describe, as errors. */
#define FJ__RACY_READER __attribute__((no_sanitize("address", "thread")))

/* relaxed: descriptive only (see the file comment). */
static inline void fj__fiber_debug_set(fj__fiber_debug *d, fj__fiber_view s) {
  fj__store_relaxed(&d->state, (uint32_t)s);
}

static inline void fj__fiber_debug_suspend(fj__fiber_debug *d, fj__fiber_view s) {
  fj__store_relaxed(&d->state, (uint32_t)s);
}

/* The view without the stats mark. */
static inline fj__fiber_view fj__fiber_debug_view(fj__fiber_debug *d) {
  return (fj__fiber_view)(fj__load_relaxed(&d->state) & ~FJ__VIEW_SAMPLED);
}

#endif
