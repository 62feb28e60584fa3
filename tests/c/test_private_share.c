/* SPDX-License-Identifier: MIT */
/*
 * test_private_share.c — every job runs exactly once while idle workers
 * take from the private shares (lib/private_share.h) of workers whose jobs
 * stall.  That jobs in a share still run when their owner's job never
 * returns is test_progress.c's part.
 */
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- exactly once, while shares are taken from ---- */

enum { SLOTS = 100000 };
static atomic_int ran[SLOTS];

/* Every 256th job stalls its worker for 200 µs, long enough for an idle
 * worker to take the rest of that worker's share. */
static void counted(fj_ctx *ctx, void *arg) {
  (void)ctx;
  long i = (long)(intptr_t)arg;
  atomic_fetch_add_explicit(&ran[i], 1, memory_order_relaxed);
  if (i % 256 == 0) {
    uint64_t until = now_ns() + 200 * 1000;
    while (now_ns() < until) {
    }
  }
}

static void exactly_once(unsigned workers, int yielding) {
  fj_system *sys = test_system(workers, yielding);
  fj_counter *c = test_counter(sys);
  long n = test_scaled(SLOTS);
  for (long i = 0; i < n; i++)
    atomic_store_explicit(&ran[i], 0, memory_order_relaxed);
  fj_stats before, after;
  CHECK_OK(fj_system_stats(sys, &before));
  for (long i = 0; i < n; i++)
    CHECK_OK(fj_run(sys, counted, (void *)(intptr_t)i, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_OK(fj_system_stats(sys, &after));
  for (long i = 0; i < n; i++)
    CHECK_EQ(atomic_load_explicit(&ran[i], memory_order_relaxed), 1);
  CHECK_EQ(after.jobs_run - before.jobs_run, n);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

int main(void) {

  for (int y = 1; y >= 0; y--) {
    exactly_once(2, y);
    exactly_once(4, y);
  }
  printf("test_private_share: ok\n");
  return 0;
}
