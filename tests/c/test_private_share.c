/* SPDX-License-Identifier: MIT */
/*
 * test_private_share.c — jobs a worker took from the shared queue and keeps
 * in its private share (lib/private_share.h) still run when their owner's
 * job never returns, and every job runs exactly once while idle workers
 * take from shares whose owners stall.
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

/* ---- a job that waits, outside the library, for one queued behind it ---- */

static atomic_int holders_in, release_holders, b_started, a_gave_up;

static void hold(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&holders_in, 1);
  while (!atomic_load(&release_holders))
    sched_yield();
}

/* Spins until b has started.  A free worker must take b even though it sits
 * behind this job, which never returns to the scheduler until then; the
 * deadline (10 s, where b starts within microseconds) only turns a hang into
 * a failure that main reports. */
static void job_a(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  uint64_t deadline = now_ns() + 10ull * 1000000000u;
  while (!atomic_load(&b_started)) {
    if (now_ns() > deadline) {
      atomic_store(&a_gave_up, 1);
      return;
    }
    sched_yield();
  }
}

static void job_b(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_store(&b_started, 1);
}

/* Both workers are held while main queues a and b one fj_run each, then let
 * go together: the first back takes both (a trickle is taken whole), runs a
 * and keeps b in its share; the other finds the shared queue empty. */
static void blocked_owner(int yielding) {
  fj_system *sys = test_system(2, yielding);
  fj_counter *held = test_counter(sys), *c = test_counter(sys);
  long rounds = test_scaled(100);
  for (long r = 0; r < rounds; r++) {
    atomic_store(&holders_in, 0);
    atomic_store(&release_holders, 0);
    atomic_store(&b_started, 0);
    for (int i = 0; i < 2; i++)
      CHECK_OK(fj_run(sys, hold, NULL, FJ_PRIORITY_NORMAL, held));
    /* Both hold jobs run at once: this too needs a taker for the second
     * if one worker took both. */
    uint64_t deadline = now_ns() + 10ull * 1000000000u;
    while (atomic_load(&holders_in) < 2) {
      CHECK(now_ns() < deadline);
      sched_yield();
    }
    CHECK_OK(fj_run(sys, job_a, NULL, FJ_PRIORITY_NORMAL, c));
    CHECK_OK(fj_run(sys, job_b, NULL, FJ_PRIORITY_NORMAL, c));
    atomic_store(&release_holders, 1);
    CHECK_OK(fj_wait(sys, held));
    CHECK_OK(fj_wait(sys, c));
    CHECK_EQ(atomic_load(&a_gave_up), 0);
    CHECK_EQ(atomic_load(&b_started), 1);
  }
  fj_counter_destroy(held);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
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
  blocked_owner(1);
  blocked_owner(0);
  for (int y = 1; y >= 0; y--) {
    exactly_once(2, y);
    exactly_once(4, y);
  }
  printf("test_private_share: ok\n");
  return 0;
}
