/* SPDX-License-Identifier: MIT */
/* Yield: strict alternation on one worker, locals survive, the stats count
 * switches, and a lone yielder returns at once. */
#include <stdatomic.h>
#include <string.h>

#include "check.h"

enum { TURNS = 200 };
static char order[2 * TURNS + 1];
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
  lone_yield_returns(1);
  lone_yield_returns(0);
  CHECK_EQ(fj_ctx_yield(NULL), FJ_EINVAL);
  puts("test_yield: ok");
  return 0;
}
