/* SPDX-License-Identifier: MIT */
/*
 * counter.c — counting finished jobs and waking what waits on them.  The
 * state word is described in counter.h.
 */
#include "counter.h"

#include <stdlib.h>

#include "internal.h"
#include "sys/sys.h"

fj_counter *fj__counter_alloc(fj__counter_cache *cache) {
  fj__link *l = cache ? fj__lifo_pop(&cache->free) : NULL;
  if (l)
    return FJ__CONTAINER_OF(l, fj_counter, cache_link);
  return malloc(sizeof(fj_counter));
}

void fj__counter_free(fj__counter_cache *cache, fj_counter *c) {
  if (cache && cache->free.count < FJ__COUNTER_CACHE_MAX) {
    fj__lifo_push(&cache->free, &c->cache_link);
    return;
  }
  free(c);
}

void fj__counter_cache_fini(fj__counter_cache *cache) {
  fj__link *l;
  while ((l = fj__lifo_pop(&cache->free)))
    free(FJ__CONTAINER_OF(l, fj_counter, cache_link));
}

void fj__counter_init(fj_counter *c, fj_system *sys) {
  atomic_init(&c->state, 0);
  atomic_init(&c->lock.locked, false);
  c->head = c->tail = NULL;
  c->sys = sys;
}

/* Under c->lock: registers node if the counter is not zero. */
static bool fj__register_locked(fj_counter *c, fj__waiter *node) {
  /* acquire: if we see zero, the caller continues as the counter's waiter,
   * so it must see the finished jobs' effects; pairs with the acq_rel CAS
   * in fj__counter_finish (the failed-CAS reload below acquires too). */
  uint64_t s = fj__load_acquire(&c->state);
  for (;;) {
    if ((s >> FJ__PENDING_SHIFT) == 0)
      return false;
    if ((s & FJ__WAITERS_MASK) == FJ__WAITERS_MASK)
      fj__fatal("more than 16 million waiters on one counter");
    if (fj__cas_acq_rel(&c->state, &s, s + FJ__WAITER_ONE))
      break;
  }
  node->next = NULL;
  if (c->tail)
    c->tail->next = node;
  else
    c->head = node;
  c->tail = node;
  return true;
}

bool fj__counter_park(fj_counter *c, fj__waiter *node) {
  fj__spin_lock(&c->lock);
  bool parked = fj__register_locked(c, node);
  fj__spin_unlock(&c->lock);
  return parked;
}

fj__waiter *fj__counter_finish(fj_counter *c, size_t n) {
  uint64_t s = fj__load_relaxed(&c->state);
  uint64_t claimed;
  FJ__ASSERT(n >= 1);
  for (;;) {
    uint64_t next;
    /* The count never goes below zero: every finish matches an add. */
    FJ__ASSERT((s >> FJ__PENDING_SHIFT) >= n);
    claimed = (s & FJ__WAITERS_MASK) / FJ__WAITER_ONE;
    if ((s >> FJ__PENDING_SHIFT) == n && claimed) {
      if ((s & FJ__WAKERS_MASK) == FJ__WAKERS_MASK) { /* 255 crossings in flight */
        fj__thread_yield();
        s = fj__load_relaxed(&c->state);
        continue;
      }
      next = (s & FJ__WAKERS_MASK) + 1; /* pending 0, waiters claimed */
    } else {
      claimed = 0;
      next = s - (uint64_t)n * FJ__PENDING_ONE;
    }
    /* acq_rel: release publishes this job's effects to anyone who later
     * observes the lower count (acquire in fj__counter_pending); acquire
     * orders the list walk below after the registrations we claimed. */
    if (fj__cas_acq_rel(&c->state, &s, next))
      break;
  }
  if (!claimed)
    return NULL;

  fj__spin_lock(&c->lock);
  fj__waiter *first = c->head, *last = first;
  FJ__ASSERT(first != NULL);
  for (uint64_t i = 1; i < claimed; i++) {
    last = last->next;
    FJ__ASSERT(last != NULL); /* every claimed waiter has its node listed */
  }
  c->head = last->next;
  if (!c->head)
    c->tail = NULL;
  last->next = NULL;
  fj__spin_unlock(&c->lock);
  /* release: our last access to c; pairs with the acquire load in
   * fj__counter_check_idle_for_destroy, which may free c right after. */
  fj__fetch_sub_release(&c->state, 1);

  fj__waiter *fibers = NULL, **tail = &fibers;
  for (fj__waiter *node = first, *next; node; node = next) {
    next = node->next;
    if (node->fiber) {
      *tail = node;
      tail = &node->next;
    } else {
      _Atomic uint32_t *bell = node->bell; /* read before the node may go */
      /* release: pairs with the acquire in fj__counter_wait_thread (and
       * fj__slot_wait). */
      fj__store_release(&node->done, 1);
      if (bell) {
        /* After the store above the node's frame may be gone: only the
         * bell, which lives in an attach slot and outlives every wait.
         * seq_cst: the sleeper reads the bell before it checks done. */
        fj__fetch_add_seq_cst(bell, 1);
        fj__futex_wake(bell, 1);
      } else {
        /* The waiter keeps the node until `released`. */
        fj__futex_wake(&node->done, 1);
        /* release: our last use of the node; pairs with the acquire in
         * fj__counter_wait_thread, after which its frame may go. */
        fj__store_release(&node->released, 1);
      }
    }
  }
  *tail = NULL;
  return fibers;
}

/* Under c->lock: removes a timed-out thread waiter, unless a crossing has
 * already claimed it.  Returns true if it was removed. */
static bool fj__unregister_locked(fj_counter *c, fj__waiter *node) {
  for (;;) {
    uint64_t s = fj__load_acquire(&c->state);
    uint64_t current = (s & FJ__WAITERS_MASK) / FJ__WAITER_ONE;
    size_t len = 0, pos = 0;
    bool found = false;
    for (fj__waiter *n = c->head; n; n = n->next, len++) {
      if (n == node) {
        pos = len;
        found = true;
      }
    }
    /* Claimed nodes are the oldest, at the head; the `current` newest ones
     * are still registered. */
    if (!found || pos < len - current)
      return false;
    if (!fj__cas_acq_rel(&c->state, &s, s - FJ__WAITER_ONE))
      continue; /* a job finished meanwhile; look again */
    fj__waiter **link = &c->head, *prev = NULL;
    while (*link != node) {
      prev = *link;
      link = &(*link)->next;
    }
    *link = node->next;
    if (c->tail == node)
      c->tail = prev;
    return true;
  }
}

bool fj__counter_unpark(fj_counter *c, fj__waiter *node) {
  fj__spin_lock(&c->lock);
  bool removed = fj__unregister_locked(c, node);
  fj__spin_unlock(&c->lock);
  return removed;
}

int fj__counter_wait_thread(fj_counter *c, int64_t timeout_ns) {
  if (fj__counter_pending(c) == 0)
    return FJ_OK;
  fj__waiter node = {.fiber = NULL, .counter = c, .bell = NULL};
  atomic_init(&node.done, 0);
  atomic_init(&node.released, 0);
  if (!fj__counter_park(c, &node))
    return FJ_OK;
  uint64_t deadline = timeout_ns >= 0 ? fj__now_ns() + (uint64_t)timeout_ns : 0;
  /* acquire: pairs with the release store of done in fj__counter_finish. */
  while (!fj__load_acquire(&node.done)) {
    int64_t left = -1;
    if (timeout_ns >= 0) {
      uint64_t now = fj__now_ns();
      left = now >= deadline ? 0 : (int64_t)(deadline - now);
      if (left == 0) {
        if (fj__counter_unpark(c, &node))
          return FJ_ETIMEDOUT;
        timeout_ns = -1; /* claimed: the waker is about to set done */
        continue;
      }
    }
    fj__futex_wait(&node.done, 0, left);
  }
  /* The crossing still names node.done in its futex wake: keep this frame
   * until it is through (a syscall's time; yield the core after a few
   * spins, for a waker that lost its CPU). */
  for (unsigned i = 0; !fj__load_acquire(&node.released); i++) {
    if (i < 64)
      fj__cpu_relax();
    else
      fj__thread_yield();
  }
  return FJ_OK;
}

void fj__counter_check_idle_for_destroy(fj_counter *c) {
  uint64_t s;
  /* acquire: pairs with the waker's final release in fj__counter_finish. */
  while ((s = fj__load_acquire(&c->state)) & FJ__WAKERS_MASK) {
    if ((s >> FJ__PENDING_SHIFT) || (s & FJ__WAITERS_MASK))
      break;
    fj__thread_yield(); /* a waker is finishing; it holds no lock we need */
  }
  if ((s >> FJ__PENDING_SHIFT) || (s & FJ__WAITERS_MASK))
    fj__fatal("fj_counter_destroy on a counter that is still in use "
              "(%llu unfinished jobs, %llu waiters); wait for it to reach zero first",
              (unsigned long long)(s >> FJ__PENDING_SHIFT),
              (unsigned long long)((s & FJ__WAITERS_MASK) / FJ__WAITER_ONE));
}
