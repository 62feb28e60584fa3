/* SPDX-License-Identifier: MIT */
/*
 * fiber_budget.h — the system-wide count of live fibers (running, parked or
 * pooled) and its optional limit, fj_config.max_fibers.
 *
 * A pool reserves a unit here *before* mapping a stack and gives it back
 * after unmapping one (or when the mapping failed), so `live` is never
 * below the number of mapped fibers and, with a limit, never above `max`,
 * not even for an instant: the reservation is a CAS that fails at the
 * limit.  `live` is a gauge read by statistics; nothing else is published
 * through it, so every access is relaxed.
 */
#ifndef FJ_FIBER_BUDGET_H
#define FJ_FIBER_BUDGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomics.h"

typedef struct fj__fiber_budget {
  uint64_t max;                  /* immutable; 0 = no limit */
  _Atomic uint64_t live;         /* reserved units = fibers mapped or being mapped */
  _Atomic uint64_t peak;         /* highest `live` ever reached */
  _Atomic uint64_t large_live;   /* the FJ_STACK_LARGE part of live */
} fj__fiber_budget;

void fj__fiber_budget_init(fj__fiber_budget *b, uint64_t max);

/* Reserves one fiber; false when the limit is reached. */
bool fj__fiber_budget_take(fj__fiber_budget *b, unsigned stack_class);
/* Gives one back (its stack was unmapped, or never mapped). */
void fj__fiber_budget_give(fj__fiber_budget *b, unsigned stack_class);

#endif
