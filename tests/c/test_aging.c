/* SPDX-License-Identifier: MIT */
/* Priority aging, asserted by counting jobs, never by reading a clock:
 * with aging_us = 0 a LOW job under a stream of N HIGH jobs starts after
 * all N (today's strict order); with aging_us set, a LOW (and a NORMAL)
 * job starts while an endless HIGH stream is still running.  The stream
 * only ends once the job started (or at a cap far beyond the expected
 * count, which fails the test).  OS preemption only lets more time pass
 * per job, which makes aging kick in sooner in job count, never later. */
#include <stdatomic.h>
#include <time.h>

#include "check.h"

static atomic_long high_run;        /* HIGH jobs finished so far */
static atomic_long started_after;   /* high_run when the aged job started; -1 before */
static atomic_int low_started;
static long stream_cap;

static void busy_us(long us) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do
    clock_gettime(CLOCK_MONOTONIC, &t);
  while ((t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000 < us);
}

/* One link of the HIGH stream: spawns its successor first, so HIGH work is
 * always ready, then works a little. */
static void high_link(fj_ctx *ctx, void *arg) {
  long work_us = (long)arg;
  long done = atomic_load(&high_run);
  if (!atomic_load(&low_started) && done + 1 < stream_cap)
    CHECK_OK(fj_ctx_spawn(ctx, high_link, arg, FJ_PRIORITY_HIGH, NULL));
  if (work_us)
    busy_us(work_us);
  atomic_fetch_add(&high_run, 1);
}

static void low_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_store(&started_after, atomic_load(&high_run));
  atomic_store(&low_started, 1);
}

static void hold(fj_ctx *ctx, void *arg) {
  (void)ctx;
  while (!atomic_load((atomic_int *)arg))
    usleep(100);
}

static atomic_int holding;
static void hold_flag(fj_ctx *ctx, void *arg) {
  atomic_store(&holding, 1);
  hold(ctx, arg);
}

/* Runs the stream on `workers` workers with one job of priority `prio`
 * submitted behind it; returns how many HIGH jobs finished before it
 * started. */
static long run_stream(unsigned workers, uint32_t aging_us, fj_priority prio, long cap,
                       long work_us, fj_stats *st) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = workers;
  cfg.aging_us = aging_us;
  fj_system *sys = NULL;
  CHECK_OK(fj_system_create(&cfg, &sys));
  fj_counter *c = test_counter(sys);
  atomic_store(&high_run, 0);
  atomic_store(&started_after, -1);
  atomic_store(&low_started, 0);
  atomic_store(&holding, 0);
  stream_cap = cap;
  /* Every worker busy while the work is queued, so the order is decided
   * by the scheduler alone. */
  atomic_int open = 0;
  for (unsigned i = 0; i < workers; i++)
    CHECK_OK(fj_run(sys, hold_flag, &open, FJ_PRIORITY_HIGH, c));
  while (!atomic_load(&holding))
    usleep(100);
  CHECK_OK(fj_run(sys, low_job, NULL, prio, c));
  for (unsigned i = 0; i < workers; i++)
    CHECK_OK(fj_run(sys, high_link, (void *)work_us, FJ_PRIORITY_HIGH, c));
  atomic_store(&open, 1);
  CHECK_OK(fj_wait(sys, c));
  CHECK_OK(fj_system_stats(sys, st));
  fj_counter_destroy(c);
  fj_system_destroy(sys);
  return atomic_load(&started_after);
}

int main(void) {
  fj_stats st;
  /* Strict: one worker, a stream of exactly N HIGH jobs, the LOW job after
   * every one of them. */
  long n = test_scaled(20000);
  long after = run_stream(1, 0, FJ_PRIORITY_LOW, n, 0, &st);
  CHECK_EQ(after, n);
  CHECK_EQ(st.aged_picks, 0);

  /* Aging on: an endless stream of 20 µs HIGH jobs, aging after 2 ms, so
   * about 100 jobs (two periods' worth at most ~200) before LOW starts; the
   * cap is thousands of periods away. */
  long cap = 200000;
  unsigned workers[] = {1, 2};
  fj_priority prios[] = {FJ_PRIORITY_LOW, FJ_PRIORITY_NORMAL};
  for (int w = 0; w < 2; w++) {
    for (int p = 0; p < 2; p++) {
      after = run_stream(workers[w], 2000, prios[p], cap, 20, &st);
      printf("aging on, %u workers, prio %d: started after %ld HIGH jobs\n", workers[w],
             (int)prios[p], after);
      CHECK(after >= 0 && after < cap - 2 * (long)workers[w]);
      /* One worker can only have taken it by aging; with two, a worker
       * that sees no HIGH work of its own may take it before stealing. */
      if (workers[w] == 1)
        CHECK(st.aged_picks >= 1);
    }
  }
  puts("test_aging: ok");
  return 0;
}
