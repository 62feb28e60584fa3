/* SPDX-License-Identifier: MIT */
/* Counters: values, reuse after zero, many waiters (threads and fibers at
 * once) on one counter, and fire-and-forget jobs. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"

static atomic_long done;
static void count(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&done, 1);
}

static void reuse(unsigned workers, int yielding) {
  fj_system *sys = test_system(workers, yielding);
  fj_counter *c = test_counter(sys);
  CHECK_EQ(fj_counter_value(c), 0);
  CHECK_OK(fj_wait(sys, c)); /* zero: returns at once */
  atomic_store(&done, 0);
  long rounds = test_scaled(200);
  for (long r = 1; r <= rounds; r++) {
    fj_job jobs[7];
    for (int i = 0; i < 7; i++)
      jobs[i] = (fj_job){count, NULL};
    CHECK_OK(fj_run_jobs(sys, jobs, 7, (fj_priority)(r % 3), c));
    CHECK_OK(fj_run(sys, count, NULL, FJ_PRIORITY_LOW, c));
    CHECK_OK(fj_wait(sys, c));
    CHECK_EQ(fj_counter_value(c), 0);
    CHECK_EQ(atomic_load(&done), r * 8);
  }
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* Many waiters: fibers parked on `gate` and plain threads blocked on it. */
static fj_counter *gate;
static atomic_int woke;
static void waiting_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  CHECK_OK(fj_ctx_wait(ctx, gate));
  CHECK_EQ(fj_counter_value(gate), 0);
  atomic_fetch_add(&woke, 1);
}
static void hold(fj_ctx *ctx, void *arg) {
  (void)ctx;
  while (!atomic_load((atomic_int *)arg))
    usleep(100);
}
static void *waiting_thread(void *arg) {
  fj_system *sys = arg;
  CHECK_OK(fj_wait(sys, gate));
  CHECK_EQ(fj_counter_value(gate), 0);
  atomic_fetch_add(&woke, 1);
  return NULL;
}

static void many_waiters(unsigned workers, int yielding) {
  if (workers < 2)
    return; /* the holder occupies a worker; waiters need another */
  fj_system *sys = test_system(workers, yielding);
  gate = test_counter(sys);
  fj_counter *jobs = test_counter(sys);
  atomic_int open = 0;
  atomic_store(&woke, 0);
  CHECK_OK(fj_run(sys, hold, &open, FJ_PRIORITY_NORMAL, gate));
  /* Without fibers a waiting job holds its thread, so keep it below the
   * free workers there. */
  int fibers = yielding ? 500 : (int)workers - 1 - 1;
  enum { THREADS = 8 };
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    CHECK(pthread_create(&t[i], NULL, waiting_thread, sys) == 0);
  for (int i = 0; i < fibers; i++)
    CHECK_OK(fj_run(sys, waiting_job, NULL, FJ_PRIORITY_NORMAL, jobs));
  usleep(20000);
  CHECK_EQ(atomic_load(&woke), 0);
  atomic_store(&open, 1);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  CHECK_OK(fj_wait(sys, jobs));
  CHECK_EQ(atomic_load(&woke), THREADS + fibers);
  fj_counter_destroy(jobs);
  fj_counter_destroy(gate);
  fj_system_destroy(sys);
}

static void fire_and_forget(unsigned workers, int yielding) {
  fj_system *sys = test_system(workers, yielding);
  atomic_store(&done, 0);
  long n = test_scaled(20000);
  for (long i = 0; i < n; i++)
    CHECK_OK(fj_run(sys, count, NULL, (fj_priority)(i % 3), NULL));
  fj_system_destroy(sys); /* must run them all first */
  CHECK_EQ(atomic_load(&done), n);
}

int main(void) {
  FOR_EACH_SETUP(reuse);
  FOR_EACH_SETUP(many_waiters);
  FOR_EACH_SETUP(fire_and_forget);
  puts("test_counter: ok");
  return 0;
}
