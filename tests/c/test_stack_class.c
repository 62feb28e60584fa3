/* SPDX-License-Identifier: MIT */
/* Stack classes: a LARGE job gets a stack of large_stack_size (it can use
 * far more than stack_size, also after a wait), each class has its own
 * pool and statistics, and an overflow names the job (its name, else its
 * function), its class and its size. */
#include <stdatomic.h>
#include <string.h>

#include "check.h"

static atomic_long sum;

/* Touches `bytes` of stack from the top down, so a job on too small a
 * stack hits the guard pages (and is reported) rather than memory below. */
static __attribute__((noinline)) long use_stack(size_t bytes) {
  volatile char buf[bytes];
  for (size_t i = bytes; i >= 512; i -= 512)
    buf[i - 1] = (char)i;
  long s = 0;
  for (size_t i = bytes; i >= 512; i -= 512)
    s += buf[i - 1];
  return s;
}

static volatile int depth_limit = 1 << 30; /* never reached: the stack ends first */

/* Recursion in 256-byte frames: it cannot skip the guard pages. */
static int recurse(int depth) {
  volatile char frame[256];
  frame[0] = (char)depth;
  if (depth >= depth_limit)
    return 0;
  return depth + recurse(depth + 1) + frame[0]; /* not a tail call */
}

static void add_one(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&sum, 1);
}

/* 300 KiB of stack, then a wait (parking the fiber), then 300 KiB again. */
static void deep_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  use_stack(300 * 1024);
  fj_counter *c = NULL;
  CHECK_OK(fj_counter_create(fj_ctx_system(ctx), &c));
  for (int i = 0; i < 8; i++)
    CHECK_OK(fj_ctx_spawn(ctx, add_one, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_ctx_yield(ctx));
  CHECK_OK(fj_ctx_wait(ctx, c));
  use_stack(300 * 1024);
  fj_counter_destroy(c);
  atomic_fetch_add(&sum, 1000);
}

/* A shallow job that spawns deep ones and waits for them. */
static void parent_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_counter *c = NULL;
  CHECK_OK(fj_counter_create(fj_ctx_system(ctx), &c));
  fj_run_opts o;
  fj_run_opts_init(&o);
  o.stack = FJ_STACK_LARGE;
  o.counter = c;
  fj_job j = {deep_job, NULL};
  CHECK_OK(fj_ctx_submit(ctx, &j, 1, &o));
  CHECK_OK(fj_ctx_submit(ctx, &j, 1, &o));
  CHECK_OK(fj_ctx_wait(ctx, c));
  fj_counter_destroy(c);
}

static void test_large(unsigned workers, int yielding) {
  fj_system *sys = test_system(workers, yielding); /* 64 KiB / 512 KiB */
  fj_counter *c = test_counter(sys);
  atomic_store(&sum, 0);
  long n = test_scaled(40);
  fj_run_opts o;
  fj_run_opts_init(&o);
  o.stack = FJ_STACK_LARGE;
  o.counter = c;
  fj_job j = {deep_job, NULL};
  for (long i = 0; i < n; i++) {
    CHECK_OK(fj_submit(sys, &j, 1, &o));
    CHECK_OK(fj_run(sys, parent_job, NULL, FJ_PRIORITY_HIGH, c));
    CHECK_OK(fj_run(sys, add_one, NULL, FJ_PRIORITY_NORMAL, c));
  }
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(atomic_load(&sum), n * (3 * (1000 + 8) + 1));
  fj_stats st;
  CHECK_OK(fj_system_stats(sys, &st));
  if (yielding) {
    CHECK(st.fibers_large_created >= 1);
    CHECK(st.fibers_created > st.fibers_large_created); /* the SMALL loop fibers */
    CHECK(st.fibers_large_live <= st.fibers_live);
    CHECK(st.fibers_large_pooled <= st.fibers_pooled);
    CHECK(st.fibers_large_live >= 1); /* pooled, or carrying a worker's loop */
  } else {
    CHECK_EQ(st.fibers_large_created, 0);
  }
  fj_counter_destroy(c);
  fj_system_destroy(sys);
  (void)st;
}

/* ---- overflow messages (in children: they abort) ---------------------- */

static void overflow_small(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  use_stack(32 * 1024); /* fine on 64 KiB ... */
  recurse(0);           /* ... this is not */
}

static void overflow_large(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  use_stack(300 * 1024); /* fine on a LARGE stack ... */
  recurse(0);
}

/* Exported, so dladdr can name it when the job has no name. */
void stack_class_test_unnamed_overflow(fj_ctx *ctx, void *arg);
void stack_class_test_unnamed_overflow(fj_ctx *ctx, void *arg) { overflow_small(ctx, arg); }

static void run_overflow(fj_job_fn fn, const char *name, fj_stack_class cls) {
  fj_system *sys = test_system(1, 1);
  fj_counter *c = test_counter(sys);
  fj_run_opts o;
  fj_run_opts_init(&o);
  o.name = name;
  o.stack = cls;
  o.counter = c;
  fj_job j = {fn, NULL};
  CHECK_OK(fj_submit(sys, &j, 1, &o));
  CHECK_OK(fj_wait(sys, c));
}

static void child_named_small(void) { run_overflow(overflow_small, "physics.broadphase", FJ_STACK_SMALL); }
static void child_named_large(void) { run_overflow(overflow_large, "deep.recursion", FJ_STACK_LARGE); }
static void child_unnamed(void) {
  run_overflow(stack_class_test_unnamed_overflow, NULL, FJ_STACK_SMALL);
}

static void expect_overflow(void (*child)(void), const char *must1, const char *must2,
                            const char *must3) {
  char err[4096];
  int status = test_run_child(child, err, sizeof err);
  fprintf(stderr, "child said: %s", err);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
  CHECK(strstr(err, "fiber stack overflow") != NULL);
  CHECK(strstr(err, must1) != NULL);
  CHECK(strstr(err, must2) != NULL);
  CHECK(strstr(err, must3) != NULL);
}

int main(void) {
  FOR_EACH_SETUP(test_large);
  if (getenv("FJ_UNDER_VALGRIND")) {
    puts("test_stack_class: overflow checks skipped under valgrind");
  } else {
    expect_overflow(child_named_small, "physics.broadphase", "FJ_STACK_SMALL", " 65536 bytes");
    expect_overflow(child_named_large, "deep.recursion", "FJ_STACK_LARGE", " 524288 bytes");
    /* No name: the function's symbol when the loader knows it, else its
     * address; either way the job is named, never left out. */
    char err[4096];
    int status = test_run_child(child_unnamed, err, sizeof err);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CHECK(strstr(err, "stack_class_test_unnamed_overflow") != NULL ||
          strstr(err, "function at 0x") != NULL);
  }
  puts("test_stack_class: ok");
  return 0;
}
