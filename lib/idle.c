/* SPDX-License-Identifier: MIT */
/*
 * idle.c — idle workers: spinning, sleeping, and waking them (the protocol
 * is in idle.h).
 */
#include "idle.h"

#include "atomics.h"
#include "sys/sys.h"

void fj__wake(fj_system *sys, unsigned n) {
  fj__store_relaxed(&sys->wake_pending, 1); /* relaxed: a hint (see fj__notify) */
  fj__fetch_add_seq_cst(&sys->wake_seq, 1);
  fj__futex_wake(&sys->wake_seq, (int)n);
}

void fj__notify(fj_system *sys, unsigned n, bool fenced) {
  if (fenced) {
    /* seq_cst fence: orders the caller's publication of work before the
     * read of sleepers, against the fence in fj__idle that orders a
     * sleeper's increment of sleepers before its re-check for work: either
     * we see the sleeper, or it sees the work. */
    fj__fence_seq_cst();
  }
  /* relaxed: when unfenced the caller accepts a missed wake-up (see
   * fj__spawn); when fenced the fence above orders it. */
  if (fj__load_relaxed(&sys->sleepers) == 0)
    return;
  /* A worker still spinning in fj__idle will see the work: it re-checks
   * after leaving `spinning` and before sleeping (the same Dekker pair,
   * through its seq_cst decrement and fence).  Without this, a steady
   * trickle of submissions would pay a futex wake per job just to keep
   * re-waking a worker that finds nothing. */
  if (fj__load_relaxed(&sys->spinning) != 0)
    return;
  /* An unfenced notify may miss a wake-up (its publisher runs the work
   * itself), so it also skips one while an earlier wake's worker has not
   * run yet: that worker will look for work, and steals spread what it
   * finds.  Without this, a job that spawns a batch and then a few more
   * jobs paid a futex wake for each of them before the first woken worker
   * got going, a few microseconds each on a VM (issue 11: a HIGH job spawned
   * behind such a batch started 3.6 µs after its spawn, 2.6 µs with this). */
  if (!fenced && fj__load_relaxed(&sys->wake_pending) != 0)
    return;
  fj__wake(sys, n);
}

/* Leaving the spinning state with work in sight.  The last spinner out
 * wakes a sleeper: submitters skipped waking because we were spinning,
 * and we may take other work than theirs. */
static void fj__stop_spinning_found_work(fj_system *sys) {
  if (fj__fetch_sub_seq_cst(&sys->spinning, 1) == 1 && fj__load_relaxed(&sys->sleepers) != 0)
    fj__wake(sys, 1);
}

void fj__notify_all(fj_system *sys) {
  /* seq_cst fence: as in fj__notify; pairs with fj__idle's fence. */
  fj__fence_seq_cst();
  if (fj__load_relaxed(&sys->sleepers) != 0) /* relaxed: ordered by the fence */
    fj__wake(sys, sys->num_workers);
}

void fj__pinned_wake_owner(fj__worker *owner) {
  if (owner->is_slot) {
    /* seq_cst: after the push's size store; the attached thread reads the
     * bell before it looks for work (see fj__slot_wait). */
    fj__fetch_add_seq_cst(&owner->bell, 1);
    fj__futex_wake(&owner->bell, 1);
    return;
  }
  /* Idle workers share one futex, so wake them all: only the owner may
   * take this work, and a spinning worker that is not the owner will not
   * take it either. */
  fj__notify_all(owner->sys);
}

/* Racy check of the worker's own queues; the pinned queue with seq_cst
 * (the Dekker pair with fj__pinned_wake_owner). */
static bool fj__has_local_work(fj__worker *w) {
  if (fj__pinned_nonempty(&w->pinned) || !fj__ps_empty(&w->ps))
    return true;
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++)
    if (!fj__fifo_empty(&w->yieldq[p]) || fj__deque_size_hint(&w->deque[p]) > 0)
      return true;
  return w->has_handoff;
}

/* Another worker's share that holds work, or NULL (racy: a hint). */
static fj__worker *fj__nonempty_share(fj__worker *w) {
  fj_system *sys = w->sys;
  for (unsigned i = 0; i < sys->num_workers; i++) {
    fj__worker *v = &sys->workers[i];
    if (v != w && !fj__ps_empty(&v->ps))
      return v;
  }
  return NULL;
}

fj__worker *fj__share_watch(fj__worker *w) {
  if (!w->sys->ps_on)
    return NULL;
  fj__worker *v = fj__nonempty_share(w);
  if (!v) {
    w->watch_victim = NULL;
    return NULL;
  }
  uint64_t now = fj__now_ns();
  if (w->watch_victim != v) {
    w->watch_victim = v;
    w->watch_ns = now;
    return NULL;
  }
  return now - w->watch_ns >= FJ__PS_TAKE_AFTER_NS ? v : NULL;
}

void fj__idle_found_work(fj__worker *w) {
  if (w->sys->ps_on && fj__nonempty_share(w))
    fj__notify(w->sys, 1, true);
}

/* fj__work_visible, and the spinning look (`polling`): that one looks at
 * the shared queues without reading their tails (fj__inject_work_in_sight),
 * since a worker spinning beside a submitting thread would otherwise pull
 * the tail's line from it every look.  Only a hint: a spinner that misses
 * work looks again, and fj__idle's look before sleeping reads the tails. */
static bool fj__look_for_work(fj__worker *w, bool polling) {
  fj_system *sys = w->sys;
  if (fj__has_local_work(w) || fj__share_watch(w))
    return true;
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
    fj__inject_queue *q = &sys->inject[p];
    if (polling ? fj__inject_work_in_sight(q) : fj__inject_size_hint(q) > 0) {
      /* The pick skips a shared queue whose inject_maybe bit is clear; its
       * pusher sets the bit right after the push, but may be preempted in
       * between.  Setting it here (a bit set over a queue with work is
       * always right) keeps this worker from spinning until then. */
      fj__inject_mark_after_rmw(&sys->inject_maybe, p);
      return true;
    }
    for (unsigned i = 0; i < sys->num_indices; i++) /* slots' deques too */
      if (fj__deque_size_hint(&sys->workers[i].deque[p]) > 0)
        return true;
  }
  return false;
}

bool fj__work_visible(fj__worker *w) {
  return fj__look_for_work(w, false);
}

void fj__idle(fj__worker *w) {
  fj_system *sys = w->sys;
  /* At most half the workers (at least one) spin at once; the others go
   * straight to sleep.  More spinners find nothing more, and on a machine
   * with no spare core they take it from the threads submitting work.  A
   * spinner that finds work wakes a sleeper (fj__stop_spinning_found_work),
   * so wake-ups still propagate. */
  unsigned max_spinning = sys->num_workers / 2 ? sys->num_workers / 2 : 1;
  int spins = FJ__IDLE_SPINS + FJ__IDLE_YIELDS;
  if (fj__fetch_add_seq_cst(&sys->spinning, 1) >= max_spinning)
    spins = 0;
  for (int i = 0; i < spins; i++) {
    if ((i % FJ__IDLE_LOOK_EVERY == 0 || i >= FJ__IDLE_SPINS) &&
        (fj__look_for_work(w, true) || fj__load_relaxed(&sys->exiting))) {
      fj__stop_spinning_found_work(sys);
      return;
    }
    if (i < FJ__IDLE_SPINS)
      fj__cpu_relax();
    else
      fj__thread_yield();
  }
  /* seq_cst: leaving `spinning` comes before the re-check below, so a
   * submitter that saw us spinning (and skipped the wake) is seen. */
  fj__fetch_sub_seq_cst(&sys->spinning, 1);
  fj__fetch_add_seq_cst(&sys->sleepers, 1);
  /* seq_cst fence: pairs with the fence in fj__notify (see there). */
  fj__fence_seq_cst();
  uint32_t seq = fj__load_relaxed(&sys->wake_seq);
  if (!fj__work_visible(w) && !fj__load_relaxed(&sys->exiting)) {
    fj__store_relaxed(&w->activity, FJ__WORKER_ASLEEP); /* for dumps only */
    /* relaxed (a hint): a wake issued before now has been served or was
     * for nobody; either way this sleeper must be wakeable by spawns. */
    fj__store_relaxed(&sys->wake_pending, 0);
    /* Another worker's private share holds work: nobody would wake us if
     * its owner's job never ends, so look again once we may take from it
     * (fj__share_watch). */
    int64_t timeout = sys->ps_on && fj__nonempty_share(w) ? FJ__PS_TAKE_AFTER_NS : -1;
    fj__futex_wait(&sys->wake_seq, seq, timeout);
    fj__store_relaxed(&sys->wake_pending, 0); /* woken: on its way */
  }
  fj__fetch_sub_seq_cst(&sys->sleepers, 1);
}
