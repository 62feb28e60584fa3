/* SPDX-License-Identifier: MIT */
/*
 * monitor.c — see monitor.h.
 *
 * Progress is the sum of the workers' single-writer counts of jobs
 * spawned, finished, yields and parks: a job that starts, returns or is
 * resumed moves at least one of them (a resumed fiber was woken by a job
 * that returned).  The monitor samples it every quarter of stall_report_ms;
 * when it has not moved for stall_report_ms while a fiber is parked or a
 * thread blocks in fj_wait, it writes one report, and writes the next only
 * after the sum moved again, or when more threads block in fj_wait than
 * the last report listed: a thread may be between two timed waits at the
 * moment of a report (the Python binding waits in 50 ms slices), or not
 * yet inside its wait, and a report without it hides who waits on what.
 *
 * The dump signal's handler only bumps fj__dump_requests and wakes the
 * futex on it (both async-signal-safe); monitor threads sleep on that word
 * and write the dump from their own thread, where libdw may allocate.
 */
#include "monitor.h"

#include <stdio.h>

#include "dump.h"
#include "fiber_registry.h"
#include "types.h"

static _Atomic uint32_t fj__dump_requests;
/* Deliveries per signal number, so each system dumps on its own signal. */
static _Atomic uint32_t fj__signal_hits[FJ__SIGNAL_MAX];

static void fj__on_dump_signal(int signo) {
  fj__fetch_add_seq_cst(&fj__signal_hits[signo], 1);
  fj__fetch_add_seq_cst(&fj__dump_requests, 1);
  fj__futex_wake(&fj__dump_requests, 1 << 30);
}

static uint64_t fj__progress(const fj_system *sys) {
  uint64_t sum = 0;
  for (unsigned i = 0; i < sys->num_workers; i++) {
    fj__worker *w = &sys->workers[i];
    sum += fj__load_relaxed(&w->spawned) + fj__load_relaxed(&w->completed) +
           fj__load_relaxed(&w->yields) + fj__load_relaxed(&w->waits);
  }
  return sum;
}

FJ__RACY_READER static bool fj__something_waits(fj_system *sys) {
  if (fj__load_relaxed(&sys->dbg.threads_waiting) > 0)
    return true;
  bool parked = false;
  fj__fiber_registry_lock();
  for (const fj__fiber *f = fj__fibers.head; f && !parked; f = f->dbg.reg_next)
    parked = fj__fiber_debug_view(&((fj__fiber *)f)->dbg) == FJ__VIEW_PARKED && f->worker &&
             f->worker->sys == sys;
  fj__fiber_registry_unlock();
  return parked;
}

static void *fj__monitor_main(void *arg) {
  fj_system *sys = arg;
  uint64_t stall_ns = (uint64_t)sys->cfg.stall_report_ms * 1000000u;
  /* A quarter of the threshold: a stall is seen at most 25% late. */
  int64_t tick = stall_ns ? (int64_t)(stall_ns / 4) : -1;
  int signo = sys->cfg.dump_signal;
  uint32_t seen = sys->dbg.monitor_seen, hits = sys->dbg.monitor_hits;
  uint64_t last = fj__progress(sys), quiet_since = fj__now_ns();
  bool reported = false;
  size_t threads_shown = 0; /* by the last report */
  while (!fj__load_acquire(&sys->dbg.monitor_stop)) {
    fj__futex_wait(&fj__dump_requests, seen, tick);
    if (fj__load_acquire(&sys->dbg.monitor_stop))
      break;
    seen = fj__load_acquire(&fj__dump_requests);
    if (signo && fj__load_acquire(&fj__signal_hits[signo]) != hits) {
      hits = fj__load_acquire(&fj__signal_hits[signo]);
      fj__dump(sys, stderr);
    }
    if (!stall_ns)
      continue;
    uint64_t now = fj__now_ns(), p = fj__progress(sys);
    if (p != last) {
      last = p;
      quiet_since = now;
      reported = false;
    } else if (now - quiet_since >= stall_ns && fj__something_waits(sys) &&
               (!reported || fj__load_relaxed(&sys->dbg.threads_waiting) > threads_shown)) {
      fj__dump_stall_report(sys, stderr, (now - quiet_since) / 1000000u, &threads_shown);
      reported = true;
    }
  }
  return NULL;
}

int fj__monitor_start(fj_system *sys) {
  if (!sys->cfg.stall_report_ms && !sys->cfg.dump_signal)
    return FJ_OK;
  if (sys->cfg.dump_signal < 0 || sys->cfg.dump_signal >= FJ__SIGNAL_MAX)
    return FJ_ECONFIG;
  /* Baselines before the handler can count anything: every signal from
   * here on is one the monitor dumps for. */
  sys->dbg.monitor_seen = fj__load_acquire(&fj__dump_requests);
  sys->dbg.monitor_hits =
      sys->cfg.dump_signal ? fj__load_acquire(&fj__signal_hits[sys->cfg.dump_signal]) : 0;
  if (sys->cfg.dump_signal && fj__signal_watch(sys->cfg.dump_signal, fj__on_dump_signal) != 0)
    return FJ_ECONFIG;
  atomic_init(&sys->dbg.monitor_stop, 0);
  if (fj__thread_start(&sys->dbg.monitor, fj__monitor_main, sys) != 0) {
    if (sys->cfg.dump_signal)
      fj__signal_unwatch(sys->cfg.dump_signal);
    return FJ_ETHREAD;
  }
  sys->dbg.monitor_running = true;
  return FJ_OK;
}

void fj__monitor_stop(fj_system *sys) {
  if (!sys->dbg.monitor_running)
    return;
  fj__store_release(&sys->dbg.monitor_stop, 1);
  /* Wakes every monitor; the others see no new request for them. */
  fj__futex_wake(&fj__dump_requests, 1 << 30);
  fj__thread_join(&sys->dbg.monitor);
  sys->dbg.monitor_running = false;
  if (sys->cfg.dump_signal)
    fj__signal_unwatch(sys->cfg.dump_signal);
}
