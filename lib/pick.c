/* SPDX-License-Identifier: MIT */
/*
 * pick.c — the slower parts of picking: taking a share of a shared queue,
 * stealing, and putting an item back (the fast path is fj__pick in pick.h).
 */
#include "pick.h"

#include "atomics.h"
#include "idle.h"
#include "sys/sys.h"
#include "trace.h"

bool fj__take_injected(fj__worker *w, unsigned p, fj__item *out) {
  fj__inject_queue *q = &w->sys->inject[p];
  size_t hint = fj__inject_size_hint(q);
  if (hint == 0)
    return false;
  /* A big batch is shared out (hint / workers each); a trickle of single
   * submissions is taken whole, so workers do not fight over the queue's
   * lock once per job; thieves spread it from our deque. */
  size_t share = hint <= FJ__TAKE_WHOLE_MAX ? hint : hint / w->sys->num_workers + 1;
  if (share > FJ__TAKE_MAX)
    share = FJ__TAKE_MAX;
  if (share > 1 && fj__deque_reserve(&w->deque[p], (int64_t)share) != 0)
    share = 1;
  size_t n = fj__inject_take(q, w->take_buf, share);
  if (n == 0)
    return false;
  *out = w->take_buf[0];
  if (n == 1)
    return true;
  if (w->sys->ps_on && !w->is_slot && fj__ps_empty(&w->ps)) {
    /* The rest becomes this worker's private share: popped without a
     * fence, and taken by an idle worker only once it has waited on it
     * (fj__steal_from_share).  Its bit tells picks and yields it is there. */
    fj__ps_fill(&w->ps, &w->take_buf[1], n - 1, p);
    /* Only p's share bit: a bit left set from an earlier fill at another
     * priority would have that priority's pick pop these jobs and run them
     * at its priority (found by the fuzzer). */
    w->deque_maybe = (w->deque_maybe & ~FJ__PS_MAYBE_ALL) | 1u << (p + FJ__PS_MAYBE_SHIFT);
  } else {
    /* The rest in one push, popped in FIFO order. */
    int r = fj__worker_deque_push_fifo(w, p, &w->take_buf[1], n - 1);
    FJ__ASSERT(r == 0); /* reserved above: cannot fail */
    (void)r;
  }
  /* Fenced: we run the first job now, and it may never come back to us
   * (a job that waits outside the library for one of these): a missed
   * wake-up here could leave them behind it while every other worker
   * sleeps.  The worker woken steals from the deque, or watches the share
   * (idle.h).  One fence per take, not per job. */
  fj__notify(w->sys, 1, true);
  return true;
}

/* The later half of another worker's private share that has held work for
 * FJ__PS_TAKE_AFTER_NS while we were idle (fj__share_watch). */
static bool fj__steal_from_share(fj__worker *w, fj__item *out, unsigned *prio) {
  fj__worker *v = fj__share_watch(w);
  if (!v)
    return false;
  /* Room for the whole take first: items in hand must not be dropped. */
  size_t max = FJ__TAKE_MAX;
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++)
    if (fj__deque_reserve(&w->deque[p], FJ__TAKE_MAX) != 0)
      max = 1;
  unsigned p;
  size_t n = fj__ps_take(&v->ps, w->take_buf, max, &p);
  w->watch_victim = NULL; /* the next take waits its own while */
  if (n == 0)
    return false;
  *out = w->take_buf[0];
  *prio = p;
  fj__stat_add(&w->stolen, 1); /* one take, one trace event, like a steal */
  FJ__TRACE(w, fj__trace_steal(w, v->index));
  if (n > 1) {
    int r = fj__worker_deque_push_fifo(w, p, &w->take_buf[1], n - 1);
    FJ__ASSERT(r == 0); /* reserved above */
    (void)r;
  }
  /* Work left behind, in our deque and in the victim's share, each needs
   * a free worker to come for it while we and the victim are busy:
   * fenced, as in fj__take_injected. */
  unsigned left = (n > 1) + !fj__ps_empty(&v->ps);
  if (left)
    fj__notify(w->sys, left, true);
  return true;
}

bool fj__steal(fj__worker *w, fj__item *out, unsigned *prio) {
  fj_system *sys = w->sys;
  unsigned n = sys->num_indices; /* attach slots' deques too: a slot may go away */
  if (n < 2)
    return false;
  w->rng = w->rng * 1664525u + 1013904223u;
  unsigned start = w->rng >> 8;
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
    for (unsigned i = 0; i < n; i++) {
      fj__worker *v = &sys->workers[(start + i) % n];
      if (v == w)
        continue;
      /* A failed steal may only mean a lost race; retry while it has items. */
      while (fj__deque_size_hint(&v->deque[p]) > 0) {
        if (fj__deque_steal(&v->deque[p], out)) {
          fj__stat_add(&w->stolen, 1);
          FJ__TRACE(w, fj__trace_steal(w, v->index));
          *prio = p;
          /* More to take: wake another thief.  Fenced, as in
           * fj__take_injected: the victim is busy, and so are we now. */
          if (fj__deque_size_hint(&v->deque[p]) > 0)
            fj__notify(sys, 1, true);
          return true;
        }
      }
    }
  }
  return sys->ps_on && fj__steal_from_share(w, out, prio);
}

fj__fiber *fj__take_yielded(fj__worker *w, unsigned max_prio) {
  for (unsigned p = 0; p <= max_prio; p++) {
    fj__fiber *f = fj__fiber_of_link(fj__fifo_pop(&w->yieldq[p]));
    if (f) {
      w->turn_yield = false;
      return f;
    }
  }
  return NULL;
}

bool fj__pick_for_stuck_wait(fj__worker *w, fj__item *out, unsigned *prio) {
  w->stuck_low_first = !w->stuck_low_first;
  if (!w->stuck_low_first)
    return fj__pick(w, out, prio, FJ__PICK_ANY, FJ_PRIORITY_LOW);
  for (unsigned p = FJ_PRIORITY_COUNT; p-- > 0;) {
    if (fj__deque_pop(&w->deque[p], out) || fj__take_injected(w, p, out)) {
      *prio = p;
      return true;
    }
    fj__fiber *f = fj__fiber_of_link(fj__fifo_pop(&w->yieldq[p]));
    if (f) {
      *out = fj__item_of_fiber(f);
      *prio = p;
      return true;
    }
  }
  /* Nothing local: the handoff slot, then other workers, as usual. */
  return fj__pick(w, out, prio, FJ__PICK_ANY, FJ_PRIORITY_LOW);
}

bool fj__pick_pinned_or_aged(fj__worker *w, fj__item *out, unsigned *prio) {
  if (fj__pinned_pop(&w->pinned, out, prio)) {
    fj__stat_add(&w->pinned_run, 1);
    return true;
  }
  if (!w->aging_on)
    return false;
  fj_system *sys = w->sys;
  uint64_t now = fj__now_ns();
  for (unsigned p = FJ_PRIORITY_COUNT - 1; p > 0; p--) {
    if (!fj__aging_claim(&sys->aging, p, now))
      continue;
    bool got = fj__deque_steal(&w->deque[p], out) || fj__take_injected(w, p, out);
    if (!got && !fj__fifo_empty(&w->yieldq[p])) {
      *out = fj__item_of_fiber(fj__fiber_of_link(fj__fifo_pop(&w->yieldq[p])));
      got = true;
    }
    for (unsigned i = 0; !got && i < sys->num_indices; i++) {
      fj__worker *v = &sys->workers[i];
      /* A failed steal may only mean a lost race; retry while it has items. */
      while (!got && v != w && fj__deque_size_hint(&v->deque[p]) > 0)
        got = fj__deque_steal(&v->deque[p], out);
    }
    if (got) {
      *prio = p;
      fj__stat_add(&w->aged, 1);
      return true;
    }
  }
  return false;
}

void fj__unpick(fj__worker *w, const fj__item *it, unsigned prio) {
  if (!it->fn && fj__item_fiber(it)->pin != FJ_ANY_WORKER) {
    /* Only its owner picks a pinned fiber, so this is its queue. */
    fj__pinned_push_fiber(&w->pinned, fj__item_fiber(it));
  } else if (fj__item_is_rec(it) && ((fj__job_rec *)it->arg)->worker != FJ_ANY_WORKER) {
    fj__job_rec *rec = it->arg;
    fj__pinned_push_jobs(&w->pinned, &rec, 1);
  } else if (!it->fn) {
    fj__fifo_push(&w->yieldq[prio], &fj__item_fiber(it)->link);
  } else if (fj__worker_deque_push(w, prio, it) != 0) {
    /* The deque cannot grow: park the job in the handoff slot, which the
     * pick that produced it has just emptied; the next pick takes it. */
    FJ__ASSERT(!w->has_handoff);
    w->handoff = *it;
    w->handoff_prio = prio;
    w->has_handoff = true;
  }
}
