/* SPDX-License-Identifier: MIT */
/* Nested fork-join: fib and a 10-ary skynet tree, every job waiting for its
 * children, on 1, 2 and 4 workers with fibers on and off. */
#include "check.h"

typedef struct { int n; long result; } fib_arg;

static void fib(fj_ctx *ctx, void *p) {
  fib_arg *a = p;
  if (a->n < 2) {
    a->result = a->n;
    return;
  }
  fib_arg x = {a->n - 1, 0}, y = {a->n - 2, 0};
  fj_counter *c = test_counter(fj_ctx_system(ctx));
  fj_job kids[2] = {{fib, &x}, {fib, &y}};
  CHECK_OK(fj_ctx_spawn_jobs(ctx, kids, 2, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_ctx_wait(ctx, c));
  a->result = x.result + y.result;
  fj_counter_destroy(c);
}

typedef struct { long first, size, sum; } sky_arg;

static void skynet(fj_ctx *ctx, void *p) {
  sky_arg *a = p;
  if (a->size == 1) {
    a->sum = a->first;
    return;
  }
  sky_arg kids[10];
  fj_job jobs[10];
  long step = a->size / 10;
  for (int i = 0; i < 10; i++) {
    kids[i] = (sky_arg){a->first + i * step, step, 0};
    jobs[i] = (fj_job){skynet, &kids[i]};
  }
  fj_counter *c = test_counter(fj_ctx_system(ctx));
  CHECK_OK(fj_ctx_spawn_jobs(ctx, jobs, 10, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_ctx_wait(ctx, c));
  a->sum = 0;
  for (int i = 0; i < 10; i++)
    a->sum += kids[i].sum;
  fj_counter_destroy(c);
}

static void run_both(unsigned workers, int yielding) {
  fj_system *sys = test_system(workers, yielding);
  fj_counter *c = test_counter(sys);
  fib_arg f = {test_scaled(1) > 1 ? 16 : 22, 0};
  long leaves = test_scaled(1) > 1 ? 10000 : 100000;
  sky_arg s = {0, leaves, 0};
  CHECK_OK(fj_run(sys, fib, &f, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_run(sys, skynet, &s, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(f.result, f.n == 22 ? 17711 : 987);
  CHECK_EQ(s.sum, leaves * (leaves - 1) / 2);
  fj_stats st;
  CHECK_OK(fj_system_stats(sys, &st));
  if (!yielding) {
    CHECK_EQ(st.fibers_created, 0);
    CHECK_EQ(st.waits_suspended, 0);
  }
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

int main(void) {
  FOR_EACH_SETUP(run_both);
  puts("test_forkjoin: ok");
  return 0;
}
