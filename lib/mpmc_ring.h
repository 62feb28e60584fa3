/* SPDX-License-Identifier: MIT */
/*
 * mpmc_ring.h — a bounded lock-free FIFO of items, many producers and many
 * consumers (the sequence-numbered cell ring known from Dmitry Vyukov's
 * write-ups).  External fj_run calls go through it so a stream of single
 * submissions never meets a lock; batches and overflow use the locked
 * queue in inject_queue.c.
 *
 * Every cell carries a sequence number that says whose turn it is (stored
 * minus the cell's index, so zeroed memory is a ready ring; mpmc_ring.c):
 *   seq == pos        free for the producer claiming position pos
 *   seq == pos + 1    holds the item of position pos, for a consumer
 *   seq == pos + cap  consumed; free for the producer of pos + cap
 * A producer claims a position with a CAS on `tail`, fills the cell, and
 * publishes it with a release store of seq; a consumer claims with a CAS on
 * `head` after an acquire load of seq saw the item published.
 */
#ifndef FJ_MPMC_RING_H
#define FJ_MPMC_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "internal.h"
#include "item.h"

typedef struct fj__ring_cell {
  _Atomic size_t seq;
  fj__item item;
} fj__ring_cell;

typedef struct fj__mpmc_ring {
  _Alignas(FJ__CACHE_LINE) _Atomic size_t tail; /* next position to produce; also jobs ever claimed */
  _Alignas(FJ__CACHE_LINE) _Atomic size_t head; /* next position to consume; consumers only */
  /* Set once: by fj__ring_init, or for a lazy ring by the first
   * fj__ring_allocate (release, so the cells' initial seq values are seen
   * by whoever loads it with acquire); NULL until then. */
  _Alignas(FJ__CACHE_LINE) fj__ring_cell *_Atomic cells;
  size_t mask;                       /* capacity - 1; immutable */
} fj__mpmc_ring;

/* capacity must be a power of two.  Returns 0 or -1 (out of memory). */
int fj__ring_init(fj__mpmc_ring *r, size_t capacity);
/* A ring whose cells are allocated only when fj__ring_allocate is first
 * called: until then it is empty, full to producers, and costs nothing. */
void fj__ring_init_lazy(fj__mpmc_ring *r, size_t capacity);
/* Allocates a lazy ring's cells if nobody has yet; any thread, any number
 * at once.  Returns 0, or -1 when out of memory (the ring stays unusable). */
int fj__ring_allocate(fj__mpmc_ring *r);
void fj__ring_fini(fj__mpmc_ring *r);

/* Claims the next free cell for the calling producer, or NULL when the
 * ring is full (or lazy and not allocated).  A claimed cell must be published (fj__ring_publish) soon:
 * consumers stop at it until then. */
fj__ring_cell *fj__ring_claim(fj__mpmc_ring *r);
void fj__ring_publish(fj__ring_cell *cell, const fj__item *item);

/* Takes the oldest published item; false when there is none
 * (fj__ring_take_many with max 1). */
bool fj__ring_take(fj__mpmc_ring *r, fj__item *out);

/* Takes up to max of the oldest published items, in order, with one CAS
 * on head for all of them; returns how many (0: none published). */
size_t fj__ring_take_many(fj__mpmc_ring *r, fj__item *out, size_t max);

static inline size_t fj__ring_size_hint(fj__mpmc_ring *r) {
  /* relaxed: a hint.  head is read first, so it cannot pass the tail read
   * after it (head never overtakes tail). */
  size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  return tail - head;
}

#endif
