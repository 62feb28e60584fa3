/* SPDX-License-Identifier: MIT */
/*
 * test_stats_stacks: fj_system_stats samples a live fiber's stack again
 * once the fiber has run since the last sample.  Stats keep the sample of
 * a suspended stack that has not run since (so a call stays cheap with
 * thousands of parked fibers); this checks that a job which parks, is
 * sampled, resumes, goes deep and parks again shows its new depth while
 * its fiber is still live.
 *
 * Two workers: one runs a "holder" job that keeps a gate closed until the
 * main thread lets it go, the other runs the job under test.
 */
#include <stdatomic.h>
#include <string.h>

#include "check.h"

enum {
  STACK_SIZE = 256 * 1024,
  DEEP_BYTES = 128 * 1024, /* well above what parking and the stats touch */
  SHALLOW_MAX = 64 * 1024,
};

typedef struct {
  atomic_int started, release;
} hold_arg;

/* Keeps its counter (a gate) above zero until released. */
static void holder(fj_ctx *ctx, void *p) {
  (void)ctx;
  hold_arg *h = p;
  atomic_store(&h->started, 1);
  while (!atomic_load(&h->release))
    usleep(100);
}

typedef struct {
  fj_counter *gate1, *gate2;
  atomic_int went_deep;
} deep_arg;

/* Touches DEEP_BYTES of stack: every page of them becomes resident. */
__attribute__((noinline)) static void go_deep(void) {
  volatile char buf[DEEP_BYTES];
  for (size_t i = 0; i < sizeof buf; i += 512)
    buf[i] = (char)i;
  (void)buf[0];
}

static void park_deep_park(fj_ctx *ctx, void *p) {
  deep_arg *a = p;
  CHECK_OK(fj_ctx_wait(ctx, a->gate1)); /* parked, sampled shallow */
  go_deep();
  atomic_store(&a->went_deep, 1);
  CHECK_OK(fj_ctx_wait(ctx, a->gate2)); /* parked again, now deep */
}

static void start_holder(fj_system *sys, hold_arg *h, fj_counter *gate) {
  atomic_init(&h->started, 0);
  atomic_init(&h->release, 0);
  CHECK_OK(fj_run(sys, holder, h, FJ_PRIORITY_NORMAL, gate));
  while (!atomic_load(&h->started))
    usleep(100);
}

/* Waits until `n` waits have parked and returns the stats seen then. */
static fj_stats stats_after_parks(fj_system *sys, uint64_t n) {
  fj_stats st;
  for (;;) {
    CHECK_OK(fj_system_stats(sys, &st));
    if (st.waits_suspended >= n)
      return st;
    usleep(100);
  }
}

int main(void) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = 2;
  cfg.stack_size = STACK_SIZE;
  fj_system *sys = NULL;
  CHECK_OK(fj_system_create(&cfg, &sys));
  deep_arg a = {.gate1 = test_counter(sys), .gate2 = test_counter(sys)};
  atomic_init(&a.went_deep, 0);
  fj_counter *done = test_counter(sys);
  hold_arg h1, h2;

  /* The gate is held on one worker before the job starts, so its wait
   * parks (it cannot run the gate's job inline). */
  start_holder(sys, &h1, a.gate1);
  CHECK_OK(fj_run(sys, park_deep_park, &a, FJ_PRIORITY_NORMAL, done));
  fj_stats st = stats_after_parks(sys, 1);
  CHECK_OK(fj_system_stats(sys, &st)); /* again: a sample kept from the call before */
  printf("parked, shallow: stack_high_water %llu\n", (unsigned long long)st.stack_high_water);
  CHECK(st.stack_high_water > 0);
  CHECK(st.stack_high_water < SHALLOW_MAX);
  CHECK_EQ(atomic_load(&a.went_deep), 0);

  /* The second gate, held on the worker the job has freed. */
  start_holder(sys, &h2, a.gate2);
  atomic_store(&h1.release, 1);
  st = stats_after_parks(sys, 2);
  CHECK_EQ(atomic_load(&a.went_deep), 1);
  CHECK_OK(fj_system_stats(sys, &st));
  printf("parked again, deep: stack_high_water %llu\n", (unsigned long long)st.stack_high_water);
  CHECK(st.stack_high_water >= DEEP_BYTES);
  CHECK(st.stack_high_water <= STACK_SIZE);

  atomic_store(&h2.release, 1);
  CHECK_OK(fj_wait(sys, done));
  fj_system_destroy(sys);
  fj_counter_destroy(a.gate1);
  fj_counter_destroy(a.gate2);
  fj_counter_destroy(done);
  puts("test_stats_stacks: ok");
  return 0;
}
