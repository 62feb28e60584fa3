/* SPDX-License-Identifier: MIT */
/*
 * system.c — creating and destroying the system, shutdown's quiescence
 * check, and statistics.
 */
#include "system.h"

#include <stdlib.h>
#include <string.h>

#include "atomics.h"
#include "attach.h"
#include "fiber_registry.h"
#include "idle.h"
#include "monitor.h"
#include "stack_guard.h"
#include "sys/sys.h"
#include "trace.h"
#include "worker.h"

static void fj__system_free(fj_system *sys, unsigned workers_inited) {
  for (unsigned i = 0; i < workers_inited; i++)
    fj__worker_fini(&sys->workers[i]);
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++)
    fj__inject_fini(&sys->inject[p]);
  free(sys->workers);
  free(sys);
}

static void fj__stop_and_join(fj_system *sys, unsigned started) {
  /* release: pairs with the acquire in fj__loop's exit check. */
  fj__store_release(&sys->exiting, 1);
  fj__wake(sys, sys->num_workers);
  for (unsigned i = 0; i < started; i++)
    fj__thread_join(&sys->workers[i].thread);
}

/* Maps each worker's first fiber now, so a stack size that cannot be
 * mapped is an error here rather than a degraded system later. */
static int fj__premap_fiber(fj__worker *w) {
  fj__fiber_pool *pool = &w->pools[FJ_STACK_SMALL];
  fj__fiber *f = fj__fiber_pool_get(pool);
  if (!f)
    return FJ_ENOMEM;
  fj__fiber_pool_put(pool, f);
  return FJ_OK;
}

int fj__system_create(const fj_config *cfg, fj_system **out) {
  fj_system *sys = calloc(1, sizeof *sys);
  if (!sys)
    return FJ_ENOMEM;
  sys->cfg = *cfg;
  sys->num_workers = cfg->num_workers;
  sys->num_indices = cfg->num_workers + cfg->attach_slots;
  FJ__ASSERT(sys->num_workers >= 1);
  fj__aging_init(&sys->aging, cfg->aging_us);
  sys->ps_on = cfg->aging_us == 0 && fj__ps_supported();
  fj__fiber_budget_init(&sys->budget, cfg->max_fibers);
  atomic_init(&sys->inject_maybe, 0);
  atomic_init(&sys->wake_seq, 0);
  atomic_init(&sys->sleepers, 0);
  atomic_init(&sys->spinning, 0);
  atomic_init(&sys->wake_pending, 0);
  atomic_init(&sys->stopping, 0);
  atomic_init(&sys->exiting, 0);
  atomic_init(&sys->stuck, 0);
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
    int r = fj__inject_init(&sys->inject[p]);
    if (r != FJ_OK) {
      while (p--)
        fj__inject_fini(&sys->inject[p]);
      free(sys);
      return r;
    }
  }
  /* aligned_alloc wants a size that is a multiple of the alignment. */
  size_t bytes = sizeof(fj__worker) * sys->num_indices;
  bytes = (bytes + FJ__CACHE_LINE - 1) / FJ__CACHE_LINE * FJ__CACHE_LINE;
  sys->workers = aligned_alloc(FJ__CACHE_LINE, bytes);
  if (!sys->workers) {
    fj__system_free(sys, 0);
    return FJ_ENOMEM;
  }
  for (unsigned i = 0; i < sys->num_indices; i++) {
    int r = fj__worker_init(&sys->workers[i], sys, i);
    if (r != FJ_OK) {
      fj__system_free(sys, i);
      return r;
    }
    /* Attach slots map their fibers when a thread first uses them. */
    if (cfg->enable_yielding && i < sys->num_workers && (r = fj__premap_fiber(&sys->workers[i])) != FJ_OK) {
      fj__system_free(sys, i + 1);
      return r;
    }
  }
  if (cfg->enable_yielding) {
    int r = fj__stack_guard_install(fj__worker_running_fiber, fj__worker_running_job);
    if (r != FJ_OK) {
      fj__system_free(sys, sys->num_indices);
      return r;
    }
  }
  for (unsigned i = 0; i < sys->num_workers; i++) {
    int r = fj__thread_start(&sys->workers[i].thread, fj__worker_main, &sys->workers[i]);
    if (r != FJ_OK) {
      fj__stop_and_join(sys, i);
      fj__system_free(sys, sys->num_indices);
      return r;
    }
  }
  int mr = fj__monitor_start(sys);
  if (mr != FJ_OK) {
    fj__stop_and_join(sys, sys->num_workers);
    fj__system_free(sys, sys->num_workers);
    return mr;
  }
  *out = sys;
  return FJ_OK;
}

/*
 * True when no job is queued, running or suspended.  Jobs only come from
 * external submissions (frozen: `stopping` is set, and `external` was
 * summed under the queue locks after that) and from running jobs.
 * We read every worker's `completed` first, then every `spawned`: a job is
 * counted as spawned before it can complete, and its completion is
 * published (release) after all of its own spawns, so
 *   completed_read <= completed(t) <= spawned(t) + external <= spawned_read + external
 * for the instant t between the two passes.  Equality means nothing was
 * unfinished at t, and nothing can create work after that.
 */
static bool fj__system_quiescent(fj_system *sys, uint64_t external) {
  uint64_t completed = 0, spawned = 0;
  for (unsigned i = 0; i < sys->num_indices; i++)
    completed += fj__load_acquire(&sys->workers[i].completed); /* pairs with fj__run_job */
  for (unsigned i = 0; i < sys->num_indices; i++)
    spawned += fj__load_acquire(&sys->workers[i].spawned); /* pairs with fj__spawn */
  FJ__ASSERT(completed <= spawned + external);
  return completed == spawned + external;
}

void fj__system_destroy(fj_system *sys) {
  uint64_t external = 0;
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
    fj__mutex_lock(&sys->inject[p].lock);
    /* Under the lock for the locked path; seq_cst for the fast path's
     * pair (see fj__fill_claimed). */
    fj__store_seq_cst(&sys->stopping, 1);
    external += sys->inject[p].pushed; /* final: no locked push after stopping */
    fj__mutex_unlock(&sys->inject[p].lock);
  }
  /* After `stopping`: no thread attaches from here on (see attach.c). */
  fj__slots_check_destroy(sys);
  /* seq_cst: the other half of the pair described at fj__fill_claimed. */
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++)
    external += fj__inject_accepted_lock_free(&sys->inject[p]);
  /* Drain: the workers keep running everything already submitted and
   * whatever it spawns.  Shutdown is rare, so a short poll is fine here. */
  while (!fj__system_quiescent(sys, external)) {
    if (!fj__slots_drain(sys)) /* jobs pinned to empty slots run here */
      fj__sleep_ns(FJ__DRAIN_POLL_NS);
  }
  fj__monitor_stop(sys); /* watched the drain too: a hang there is reported */
  fj__stop_and_join(sys, sys->num_workers);
  fj__trace_stop(sys, NULL); /* a trace nobody stopped is discarded */
  fj__system_free(sys, sys->num_indices);
}

/* Resident bytes of f's stack, under the registry lock.  A system call only
 * when f may have run since its last sample (see FJ__VIEW_SAMPLED).
 * Mark first, sample second: a resume stores FJ__VIEW_RUNNING over the mark
 * in the one modification order of `state`.  If that store comes before our
 * CAS, the CAS fails or reads the view stored when f was suspended again —
 * after the pages it touched were faulted in, so the sample below sees them.
 * If it comes after, the mark is gone and the next call samples again.
 * Either way a cached value is never older than f's last run.  A running
 * fiber is sampled every time and not marked. */
FJ__RACY_READER static uint64_t fj__stack_sample(fj__fiber *f) {
  uint32_t view = fj__load_relaxed(&f->dbg.state);
  if (view & FJ__VIEW_SAMPLED)
    return f->dbg.stack_sampled;
  bool marked = view != FJ__VIEW_RUNNING &&
                fj__cas_acq_rel(&f->dbg.state, &view, view | FJ__VIEW_SAMPLED);
  uint64_t used = fj__resident_bytes(f->stack.lo, (size_t)((const char *)f - f->stack.lo));
  if (marked)
    f->dbg.stack_sampled = used;
  return used;
}

FJ__RACY_READER void fj__system_stats(const fj_system *sys, fj_stats *out) {
  memset(out, 0, sizeof *out);
  for (unsigned i = 0; i < sys->num_indices; i++) {
    fj__worker *w = &sys->workers[i];
    out->jobs_run += fj__load_relaxed(&w->completed);
    out->jobs_stolen += fj__load_relaxed(&w->stolen);
    out->yields += fj__load_relaxed(&w->yields);
    out->waits_suspended += fj__load_relaxed(&w->waits);
    out->yields_inline += fj__load_relaxed(&w->yields_inline);
    out->waits_inline += fj__load_relaxed(&w->waits_inline);
    for (unsigned k = 0; k < FJ_STACK_CLASS_COUNT; k++) {
      out->fibers_created += fj__load_relaxed(&w->pools[k].created);
      out->fibers_pooled += fj__load_relaxed(&w->pools[k].pooled);
      out->fiber_unavailable += fj__load_relaxed(&w->pools[k].unavailable);
    }
    out->fibers_large_created += fj__load_relaxed(&w->pools[FJ_STACK_LARGE].created);
    out->fibers_large_pooled += fj__load_relaxed(&w->pools[FJ_STACK_LARGE].pooled);
    out->aged_picks += fj__load_relaxed(&w->aged);
    out->pinned_run += fj__load_relaxed(&w->pinned_run);
    uint64_t hw = fj__load_relaxed(&w->pools[FJ_STACK_SMALL].high_water);
    if (hw > out->stack_high_water)
      out->stack_high_water = hw;
    hw = fj__load_relaxed(&w->pools[FJ_STACK_LARGE].high_water);
    if (hw > out->stack_high_water_large)
      out->stack_high_water_large = hw;
  }
  fj__fiber_budget *b = &((fj_system *)sys)->budget;
  out->fibers_live = fj__load_relaxed(&b->live);
  out->fibers_large_live = fj__load_relaxed(&b->large_live);
  out->fibers_peak = fj__load_relaxed(&b->peak);
  /* Live stacks: sampled now (a system call per fiber that ran since the
   * last call, see fj__stack_sample). */
  fj__fiber_registry_lock();
  for (const fj__fiber *f = fj__fibers.head; f; f = f->dbg.reg_next) {
    if (!f->worker || f->worker->sys != sys)
      continue;
    uint64_t used = fj__stack_sample((fj__fiber *)f);
    uint64_t *slot = f->stack_class == FJ_STACK_LARGE ? &out->stack_high_water_large
                                                      : &out->stack_high_water;
    if (used > *slot)
      *slot = used;
  }
  fj__fiber_registry_unlock();
}
