/* SPDX-License-Identifier: MIT */
/* 10,000 jobs parked on one counter: all resume when it reaches zero, and
 * parked fibers stay small (stacks are committed lazily). */
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"

/* 10,000 in normal runs; sanitizer runs scale it down (TSan keeps state
 * per fiber and runs out of mappings long before we do). */
static long PARKED;
static fj_counter *gate;
static atomic_int resumed;

static void parked(fj_ctx *ctx, void *arg) {
  (void)arg;
  CHECK_OK(fj_ctx_wait(ctx, gate));
  CHECK_EQ(fj_counter_value(gate), 0);
  atomic_fetch_add(&resumed, 1);
}

static void gate_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  while (!atomic_load((atomic_int *)arg))
    usleep(100);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static long rss_bytes(void) {
  long pages_total = 0, pages_rss = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  CHECK(f != NULL);
  CHECK_EQ(fscanf(f, "%ld %ld", &pages_total, &pages_rss), 2);
  fclose(f);
  return pages_rss * sysconf(_SC_PAGESIZE);
}

int main(void) {
  PARKED = test_scaled(10000);
  fj_system *sys = test_system(2, 1);
  gate = test_counter(sys);
  fj_counter *all = test_counter(sys);
  atomic_int open = 0;
  CHECK_OK(fj_run(sys, gate_job, &open, FJ_PRIORITY_HIGH, gate));
  long before = rss_bytes();
  for (long i = 0; i < PARKED; i++)
    CHECK_OK(fj_run(sys, parked, NULL, FJ_PRIORITY_NORMAL, all));
  /* Wait until every one of them is parked (the stats say so). */
  fj_stats st;
  do {
    usleep(1000);
    CHECK_OK(fj_system_stats(sys, &st));
  } while (st.waits_suspended < (uint64_t)PARKED);
  long during = rss_bytes();
  CHECK(st.fibers_live >= (uint64_t)PARKED);
  CHECK_EQ(atomic_load(&resumed), 0);
  CHECK_EQ(fj_counter_value(all), PARKED);
  /* 10,000 stacks of 64 KiB would be 640 MiB if committed; the bar is
   * "well under 256 MiB" for the whole growth. */
  long growth = during - before;
  printf("parked %ld fibers: RSS grew %.1f MiB (%.2f KiB per fiber)\n", PARKED,
         growth / 1048576.0, growth / 1024.0 / PARKED);
  /* Sanitizers and valgrind (scaled runs) keep shadow state per page, so
   * only a plain run measures our own footprint. */
  if (!SANITIZED && test_scaled(2) == 2) /* unscaled run */
    CHECK(growth < 256L * 1024 * 1024);
  atomic_store(&open, 1);
  CHECK_OK(fj_wait(sys, all));
  CHECK_EQ(atomic_load(&resumed), PARKED);
  CHECK_OK(fj_system_stats(sys, &st));
  CHECK_EQ(st.jobs_run, PARKED + 1);
  fj_counter_destroy(all);
  fj_counter_destroy(gate);
  fj_system_destroy(sys);
  puts("test_parked: ok");
  return 0;
}
