/* SPDX-License-Identifier: MIT */
/*
 * test_dump: fj_system_dump shows a parked fiber and a yielded one with
 * their jobs' names, counters and call stacks down to static functions of
 * this program (built with -g, not -rdynamic), and rejects NULL arguments.
 *
 * One worker makes the picture deterministic: two "yielder" jobs take turns
 * (at any moment one of them is suspended after a yield), and a "waiter"
 * job, submitted after them, parks on their counter.  The yielder that runs
 * after the waiter has parked holds the worker still, blocked on a
 * semaphore, and the main thread takes one dump meanwhile: nothing can move
 * during it, so it must be whole.
 *
 * No thread spins without system calls while another must make progress.
 * valgrind runs one thread at a time; a thread that makes no blocking
 * system call gives the core up only at the end of its time slice and
 * takes it straight back unless the waiting thread is on a CPU at that
 * instant, which on a loaded machine it seldom is.  So the main thread
 * waits on a semaphore rather than polling dumps, the held yielder blocks
 * rather than spins, and the yielders make a system call every turn.
 *
 * The case runs in a child process under an alarm: a hang fails the test.
 */
#include <errno.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "check.h"

/* The picture comes within seconds even under valgrind; if it has not
 * come by then, the dump at that point shows why.  The alarm ends the
 * case if anything else hangs. */
enum { PICTURE_TIMEOUT_S = 120, CASE_TIMEOUT_S = 240 };

static atomic_int stop, finished, waiter_started, held;
static sem_t picture_ready, release_hold;

static void sem_wait_fully(sem_t *s) {
  while (sem_wait(s) != 0)
    ; /* EINTR */
}

/* One worker: a yielder that runs after the waiter began its wait runs
 * because the waiter parked (the yielders started before it: FIFO), and
 * the other yielder is suspended after a yield.  The first such yielder
 * holds the worker until the dump is taken. */
__attribute__((noinline)) static void yield_loop(fj_ctx *ctx) {
  while (!atomic_load(&stop)) {
    if (atomic_load(&waiter_started) && !atomic_exchange(&held, 1)) {
      CHECK(sem_post(&picture_ready) == 0);
      sem_wait_fully(&release_hold); /* the worker thread blocks here */
      continue;
    }
    fj_ctx_yield(ctx);
    /* A system call per turn (one that valgrind lets other threads run
     * across): the main thread still has the waiter to submit. */
    sched_yield();
  }
}

static void yielder_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  yield_loop(ctx);
  atomic_fetch_add(&finished, 1); /* not a tail call: keeps this frame */
}

__attribute__((noinline)) static void deep_wait(fj_ctx *ctx, fj_counter *gate) {
  atomic_store(&waiter_started, 1);
  CHECK_OK(fj_ctx_wait(ctx, gate));
}

static void waiter_job(fj_ctx *ctx, void *arg) {
  fj_ctx_set_name(ctx, "the waiter");
  deep_wait(ctx, arg);
  atomic_fetch_add(&finished, 1);
}

/* Waits until a yielder holds the worker, or fails with a dump. */
static void wait_for_picture(fj_system *sys) {
  struct timespec deadline;
  CHECK(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
  deadline.tv_sec += PICTURE_TIMEOUT_S;
  while (sem_timedwait(&picture_ready, &deadline) != 0) {
    CHECK(errno == EINTR || errno == ETIMEDOUT);
    if (errno == ETIMEDOUT) {
      fprintf(stderr, "no yielder held the worker within %d s; the system now:\n",
              PICTURE_TIMEOUT_S);
      fj_system_dump(sys, stderr);
      exit(1);
    }
  }
}

static char *dump_to_string(fj_system *sys) {
  FILE *f = tmpfile();
  CHECK(f != NULL);
  CHECK_OK(fj_system_dump(sys, f));
  long len = ftell(f);
  CHECK(len > 0);
  char *text = calloc(1, (size_t)len + 1);
  CHECK(text != NULL);
  rewind(f);
  CHECK(fread(text, 1, (size_t)len, f) == (size_t)len);
  fclose(f);
  return text;
}

static void expect(const char *text, const char *needle) {
  if (!strstr(text, needle)) {
    fprintf(stderr, "dump lacks \"%s\":\n%s\n", needle, text);
    exit(1);
  }
}

static void check_picture(const char *text) {
  expect(text, "fiberjob dump: 1 worker");
  expect(text, "job \"the waiter\" (priority normal), parked on counter");
  expect(text, "(value 2, 1 waiter)");
  expect(text, "(priority normal), ready after a yield");
  expect(text, "#0 fj_ctx_yield");
  if (strstr(text, "[resumed while being read]")) {
    fprintf(stderr, "dump of a worker held still is marked torn:\n%s\n", text);
    exit(1);
  }
#if FJ_TEST_BACKTRACE
  /* Names from symbols, and call stacks (libdw on x86-64 and aarch64). */
  expect(text, "worker 0: running job \"yielder_job\"");
  expect(text, "job \"yielder_job\" (priority normal), ready after a yield");
  expect(text, "deep_wait (test_dump.c:");
  expect(text, "waiter_job (test_dump.c:");
  expect(text, "yield_loop (test_dump.c:");
  expect(text, "yielder_job (test_dump.c:");
  /* The job's frames come in order: deep_wait above waiter_job. */
  CHECK(strstr(text, "deep_wait (") < strstr(text, "waiter_job (test_dump.c:"));
  /* The walk ends at the job's entry: no frame guessed past the start of
   * the context (aarch64's libdw once added one inside make_fcontext). */
  CHECK(strstr(text, "make_fcontext") == NULL);
#else
  /* Without libdw: named by the function's address. */
  char by_addr[64];
  snprintf(by_addr, sizeof by_addr, "running job \"0x%lx\"", (unsigned long)(uintptr_t)yielder_job);
  expect(text, by_addr);
  snprintf(by_addr, sizeof by_addr, "job \"0x%lx\" (priority normal), ready after a yield",
           (unsigned long)(uintptr_t)yielder_job);
  expect(text, by_addr);
  expect(text, "(no frames of its own");
#endif
}

static void parked_and_yielded(void) {
  alarm(CASE_TIMEOUT_S); /* a hang is a failure (SIGALRM kills the child) */
  CHECK(sem_init(&picture_ready, 0, 0) == 0);
  CHECK(sem_init(&release_hold, 0, 0) == 0);
  fj_system *sys = test_system(1, 1);
  CHECK_EQ(fj_system_dump(sys, NULL), FJ_EINVAL);

  fj_counter *gate = test_counter(sys), *done = test_counter(sys);
  fj_job yielders[2] = {{yielder_job, NULL}, {yielder_job, NULL}};
  CHECK_OK(fj_run_jobs(sys, yielders, 2, FJ_PRIORITY_NORMAL, gate));
  CHECK_OK(fj_run(sys, waiter_job, gate, FJ_PRIORITY_NORMAL, done));

  wait_for_picture(sys); /* the waiter parked; the worker is held */
  char *text = dump_to_string(sys);
  check_picture(text);
  fputs(text, stdout);
  free(text);

  atomic_store(&stop, 1);
  CHECK(sem_post(&release_hold) == 0);
  CHECK_OK(fj_wait(sys, done));
  CHECK_EQ(atomic_load(&finished), 3);
  fj_stats st;
  CHECK_OK(fj_system_stats(sys, &st));
  CHECK(st.stack_high_water > 0);
  CHECK(st.stack_high_water <= 64 * 1024);
  fj_system_destroy(sys);
  fj_counter_destroy(gate);
  fj_counter_destroy(done);
  fflush(stdout);
}

int main(void) {
  CHECK_EQ(fj_system_dump(NULL, stdout), FJ_EINVAL);
  char err[16384];
  int status = test_run_child(parked_and_yielded, err, sizeof err);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "case parked_and_yielded failed (%s %d):\n%s\n",
            WIFSIGNALED(status) ? "signal" : "exit",
            WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), err);
    return 1;
  }
  fputs(err, stderr);
  puts("test_dump: ok");
  return 0;
}
