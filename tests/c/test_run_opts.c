/* SPDX-License-Identifier: MIT */
/* fj_run_opts and fj_submit / fj_ctx_submit: defaults, every option taking
 * effect, and every bad input returning its documented code with nothing
 * submitted.  Also the bad inputs of fj_thread_attach / fj_thread_detach
 * and of the scheduling fields of fj_config. */
#include <stdatomic.h>
#include <string.h>

#include "check.h"

static atomic_long sum;

static void add(fj_ctx *ctx, void *arg) {
  (void)ctx;
  atomic_fetch_add(&sum, (long)arg);
}

static void check_name(fj_ctx *ctx, void *arg) {
  const char *want = arg;
  if (want)
    CHECK(fj_ctx_name(ctx) && strcmp(fj_ctx_name(ctx), want) == 0);
  else
    CHECK(fj_ctx_name(ctx) == NULL);
  atomic_fetch_add(&sum, 1);
}

static void check_prio(fj_ctx *ctx, void *arg) {
  CHECK_EQ(fj_ctx_priority(ctx), (long)arg);
  atomic_fetch_add(&sum, 1);
}

static void test_defaults(void) {
  fj_run_opts o;
  memset(&o, 0xab, sizeof o);
  fj_run_opts_init(&o);
  CHECK_EQ(o.struct_size, sizeof o);
  CHECK_EQ(o.priority, FJ_PRIORITY_NORMAL);
  CHECK(o.counter == NULL);
  CHECK_EQ(o.stack, FJ_STACK_SMALL);
  CHECK_EQ(o.worker, FJ_ANY_WORKER);
  CHECK(o.name == NULL);
  fj_run_opts_init(NULL); /* a no-op */
}

/* Every combination of options runs each job once, from a thread and from
 * a job, with the batch path (more jobs than the on-stack record array). */
static fj_counter *inner_counter;
static void submit_from_job(fj_ctx *ctx, void *arg) {
  const fj_run_opts *o = arg;
  fj_job jobs[40];
  for (int i = 0; i < 40; i++)
    jobs[i] = (fj_job){add, (void *)1L};
  fj_run_opts mine = *o;
  mine.counter = inner_counter;
  CHECK_OK(fj_ctx_submit(ctx, jobs, 40, &mine));
  CHECK_OK(fj_ctx_wait(ctx, inner_counter));
}

static void test_submit(unsigned workers, int yielding) {
  fj_system *sys = test_system(workers, yielding);
  fj_counter *c = test_counter(sys);
  inner_counter = test_counter(sys);
  for (int variant = 0; variant < 6; variant++) {
    fj_run_opts o;
    fj_run_opts_init(&o);
    o.counter = c;
    if (variant == 1)
      o.name = "named";
    if (variant == 2)
      o.stack = FJ_STACK_LARGE;
    if (variant == 3)
      o.worker = (int)(workers - 1);
    if (variant == 4)
      o.priority = FJ_PRIORITY_LOW;
    if (variant == 5) {
      o.name = "all";
      o.stack = FJ_STACK_LARGE;
      o.worker = 0;
      o.priority = FJ_PRIORITY_HIGH;
    }
    atomic_store(&sum, 0);
    fj_job jobs[100];
    for (int i = 0; i < 100; i++)
      jobs[i] = (fj_job){add, (void *)(long)(i + 1)};
    CHECK_OK(fj_submit(sys, jobs, 100, &o));
    CHECK_OK(fj_submit(sys, jobs, 3, &o));
    CHECK_OK(fj_wait(sys, c));
    CHECK_EQ(atomic_load(&sum), 5050 + 6);
    atomic_store(&sum, 0);
    fj_run_opts copy = o;
    copy.counter = NULL;
    fj_job outer = {submit_from_job, &copy};
    CHECK_OK(fj_submit(sys, &outer, 1, &o));
    CHECK_OK(fj_wait(sys, c));
    CHECK_EQ(atomic_load(&sum), 40);
  }
  /* Names and priorities reach the job. */
  atomic_store(&sum, 0);
  fj_run_opts o;
  fj_run_opts_init(&o);
  o.counter = c;
  o.name = "hello";
  fj_job named = {check_name, "hello"};
  CHECK_OK(fj_submit(sys, &named, 1, &o));
  o.name = NULL;
  fj_job unnamed = {check_name, NULL};
  CHECK_OK(fj_submit(sys, &unnamed, 1, &o));
  o.priority = FJ_PRIORITY_HIGH;
  fj_job prio = {check_prio, (void *)(long)FJ_PRIORITY_HIGH};
  CHECK_OK(fj_submit(sys, &prio, 1, &o));
  o.stack = FJ_STACK_LARGE;
  CHECK_OK(fj_submit(sys, &prio, 1, &o));
  /* NULL options: defaults (NORMAL, no counter). */
  fj_job plain = {check_prio, (void *)(long)FJ_PRIORITY_NORMAL};
  CHECK_OK(fj_submit(sys, &plain, 1, NULL));
  CHECK_OK(fj_wait(sys, c));
  fj_system_destroy(sys); /* finishes the NULL-options job */
  CHECK_EQ(atomic_load(&sum), 5);
  fj_counter_destroy(c);
  fj_counter_destroy(inner_counter);
}

static atomic_int job_results[8];

static void bad_from_job(fj_ctx *ctx, void *arg) {
  fj_system *other = arg;
  fj_job j = {add, NULL};
  fj_run_opts o;
  fj_run_opts_init(&o);
  o.worker = 99;
  atomic_store(&job_results[0], fj_ctx_submit(ctx, &j, 1, &o));
  fj_run_opts_init(&o);
  o.stack = (fj_stack_class)7;
  atomic_store(&job_results[1], fj_ctx_submit(ctx, &j, 1, &o));
  unsigned idx = 123;
  atomic_store(&job_results[2], fj_thread_attach(fj_ctx_system(ctx), &idx));
  atomic_store(&job_results[3], fj_thread_detach(fj_ctx_system(ctx)));
  atomic_store(&job_results[4], fj_ctx_submit(NULL, &j, 1, NULL));
  fj_counter *oc = test_counter(other);
  fj_run_opts_init(&o);
  o.counter = oc;
  atomic_store(&job_results[5], fj_ctx_submit(ctx, &j, 1, &o));
  fj_counter_destroy(oc);
}

static void test_bad_input(void) {
  fj_system *sys = test_system_slots(2, 1, 1);
  fj_system *other = test_system(1, 1);
  fj_counter *oc = test_counter(other);
  fj_job j = {add, (void *)1L};
  fj_run_opts o;
  atomic_store(&sum, 0);

  CHECK_EQ(fj_submit(NULL, &j, 1, NULL), FJ_EINVAL);
  CHECK_EQ(fj_submit(sys, NULL, 1, NULL), FJ_EINVAL);
  fj_job nofn = {NULL, NULL};
  CHECK_EQ(fj_submit(sys, &nofn, 1, NULL), FJ_EINVAL);
  CHECK_OK(fj_submit(sys, NULL, 0, NULL)); /* nothing to do */

  fj_run_opts_init(&o);
  o.struct_size = sizeof(size_t); /* too small: not from fj_run_opts_init */
  CHECK_EQ(fj_submit(sys, &j, 1, &o), FJ_EINVAL);
  o.struct_size = 0;
  CHECK_EQ(fj_submit(sys, &j, 1, &o), FJ_EINVAL);

  /* A newer caller's bigger struct: fine while the unknown tail is zero. */
  struct {
    fj_run_opts o;
    long future;
  } big;
  memset(&big, 0, sizeof big);
  fj_run_opts_init(&big.o);
  big.o.struct_size = sizeof big;
  CHECK_OK(fj_submit(sys, &j, 1, &big.o));
  big.future = 1;
  CHECK_EQ(fj_submit(sys, &j, 1, &big.o), FJ_EINVAL);

  fj_run_opts_init(&o);
  o.priority = (fj_priority)3;
  CHECK_EQ(fj_submit(sys, &j, 1, &o), FJ_EPRIORITY);
  o.priority = (fj_priority)-1;
  CHECK_EQ(fj_submit(sys, &j, 1, &o), FJ_EPRIORITY);

  fj_run_opts_init(&o);
  o.stack = (fj_stack_class)2;
  CHECK_EQ(fj_submit(sys, &j, 1, &o), FJ_EINVAL);
  o.stack = (fj_stack_class)-1;
  CHECK_EQ(fj_submit(sys, &j, 1, &o), FJ_EINVAL);

  fj_run_opts_init(&o);
  o.worker = 3; /* 2 workers + 1 slot: indices 0..2 */
  CHECK_EQ(fj_submit(sys, &j, 1, &o), FJ_EWORKER);
  o.worker = -2;
  CHECK_EQ(fj_submit(sys, &j, 1, &o), FJ_EWORKER);
  o.worker = 1000000;
  CHECK_EQ(fj_submit(sys, &j, 1, &o), FJ_EWORKER);

  fj_run_opts_init(&o);
  o.counter = oc;
  CHECK_EQ(fj_submit(sys, &j, 1, &o), FJ_EWRONGSYSTEM);

  CHECK_EQ(fj_ctx_submit(NULL, &j, 1, NULL), FJ_EINVAL);

  /* Attach / detach. */
  unsigned idx = 77;
  CHECK_EQ(fj_thread_attach(NULL, &idx), FJ_EINVAL);
  CHECK_EQ(fj_thread_attach(sys, NULL), FJ_EINVAL);
  CHECK_EQ(fj_thread_detach(NULL), FJ_EINVAL);
  CHECK_EQ(fj_thread_detach(sys), FJ_ENOTATTACHED);
  CHECK_EQ(fj_thread_attach(other, &idx), FJ_EBUSY); /* no slots at all */
  CHECK_OK(fj_thread_attach(sys, &idx));
  CHECK_EQ(idx, 2);
  CHECK_EQ(fj_thread_attach(sys, &idx), FJ_EBUSY); /* twice */
  CHECK_EQ(fj_thread_detach(other), FJ_ENOTATTACHED);
  CHECK_OK(fj_thread_detach(sys));
  CHECK_EQ(fj_thread_detach(sys), FJ_ENOTATTACHED);

  /* From inside a job. */
  fj_counter *c = test_counter(sys);
  fj_job bad = {bad_from_job, other};
  CHECK_OK(fj_run(sys, bad.fn, bad.arg, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(atomic_load(&job_results[0]), FJ_EWORKER);
  CHECK_EQ(atomic_load(&job_results[1]), FJ_EINVAL);
  CHECK_EQ(atomic_load(&job_results[2]), FJ_EINJOB);
  CHECK_EQ(atomic_load(&job_results[3]), FJ_ENOTATTACHED);
  CHECK_EQ(atomic_load(&job_results[4]), FJ_EINVAL);
  CHECK_EQ(atomic_load(&job_results[5]), FJ_EWRONGSYSTEM);

  /* Nothing was submitted by the failed calls: only the good one ran. */
  fj_system_destroy(sys);
  CHECK_EQ(atomic_load(&sum), 1);
  fj_counter_destroy(c);
  fj_counter_destroy(oc);
  fj_system_destroy(other);

  /* The scheduling fields of fj_config. */
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = 4;
  cfg.max_fibers = 3; /* below num_workers */
  CHECK_EQ(fj_system_create(&cfg, &sys), FJ_ECONFIG);
  cfg.max_fibers = 4;
  CHECK_OK(fj_system_create(&cfg, &sys));
  fj_system_destroy(sys);
  fj_config_init(&cfg);
  cfg.aging_us = FJ_MAX_AGING_US + 1;
  CHECK_EQ(fj_system_create(&cfg, &sys), FJ_ECONFIG);
  fj_config_init(&cfg);
  cfg.attach_slots = FJ_MAX_WORKERS + 1;
  CHECK_EQ(fj_system_create(&cfg, &sys), FJ_ECONFIG);
  fj_config_init(&cfg);
  cfg.large_stack_size = 1;
  CHECK_EQ(fj_system_create(&cfg, &sys), FJ_ECONFIG);
}

int main(void) {
  test_defaults();
  test_bad_input();
  FOR_EACH_SETUP(test_submit);
  puts("test_run_opts: ok");
  return 0;
}
