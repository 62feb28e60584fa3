/* SPDX-License-Identifier: MIT */
/*
 * fiber_budget.c — reserving and returning live-fiber units (see
 * fiber_budget.h for why every access is relaxed).
 */
#include "fiber_budget.h"

#include "fiberjob.h"

void fj__fiber_budget_init(fj__fiber_budget *b, uint64_t max) {
  b->max = max;
  atomic_init(&b->live, 0);
  atomic_init(&b->peak, 0);
  atomic_init(&b->large_live, 0);
}

static void fj__raise_peak(fj__fiber_budget *b, uint64_t now) {
  uint64_t peak = fj__load_relaxed(&b->peak);
  while (now > peak &&
         !atomic_compare_exchange_weak_explicit(&b->peak, &peak, now, memory_order_relaxed,
                                                memory_order_relaxed)) {
  }
}

bool fj__fiber_budget_take(fj__fiber_budget *b, unsigned stack_class) {
  uint64_t now;
  if (b->max == 0) {
    now = fj__fetch_add_relaxed(&b->live, 1) + 1;
  } else {
    uint64_t live = fj__load_relaxed(&b->live);
    do {
      if (live >= b->max)
        return false;
    } while (!atomic_compare_exchange_weak_explicit(&b->live, &live, live + 1,
                                                    memory_order_relaxed, memory_order_relaxed));
    now = live + 1;
  }
  fj__raise_peak(b, now);
  if (stack_class == FJ_STACK_LARGE)
    fj__fetch_add_relaxed(&b->large_live, 1);
  return true;
}

void fj__fiber_budget_give(fj__fiber_budget *b, unsigned stack_class) {
  if (stack_class == FJ_STACK_LARGE)
    atomic_fetch_sub_explicit(&b->large_live, 1, memory_order_relaxed);
  atomic_fetch_sub_explicit(&b->live, 1, memory_order_relaxed);
}
