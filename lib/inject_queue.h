/* SPDX-License-Identifier: MIT */
/*
 * inject_queue.h — the shared FIFO that jobs submitted from outside the
 * system go to, one per priority.  Every worker takes from it, a share at a
 * time, into its own deque.  A mutex guards it; `count` lets workers skip
 * the lock when it is empty.
 */
#ifndef FJ_INJECT_QUEUE_H
#define FJ_INJECT_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "item.h"

typedef struct fj__inject_queue {
  pthread_mutex_t lock;
  fj__item *ring;        /* guarded by lock */
  size_t cap, head;      /* guarded by lock; cap is a power of two */
  _Atomic size_t count;  /* written under lock; read without it as a hint */
  uint64_t pushed;       /* guarded by lock: jobs ever accepted (shutdown) */
} fj__inject_queue;

int fj__inject_init(fj__inject_queue *q);
void fj__inject_fini(fj__inject_queue *q);

/* Caller holds q->lock (so it can check shutdown under the same lock).
 * Appends n jobs; returns 0 or -1 when growing failed (nothing appended). */
int fj__inject_push_locked(fj__inject_queue *q, const fj_job *jobs, size_t n,
                           fj_counter *c);

/* Takes up to max items in FIFO order into out[]; returns how many. */
size_t fj__inject_take(fj__inject_queue *q, fj__item *out, size_t max);

static inline size_t fj__inject_size_hint(fj__inject_queue *q) {
  /* relaxed: a hint; fj__inject_take re-reads under the lock. */
  return atomic_load_explicit(&q->count, memory_order_relaxed);
}

#endif
