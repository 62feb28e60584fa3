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
#include <stdint.h>

#include "atomics.h"
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
static inline fj__ring_cell *fj__ring_claim(fj__mpmc_ring *r);
static inline void fj__ring_publish(fj__ring_cell *cell, const fj__item *item);

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

/* ---- inline: a single submission's claim and publish are its hot path ---- */

/* A cell stores its seq minus its own index, so zero-filled cells are a
 * ring ready for its first lap (seq == position == index): calloc's fresh
 * pages cost nothing until a lap reaches them. */
static inline size_t fj__seq_load(fj__ring_cell *cells, size_t i) {
  /* acquire: callers rely on it as described at each call. */
  return fj__load_acquire(&cells[i].seq) + i;
}

static inline void fj__seq_store(fj__ring_cell *cells, size_t i, size_t seq) {
  fj__store_release(&cells[i].seq, seq - i); /* release: see each caller */
}

/* Whether the cell of position pos holds that position's item (seq ==
 * pos + 1, see above).  acquire (fj__seq_load): pairs with
 * fj__ring_publish's release, so a caller that sees true may read it. */
static inline bool fj__ring_published(const fj__mpmc_ring *r, fj__ring_cell *cells, size_t pos) {
  return fj__seq_load(cells, pos & r->mask) == pos + 1;
}

/* Whether the item at head is published: the look of an idle consumer.
 * Unlike fj__ring_size_hint it reads no line a producer writes on every
 * push (the tail), only the head's cell, which the producer writes once
 * when it publishes there.  A hint: false for an empty ring, a lazy ring
 * not yet allocated, or a head cell claimed and not yet published. */
static inline bool fj__ring_head_published(fj__mpmc_ring *r) {
  fj__ring_cell *cells = fj__load_acquire(&r->cells); /* acquire: see cells */
  if (!cells)
    return false;
  return fj__ring_published(r, cells, fj__load_relaxed(&r->head)); /* relaxed: a hint */
}

static inline fj__ring_cell *fj__ring_claim(fj__mpmc_ring *r) {
  /* relaxed: the position is only a guess until the CAS; the cell's seq
   * (acquire) is what tells us the previous consumer is done with it. */
  fj__ring_cell *cells = fj__load_acquire(&r->cells); /* acquire: see cells */
  if (!cells)
    return NULL;
  size_t pos = fj__load_relaxed(&r->tail);
  for (;;) {
    fj__ring_cell *cell = &cells[pos & r->mask];
    /* acquire: pairs with the consumer's release in fj__ring_take_many, so
     * our writes to the item cannot overtake its reads of the old one. */
    size_t seq = fj__seq_load(cells, pos & r->mask);
    intptr_t dif = (intptr_t)seq - (intptr_t)pos;
    if (dif == 0) {
      /* seq_cst: the data is published by the release store of seq, but
       * external submission and shutdown pair with this claim (see
       * fj__fill_claimed), and so does the idle check of the ring hint. */
      if (atomic_compare_exchange_weak_explicit(&r->tail, &pos, pos + 1,
                                                memory_order_seq_cst,
                                                memory_order_relaxed))
        return cell;
    } else if (dif < 0) {
      return NULL; /* the cell one lap back is not consumed yet: full */
    } else {
      pos = fj__load_relaxed(&r->tail); /* another producer took pos */
    }
  }
}

/* fj__ring_claim's first try only: NULL also when another producer took
 * the cell first (the caller then retries with fj__ring_claim).  It holds
 * fewer values at once than the loop, so a caller that inlines it saves
 * fewer registers (fj__submit_external_one: one instead of six). */
static inline fj__ring_cell *fj__ring_claim_once(fj__mpmc_ring *r) {
  fj__ring_cell *cells = fj__load_acquire(&r->cells); /* acquire: see cells */
  if (!cells)
    return NULL;
  size_t pos = fj__load_relaxed(&r->tail);
  size_t i = pos & r->mask;
  /* acquire, seq_cst: as in fj__ring_claim. */
  if (fj__seq_load(cells, i) != pos ||
      !atomic_compare_exchange_strong_explicit(&r->tail, &pos, pos + 1, memory_order_seq_cst,
                                               memory_order_relaxed))
    return NULL;
  return &cells[i];
}

static inline void fj__ring_publish(fj__ring_cell *cell, const fj__item *item) {
  cell->item = *item;
  /* release: pairs with the consumer's acquire load of seq; the item is
   * visible before the cell reads as full.  seq was pos when claimed (the
   * stored value is relative to the cell's index: +1 is +1 either way). */
  size_t stored = fj__load_relaxed(&cell->seq);
  fj__store_release(&cell->seq, stored + 1);
}

#endif
