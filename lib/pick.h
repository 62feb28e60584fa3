/* SPDX-License-Identifier: MIT */
/*
 * pick.h — which work a worker takes next.
 *
 * Picking order (fj__pick), for each priority from HIGH to LOW:
 *   own deque (newest first) -> shared inject queue -> own yield queue,
 * except that after a pick of new work the next pick (in the loop or in a
 * yield) prefers the yield queue, so yielded fibers and new jobs alternate:
 * neither starves the other, and jobs that yield need a handful of fibers,
 * not one each.  Only when nothing is local at any priority does the worker steal,
 * again HIGH to LOW.  A job put aside for a switch (`handoff`) comes first,
 * then work pinned to this worker (pinned.h), then, with aging on, one item
 * of a level whose aging clock ran out (aging.h).  Everything here runs on
 * the worker's own thread.
 */
#ifndef FJ_PICK_H
#define FJ_PICK_H

#include <stdbool.h>

#include "atomics.h"
#include "types.h"

enum {
  FJ__PICK_ANY,      /* everything, stealing included */
  FJ__PICK_FOR_YIELD /* local work up to a priority; never steals */
};

/* Takes a share of the shared queue of priority p into the deque; the
 * first item into *out.  False when it was empty. */
bool fj__take_injected(fj__worker *w, unsigned p, fj__item *out);

/* Steals one item from another worker's deque, HIGH to LOW. */
bool fj__steal(fj__worker *w, fj__item *out, unsigned *prio);

/* A yielded fiber of priority <= max_prio (highest first), or NULL. */
fj__fiber *fj__take_yielded(fj__worker *w, unsigned max_prio);

/* The pick of a wait that has no fiber to switch to (wait.c): every other
 * call looks LOW to HIGH instead of HIGH to LOW, so waiters of a higher
 * priority filling the stack cannot keep out the lower-priority job that
 * would release them. */
bool fj__pick_for_stuck_wait(fj__worker *w, fj__item *out, unsigned *prio);

/* Puts back an item picked for a switch that could not happen.  Cannot
 * fail: when the deque cannot grow, the item waits in the handoff slot.
 * Pinned items go back to this worker's pinned queue. */
void fj__unpick(fj__worker *w, const fj__item *it, unsigned prio);

/* Work pinned to this worker; else, with aging on, one item of a level
 * whose aging clock ran out, the oldest this worker can find (its deque's
 * far end, the shared queue, its yielded fibers, other workers' deques). */
bool fj__pick_pinned_or_aged(fj__worker *w, fj__item *out, unsigned *prio);

/* Whether fj__pick would take the private share's next job now, after a
 * job of priority p ran: the share holds work of priority p, and nothing
 * the pick looks at first holds any — no handoff, pinned work or aging, no
 * yielded fiber at p or above (the pick after new work prefers them), and
 * nothing in our deques or the shared queues of a higher priority, nor in
 * our deque at p (a spawn or a woken fiber of the job that just ran).  A
 * stale bit only sends the loop through the pick. */
static inline bool fj__ps_next_due(fj__worker *w, unsigned p) {
  unsigned above = (1u << p) - 1; /* priorities higher than p */
  unsigned share = 1u << (p + FJ__PS_MAYBE_SHIFT);
  /* Of our deques at p and above and the share at p, only the share. */
  if ((w->deque_maybe & (above | 1u << p | share)) != share)
    return false;
  if (w->has_handoff || (fj__load_relaxed(&w->pinned.size) | w->aging_on))
    return false;
  if (fj__load_relaxed(&w->sys->inject_maybe) & above)
    return false;
  for (unsigned q = 0; q <= p; q++)
    if (!fj__fifo_empty(&w->yieldq[q]))
      return false;
  return true;
}

/* Inlined into its callers: it is the hot path of every loop turn. */
__attribute__((always_inline)) static inline bool
fj__pick(fj__worker *w, fj__item *out, unsigned *prio, int mode, unsigned max_prio) {
  if (w->has_handoff) {
    w->has_handoff = false;
    *out = w->handoff;
    *prio = w->handoff_prio;
    return true;
  }
  /* One test for both: pinned work (a relaxed hint) or aging (immutable). */
  if (__builtin_expect(fj__load_relaxed(&w->pinned.size) | w->aging_on, 0) &&
      fj__pick_pinned_or_aged(w, out, prio))
    return true;
  for (unsigned p = 0; p <= max_prio; p++) {
    fj__fifo *yq = &w->yieldq[p];
    if (w->turn_yield && !fj__fifo_empty(yq))
      goto take_yielded;
    /* deque_maybe clear: the deque is empty (only we push), and popping
     * would read top, a line thieves write. */
    bool popped = false;
    if (w->deque_maybe >> p & 1u) {
      popped = fj__deque_pop(&w->deque[p], out);
      if (!popped)
        w->deque_maybe &= ~(1u << p); /* empty until we push again */
    }
    /* Then the private share: taken from the shared queue earlier than
     * anything still there, so it comes before it. */
    if (!popped && w->deque_maybe >> (p + FJ__PS_MAYBE_SHIFT) & 1u) {
      popped = fj__ps_pop(&w->ps, out);
      if (!popped)
        w->deque_maybe &= ~(1u << (p + FJ__PS_MAYBE_SHIFT)); /* until we fill again */
    }
    /* The shared queue: its inject_maybe bit first (one word for every
     * priority, inject_queue.h), then its indices (five loads on three
     * lines) only when the bit is set.  A clear bit with work in the queue
     * means its pusher is about to set it; fj__idle does not sleep on such
     * a queue (fj__work_visible sets the bit itself). */
    if (popped ||
        ((fj__load_relaxed(&w->sys->inject_maybe) >> p & 1u) &&
         fj__inject_size_hint(&w->sys->inject[p]) > 0 && fj__take_injected(w, p, out))) {
      w->turn_yield = true;
      *prio = p;
      return true;
    }
    if (!fj__fifo_empty(yq))
      goto take_yielded;
    continue;
  take_yielded:
    w->turn_yield = false;
    *out = fj__item_of_fiber(fj__fiber_of_link(fj__fifo_pop(yq)));
    *prio = p;
    return true;
  }
  if (mode == FJ__PICK_FOR_YIELD)
    return false;
  return fj__steal(w, out, prio);
}

#endif
