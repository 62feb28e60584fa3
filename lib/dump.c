/* SPDX-License-Identifier: MIT */
/*
 * dump.c — see dump.h.
 *
 * The snapshot is taken in one pass under the fiber registry lock, which
 * keeps every fiber mapped while its state, job and stack are read; the
 * printing happens afterwards.  Reads race with the workers on purpose (a
 * dump must not stop the system): a fiber whose state or saved context
 * changed while it was read is marked as such, and the unwinder reads only inside
 * the fiber's stack, so a torn read shows odd frames, never a fault.
 */
#include "dump.h"

#include <stdlib.h>
#include <string.h>

#include "sys/backtrace.h"
#include "counter.h"
#include "fiber_registry.h"
#include "types.h"

enum { FJ__DUMP_FRAMES = 24, FJ__NAME_MAX = 112, FJ__FRAME_MAX = 200 };

static const char *const fj__prio_name[FJ_PRIORITY_COUNT] = {"high", "normal", "low"};

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

/* Jobs nested on a waiting job's stack: the waiting job below has this
 * pseudo-state (it waits on waiting_on, and runs another job meanwhile). */
enum { FJ__JOB_NESTED_WAIT = 100 };

static bool fj__is_waiting(unsigned state) {
  return state == FJ__VIEW_PARKED || state == FJ__JOB_NESTED_WAIT;
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

/* One read of a suspended fiber; returns false if the fiber ran or changed
 * state while it was read (then its snaps may be torn). */
FJ__RACY_READER static bool fj__snap_fiber_once(fj__snapshot *s, fj_system *sys,
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
    return true;
  size_t count;
  fj__job_snap *j = fj__snap_chain(s, ctx, state, w->index, &count);
  if (!j)
    return true;
  uint64_t suspended_ms = UINT64_MAX;
  if (state == FJ__VIEW_PARKED || state == FJ__VIEW_WOKEN) {
    j->waits_on = fj__load_relaxed(&dbg->parked_on);
    uint64_t at = fj__load_relaxed(&dbg->parked_ns);
    suspended_ms = now > at ? (now - at) / 1000000u : 0;
  }
  j->stack_size = (size_t)((const char *)f - f->stack.lo);
  j->stack_resident = fj__resident_bytes(f->stack.lo, j->stack_size);
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
  return !torn;
}

/* A fiber that ran while it was read is read again, a few times: it is
 * usually suspended again by then (a yield loop), and a reader wants the
 * whole picture rather than a marked one. */
FJ__RACY_READER static void fj__snap_fiber(fj__snapshot *s, fj_system *sys, const fj__fiber *f,
                                           uint64_t now) {
  for (int attempt = 0; attempt < 8; attempt++) {
    size_t first = s->n;
    if (fj__snap_fiber_once(s, sys, f, now) || attempt == 7)
      return;
    for (size_t k = first; k < s->n; k++)
      free(s->jobs[k].frames);
    s->n = first;
  }
}

/* Jobs running on workers first, then every suspended fiber. */
FJ__RACY_READER static void fj__snapshot_take(fj__snapshot *s, fj_system *sys) {
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

static void fj__snapshot_free(fj__snapshot *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->jobs[i].frames);
  free(s->jobs);
  fj__bt_end(s->bt);
}

static size_t fj__counter_waiters(const fj_counter *c) {
  return (size_t)((fj__load_relaxed(&((fj_counter *)c)->state) & FJ__WAITERS_MASK) >> 8);
}

static void fj__print_counter(FILE *out, const fj_counter *c) {
  fprintf(out, "counter %p (value %zu, %zu waiter%s)", (const void *)c, fj__counter_pending(c),
          fj__counter_waiters(c), fj__counter_waiters(c) == 1 ? "" : "s");
}

static void fj__print_workers(FILE *out, fj_system *sys, const fj__snapshot *s) {
  for (unsigned i = 0; i < sys->num_workers; i++) {
    fj__worker *w = &sys->workers[i];
    fprintf(out, "worker %u: ", i);
    const fj__job_snap *run = NULL;
    for (size_t k = 0; k < s->n; k++)
      if (s->jobs[k].state == FJ__VIEW_RUNNING && s->jobs[k].worker == i) {
        run = &s->jobs[k];
        break;
      }
    unsigned activity = fj__load_relaxed(&w->activity);
    if (!run)
      fputs(activity == FJ__WORKER_ASLEEP ? "asleep" : "idle", out);
    else
      fprintf(out, "running job \"%s\"", run->name);
    for (const fj__job_snap *o = run ? run + 1 : NULL;
         o && o < s->jobs + s->n && o->state == FJ__JOB_NESTED_WAIT && !o->fiber; o++)
      fprintf(out, " inside the wait of job \"%s\" on counter %p", o->name,
              (const void *)o->waits_on);
    fputs("; queued", out);
    for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
      int64_t q = fj__deque_size_hint(&w->deque[p]);
      fprintf(out, " %s %lld", fj__prio_name[p], (long long)(q > 0 ? q : 0));
    }
    size_t yielded = 0;
    for (size_t k = 0; k < s->n; k++)
      yielded += s->jobs[k].worker == i && s->jobs[k].state == FJ__VIEW_YIELDED;
    fprintf(out, "; yielded fibers %zu\n", yielded);
  }
  fputs("shared queues:", out);
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++)
    fprintf(out, " %s %zu", fj__prio_name[p], fj__inject_size_hint(&sys->inject[p]));
  fputc('\n', out);
}

static void fj__print_frames(FILE *out, const fj__job_snap *j, const char *call) {
  fprintf(out, "  #0 %s\n", call);
  for (int k = 0; k < j->nframes; k++)
    fprintf(out, "  #%d %s\n", k + 1, j->frames[k]);
  if (j->nframes == 0)
    fputs("  (no frames of its own: tail calls, no unwind information, or built without "
          "libdw)\n",
          out);
}

static void fj__print_fiber(FILE *out, const fj__job_snap *j, size_t index) {
  if (j->state == FJ__JOB_NESTED_WAIT) {
    fprintf(out, " beneath it on the same stack: job \"%s\" (priority %s), waiting on ", j->name,
            fj__prio_name[j->prio]);
    fj__print_counter(out, j->waits_on);
    fputs(", ran the job above inline meanwhile\n", out);
    fj__print_frames(out, j, "fj_ctx_wait");
    return;
  }
  fprintf(out, "fiber %zu (%p, worker %u): job \"%s\" (priority %s)", index,
          (const void *)j->fiber, j->worker, j->name, fj__prio_name[j->prio]);
  if (j->state == FJ__VIEW_PARKED || j->state == FJ__VIEW_WOKEN) {
    fputs(j->state == FJ__VIEW_PARKED ? ", parked on " : ", woken by ", out);
    fj__print_counter(out, j->waits_on);
    if (j->suspended_ms != UINT64_MAX)
      fprintf(out, ", %s %llu ms", j->state == FJ__VIEW_PARKED ? "for" : "parked",
              (unsigned long long)j->suspended_ms);
  } else {
    fputs(", ready after a yield", out);
  }
  if (j->torn)
    fputs(" [resumed while being read]", out);
  fprintf(out, "\n  stack: %zu bytes in use, %zu resident (high-water) of %zu\n", j->stack_in_use,
          j->stack_resident, j->stack_size);
  fj__print_frames(out, j, j->state == FJ__VIEW_YIELDED ? "fj_ctx_yield" : "fj_ctx_wait");
}

static void fj__print_snapshot(FILE *out, fj_system *sys, const fj__snapshot *s) {
  size_t suspended = 0;
  for (size_t k = 0; k < s->n; k++)
    suspended += s->jobs[k].fiber && s->jobs[k].state != FJ__JOB_NESTED_WAIT;
  fprintf(out, "fiberjob dump: %u worker%s, %zu suspended fiber%s\n", sys->num_workers,
          sys->num_workers == 1 ? "" : "s", suspended, suspended == 1 ? "" : "s");
  fj__print_workers(out, sys, s);
  fj__spin_lock(&sys->dbg.lock);
  for (const fj__thread_wait *t = sys->dbg.thread_waits; t; t = t->next) {
    fputs("thread in fj_wait on ", out);
    fj__print_counter(out, t->counter);
    fputc('\n', out);
  }
  fj__spin_unlock(&sys->dbg.lock);
  size_t index = 0;
  for (size_t k = 0; k < s->n; k++)
    if (s->jobs[k].fiber)
      fj__print_fiber(out, &s->jobs[k], s->jobs[k].state == FJ__JOB_NESTED_WAIT ? 0 : index++);
}

int fj__dump(fj_system *sys, FILE *out) {
  fj__snapshot s = {0};
  fj__snapshot_take(&s, sys);
  fj__print_snapshot(out, sys, &s);
  fputs("fiberjob: end of dump\n", out); /* a reader of a pipe knows it has all */
  fj__snapshot_free(&s);
  fflush(out);
  return ferror(out) ? FJ_EIO : FJ_OK;
}

/* ---- the wait graph ----------------------------------------------------- */

static const char *fj__state_words(unsigned state) {
  switch (state) {
  case FJ__VIEW_RUNNING:
    return "running";
  case FJ__VIEW_PARKED:
    return "parked";
  case FJ__VIEW_YIELDED:
    return "ready after a yield";
  case FJ__VIEW_WOKEN:
    return "woken, not yet resumed";
  case FJ__JOB_NESTED_WAIT:
    return "waiting, and running a job it waits for on its own stack";
  default:
    return "?";
  }
}

/* The first parked job that holds c, or -1. */
static long fj__parked_holder(const fj__snapshot *s, const fj_counter *c) {
  for (size_t k = 0; k < s->n; k++)
    if (s->jobs[k].holds == c && fj__is_waiting(s->jobs[k].state))
      return (long)k;
  return -1;
}

/* Follows "waits on a counter held by a parked job" from job k; if it comes
 * back to a job already on the path, prints that cycle and returns true. */
static bool fj__print_cycle_from(FILE *out, const fj__snapshot *s, size_t k) {
  long path[64];
  int len = 0;
  long at = (long)k;
  while (at >= 0 && len < 64) {
    for (int i = 0; i < len; i++) {
      if (path[i] != at)
        continue;
      fputs("DEADLOCK: ", out);
      for (int m = i; m < len; m++) {
        const fj__job_snap *j = &s->jobs[path[m]];
        const fj__job_snap *next = &s->jobs[path[m + 1 < len ? m + 1 : i]];
        if (m == i)
          fprintf(out, "job \"%s\" waits on counter %p", j->name, (const void *)j->waits_on);
        else
          fprintf(out, ", which waits on counter %p", (const void *)j->waits_on);
        fprintf(out, ", held by job \"%s\"", next->name);
      }
      fputc('\n', out);
      return true;
    }
    path[len++] = at;
    at = fj__parked_holder(s, s->jobs[at].waits_on);
  }
  return false;
}

/* Why a wait on c does not end, when no cycle explains it. */
static void fj__print_stall_reason(FILE *out, const fj__snapshot *s, const fj_counter *c,
                                   uint64_t quiet_ms) {
  size_t started = 0;
  for (size_t k = 0; k < s->n; k++) {
    const fj__job_snap *j = &s->jobs[k];
    if (j->holds != c)
      continue;
    started++;
    if (j->state == FJ__VIEW_RUNNING)
      fprintf(out, "STALL: job \"%s\" has run on worker %u for at least %llu ms without "
                   "returning\n",
              j->name, j->worker, (unsigned long long)quiet_ms);
  }
  size_t pending = fj__counter_pending(c);
  if (pending > started)
    fprintf(out, "STALL: %zu job%s of counter %p %s not started and no worker takes %s\n",
            pending - started, pending - started == 1 ? "" : "s", (const void *)c,
            pending - started == 1 ? "is" : "are", pending - started == 1 ? "it" : "them");
}

static void fj__print_holders(FILE *out, const fj__snapshot *s, const fj_counter *c) {
  size_t started = 0;
  for (size_t k = 0; k < s->n; k++) {
    const fj__job_snap *j = &s->jobs[k];
    if (j->holds != c)
      continue;
    started++;
    fprintf(out, "    held by job \"%s\" (%s, priority %s, worker %u)\n", j->name,
            fj__state_words(j->state), fj__prio_name[j->prio], j->worker);
  }
  size_t pending = fj__counter_pending(c);
  if (pending > started)
    fprintf(out, "    held by %zu job%s not yet started (queued)\n", pending - started,
            pending - started == 1 ? "" : "s");
}

int fj__dump_stall_report(fj_system *sys, FILE *out, uint64_t quiet_ms, size_t *threads_shown) {
  fj__snapshot s = {0};
  fj__snapshot_take(&s, sys);
  fprintf(out, "fiberjob: stall report: no job started, finished or resumed for %llu ms\n",
          (unsigned long long)quiet_ms);
  fputs("wait graph:\n", out);
  for (size_t k = 0; k < s.n; k++) {
    const fj__job_snap *j = &s.jobs[k];
    if (!fj__is_waiting(j->state))
      continue;
    fprintf(out, "  job \"%s\" waits on ", j->name);
    fj__print_counter(out, j->waits_on);
    fputc('\n', out);
    fj__print_holders(out, &s, j->waits_on);
  }
  *threads_shown = 0;
  fj__spin_lock(&sys->dbg.lock);
  for (const fj__thread_wait *t = sys->dbg.thread_waits; t; t = t->next) {
    ++*threads_shown;
    fputs("  a thread in fj_wait waits on ", out);
    fj__print_counter(out, t->counter);
    fputc('\n', out);
    fj__print_holders(out, &s, t->counter);
  }
  fj__spin_unlock(&sys->dbg.lock);
  /* Cycles first: they explain everything that waits on them.  Each cycle
   * is printed once, from its member that comes first in the snapshot. */
  bool cycle = false;
  for (size_t k = 0; k < s.n; k++) {
    if (!fj__is_waiting(s.jobs[k].state))
      continue;
    bool first = true;
    long at = fj__parked_holder(&s, s.jobs[k].waits_on);
    for (int steps = 0; at >= 0 && steps < 64; steps++) {
      if ((size_t)at == k)
        break;
      if ((size_t)at < k)
        first = false;
      at = fj__parked_holder(&s, s.jobs[at].waits_on);
    }
    if ((size_t)at == k && first)
      cycle |= fj__print_cycle_from(out, &s, k);
  }
  if (!cycle) {
    /* No cycle: the ends of the wait chains say why nothing moves. */
    for (size_t k = 0; k < s.n; k++)
      if (fj__is_waiting(s.jobs[k].state) && fj__parked_holder(&s, s.jobs[k].waits_on) < 0)
        fj__print_stall_reason(out, &s, s.jobs[k].waits_on, quiet_ms);
    fj__spin_lock(&sys->dbg.lock);
    for (const fj__thread_wait *t = sys->dbg.thread_waits; t; t = t->next)
      if (fj__parked_holder(&s, t->counter) < 0)
        fj__print_stall_reason(out, &s, t->counter, quiet_ms);
    fj__spin_unlock(&sys->dbg.lock);
  }
  fj__print_snapshot(out, sys, &s);
  fputs("fiberjob: end of stall report\n", out);
  fj__snapshot_free(&s);
  fflush(out);
  return ferror(out) ? FJ_EIO : FJ_OK;
}
