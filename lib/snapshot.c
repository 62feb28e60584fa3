/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c — see snapshot.h.
 *
 * The snapshot is taken in one pass under the fiber registry lock, which
 * keeps every fiber mapped while its state, job and stack are read.  Reads
 * race with the workers on purpose (a dump must not stop the system): a
 * fiber whose state or saved context changed while it was read is marked as
 * such, and the unwinder reads only inside the fiber's stack, so a torn read
 * shows odd frames, never a fault.
 */
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "sys/backtrace.h"
#include "counter.h"
#include "fiber_registry.h"
#include "types.h"

static fj__job_snap *fj__snap_add(fj__snapshot *s) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    fj__job_snap *j = realloc(s->jobs, cap * sizeof *j);
    if (!j)
      return NULL;
    s->jobs = j;
    s->cap = cap;
  }
  fj__job_snap *j = &s->jobs[s->n++];
  memset(j, 0, sizeof *j);
  j->suspended_ms = UINT64_MAX;
  return j;
}

FJ__RACY_READER static void fj__job_name(fj__bt_session *bt, const fj_ctx *ctx, char *buf, size_t size) {
  const char *name = ctx->name;
  if (name)
    snprintf(buf, size, "%s", name);
  else
    fj__bt_function_name(bt, (uintptr_t)ctx->fn, buf, size);
}

FJ__RACY_READER static void fj__snap_job(fj__bt_session *bt, fj__job_snap *j, const fj_ctx *ctx) {
  j->ctx = ctx;
  j->prio = ctx->prio;
  j->holds = ctx->counter;
  fj__job_name(bt, ctx, j->name, sizeof j->name);
}

/*
 * Gives each job on a suspended stack its own frames.  The walk starts
 * inside the library's switch; a job's frames are those outside the
 * library whose stack pointer lies below its fj_ctx (which lives in the
 * frame that called the job) and above the fj_ctx of the job nested on it.
 * The public wait or yield call the job made may be a tail call without a
 * frame of its own, so the printer names it.
 */
FJ__RACY_READER static void fj__snap_frames(fj__snapshot *s, fj__job_snap *jobs, size_t njobs,
                            const fj__fiber *f) {
  fj__saved_regs regs;
  if (!fj__fctx_saved_regs(f->ctx, &regs))
    return;
  jobs[0].stack_in_use = (uintptr_t)f->stack.hi - regs.sp;
  uintptr_t pcs[96], sps[96];
  int n = fj__bt_walk(s->bt, &regs, f->stack.lo, f->stack.hi, pcs, sps, 96);
  uintptr_t below = 0;
  for (size_t k = 0; k < njobs; k++) {
    fj__job_snap *j = &jobs[k];
    uintptr_t above = (uintptr_t)j->ctx;
    j->frames = malloc(FJ__DUMP_FRAMES * sizeof *j->frames);
    for (int i = 0; j->frames && i < n && j->nframes < FJ__DUMP_FRAMES; i++)
      if (sps[i] > below && sps[i] < above && !fj__bt_in_library(s->bt, pcs[i]))
        fj__bt_describe(s->bt, pcs[i], true, j->frames[j->nframes++], FJ__FRAME_MAX);
    below = above;
  }
}

/* The job chain from ctx outward: ctx, then the jobs it is nested on.
 * Returns the first snap (they are consecutive) and sets *count. */
FJ__RACY_READER static fj__job_snap *fj__snap_chain(fj__snapshot *s, const fj_ctx *ctx, unsigned state,
                                    unsigned worker, size_t *count) {
  size_t first = s->n;
  *count = 0;
  for (; ctx && *count < 32; ctx = ctx->outer) {
    fj__job_snap *j = fj__snap_add(s);
    if (!j)
      break;
    fj__snap_job(s->bt, j, ctx);
    j->state = *count == 0 ? state : FJ__JOB_NESTED_WAIT;
    j->worker = worker;
    if (*count > 0)
      j->waits_on = ctx->waiting_on;
    ++*count;
  }
  return *count ? &s->jobs[first] : NULL;
}

/* What one read of a fiber gave. */
typedef enum fj__read_result {
  FJ__READ_NONE,  /* not suspended in this system now: no snaps added */
  FJ__READ_WHOLE, /* snaps added; the fiber stayed put while read */
  FJ__READ_TORN,  /* snaps added, marked torn: it ran or changed state */
} fj__read_result;

/* One read of a fiber: its job chain as snaps appended to s, if it is
 * suspended in sys. */
FJ__RACY_READER static fj__read_result fj__snap_fiber_once(fj__snapshot *s, fj_system *sys,
                                                           const fj__fiber *f, uint64_t now) {
  fj__fiber_debug *dbg = &((fj__fiber *)f)->dbg;
  /* Acquire both: pairs with fj__fiber_debug_suspended, so ctx and the
   * stack are the ones the fiber left with this view (fiber_debug.h). */
  uint32_t resumes = atomic_load_explicit(&dbg->resumes, memory_order_acquire);
  unsigned state = atomic_load_explicit(&dbg->state, memory_order_acquire) & ~FJ__VIEW_SAMPLED;
  fj__fctx saved = f->ctx;
  const fj__worker *w = f->worker;
  const fj_ctx *ctx = f->job_ctx;
  if (state == FJ__VIEW_IDLE || state == FJ__VIEW_RUNNING || !w || w->sys != sys || !ctx)
    return FJ__READ_NONE;
  size_t count;
  fj__job_snap *j = fj__snap_chain(s, ctx, state, w->index, &count);
  if (!j)
    return FJ__READ_NONE;
  uint64_t suspended_ms = UINT64_MAX;
  if (state == FJ__VIEW_PARKED || state == FJ__VIEW_WOKEN) {
    j->waits_on = fj__load_relaxed(&dbg->parked_on);
    uint64_t at = fj__load_relaxed(&dbg->parked_ns);
    suspended_ms = now > at ? (now - at) / 1000000u : 0;
  }
  j->stack_size = f->stack.size;
  j->stack_resident = fj__resident_bytes(f->stack.lo, (size_t)(f->stack.hi - f->stack.lo));
  fj__snap_frames(s, j, count, f);
  /* Orders the reads above before the re-checks: a resume that any of
   * them saw is seen here too.  WOKEN after PARKED is a change of state
   * only (the fiber has not run): the frames stay good, keep them. */
  fj__fence_acquire();
  unsigned now_state = fj__fiber_debug_view(dbg); /* a stats mark is no change */
  bool torn = fj__load_relaxed(&dbg->resumes) != resumes || f->ctx != saved ||
              (now_state != state && !(state == FJ__VIEW_PARKED && now_state == FJ__VIEW_WOKEN));
  for (size_t k = 0; k < count; k++) {
    j[k].fiber = f;
    j[k].suspended_ms = suspended_ms;
    j[k].torn = torn;
  }
  return torn ? FJ__READ_TORN : FJ__READ_WHOLE;
}

/* Drops the snaps [from, from + n) and moves the ones after them down. */
static void fj__snap_drop(fj__snapshot *s, size_t from, size_t n) {
  for (size_t k = from; k < from + n; k++)
    free(s->jobs[k].frames);
  memmove(&s->jobs[from], &s->jobs[from + n], (s->n - from - n) * sizeof *s->jobs);
  s->n -= n;
}

/* A fiber that ran while it was read is read again, a bounded number of
 * times: it is usually suspended again by then (a yield loop), and a reader
 * wants the whole picture rather than a marked one.  The last torn read
 * stays until a later one replaces it: when the fiber keeps running through
 * every read, or is running at the re-read (it then has no suspended state
 * to read), the dump shows the marked read instead of leaving the job out.
 * Bounded, not "until whole": when the reader and the workers share one
 * core (or valgrind runs one thread at a time), a fiber that keeps yielding
 * may run during every read. */
FJ__RACY_READER static void fj__snap_fiber(fj__snapshot *s, fj_system *sys, const fj__fiber *f,
                                           uint64_t now) {
  size_t torn_at = 0, torn_n = 0; /* the kept torn read, if torn_n > 0 */
  for (int attempt = 0; attempt < FJ__DUMP_READS; attempt++) {
    size_t first = s->n;
    fj__read_result r = fj__snap_fiber_once(s, sys, f, now);
    if (r == FJ__READ_NONE)
      return; /* keeps the last torn read, if any */
    if (torn_n > 0) {
      fj__snap_drop(s, torn_at, torn_n); /* superseded by this read */
      first -= torn_n;
      torn_n = 0;
    }
    if (r == FJ__READ_WHOLE)
      return;
    torn_at = first;
    torn_n = s->n - first;
  }
}

/* Jobs running on workers first, then every suspended fiber. */
FJ__RACY_READER void fj__snapshot_take(fj__snapshot *s, fj_system *sys) {
  uint64_t now = fj__now_coarse_ns();
  s->bt = fj__bt_begin();
  fj__fiber_registry_lock();
  for (unsigned i = 0; i < sys->num_workers; i++) {
    const fj_ctx *ctx = __atomic_load_n(&sys->workers[i].cur_ctx, __ATOMIC_RELAXED);
    size_t count;
    fj__snap_chain(s, ctx, FJ__VIEW_RUNNING, i, &count);
  }
  for (const fj__fiber *f = fj__fibers.head; f; f = f->dbg.reg_next)
    fj__snap_fiber(s, sys, f, now);
  fj__fiber_registry_unlock();
}

void fj__snapshot_free(fj__snapshot *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->jobs[i].frames);
  free(s->jobs);
  fj__bt_end(s->bt);
}
