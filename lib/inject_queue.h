/* SPDX-License-Identifier: MIT */
/*
 * inject_queue.h — the shared FIFO that jobs submitted from outside the
 * system go to, one per priority.  Every worker takes from it, a share at a
 * time, into its own deque.
 *
 * It has three parts, taken from in this order:
 *  - `fast`, a small lock-free ring for single submissions, so a stream of
 *    fj_run calls never meets a lock;
 *  - `overflow`, a large lock-free ring, allocated the first time `fast` is
 *    full: a flood of single submissions that outruns the workers stays
 *    lock-free without the small ring's cells going cold in ordinary use;
 *  - a mutex-guarded growable ring, for batches and for single jobs when
 *    both rings are full.
 * FIFO order per submitting thread holds because a single job goes to
 * `fast` only while `overflow` is empty, to either ring only while the
 * locked part is empty, and takers drain them in that order.  `count` lets
 * workers skip the lock when the locked part is empty.
 */
#ifndef FJ_INJECT_QUEUE_H
#define FJ_INJECT_QUEUE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "atomics.h"
#include "item.h"
#include "mpmc_ring.h"
#include "sys/sys.h"

typedef struct fj__inject_queue {
  fj__mutex lock;
  fj__item *ring;        /* guarded by lock */
  size_t cap, head;      /* guarded by lock; cap is a power of two */
  _Atomic size_t count;  /* written under lock; read without it as a hint */
  uint64_t pushed;       /* guarded by lock: jobs ever accepted (shutdown) */
  /* Lock-free parts for single submissions.  Their tails count every job
   * ever accepted through them (shutdown reads them: see fj__fill_claimed). */
  fj__mpmc_ring fast;
  fj__mpmc_ring overflow; /* lazy: allocated when fast is first full */
} fj__inject_queue;

/* FJ_OK or FJ_ENOMEM. */
int fj__inject_init(fj__inject_queue *q);
void fj__inject_fini(fj__inject_queue *q);

/* Caller holds q->lock (so it can check shutdown under the same lock).
 * Appends n jobs; returns 0 or -1 when growing failed (nothing appended). */
int fj__inject_push_locked(fj__inject_queue *q, const fj_job *jobs, size_t n,
                           fj_counter *c);

/* Caller holds q->lock: takes back the n jobs it just pushed (their
 * counter refused them), so they are neither run nor counted as accepted. */
void fj__inject_unpush_locked(fj__inject_queue *q, size_t n);

/* The ring a single job goes to first: `fast` while `overflow` is empty,
 * else `overflow` (FIFO, see above).  The size hint is relaxed: our own
 * earlier claims on overflow are seen (same location, same thread), and a
 * stale head only makes it look fuller. */
static inline fj__mpmc_ring *fj__inject_ring_for_single(fj__inject_queue *q) {
  return fj__ring_size_hint(&q->overflow) == 0 ? &q->fast : &q->overflow;
}

/* Claims a lock-free cell for one job, keeping FIFO order with the
 * submitting thread's earlier single jobs (see above); the caller has seen
 * the locked part empty.  NULL when both rings are full or the overflow
 * ring cannot be allocated: the job goes to the locked part.  The cell
 * must then be published (fj__ring_publish). */
static inline fj__ring_cell *fj__inject_claim_single(fj__inject_queue *q) {
  fj__mpmc_ring *ring = fj__inject_ring_for_single(q);
  if (ring == &q->fast) {
    fj__ring_cell *cell = fj__ring_claim(ring);
    if (cell)
      return cell;
  }
  /* Allocated at the first need.  acquire: as in fj__ring_allocate. */
  if (!fj__load_acquire(&q->overflow.cells) && fj__ring_allocate(&q->overflow) != 0)
    return NULL;
  return fj__ring_claim(&q->overflow);
}

/* Jobs ever accepted through the lock-free rings (shutdown's count).
 * seq_cst: see fj__fill_claimed. */
size_t fj__inject_accepted_lock_free(fj__inject_queue *q);

/* Takes up to max items in FIFO order into out[]: the rings' first;
 * returns how many. */
size_t fj__inject_take(fj__inject_queue *q, fj__item *out, size_t max);

/* Items in the locked part only (a hint). */
static inline size_t fj__inject_locked_hint(fj__inject_queue *q) {
  /* relaxed: a hint; fj__inject_take re-reads under the lock. */
  return atomic_load_explicit(&q->count, memory_order_relaxed);
}

static inline size_t fj__inject_size_hint(fj__inject_queue *q) {
  return fj__ring_size_hint(&q->fast) + fj__ring_size_hint(&q->overflow) +
         fj__inject_locked_hint(q);
}

/* A spinning worker's look for work (fj__idle): reads the rings' head
 * cells instead of their tails (fj__ring_head_published), so the look
 * does not pull the line a submitter's next claim writes.  A hint only:
 * the look before sleeping uses fj__inject_size_hint, whose read of the
 * tail completes the Dekker pair with the claim's seq_cst CAS. */
static inline bool fj__inject_work_in_sight(fj__inject_queue *q) {
  return fj__ring_head_published(&q->fast) || fj__ring_head_published(&q->overflow) ||
         fj__inject_locked_hint(q) > 0;
}

/*
 * The system's `inject_maybe` word: bit p says inject[p] may hold work.
 * It is a Dekker pair between pushers, who only set bits, and a yield that
 * found a queue empty, the only one that clears one:
 *   pusher:  push (a seq_cst RMW on a ring tail, or the locked part and a
 *            seq_cst fence); then read the word; set the bit if clear.
 *   clearer: clear the bit (seq_cst RMW); seq_cst fence; read the queue's
 *            indices again (relaxed loads: the fence orders them); set
 *            the bit back if it holds anything.
 * Either the pusher reads the word after the clear and sets the bit, or
 * the clearer's second look sees the push.  So whenever a queue holds work
 * its bit is set, or about to be set by the thread that just pushed it.
 */

/* After a push whose claim was a seq_cst RMW (the lock-free rings). */
static inline void fj__inject_mark_after_rmw(_Atomic uint32_t *maybe, unsigned p) {
  /* seq_cst: ordered after the claim's seq_cst CAS (see above). */
  if (!(fj__load_seq_cst(maybe) & (1u << p)))
    fj__fetch_or_seq_cst(maybe, 1u << p);
}

/* After a push into the locked part (count stored under the lock). */
static inline void fj__inject_mark_after_lock(_Atomic uint32_t *maybe, unsigned p) {
  fj__fence_seq_cst(); /* orders the count store before the read below */
  fj__inject_mark_after_rmw(maybe, p);
}

/* Clears bit p if inject q (= inject[p]) is empty; the other half of the
 * pair above.  Threads: any (a yielding worker). */
void fj__inject_clear_if_empty(_Atomic uint32_t *maybe, fj__inject_queue *q, unsigned p);

#endif
