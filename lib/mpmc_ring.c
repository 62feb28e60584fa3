/* SPDX-License-Identifier: MIT */
/*
 * mpmc_ring.c — the bounded lock-free FIFO (see mpmc_ring.h for the cell
 * sequence protocol).
 */
#include "mpmc_ring.h"

#include <stdint.h>
#include <stdlib.h>

#include "atomics.h"

void fj__ring_init_lazy(fj__mpmc_ring *r, size_t capacity) {
  FJ__ASSERT(FJ__IS_POW2(capacity));
  r->mask = capacity - 1;
  atomic_init(&r->cells, NULL);
  atomic_init(&r->tail, 0);
  atomic_init(&r->head, 0);
}

/* calloc'd (zero: see fj__seq_load), cache-line aligned; the pointer
 * calloc returned is kept just below the cells for fj__ring_fini. */
static fj__ring_cell *fj__cells_alloc(size_t capacity) {
  char *raw = calloc(1, capacity * sizeof(fj__ring_cell) + sizeof(void *) + FJ__CACHE_LINE);
  if (!raw)
    return NULL;
  uintptr_t at = ((uintptr_t)raw + sizeof(void *) + FJ__CACHE_LINE - 1) &
                 ~(uintptr_t)(FJ__CACHE_LINE - 1);
  ((void **)at)[-1] = raw;
  return (fj__ring_cell *)at;
}

static void fj__cells_free(fj__ring_cell *cells) {
  if (cells)
    free(((void **)cells)[-1]);
}

int fj__ring_allocate(fj__mpmc_ring *r) {
  if (fj__load_acquire(&r->cells)) /* acquire: as below */
    return 0;
  fj__ring_cell *cells = fj__cells_alloc(r->mask + 1);
  if (!cells)
    return -1;
  /* acq_rel: release makes the zeroed cells visible before the pointer;
   * pairs with the acquire loads of cells in claim and take.  A lost race
   * frees ours. */
  fj__ring_cell *none = NULL;
  if (!atomic_compare_exchange_strong_explicit(&r->cells, &none, cells, memory_order_acq_rel,
                                               memory_order_acquire))
    fj__cells_free(cells);
  return 0;
}

int fj__ring_init(fj__mpmc_ring *r, size_t capacity) {
  fj__ring_init_lazy(r, capacity);
  return fj__ring_allocate(r);
}

void fj__ring_fini(fj__mpmc_ring *r) {
  fj__cells_free(fj__load_relaxed(&r->cells)); /* relaxed: no other thread is left */
  atomic_store_explicit(&r->cells, NULL, memory_order_relaxed);
}

size_t fj__ring_take_many(fj__mpmc_ring *r, fj__item *out, size_t max) {
  fj__ring_cell *cells = fj__load_acquire(&r->cells); /* acquire: see cells */
  if (!cells)
    return 0;
  size_t pos = fj__load_relaxed(&r->head); /* relaxed: a guess until the CAS */
  for (;;) {
    /* Count the published cells from pos on (acquire: for each cell we
     * will read, see fj__ring_published). */
    size_t n = 0;
    while (n < max && fj__ring_published(r, cells, pos + n))
      n++;
    if (n == 0) {
      size_t seq = fj__seq_load(cells, pos & r->mask);
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
        size_t at = (pos + i) & r->mask;
        out[i] = cells[at].item;
        /* release: our read of the item happens before the producer of
         * the next lap (which acquires seq) overwrites it. */
        fj__seq_store(cells, at, pos + i + r->mask + 1);
      }
      return n;
    }
    /* The CAS failed: pos now holds the current head; count again. */
  }
}

bool fj__ring_take(fj__mpmc_ring *r, fj__item *out) {
  return fj__ring_take_many(r, out, 1) == 1;
}
