/* SPDX-License-Identifier: MIT */
/*
 * fiber_pool.c — the per-worker idle fiber cache of one stack class.
 */
#include "fiber_pool.h"

#include "atomics.h"
#include "sys/sys.h"

void fj__fiber_pool_init(fj__fiber_pool *p, unsigned stack_class, size_t stack_size,
                         unsigned max, fj__fiber_budget *budget) {
  p->free = (fj__lifo){0};
  p->max = max;
  p->stack_class = stack_class;
  p->stack_size = stack_size;
  p->budget = budget;
  atomic_init(&p->pooled, 0);
  atomic_init(&p->created, 0);
  atomic_init(&p->high_water, 0);
  atomic_init(&p->unavailable, 0);
}

static void fj__fiber_unmap(fj__fiber_pool *p, fj__fiber *f) {
  /* The stack's depth before it goes (see fj_stats.stack_high_water).
   * relaxed: a single writer (the pool's owner); stats read it racily. */
  size_t used = fj__resident_bytes(f->stack.lo, (size_t)((const char *)f - f->stack.lo));
  if (used > fj__load_relaxed(&p->high_water))
    fj__store_relaxed(&p->high_water, used);
  fj__fiber_destroy(f);
  fj__fiber_budget_give(p->budget, p->stack_class); /* after the unmap */
}

void fj__fiber_pool_fini(fj__fiber_pool *p) {
  fj__fiber *f;
  while ((f = fj__fiber_of_link(fj__lifo_pop(&p->free))))
    fj__fiber_unmap(p, f);
  fj__store_relaxed(&p->pooled, 0);
}

bool fj__fiber_pool_shrink(fj__fiber_pool *p) {
  fj__fiber *f = fj__fiber_of_link(fj__lifo_pop(&p->free));
  if (!f)
    return false;
  fj__store_relaxed(&p->pooled, p->free.count);
  fj__fiber_unmap(p, f);
  return true;
}

fj__fiber *fj__fiber_pool_get(fj__fiber_pool *p) {
  fj__fiber *f = fj__fiber_of_link(fj__lifo_pop(&p->free));
  if (f) {
    fj__store_relaxed(&p->pooled, p->free.count);
    FJ__FIBER_SET(f, FJ__FIBER_POOLED, FJ__FIBER_BLANK);
    return f;
  }
  /* Reserve before mapping, so the live count never exceeds the limit. */
  if (!fj__fiber_budget_take(p->budget, p->stack_class)) {
    fj__stat_add(&p->unavailable, 1);
    return NULL;
  }
  f = fj__fiber_create(p->stack_size);
  if (!f) {
    fj__fiber_budget_give(p->budget, p->stack_class);
    fj__stat_add(&p->unavailable, 1);
    return NULL;
  }
  f->stack_class = (unsigned char)p->stack_class;
  fj__stat_add(&p->created, 1);
  return f;
}

void fj__fiber_pool_put(fj__fiber_pool *p, fj__fiber *f) {
  FJ__ASSERT(f->stack_class == p->stack_class);
#if FJ__DEBUG
  FJ__ASSERT(f->state == FJ__FIBER_BLANK || f->state == FJ__FIBER_SUSPENDED);
  f->state = FJ__FIBER_POOLED;
#endif
  if (p->free.count >= p->max) {
    fj__fiber_unmap(p, f);
    return;
  }
  fj__lifo_push(&p->free, &f->link);
  fj__store_relaxed(&p->pooled, p->free.count);
}
