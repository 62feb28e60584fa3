/* SPDX-License-Identifier: MIT */
/* Waiting: a job waits for its child on one worker, nested waits, waits
 * from plain threads, timeouts, and fj_wait inside a job. */
#include <sched.h>
#include <stdatomic.h>

#include "check.h"

static void set_flag(fj_ctx *ctx, void *arg) {
  (void)ctx;
  atomic_store((atomic_int *)arg, 1);
}

/* A job that spawns one child and waits for it; the child must have run. */
static void parent(fj_ctx *ctx, void *arg) {
  (void)arg;
  atomic_int flag = 0;
  fj_counter *c = test_counter(fj_ctx_system(ctx));
  CHECK_OK(fj_ctx_spawn(ctx, set_flag, &flag, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_ctx_wait(ctx, c));
  CHECK_EQ(atomic_load(&flag), 1);
  CHECK_EQ(fj_counter_value(c), 0);
  fj_counter_destroy(c);
}

/* depth levels of jobs, each waiting (through fj_wait, which must act as
 * fj_ctx_wait inside a job) for the next; counts the levels reached. */
static atomic_int deepest;
static void nested(fj_ctx *ctx, void *arg) {
  long depth = (long)arg;
  if (depth > atomic_load(&deepest))
    atomic_store(&deepest, (int)depth);
  if (depth == 8)
    return;
  fj_system *sys = fj_ctx_system(ctx);
  fj_counter *c = test_counter(sys);
  CHECK_OK(fj_ctx_spawn(ctx, nested, (void *)(depth + 1), FJ_PRIORITY_HIGH, c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(fj_counter_value(c), 0);
  CHECK_EQ(fj_wait_timeout(sys, c, 1000), FJ_EINJOB);
  fj_counter_destroy(c);
}

static void child_wait(unsigned workers, int yielding) {
  fj_system *sys = test_system(workers, yielding);
  fj_counter *c = test_counter(sys);
  for (int i = 0; i < 50; i++)
    CHECK_OK(fj_run(sys, parent, NULL, FJ_PRIORITY_NORMAL, c));
  atomic_store(&deepest, 0);
  CHECK_OK(fj_run(sys, nested, (void *)0L, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(atomic_load(&deepest), 8);
  fj_stats st;
  CHECK_OK(fj_system_stats(sys, &st));
  CHECK_EQ(st.jobs_run, 50 * 2 + 9);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* Holds its worker until the flag it points to is set.  A yield with
 * nothing else to run makes no system call: the sched_yield lets valgrind,
 * which runs one thread at a time, hand the core to the main thread that
 * sets the flag. */
static void hold(fj_ctx *ctx, void *arg) {
  while (!atomic_load((atomic_int *)arg)) {
    fj_ctx_yield(ctx);
    sched_yield();
  }
}

static void timeouts(int yielding) {
  fj_system *sys = test_system(2, yielding);
  fj_counter *c = test_counter(sys);
  atomic_int release = 0;
  CHECK_OK(fj_run(sys, hold, &release, FJ_PRIORITY_NORMAL, c));
  CHECK_EQ(fj_wait_timeout(sys, c, 2 * 1000 * 1000), FJ_ETIMEDOUT);
  CHECK_EQ(fj_counter_value(c), 1);
  atomic_store(&release, 1);
  CHECK_OK(fj_wait_timeout(sys, c, UINT64_MAX));
  CHECK_EQ(fj_counter_value(c), 0);
  CHECK_OK(fj_wait_timeout(sys, c, 0)); /* already zero: at once */
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

int main(void) {
  FOR_EACH_SETUP(child_wait);
  timeouts(1);
  timeouts(0);
  puts("test_wait: ok");
  return 0;
}
