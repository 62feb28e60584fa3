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
 * Only the re-check after the fence is part of the pair; a spinner's looks
 * before it are hints, and read the shared rings' head cells, not the
 * tails a submitter's claim writes (fj__inject_work_in_sight).
 * `wake_pending` says a wake was issued and its worker has not run yet;
 * unfenced notifies (spawns, ready fibers), which may miss a wake-up by
 * design, skip theirs while it is set.
 *
 * Work a worker moves and then leaves behind its own next job (the rest of
 * a take from a shared queue, a victim's deque after a steal) is notified
 * fenced: that job may never return to the scheduler (a job that waits,
 * outside the library, for another one), so only a fenced wake-up keeps a
 * free worker from sleeping beside it (tests/c/test_progress.c).
 *
 * A private share (private_share.h) is not taken at once: an idle worker
 * watches it and takes from it only once it has seen it hold work for
 * FJ__PS_TAKE_AFTER_NS.  So every share that holds work while its owner is
 * busy needs a watcher, a free worker that is awake or sleeping with that
 * timeout.  Four rules keep one:
 *  - a worker that goes to sleep while some share holds work sleeps with
 *    the timeout (its re-check after the fence sees the share);
 *  - filling a share notifies fenced (fj__take_injected), which wakes a
 *    worker that went to sleep before the share existed, or leaves it to a
 *    spinner, which will watch;
 *  - a take that leaves work behind, in the victim's share or the taker's
 *    deque, notifies fenced, one wake per place (fj__steal_from_share);
 *  - a worker that leaves fj__idle for other work wakes a sleeper to watch
 *    in its place while any share holds work (fj__idle_found_work).
 * A rendezvous with one job per worker (test_progress) fails without them:
 * without the last three in 3 of 3 runs; with only the fill's notify in 2
 * of 2, with only the take's in 1 of 2, with only the hand-over in 0 of 2.
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

/* True when some queue anywhere holds work (racy hint), or another
 * worker's private share is due to be taken from (fj__share_watch). */
bool fj__work_visible(fj__worker *w);

/* Another worker whose private share w, idle, has seen hold work for
 * FJ__PS_TAKE_AFTER_NS, or NULL: its owner's job runs long or blocks, or
 * the share is more than its owner will get through soon.  Watches one
 * share at a time (w's watch_* fields), so it reads the clock only while
 * some share holds work; a take starts the next watch afresh.
 * Threads: w's own. */
fj__worker *fj__share_watch(fj__worker *w);

/* Called by a worker that leaves fj__idle and is about to run work it
 * found: if another worker's share holds work, this worker may have been
 * the free worker watching it, so it wakes a sleeper (fenced) to take its
 * place.  Threads: w's own. */
void fj__idle_found_work(fj__worker *w);

#endif
