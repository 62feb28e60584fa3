/* SPDX-License-Identifier: MIT */
/*
 * idle.h — the sleep/wake protocol: idle workers spin briefly, then sleep on
 * the system's `wake_seq` futex word; whoever publishes work wakes them.
 *
 * It is a Dekker pair.  The sleeper increments `sleepers`, fences, re-checks
 * every queue, then sleeps; a publisher of work that needs a sleeper fences
 * and wakes if `sleepers > 0`.  Either the publisher sees the sleeper or the
 * sleeper sees the work.  Idle workers that are still looking count
 * themselves in `spinning`, and a publisher that sees one skips the wake.
 * `wake_pending` says a wake was issued and its worker has not run yet;
 * unfenced notifies (spawns, ready fibers), which may miss a wake-up by
 * design, skip theirs while it is set.
 *
 * Work a worker moves and then leaves behind its own next job (the rest of
 * a take from a shared queue, a victim's deque after a steal) is notified
 * fenced: that job may never return to the scheduler (a job that waits,
 * outside the library, for another one), so only a fenced wake-up keeps a
 * free worker from sleeping beside it (tests/c/test_progress.c).
 */
#ifndef FJ_IDLE_H
#define FJ_IDLE_H

#include <stdbool.h>

#include "types.h"

/* Wakes up to n sleeping workers after work was published.  `fenced`:
 * the caller needs the wake-up for progress (work nobody else would see),
 * so the full Dekker fence against fj__idle is paid.  Threads: any. */
void fj__notify(fj_system *sys, unsigned n, bool fenced);

/* Bumps wake_seq and wakes up to n sleepers, unconditionally. */
void fj__wake(fj_system *sys, unsigned n);

/* Called by a worker with nothing to do: spins briefly, then sleeps until
 * notified.  Returns when work may be there (or the system is exiting). */
void fj__idle(fj__worker *w);

/* Wakes every sleeping worker (work only one particular worker may take).
 * Threads: any. */
void fj__notify_all(fj_system *sys);

/* Wakes the owner of a pinned queue that just received work: an attached
 * thread through its bell, a worker thread through the shared futex.
 * Threads: any. */
void fj__pinned_wake_owner(fj__worker *owner);

/* True when some queue anywhere holds work (racy hint). */
bool fj__work_visible(fj__worker *w);

#endif
