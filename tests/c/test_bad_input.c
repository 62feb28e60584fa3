/* SPDX-License-Identifier: MIT */
/* Bad input: every call gets a clear error code, never a crash; the
 * counter-misuse abort is checked in a child process. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static void nop(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
}

typedef struct { fj_system *sys, *other; fj_counter *other_counter; } in_job_arg;

/* Checks the ctx calls from inside a running job. */
static void in_job(fj_ctx *ctx, void *p) {
  in_job_arg *a = p;
  CHECK(fj_current_ctx() == ctx);
  CHECK(fj_ctx_system(ctx) == a->sys);
  CHECK(fj_ctx_worker(ctx) < fj_system_num_workers(a->sys));
  CHECK_EQ(fj_ctx_spawn(ctx, NULL, NULL, FJ_PRIORITY_NORMAL, NULL), FJ_EINVAL);
  CHECK_EQ(fj_ctx_spawn(ctx, nop, NULL, (fj_priority)3, NULL), FJ_EPRIORITY);
  CHECK_EQ(fj_ctx_spawn(ctx, nop, NULL, FJ_PRIORITY_NORMAL, a->other_counter), FJ_EWRONGSYSTEM);
  CHECK_EQ(fj_ctx_spawn_jobs(ctx, NULL, 2, FJ_PRIORITY_NORMAL, NULL), FJ_EINVAL);
  CHECK_OK(fj_ctx_spawn_jobs(ctx, NULL, 0, FJ_PRIORITY_NORMAL, NULL));
  fj_job bad[2] = {{nop, NULL}, {NULL, NULL}};
  CHECK_EQ(fj_ctx_spawn_jobs(ctx, bad, 2, FJ_PRIORITY_NORMAL, NULL), FJ_EINVAL);
  CHECK_EQ(fj_ctx_wait(ctx, NULL), FJ_EINVAL);
  CHECK_EQ(fj_ctx_wait(ctx, a->other_counter), FJ_EWRONGSYSTEM);
  CHECK_EQ(fj_wait_timeout(a->sys, a->other_counter, 1), FJ_EWRONGSYSTEM);
  fj_counter *own = test_counter(a->sys);
  CHECK_EQ(fj_wait_timeout(a->sys, own, 1), FJ_EINJOB);
  fj_counter_destroy(own);
}

static void api_errors(void) {
  fj_system *sys = NULL;
  fj_config cfg;
  fj_config_init(NULL); /* no-op */
  CHECK_EQ(fj_system_create(NULL, NULL), FJ_EINVAL);

  fj_config_init(&cfg);
  cfg.stack_size = 0;
  CHECK_EQ(fj_system_create(&cfg, &sys), FJ_ECONFIG);
  CHECK(sys == NULL);
  fj_config_init(&cfg);
  cfg.stack_size = (size_t)1 << 40;
  CHECK_EQ(fj_system_create(&cfg, &sys), FJ_ECONFIG);
  fj_config_init(&cfg);
  cfg.num_workers = FJ_MAX_WORKERS + 1;
  CHECK_EQ(fj_system_create(&cfg, &sys), FJ_ECONFIG);
  fj_config_init(&cfg);
  cfg.struct_size = 0; /* not initialised by fj_config_init */
  CHECK_EQ(fj_system_create(&cfg, &sys), FJ_ECONFIG);
  fj_config_init(&cfg);
  cfg.max_pooled_fibers = 0xffffffffu;
  CHECK_EQ(fj_system_create(&cfg, &sys), FJ_ECONFIG);
  CHECK(sys == NULL);

  sys = test_system(2, 1);
  fj_system *other = test_system(1, 1);
  fj_counter *c = test_counter(sys);
  fj_counter *oc = test_counter(other);

  fj_counter *scratch = c;
  CHECK_EQ(fj_counter_create(NULL, &scratch), FJ_EINVAL);
  CHECK(scratch == NULL); /* out is cleared on failure */
  CHECK_EQ(fj_counter_create(sys, NULL), FJ_EINVAL);
  CHECK_EQ(fj_run(NULL, nop, NULL, FJ_PRIORITY_NORMAL, NULL), FJ_EINVAL);
  CHECK_EQ(fj_run(sys, NULL, NULL, FJ_PRIORITY_NORMAL, NULL), FJ_EINVAL);
  CHECK_EQ(fj_run(sys, nop, NULL, (fj_priority)7, c), FJ_EPRIORITY);
  CHECK_EQ(fj_run(sys, nop, NULL, (fj_priority)-1, c), FJ_EPRIORITY);
  CHECK_EQ(fj_run(sys, nop, NULL, FJ_PRIORITY_NORMAL, oc), FJ_EWRONGSYSTEM);
  CHECK_EQ(fj_run_jobs(sys, NULL, 3, FJ_PRIORITY_NORMAL, c), FJ_EINVAL);
  CHECK_OK(fj_run_jobs(sys, NULL, 0, FJ_PRIORITY_NORMAL, c));
  fj_job bad[2] = {{nop, NULL}, {NULL, NULL}};
  CHECK_EQ(fj_run_jobs(sys, bad, 2, FJ_PRIORITY_NORMAL, c), FJ_EINVAL);
  CHECK_EQ(fj_counter_value(c), 0); /* nothing submitted on error */
  CHECK_EQ(fj_wait(NULL, c), FJ_EINVAL);
  CHECK_EQ(fj_wait(sys, NULL), FJ_EINVAL);
  CHECK_EQ(fj_wait(sys, oc), FJ_EWRONGSYSTEM);
  CHECK_EQ(fj_wait_timeout(sys, NULL, 1), FJ_EINVAL);
  CHECK_EQ(fj_system_stats(NULL, NULL), FJ_EINVAL);
  CHECK_EQ(fj_system_num_workers(NULL), 0);
  CHECK_EQ(fj_system_num_workers(sys), 2);
  CHECK_EQ(fj_counter_value(NULL), 0);
  fj_counter_destroy(NULL);
  CHECK_EQ(fj_ctx_spawn(NULL, nop, NULL, FJ_PRIORITY_NORMAL, NULL), FJ_EINVAL);
  CHECK_EQ(fj_ctx_wait(NULL, c), FJ_EINVAL);
  CHECK_EQ(fj_ctx_worker(NULL), 0);
  CHECK(fj_ctx_system(NULL) == NULL);
  CHECK_EQ(fj_ctx_priority(NULL), FJ_PRIORITY_NORMAL);
  CHECK(fj_current_ctx() == NULL);

  in_job_arg a = {sys, other, oc};
  CHECK_OK(fj_run(sys, in_job, &a, FJ_PRIORITY_HIGH, c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(fj_counter_value(c), 0);

  fj_counter_destroy(oc);
  fj_counter_destroy(c);
  fj_system_destroy(other);
  fj_system_destroy(sys);
}

static void strerror_table(void) {
  static const int codes[] = {FJ_OK,       FJ_EINVAL,    FJ_EPRIORITY, FJ_ECONFIG,
                              FJ_ENOMEM,   FJ_ESHUTDOWN, FJ_ETIMEDOUT, FJ_EOVERFLOW,
                              FJ_EWRONGSYSTEM, FJ_EINJOB, FJ_ETHREAD, FJ_ENOTINJOB};
  enum { N = sizeof codes / sizeof codes[0] };
  for (int i = 0; i < N; i++) {
    const char *m = fj_strerror(codes[i]);
    CHECK(m != NULL && strlen(m) > 3);
    for (int j = 0; j < i; j++)
      CHECK(strcmp(m, fj_strerror(codes[j])) != 0);
  }
  const char *unknown = fj_strerror(-12345);
  CHECK(unknown != NULL && strlen(unknown) > 0);
  CHECK(fj_strerror(77) != NULL);
}

/* Destroying a counter that jobs still hold must abort with a message. */
static void hold_forever(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  for (;;)
    pause();
}

static void busy_destroy_child_held(void) {
  fj_system *sys = test_system(1, 1);
  fj_counter *c = test_counter(sys);
  CHECK_OK(fj_run(sys, hold_forever, NULL, FJ_PRIORITY_NORMAL, c));
  fj_counter_destroy(c); /* the job still holds c */
  _exit(0);                /* not reached */
}

/* Calling destroy from inside one of the system's jobs must abort. */
static void destroy_in_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_system_destroy(fj_ctx_system(ctx));
}

static void destroy_in_job_child(void) {
  fj_system *sys = test_system(1, 1);
  fj_counter *c = test_counter(sys);
  CHECK_OK(fj_run(sys, destroy_in_job, NULL, FJ_PRIORITY_NORMAL, c));
  fj_wait(sys, c);
  _exit(0);
}

int main(void) {
  api_errors();
  strerror_table();
  static char err[4096];
  int status = test_run_child(busy_destroy_child_held, err, sizeof err);
  fprintf(stderr, "busy-destroy child said: %s", err);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
  CHECK(strstr(err, "fiberjob") != NULL);
  status = test_run_child(destroy_in_job_child, err, sizeof err);
  fprintf(stderr, "destroy-in-job child said: %s", err);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
  CHECK(strstr(err, "fiberjob") != NULL);
  puts("test_bad_input: ok");
  return 0;
}
