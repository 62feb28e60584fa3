/* SPDX-License-Identifier: MIT */
/*
 * fiber_pool.h — a worker's cache of idle fibers of one stack class, so a
 * job that suspends reuses a stack instead of mapping a new one.  Owned by
 * one worker; no locking.  `max` bounds the idle cache only; the number of
 * live fibers is bounded by the system's fiber budget (fiber_budget.h).
 */
#ifndef FJ_FIBER_POOL_H
#define FJ_FIBER_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "fiber.h"
#include "fiber_budget.h"
#include "list.h"

typedef struct fj__fiber_pool {
  fj__lifo free;                /* idle fibers, linked through ->link */
  unsigned max;                 /* idle fibers kept; more are unmapped */
  unsigned stack_class;         /* fj_stack_class of every fiber it makes */
  size_t stack_size;            /* usable bytes of every stack it makes */
  fj__fiber_budget *budget;     /* system-wide live-fiber count and limit */
  _Atomic uint64_t pooled;      /* = count, readable by stats */
  _Atomic uint64_t high_water;  /* deepest resident stack among those it unmapped */
  _Atomic uint64_t created;     /* fibers this pool mapped (single writer) */
  _Atomic uint64_t unavailable; /* gets that found no fiber (single writer) */
} fj__fiber_pool;

void fj__fiber_pool_init(fj__fiber_pool *p, unsigned stack_class, size_t stack_size,
                         unsigned max, fj__fiber_budget *budget);
/* Unmaps every idle fiber. */
void fj__fiber_pool_fini(fj__fiber_pool *p);

/* An idle fiber (or a newly mapped one), BLANK; NULL (counted in
 * `unavailable`) when the budget is spent or the mapping fails. */
fj__fiber *fj__fiber_pool_get(fj__fiber_pool *p);
/* Takes back a fiber of this pool's class whose stack is no longer in use
 * (BLANK or SUSPENDED). */
void fj__fiber_pool_put(fj__fiber_pool *p, fj__fiber *f);
/* Unmaps one idle fiber to make room in the budget; false if none idle. */
bool fj__fiber_pool_shrink(fj__fiber_pool *p);

#endif
