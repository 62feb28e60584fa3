/* SPDX-License-Identifier: MIT */
/*
 * counter.h — job counters and the waiters parked on them.
 *
 * All of a counter's state that waiters and finishing jobs race on is one
 * 64-bit word, so a zero crossing, a new waiter and a reuse of the counter
 * are totally ordered:
 *
 *   bits 63..32  pending  jobs submitted and not yet returned
 *   bits 31..8   waiters  registered waiters not yet claimed by a crossing
 *   bits  7..0   wakers   crossings still walking their claimed waiters
 *
 * A waiter registers (waiters + 1) only while pending > 0, with a CAS under
 * `lock`, and appends its node to the FIFO list in the same critical
 * section.  The job that takes pending from 1 to 0 claims every registered
 * waiter in the same CAS (waiters := 0, wakers + 1); the claimed nodes are
 * the oldest ones, at the head of the list, because registration order and
 * list order are both decided under `lock`.  The waker then detaches them,
 * and the final `wakers - 1` is its last access to the counter, so
 * fj_counter_destroy only has to wait for wakers == 0.
 */
#ifndef FJ_COUNTER_H
#define FJ_COUNTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomics.h"
#include "fiberjob.h"
#include "list.h"
#include "spinlock.h"

struct fj__fiber;

/* A waiter node lives on the waiter's own stack (a fiber's or a thread's). */
typedef struct fj__waiter {
  struct fj__waiter *next;  /* guarded by the counter's lock while listed */
  struct fj__fiber *fiber;  /* the parked fiber; NULL for a thread */
  fj_counter *counter;
  _Atomic uint32_t done;    /* threads sleep on it; set once detached */
  /* Set by the crossing after its futex wake on `done` (threads without a
   * bell): until then the waiter keeps its frame, so the wake never names
   * an address that is no longer a live stack slot (valgrind checks the
   * futex word of every wake). */
  _Atomic uint32_t released;
  /* Attached threads sleep on their slot's bell instead of `done`, so new
   * pinned work wakes them too; the crossing rings it after setting done.
   * NULL for everyone else. */
  _Atomic uint32_t *bell;
} fj__waiter;

struct fj_counter {
  _Atomic uint64_t state;
  fj__spinlock lock;
  fj__waiter *head, *tail; /* guarded by lock */
  fj_system *sys;          /* immutable; only compared, never dereferenced */
  fj__link cache_link;     /* in a worker's cache of freed counters */
};

/* Counter memory: jobs that fork and join allocate one per node, so each
 * worker keeps freed counters for reuse (up to FJ__COUNTER_CACHE_MAX)
 * instead of going to malloc each time.  Owned by one worker thread. */
typedef struct fj__counter_cache {
  fj__lifo free; /* linked through ->cache_link */
} fj__counter_cache;

#define FJ__PENDING_SHIFT 32
#define FJ__PENDING_ONE ((uint64_t)1 << FJ__PENDING_SHIFT)
#define FJ__WAITER_ONE ((uint64_t)1 << 8)
#define FJ__WAITERS_MASK ((uint64_t)0xffffff00u)
#define FJ__WAKERS_MASK ((uint64_t)0xffu)

static inline size_t fj__counter_pending(const fj_counter *c) {
  /* acquire: pairs with the acq_rel CAS in fj__counter_finish, so a caller
   * that sees zero also sees every effect of the finished jobs. */
  return (size_t)(fj__load_acquire(&((fj_counter *)c)->state) >> FJ__PENDING_SHIFT);
}

/* A counter's memory from the cache, or from malloc when it is empty or
 * cache is NULL (a plain thread).  NULL: out of memory. */
fj_counter *fj__counter_alloc(fj__counter_cache *cache);
/* Gives a destroyed counter's memory back (cache may be NULL: free). */
void fj__counter_free(fj__counter_cache *cache, fj_counter *c);
/* Frees every cached counter. */
void fj__counter_cache_fini(fj__counter_cache *cache);

void fj__counter_init(fj_counter *c, fj_system *sys);

/* Adds n pending jobs.  FJ_OK, or FJ_EOVERFLOW (nothing added).  Inline:
 * every submission with a counter pays it. */
static inline int fj__counter_add(fj_counter *c, size_t n) {
  uint64_t s = fj__load_relaxed(&c->state);
  for (;;) {
    uint64_t pending = s >> FJ__PENDING_SHIFT;
    if (n > UINT32_MAX || pending + n > UINT32_MAX)
      return FJ_EOVERFLOW;
    /* relaxed would do for the count itself (the jobs are published by the
     * queue they go into); acq_rel keeps every update of the word in one
     * simple discipline. */
    if (fj__cas_acq_rel(&c->state, &s, s + (uint64_t)n * FJ__PENDING_ONE))
      return FJ_OK;
  }
}

/* n (>= 1) jobs finished; at most as many as are pending (asserted: the
 * count never goes below zero).  If this was the zero crossing and waiters were parked,
 * wakes the thread waiters and returns the fiber waiters as a list linked
 * through ->next; the caller must read ->fiber and ->next of each node
 * before making that fiber runnable (the node lives on its stack). */
fj__waiter *fj__counter_finish(fj_counter *c, size_t n);

/* Parks node on c.  Returns false, and parks nothing, if c is already zero. */
bool fj__counter_park(fj_counter *c, fj__waiter *node);

/* Removes a timed-out thread waiter unless a crossing already claimed
 * it; true if it was removed.  When false, `done` is set soon. */
bool fj__counter_unpark(fj_counter *c, fj__waiter *node);

/* Blocks the calling thread until c reaches zero; timeout_ns < 0 waits
 * forever.  FJ_OK or FJ_ETIMEDOUT. */
int fj__counter_wait_thread(fj_counter *c, int64_t timeout_ns);

/* Waits for in-flight wakers to leave, then checks the counter is idle.
 * Aborts with a message (fj__fatal) if jobs or waiters still hold it. */
void fj__counter_check_idle_for_destroy(fj_counter *c);

#endif
