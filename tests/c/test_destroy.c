/* SPDX-License-Identifier: MIT */
/* fj_system_destroy while jobs still run: every job submitted before it —
 * yielding, waiting, spawning — runs to completion; nothing is lost. */
#include <stdatomic.h>

#include "check.h"

static atomic_long finished;

static void leaf(fj_ctx *ctx, void *arg) {
  long yields = (long)arg;
  for (long i = 0; i < yields; i++)
    CHECK_OK(fj_ctx_yield(ctx));
  atomic_fetch_add(&finished, 1);
}

/* Spawns children (some fire-and-forget), waits for the counted ones. */
static void branch(fj_ctx *ctx, void *arg) {
  long depth = (long)arg;
  if (depth == 0) {
    leaf(ctx, (void *)3L);
    return;
  }
  fj_counter *c = test_counter(fj_ctx_system(ctx));
  for (int i = 0; i < 3; i++)
    CHECK_OK(fj_ctx_spawn(ctx, branch, (void *)(depth - 1), FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_ctx_spawn(ctx, leaf, (void *)5L, FJ_PRIORITY_LOW, NULL));
  CHECK_OK(fj_ctx_wait(ctx, c));
  fj_counter_destroy(c);
  atomic_fetch_add(&finished, 1);
}

/* Leaves expected from branch(depth): 3^depth leaves + one extra leaf and
 * one branch completion per inner node. */
static long expected(long depth) {
  if (depth == 0)
    return 1;
  return 3 * expected(depth - 1) + 2;
}

static void destroy_now(unsigned workers, int yielding) {
  fj_system *sys = test_system(workers, yielding);
  atomic_store(&finished, 0);
  long roots = test_scaled(40);
  for (long i = 0; i < roots; i++)
    CHECK_OK(fj_run(sys, branch, (void *)4L, (fj_priority)(i % 3), NULL));
  fj_system_destroy(sys);
  CHECK_EQ(atomic_load(&finished), roots * expected(4));
}

int main(void) {
  FOR_EACH_SETUP(destroy_now);
  fj_system_destroy(NULL); /* documented no-op */
  puts("test_destroy: ok");
  return 0;
}
