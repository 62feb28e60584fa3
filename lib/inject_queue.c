/* SPDX-License-Identifier: MIT */
/*
 * inject_queue.c — the shared queue behind external submissions: the
 * fast lock-free ring in front, the mutex-guarded growable ring behind.
 */
#include "inject_queue.h"

#include <stdlib.h>

#include "atomics.h"
#include "internal.h"

int fj__inject_init(fj__inject_queue *q) {
  q->cap = FJ__INJECT_INITIAL;
  q->head = 0;
  q->pushed = 0;
  q->ring = malloc(q->cap * sizeof *q->ring);
  if (!q->ring)
    return FJ_ENOMEM;
  if (fj__ring_init(&q->fast, FJ__FAST_RING_CAPACITY) != 0) {
    free(q->ring);
    return FJ_ENOMEM;
  }
  fj__ring_init_lazy(&q->overflow, FJ__OVERFLOW_RING_CAPACITY);
  int r = fj__mutex_init(&q->lock);
  if (r != FJ_OK) {
    fj__ring_fini(&q->fast);
    free(q->ring);
    return r;
  }
  atomic_init(&q->count, 0);
  return FJ_OK;
}

void fj__inject_fini(fj__inject_queue *q) {
  fj__mutex_fini(&q->lock);
  free(q->ring);
  q->ring = NULL;
  fj__ring_fini(&q->fast);
  fj__ring_fini(&q->overflow);
}

void fj__inject_clear_if_empty(_Atomic uint32_t *maybe, fj__inject_queue *q, unsigned p) {
  uint32_t bit = 1u << p;
  if (!(fj__load_relaxed(maybe) & bit) || fj__inject_size_hint(q) != 0)
    return; /* relaxed: both only decide whether to try */
  fj__fetch_and_seq_cst(maybe, ~bit);
  /* seq_cst fence: pairs with the pusher's fence or seq_cst CAS, and
   * orders the hint's relaxed loads after the clear (inject_queue.h). */
  fj__fence_seq_cst();
  if (fj__inject_size_hint(q) != 0)
    fj__fetch_or_seq_cst(maybe, bit); /* a push raced with us: undo */
}

size_t fj__inject_accepted_lock_free(fj__inject_queue *q) {
  return fj__load_seq_cst(&q->fast.tail) + fj__load_seq_cst(&q->overflow.tail);
}

static int fj__inject_grow(fj__inject_queue *q, size_t need) {
  size_t cap = q->cap;
  FJ__ASSERT(FJ__IS_POW2(cap));
  while (cap < need)
    cap *= 2;
  if (cap == q->cap)
    return 0;
  fj__item *r = malloc(cap * sizeof *r);
  if (!r)
    return -1;
  size_t count = fj__load_relaxed(&q->count);
  for (size_t i = 0; i < count; i++)
    r[i] = q->ring[(q->head + i) & (q->cap - 1)];
  free(q->ring);
  q->ring = r;
  q->cap = cap;
  q->head = 0;
  return 0;
}

int fj__inject_push_locked(fj__inject_queue *q, const fj_job *jobs, size_t n,
                           fj_counter *c) {
  size_t count = fj__load_relaxed(&q->count); /* relaxed: we hold the lock */
  if (count + n < count || fj__inject_grow(q, count + n) != 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    fj__item *slot = &q->ring[(q->head + count + i) & (q->cap - 1)];
    slot->fn = jobs[i].fn;
    slot->arg = jobs[i].arg;
    slot->counter = c;
  }
  /* relaxed: the items themselves are published by the mutex unlock; the
   * count is only a hint for lock-free emptiness checks. */
  fj__store_relaxed(&q->count, count + n);
  q->pushed += n;
  return 0;
}

void fj__inject_unpush_locked(fj__inject_queue *q, size_t n) {
  size_t count = fj__load_relaxed(&q->count); /* relaxed: we hold the lock */
  FJ__ASSERT(count >= n && q->pushed >= n);
  fj__store_relaxed(&q->count, count - n);
  q->pushed -= n;
}

size_t fj__inject_take(fj__inject_queue *q, fj__item *out, size_t max) {
  /* The rings first, fast then overflow: anything in them is older than
   * what the same thread put behind the lock (see the header). */
  size_t taken = fj__ring_take_many(&q->fast, out, max);
  if (taken < max)
    taken += fj__ring_take_many(&q->overflow, out + taken, max - taken);
  if (taken == max || fj__inject_locked_hint(q) == 0)
    return taken;
  fj__mutex_lock(&q->lock);
  size_t count = fj__load_relaxed(&q->count);
  size_t k = count < max - taken ? count : max - taken;
  for (size_t i = 0; i < k; i++)
    out[taken + i] = q->ring[(q->head + i) & (q->cap - 1)];
  q->head = (q->head + k) & (q->cap - 1);
  fj__store_relaxed(&q->count, count - k);
  fj__mutex_unlock(&q->lock);
  return taken + k;
}
