/* SPDX-License-Identifier: MIT */
/*
 * unit.h — helpers for the unit tests of lib/ internals: start a group of
 * threads together (so they really overlap) and join them, and a polite
 * back-off for the loops that wait on another thread.  The checks
 * themselves come from ../check.h.
 */
#ifndef FJ_TEST_UNIT_H
#define FJ_TEST_UNIT_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "../check.h"

enum { UNIT_MAX_THREADS = 16 };

typedef struct unit_group {
  pthread_t threads[UNIT_MAX_THREADS];
  int n;
  atomic_int arrived;
  int expected;
} unit_group;

/* Every thread of the group calls this first; it returns once all have
 * arrived, so the racing parts start together even on a busy machine. */
static inline void unit_start_line(unit_group *g) {
  atomic_fetch_add(&g->arrived, 1);
  while (atomic_load(&g->arrived) < g->expected)
    sched_yield();
}

/* Prepares g for `expected` threads started with unit_spawn. */
static inline void unit_group_init(unit_group *g, int expected) {
  CHECK(expected <= UNIT_MAX_THREADS);
  g->n = 0;
  g->expected = expected;
  atomic_init(&g->arrived, 0);
}

static inline void unit_spawn(unit_group *g, void *(*fn)(void *), void *arg) {
  CHECK(g->n < UNIT_MAX_THREADS);
  CHECK(pthread_create(&g->threads[g->n], NULL, fn, arg) == 0);
  g->n++;
}

static inline void unit_join(unit_group *g) {
  for (int i = 0; i < g->n; i++)
    CHECK(pthread_join(g->threads[i], NULL) == 0);
  g->n = 0;
}

/* Backs off in a loop waiting on another thread: with more threads than
 * cores (and under emulation or valgrind) spinning would starve it. */
static inline void unit_backoff(unsigned *spins) {
  if (++*spins % 64 == 0)
    sched_yield();
}

#endif
