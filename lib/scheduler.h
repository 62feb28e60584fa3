/* SPDX-License-Identifier: MIT */
/*
 * scheduler.h — the system as a whole: its workers, the shared submission
 * queues, idle sleeping and waking, and shutdown.
 */
#ifndef FJ_SCHEDULER_H
#define FJ_SCHEDULER_H

#include <stdatomic.h>
#include <stdint.h>

#include "fiberjob.h"
#include "inject_queue.h"
#include "worker.h"

struct fj_system {
  fj_config cfg;          /* validated copy; immutable */
  unsigned num_workers;   /* immutable */
  fj__worker *workers;    /* immutable array */
  fj__inject_queue inject[FJ_PRIORITY_COUNT];

  /* Idle protocol: a worker about to sleep increments `sleepers`, re-checks
   * for work, then sleeps on `wake_seq`; whoever publishes work that needs
   * a sleeper increments `wake_seq` and wakes.  See fj__notify. */
  _Alignas(64) _Atomic uint32_t wake_seq;
  _Atomic uint32_t sleepers;
  /* Idle workers still awake and looking for work.  While one is, nobody
   * needs waking: it will find new work itself (see fj__notify). */
  _Atomic uint32_t spinning;

  /* Shutdown: `stopping` is set under every inject lock, so no locked
   * submission lands after it; the lock-free path pairs with it through
   * the fast ring's tail (see fj__submit_fast). */
  _Alignas(64) _Atomic int stopping;

  /* Tells idle workers to leave. */
  _Alignas(64) _Atomic int exiting;

  _Atomic uint64_t fibers_live; /* gauge shared by the worker pools */
};

/* Submission from a plain thread into the shared queue. */
int fj__submit_external(fj_system *sys, const fj_job *jobs, size_t n, unsigned prio,
                        fj_counter *c);

/* Wakes up to n sleeping workers after work was published.  `fenced`:
 * the caller needs the wake-up for progress (work nobody else would see),
 * so the full Dekker fence against fj__idle is paid. */
void fj__notify(fj_system *sys, unsigned n, bool fenced);

/* Called by a worker with nothing to do: spins briefly, then sleeps until
 * notified. */
void fj__idle(fj__worker *w);

/* True when some queue anywhere holds work (racy hint). */
bool fj__work_visible(fj__worker *w);

int fj__system_create(const fj_config *cfg, fj_system **out);
void fj__system_destroy(fj_system *sys);
void fj__system_stats(const fj_system *sys, fj_stats *out);

#endif
