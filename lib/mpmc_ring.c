/* SPDX-License-Identifier: MIT */
/*
 * mpmc_ring.c — the bounded lock-free FIFO (see mpmc_ring.h for the cell
 * sequence protocol).
 */
#include "mpmc_ring.h"

#include <stdint.h>
#include <stdlib.h>

#include "atomics.h"

int fj__ring_init(fj__mpmc_ring *r, size_t capacity) {
  FJ__ASSERT(FJ__IS_POW2(capacity));
  r->cells = aligned_alloc(FJ__CACHE_LINE, capacity * sizeof *r->cells);
  if (!r->cells)
    return -1;
  r->mask = capacity - 1;
  for (size_t i = 0; i < capacity; i++)
    atomic_init(&r->cells[i].seq, i);
  atomic_init(&r->tail, 0);
  atomic_init(&r->head, 0);
  return 0;
}

void fj__ring_fini(fj__mpmc_ring *r) {
  free(r->cells);
  r->cells = NULL;
}

fj__ring_cell *fj__ring_claim(fj__mpmc_ring *r) {
  /* relaxed: the position is only a guess until the CAS; the cell's seq
   * (acquire) is what tells us the previous consumer is done with it. */
  size_t pos = fj__load_relaxed(&r->tail);
  for (;;) {
    fj__ring_cell *cell = &r->cells[pos & r->mask];
    /* acquire: pairs with the consumer's release in fj__ring_take, so our
     * writes to the item cannot overtake its reads of the old one. */
    size_t seq = fj__load_acquire(&cell->seq);
    intptr_t dif = (intptr_t)seq - (intptr_t)pos;
    if (dif == 0) {
      /* seq_cst: the data is published by the release store of seq, but
       * external submission and shutdown pair with this claim (see
       * fj__submit_fast), and so does the idle check of the ring hint. */
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

void fj__ring_publish(fj__ring_cell *cell, const fj__item *item) {
  cell->item = *item;
  /* release: pairs with the consumer's acquire load of seq; the item is
   * visible before the cell reads as full.  seq was pos when claimed. */
  size_t pos = fj__load_relaxed(&cell->seq);
  fj__store_release(&cell->seq, pos + 1);
}

size_t fj__ring_take_many(fj__mpmc_ring *r, fj__item *out, size_t max) {
  size_t pos = fj__load_relaxed(&r->head); /* relaxed: a guess until the CAS */
  for (;;) {
    /* Count the published cells from pos on.  acquire: pairs with
     * fj__ring_publish's release, for each cell we will read. */
    size_t n = 0;
    while (n < max && fj__load_acquire(&r->cells[(pos + n) & r->mask].seq) == pos + n + 1)
      n++;
    if (n == 0) {
      size_t seq = fj__load_acquire(&r->cells[pos & r->mask].seq);
      if ((intptr_t)seq - (intptr_t)(pos + 1) < 0)
        return 0; /* empty, or the next cell is claimed but unpublished */
      pos = fj__load_relaxed(&r->head); /* another consumer took pos */
      continue;
    }
    /* Claims [pos, pos + n).  If head is still pos, no consumer took any of
     * them, so every cell counted above still holds its published item
     * (a producer refills a cell only after its consumer releases it). */
    if (atomic_compare_exchange_weak_explicit(&r->head, &pos, pos + n, memory_order_relaxed,
                                              memory_order_relaxed)) {
      for (size_t i = 0; i < n; i++) {
        fj__ring_cell *cell = &r->cells[(pos + i) & r->mask];
        out[i] = cell->item;
        /* release: as in fj__ring_take, our read of the item happens
         * before the next lap's producer overwrites it. */
        fj__store_release(&cell->seq, pos + i + r->mask + 1);
      }
      return n;
    }
    /* The CAS failed: pos now holds the current head; count again. */
  }
}

bool fj__ring_take(fj__mpmc_ring *r, fj__item *out) {
  size_t pos = fj__load_relaxed(&r->head); /* relaxed: a guess until the CAS */
  for (;;) {
    fj__ring_cell *cell = &r->cells[pos & r->mask];
    /* acquire: pairs with fj__ring_publish's release. */
    size_t seq = fj__load_acquire(&cell->seq);
    intptr_t dif = (intptr_t)seq - (intptr_t)(pos + 1);
    if (dif == 0) {
      if (atomic_compare_exchange_weak_explicit(&r->head, &pos, pos + 1,
                                                memory_order_relaxed,
                                                memory_order_relaxed)) {
        *out = cell->item;
        /* release: our read of the item happens before the producer of
         * the next lap (which acquires seq) overwrites it. */
        fj__store_release(&cell->seq, pos + r->mask + 1);
        return true;
      }
    } else if (dif < 0) {
      return false; /* empty, or the next cell is claimed but unpublished */
    } else {
      pos = fj__load_relaxed(&r->head); /* another consumer took pos */
    }
  }
}
