/* SPDX-License-Identifier: MIT */
/*
 * test_progress.c — a free worker never sleeps while a job waits behind a
 * busy one.  Jobs here wait for each other outside the library (spinning on
 * an atomic), so each must run on its own worker at the same time, wherever
 * the queues put them and whichever workers went to sleep first: a missed
 * wake-up is a hang, which a 10 s deadline inside the job turns into a
 * failure (they meet within milliseconds).
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "check.h"

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static const uint64_t deadline_ns = 10ull * 1000000000u;

/* Spins (yielding the core) until *v >= want: true, or false once the
 * deadline has passed (what would have been a hang). */
static bool reaches(atomic_int *v, int want) {
  uint64_t deadline = now_ns() + deadline_ns;
  while (atomic_load(v) < want) {
    if (now_ns() > deadline)
      return false;
    sched_yield();
  }
  return true;
}

/* ---- a job that waits for one queued right behind it ---- */

static atomic_int holders_in, release_holders, b_started, a_gave_up;

static void hold(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&holders_in, 1);
  while (!atomic_load(&release_holders))
    sched_yield();
}

/* Spins until b has started: a free worker must take b, queued behind it. */
static void job_a(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  if (!reaches(&b_started, 1))
    atomic_store(&a_gave_up, 1);
}

static void job_b(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_store(&b_started, 1);
}

/* Both workers are held while main queues a and b one fj_run each, then let
 * go together: the first back takes both (a trickle is taken whole) and runs
 * a; b must be taken by the other. */
static void waits_for_the_job_behind(int yielding) {
  fj_system *sys = test_system(2, yielding);
  fj_counter *held = test_counter(sys), *c = test_counter(sys);
  long rounds = test_scaled(100);
  for (long r = 0; r < rounds; r++) {
    atomic_store(&holders_in, 0);
    atomic_store(&release_holders, 0);
    atomic_store(&b_started, 0);
    for (int i = 0; i < 2; i++)
      CHECK_OK(fj_run(sys, hold, NULL, FJ_PRIORITY_NORMAL, held));
    CHECK(reaches(&holders_in, 2));
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

/* ---- a rendezvous of one job per worker ---- */

static atomic_int arrived, rendezvous_failed;
static int rendezvous_size;

static void meet(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&arrived, 1);
  if (!reaches(&arrived, rendezvous_size))
    atomic_store(&rendezvous_failed, 1);
}

static void nothing(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
}

/* One job per worker, queued one fj_run each from main, a round at a time.
 * Every other round first pauses 1 ms, long enough for every worker to go
 * to sleep, which changes who is awake when the jobs arrive and so who
 * takes several at once.  Before the fenced notifies in pick.c, 4 workers
 * without fibers failed within 81 rounds in each of 3 runs.  `noise`: an
 * empty job after each, so a worker woken for one kind of work may find the
 * other first (a worker watching a private share, lib/idle.h, can be drawn
 * away from it). */
static void rendezvous(unsigned workers, int yielding, int noise) {
  fj_system *sys = test_system(workers, yielding);
  fj_counter *c = test_counter(sys);
  rendezvous_size = (int)workers;
  long rounds = test_scaled(300);
  for (long r = 0; r < rounds; r++) {
    atomic_store(&arrived, 0);
    for (unsigned i = 0; i < workers; i++) {
      CHECK_OK(fj_run(sys, meet, NULL, FJ_PRIORITY_NORMAL, c));
      if (noise)
        CHECK_OK(fj_run(sys, nothing, NULL, FJ_PRIORITY_NORMAL, c));
    }
    CHECK_OK(fj_wait(sys, c));
    if (atomic_load(&rendezvous_failed))
      fprintf(stderr, "rendezvous of %u, yielding %d, noise %d: round %ld did not meet\n",
              workers, yielding, noise, r);
    CHECK_EQ(atomic_load(&rendezvous_failed), 0);
    if (r % 2) {
      struct timespec pause = {0, 1000000};
      nanosleep(&pause, NULL);
    }
  }
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

int main(void) {
  waits_for_the_job_behind(1);
  waits_for_the_job_behind(0);
  for (unsigned w = 2; w <= 4; w++)
    for (int noise = 0; noise <= 1; noise++) {
      rendezvous(w, 0, noise);
      rendezvous(w, 1, noise);
    }
  printf("test_progress: ok\n");
  return 0;
}
