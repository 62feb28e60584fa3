/* SPDX-License-Identifier: MIT */
/* A fiber that overflows its stack ends the process with a message naming
 * the stack size; faults that are not ours still reach the program's own
 * SIGSEGV handler.  Both run in child processes. */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile char sink;
static volatile int depth_limit = 1 << 30; /* never reached: the stack ends first */

static int recurse(int depth) {
  volatile char frame[256];
  frame[0] = (char)depth;
  sink = frame[0];
  if (depth >= depth_limit)
    return 0;
  return depth + recurse(depth + 1) + frame[0]; /* not a tail call */
}

static void overflow_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_ctx_set_name(ctx, "deep recursion"); /* the message names the job */
  recurse(0);
}

static void overflow_child(void) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = 2;
  cfg.stack_size = 64 * 1024;
  fj_system *sys;
  CHECK_OK(fj_system_create(&cfg, &sys));
  fj_counter *c = test_counter(sys);
  CHECK_OK(fj_run(sys, overflow_job, NULL, FJ_PRIORITY_NORMAL, c));
  fj_wait(sys, c);
  _exit(0); /* not reached */
}

static void on_segv(int sig) {
  (void)sig;
  static const char msg[] = "program handler ran\n";
  write(2, msg, sizeof msg - 1);
  _exit(42);
}

/* A fault outside any fiber stack, with the program's handler installed
 * before the system (which installs its own) is created. */
static void chain_child(void) {
  signal(SIGSEGV, on_segv);
  fj_system *sys = test_system(1, 1);
  (void)sys;
  static volatile uintptr_t bad_address = 16;
  *(volatile int *)bad_address = 1;
  _exit(0);
}

int main(void) {
  if (getenv("FJ_UNDER_VALGRIND")) {
    /* valgrind reports the deliberate faults itself (and exits 1). */
    puts("test_overflow: skipped under valgrind");
    return 77;
  }
  static char err[8192];
  int status = test_run_child(overflow_child, err, sizeof err);
  fprintf(stderr, "overflow child said: %s", err);
  CHECK(WIFSIGNALED(status));
  CHECK_EQ(WTERMSIG(status), SIGABRT);
  CHECK(strstr(err, "fiber stack overflow") != NULL);
  CHECK(strstr(err, "65536") != NULL);
  CHECK(strstr(err, "fiber stack overflow: job 'deep recursion' ran past") != NULL);

  status = test_run_child(chain_child, err, sizeof err);
  CHECK(WIFEXITED(status));
  CHECK_EQ(WEXITSTATUS(status), 42);
  CHECK(strstr(err, "program handler ran") != NULL);
  CHECK(strstr(err, "fiber stack overflow") == NULL);
  puts("test_overflow: ok");
  return 0;
}
