/* SPDX-License-Identifier: MIT */
/*
 * dump.c — see dump.h.  Prints a snapshot (snapshot.c takes it) as the
 * dump, and the wait graph of the stall report.
 */
#include "dump.h"

#include "counter.h"
#include "snapshot.h"

static const char *const fj__prio_name[FJ_PRIORITY_COUNT] = {"high", "normal", "low"};

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
      q = q > 0 ? q : 0;
      if (fj__load_relaxed(&w->ps.prio) == p) /* racy, as the rest: a dump describes */
        q += (int64_t)fj__ps_size_hint(&w->ps);
      fprintf(out, " %s %lld", fj__prio_name[p], (long long)q);
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

/* How many jobs of c have not started (are still queued): what c counts
 * less the jobs the snapshot shows holding it. */
static size_t fj__unstarted_holders(const fj__snapshot *s, const fj_counter *c) {
  size_t started = 0;
  for (size_t k = 0; k < s->n; k++)
    if (s->jobs[k].holds == c)
      started++;
  size_t pending = fj__counter_pending(c);
  return pending > started ? pending - started : 0;
}

/* Why a wait on c does not end, when no cycle explains it. */
static void fj__print_stall_reason(FILE *out, const fj__snapshot *s, const fj_counter *c,
                                   uint64_t quiet_ms) {
  for (size_t k = 0; k < s->n; k++) {
    const fj__job_snap *j = &s->jobs[k];
    if (j->holds == c && j->state == FJ__VIEW_RUNNING)
      fprintf(out, "STALL: job \"%s\" has run on worker %u for at least %llu ms without "
                   "returning\n",
              j->name, j->worker, (unsigned long long)quiet_ms);
  }
  size_t queued = fj__unstarted_holders(s, c);
  if (queued > 0)
    fprintf(out, "STALL: %zu job%s of counter %p %s not started and no worker takes %s\n",
            queued, queued == 1 ? "" : "s", (const void *)c, queued == 1 ? "is" : "are",
            queued == 1 ? "it" : "them");
}

static void fj__print_holders(FILE *out, const fj__snapshot *s, const fj_counter *c) {
  for (size_t k = 0; k < s->n; k++) {
    const fj__job_snap *j = &s->jobs[k];
    if (j->holds == c)
      fprintf(out, "    held by job \"%s\" (%s, priority %s, worker %u)\n", j->name,
              fj__state_words(j->state), fj__prio_name[j->prio], j->worker);
  }
  size_t queued = fj__unstarted_holders(s, c);
  if (queued > 0)
    fprintf(out, "    held by %zu job%s not yet started (queued)\n", queued,
            queued == 1 ? "" : "s");
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
