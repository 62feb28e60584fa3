/* SPDX-License-Identifier: MIT */
/*
 * deque.h — a Chase-Lev work-stealing deque of fj__items (after Chase & Lev
 * 2005, with the C11 orderings of Lê, Pop, Cohen & Zappa Nardelli 2013).
 *
 * Who may call what, concurrently:
 *
 *   operation      | caller          | may run at the same time as
 *   ---------------+-----------------+-------------------------------------
 *   push, pop,     | the owner only  | any number of steal, size_hint
 *   reserve        |                 |
 *   steal          | any thread      | push, pop, other steals
 *   size_hint      | any thread      | everything (approximate)
 *
 * The owner works at the bottom (LIFO: newest first, best for fork-join
 * locality and memory); thieves take from the top (oldest first).  Progress:
 * push and pop are wait-free except when the array grows; steal is lock-free
 * (it fails only when another operation made progress).
 */
#ifndef FJ_DEQUE_H
#define FJ_DEQUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "item.h"

/* Slot fields are relaxed atomics: a thief may read a slot while the owner
 * rewrites it after wrap-around; the thief's CAS on top then fails and the
 * torn value is discarded, but the read itself must not be a data race. */
typedef struct fj__deque_slot {
  _Atomic(fj_job_fn) fn;
  _Atomic(void *) arg;
  _Atomic(fj_counter *) counter;
} fj__deque_slot;

typedef struct fj__deque_array {
  int64_t mask; /* capacity - 1; capacity is a power of two */
  struct fj__deque_array *retired_next; /* owner-only list of outgrown arrays */
  fj__deque_slot slots[];
} fj__deque_array;

typedef struct fj__deque {
  _Alignas(FJ__CACHE_LINE) _Atomic int64_t top; /* next slot thieves take; only grows */
  _Alignas(FJ__CACHE_LINE) _Atomic int64_t bottom;    /* next free slot; written by the owner */
  _Atomic(fj__deque_array *) array;
  fj__deque_array *retired; /* freed at fini: a thief may still read them */
} fj__deque;

/* capacity must be a power of two.  Returns 0 or -1 (out of memory). */
int fj__deque_init(fj__deque *d, int64_t capacity);
void fj__deque_fini(fj__deque *d);

/* Makes room for n more pushes, so a batch can be pushed without failing
 * halfway.  Returns 0 or -1 (out of memory).  Owner only. */
int fj__deque_reserve(fj__deque *d, int64_t n);
/* Returns 0, or -1 when growing failed.  Owner only. */
int fj__deque_push(fj__deque *d, const fj__item *it);
/* Pushes n items at once (one release of bottom for all) so that the owner
 * pops them in the order items[0], items[1], ... (and thieves take
 * items[n - 1] first).  Returns 0, or -1 when growing failed (nothing
 * pushed).  Owner only. */
int fj__deque_push_fifo(fj__deque *d, const fj__item *items, size_t n);
/* Newest item; false when empty.  Owner only. */
bool fj__deque_pop(fj__deque *d, fj__item *out);
/* Oldest item; false when empty or when it lost a race.  Any thread. */
bool fj__deque_steal(fj__deque *d, fj__item *out);
/* Roughly how many items it holds (racy, for idle checks).  Any thread.
 * relaxed: a hint; callers that rely on emptiness re-check under the sleep
 * protocol's fences (or, for the owner, in fj__deque_pop). */
static inline int64_t fj__deque_size_hint(const fj__deque *d) {
  int64_t b = atomic_load_explicit(&((fj__deque *)d)->bottom, memory_order_relaxed);
  int64_t t = atomic_load_explicit(&((fj__deque *)d)->top, memory_order_relaxed);
  return b > t ? b - t : 0;
}

#endif
