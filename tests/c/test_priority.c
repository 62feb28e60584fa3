/* SPDX-License-Identifier: MIT */
/* Priorities: on one worker, ready HIGH work runs before NORMAL before LOW,
 * and jobs of one priority submitted from a thread run in FIFO order. */
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"

enum { PER = 20 };
static int order[3 * PER];
static atomic_int pos;

static void record(fj_ctx *ctx, void *arg) {
  CHECK_EQ(fj_ctx_priority(ctx), (long)arg / 100);
  order[atomic_fetch_add(&pos, 1)] = (int)(long)arg;
}

static atomic_int holding;

static void hold(fj_ctx *ctx, void *arg) {
  (void)ctx;
  atomic_store(&holding, 1);
  while (!atomic_load((atomic_int *)arg))
    usleep(100);
}

/* From inside a job: spawns LOW, NORMAL, HIGH children, then waits. */
static void spawner(fj_ctx *ctx, void *arg) {
  fj_counter *c = arg;
  for (int p = FJ_PRIORITY_LOW; p >= FJ_PRIORITY_HIGH; p--)
    for (int i = 0; i < PER; i++)
      CHECK_OK(fj_ctx_spawn(ctx, record, (void *)(long)(p * 100 + i), (fj_priority)p, c));
}

static void check_order(int fifo_within) {
  CHECK_EQ(atomic_load(&pos), 3 * PER);
  for (int i = 1; i < 3 * PER; i++) {
    int prev = order[i - 1] / 100, cur = order[i] / 100;
    CHECK(prev <= cur); /* never a lower priority before a higher one */
    if (fifo_within && prev == cur)
      CHECK(order[i] == order[i - 1] + 1);
  }
}

static void from_thread(int yielding) {
  fj_system *sys = test_system(1, yielding);
  fj_counter *c = test_counter(sys);
  atomic_int open = 0;
  atomic_store(&pos, 0);
  atomic_store(&holding, 0);
  CHECK_OK(fj_run(sys, hold, &open, FJ_PRIORITY_HIGH, c));
  while (!atomic_load(&holding)) /* the worker is busy from here on */
    usleep(100);
  for (int p = FJ_PRIORITY_LOW; p >= FJ_PRIORITY_HIGH; p--)
    for (int i = 0; i < PER; i++)
      CHECK_OK(fj_run(sys, record, (void *)(long)(p * 100 + i), (fj_priority)p, c));
  atomic_store(&open, 1);
  CHECK_OK(fj_wait(sys, c));
  check_order(1);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

static void from_job(int yielding) {
  fj_system *sys = test_system(1, yielding);
  fj_counter *c = test_counter(sys);
  atomic_store(&pos, 0);
  CHECK_OK(fj_run(sys, spawner, c, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  check_order(0); /* nested spawns run newest first within a priority */
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

int main(void) {
  from_thread(1);
  from_thread(0);
  from_job(1);
  from_job(0);
  puts("test_priority: ok");
  return 0;
}
