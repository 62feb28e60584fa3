/* SPDX-License-Identifier: MIT */
/*
 * fiber_pool.c — the per-worker idle fiber cache.
 */
#include "fiber_pool.h"

#include "atomics.h"

void fj__fiber_pool_init(fj__fiber_pool *p, size_t stack_size, unsigned max,
                         _Atomic uint64_t *live) {
  p->free = NULL;
  p->count = 0;
  p->max = max;
  p->stack_size = stack_size;
  p->live = live;
  atomic_init(&p->pooled, 0);
  atomic_init(&p->created, 0);
}

void fj__fiber_pool_fini(fj__fiber_pool *p) {
  while (p->free) {
    fj__fiber *f = p->free;
    p->free = f->next;
    fj__fiber_destroy(f);
    /* relaxed: a statistics gauge; nothing is published through it. */
    atomic_fetch_sub_explicit(p->live, 1, memory_order_relaxed);
  }
  p->count = 0;
  fj__store_relaxed(&p->pooled, 0);
}

fj__fiber *fj__fiber_pool_get(fj__fiber_pool *p) {
  fj__fiber *f = p->free;
  if (f) {
    p->free = f->next;
    p->count--;
    fj__store_relaxed(&p->pooled, p->count);
    return f;
  }
  f = fj__fiber_create(p->stack_size);
  if (f) {
    fj__stat_add(&p->created, 1);
    fj__fetch_add_relaxed(p->live, 1); /* relaxed: statistics gauge */
  }
  return f;
}

void fj__fiber_pool_put(fj__fiber_pool *p, fj__fiber *f) {
  if (p->count >= p->max) {
    fj__fiber_destroy(f);
    atomic_fetch_sub_explicit(p->live, 1, memory_order_relaxed); /* gauge */
    return;
  }
  f->next = p->free;
  p->free = f;
  p->count++;
  fj__store_relaxed(&p->pooled, p->count);
}
