/* SPDX-License-Identifier: MIT */
/*
 * fiber_pool.h — a worker's cache of idle fibers, so a job that suspends
 * reuses a stack instead of mapping a new one.  Owned by one worker; no
 * locking.  `max` bounds the idle cache only, never the number of live
 * fibers.
 */
#ifndef FJ_FIBER_POOL_H
#define FJ_FIBER_POOL_H

#include <stdatomic.h>
#include <stdint.h>

#include "fiber.h"
#include "list.h"

typedef struct fj__fiber_pool {
  fj__lifo free;                /* idle fibers, linked through ->link */
  unsigned max;                 /* idle fibers kept; more are unmapped */
  size_t stack_size;            /* usable bytes of every stack it makes */
  _Atomic uint64_t *live;       /* system-wide mapped-fiber gauge */
  _Atomic uint64_t pooled;      /* = count, readable by stats */
  _Atomic uint64_t high_water;  /* deepest resident stack among those it unmapped */
  _Atomic uint64_t created;     /* fibers this pool mapped (single writer) */
} fj__fiber_pool;

void fj__fiber_pool_init(fj__fiber_pool *p, size_t stack_size, unsigned max,
                         _Atomic uint64_t *live);
/* Unmaps every idle fiber. */
void fj__fiber_pool_fini(fj__fiber_pool *p);

/* An idle fiber (or a newly mapped one), BLANK; NULL when mapping fails. */
fj__fiber *fj__fiber_pool_get(fj__fiber_pool *p);
/* Takes back a fiber whose stack is no longer in use (BLANK or SUSPENDED). */
void fj__fiber_pool_put(fj__fiber_pool *p, fj__fiber *f);

#endif
