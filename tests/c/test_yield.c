/* SPDX-License-Identifier: MIT */
/* Yield: strict alternation on one worker, strict round-robin among more
 * fibers once all have started (the yield queue is FIFO: the fast path pops
 * the oldest and queues the yielder in one step), locals survive, the stats
 * count switches, and a lone yielder returns at once. */
#include <stdatomic.h>
#include <string.h>

#include "check.h"

enum { TURNS = 200, RING = 5 };
static char order[RING * TURNS + 1];
static atomic_int pos;

static void yielder(fj_ctx *ctx, void *arg) {
  char name = *(const char *)arg;
  volatile long local = 1000 * name; /* must survive every switch */
  for (int i = 0; i < TURNS; i++) {
    order[atomic_fetch_add(&pos, 1)] = name;
    CHECK_OK(fj_ctx_yield(ctx));
    local += 1;
  }
  CHECK_EQ(local, 1000 * name + TURNS);
}

/* RING fibers on one worker.  Until all have started, a yield may pick a
 * new job instead (and the pick alternates with the yield queue), so only
 * the order from the first turn after that on is fixed: each fiber's next
 * turn comes after every other fiber's, as long as none has finished. */
static void round_robin_on_one_worker(void) {
  fj_system *sys = test_system(1, 1);
  fj_counter *c = test_counter(sys);
  static char names[RING] = {'A', 'B', 'C', 'D', 'E'};
  atomic_store(&pos, 0);
  fj_job jobs[RING];
  for (int i = 0; i < RING; i++)
    jobs[i] = (fj_job){yielder, &names[i]};
  CHECK_OK(fj_run_jobs(sys, jobs, RING, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(atomic_load(&pos), RING * TURNS);
  /* started: the index by which every fiber has run; ended: the first
   * index at which some fiber has run all its turns. */
  int seen[256] = {0}, started = -1, ended = -1, distinct = 0;
  for (int i = 0; i < RING * TURNS; i++) {
    int n = ++seen[(unsigned char)order[i]];
    if (n == 1 && ++distinct == RING)
      started = i;
    if (n == TURNS && ended < 0)
      ended = i;
  }
  CHECK(started >= 0 && ended > started + 2 * RING); /* a long steady part */
  for (int i = started + 1; i + RING <= ended; i++)
    if (order[i + RING] != order[i]) {
      fprintf(stderr, "round-robin broken at %d: %.40s\n", i, order + (i > 10 ? i - 10 : 0));
      exit(1);
    }
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

static void lone_yielder(fj_ctx *ctx, void *arg) {
  int *returned = arg;
  for (int i = 0; i < 100; i++)
    CHECK_OK(fj_ctx_yield(ctx));
  *returned = 1;
}

static void abab_on_one_worker(void) {
  fj_system *sys = test_system(1, 1);
  fj_counter *c = test_counter(sys);
  static char a = 'A', b = 'B';
  atomic_store(&pos, 0);
  /* Both are queued before the worker can start: submit as one batch. */
  fj_job jobs[2] = {{yielder, &a}, {yielder, &b}};
  CHECK_OK(fj_run_jobs(sys, jobs, 2, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(atomic_load(&pos), 2 * TURNS);
  for (int i = 0; i < 2 * TURNS; i++)
    if (order[i] != (i % 2 ? 'B' : 'A')) {
      fprintf(stderr, "order broken at %d: %.40s\n", i, order + (i > 10 ? i - 10 : 0));
      exit(1);
    }
  fj_stats st;
  CHECK_OK(fj_system_stats(sys, &st));
  CHECK(st.yields >= 2 * TURNS - 2); /* every yield but the last ones switched */
  CHECK_EQ(st.jobs_run, 2);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

static void lone_yield_returns(int yielding) {
  fj_system *sys = test_system(1, yielding);
  fj_counter *c = test_counter(sys);
  int returned = 0;
  CHECK_OK(fj_run(sys, lone_yielder, &returned, FJ_PRIORITY_LOW, c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(returned, 1);
  fj_stats st;
  CHECK_OK(fj_system_stats(sys, &st));
  CHECK_EQ(st.yields, 0); /* nothing else was ready: no switch */
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

int main(void) {
  abab_on_one_worker();
  round_robin_on_one_worker();
  lone_yield_returns(1);
  lone_yield_returns(0);
  CHECK_EQ(fj_ctx_yield(NULL), FJ_EINVAL);
  puts("test_yield: ok");
  return 0;
}
