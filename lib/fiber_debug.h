/* SPDX-License-Identifier: MIT */
/*
 * fiber_debug.h — what a fiber records so that a dump, a stall report or a
 * debugger can see it while it is not running: its state, the counter it
 * is parked on, when it parked, and its link in the process-wide registry
 * of fibers (fiber_registry.h).
 *
 * Writers: the thread that owns the fiber at the time, with relaxed stores
 * (these fields steer nothing in the scheduler, they only describe), except
 * where a reader needs an order:
 *  - the worker that resumes a fiber bumps `resumes` and sets RUNNING before
 *    the jump (fj__fiber_debug_resume);
 *  - a suspended view (YIELDED, PARKED, IDLE) is stored with release only
 *    after the switch, once the fiber's saved context is in fiber->ctx
 *    (fj__dispose_left): before that, ctx still points at the previous
 *    suspension's registers, on stack the fiber has since overwritten.
 * Readers: the dump, racily, under the registry lock (which keeps the fiber
 * mapped).  It loads `resumes` and `state` with acquire, reads the context
 * and the stack, and loads both again after an acquire fence: a changed
 * `resumes` says the fiber ran meanwhile even when it then suspended again
 * at the same place (same state, same ctx), so the read may be torn.
 * fj_system_stats also ORs FJ__VIEW_SAMPLED into `state` with a CAS (see
 * there); readers mask it off.
 * Three stores per switch, nothing more: the yield path is ~120
 * instructions.  The gdb extension reads `state`, `parked_on` and the
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
 * stores a plain FJ__VIEW_RUNNING first (fj__fiber_debug_resume), which clears
 * the bit.  So a stats call makes a system call only for the stacks that
 * ran since the last one, not for every live fiber (with ten thousand
 * parked fibers, a per-job stats call used to cost ten thousand mincore
 * calls under the process-wide registry lock).  Readers of the view mask
 * it off (fj__fiber_debug_view). */
#define FJ__VIEW_SAMPLED 0x100u

typedef struct fj__fiber_debug {
  /* First: every switch writes these two (fj__fiber's hot line). */
  _Atomic uint32_t state;                /* fj__fiber_view, maybe | FJ__VIEW_SAMPLED */
  _Atomic uint32_t resumes;              /* bumped before every resume (wraps) */
  struct fj_counter *_Atomic parked_on;  /* set before state = PARKED */
  _Atomic uint64_t parked_ns;            /* coarse monotonic clock at the park */
  struct fj__fiber *reg_next, *reg_prev; /* guarded by the registry lock */
  uint64_t stack_sampled; /* resident stack bytes at the FJ__VIEW_SAMPLED mark;
                             guarded by the registry lock */
} fj__fiber_debug;

/* For functions that read other threads' fibers, jobs and stacks racily
 * on purpose (dumps, stats, the unwinder): sanitizers would report those
 * reads, which are by design and only ever describe, as errors. */
#define FJ__RACY_READER __attribute__((no_sanitize("address", "thread")))

/* relaxed: descriptive only (see the file comment).  For WOKEN, which a
 * waker on any thread may store while the fiber stays suspended. */
static inline void fj__fiber_debug_set(fj__fiber_debug *d, fj__fiber_view s) {
  fj__store_relaxed(&d->state, (uint32_t)s);
}

/* The resuming worker, before the jump.  Only that thread writes `resumes`
 * now (the fiber is not queued anywhere), so load + store is enough. */
static inline void fj__fiber_debug_resume(fj__fiber_debug *d) {
  fj__stat_inc32(&d->resumes); /* single writer: the fiber's worker */
  fj__store_relaxed(&d->state, (uint32_t)FJ__VIEW_RUNNING);
}

/* After the switch, once the fiber's context is saved in fiber->ctx:
 * release pairs with the dump's acquire load of `state`, so a dump that
 * sees this view also sees that ctx and the stack as the fiber left it. */
static inline void fj__fiber_debug_suspended(fj__fiber_debug *d, fj__fiber_view s) {
  atomic_store_explicit(&d->state, (uint32_t)s, memory_order_release);
}

/* The view without the stats mark. */
static inline fj__fiber_view fj__fiber_debug_view(fj__fiber_debug *d) {
  return (fj__fiber_view)(fj__load_relaxed(&d->state) & ~FJ__VIEW_SAMPLED);
}

#endif
