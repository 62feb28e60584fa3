/* SPDX-License-Identifier: MIT */
/*
 * test_stall: with stall_report_ms set, a wait cycle between two jobs is
 * reported as a deadlock naming both jobs and counters; a thread waiting on
 * a job that never returns is reported as a stall naming that job; the next
 * report comes only after progress and a new stall; and a system that keeps
 * progressing while fibers park reports nothing.
 *
 * Each case runs in a child process whose stderr the parent reads.  The
 * deadlocked children never finish: the parent kills them once it has read
 * what it checks.  Nothing here depends on how fast the report comes.
 */
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>

#include "check.h"

static fj_system *stall_system(unsigned workers, uint32_t ms) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = workers;
  cfg.stall_report_ms = ms;
  fj_system *sys = NULL;
  CHECK_OK(fj_system_create(&cfg, &sys));
  return sys;
}

/* ---- a two-job cycle ---------------------------------------------------- */

static fj_counter *counter_a, *counter_b;
static atomic_int returned;

static void job_b(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_ctx_set_name(ctx, "job_b");
  fj_ctx_wait(ctx, counter_a);
  atomic_fetch_add(&returned, 1);
}

/* job_a starts job_b itself: counter_a holds job_a before job_b exists, and
 * counter_b holds job_b before job_a waits, so the cycle forms however the
 * threads are scheduled.  (Submitting both from the main thread let a worker
 * finish job_a's wait on a still-empty counter_b before job_b was submitted
 * when the main thread was preempted; seen under qemu on a loaded machine.) */
static void job_a(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_ctx_set_name(ctx, "job_a"); /* named without symbols too (no libdw) */
  CHECK_OK(fj_ctx_spawn(ctx, job_b, NULL, FJ_PRIORITY_HIGH, counter_b));
  fj_ctx_wait(ctx, counter_b);
  atomic_fetch_add(&returned, 1); /* keeps the wait from being a tail call */
}

static void cycle_child(void) {
  fj_system *sys = stall_system(2, 100);
  counter_a = test_counter(sys);
  counter_b = test_counter(sys);
  CHECK_OK(fj_run(sys, job_a, NULL, FJ_PRIORITY_NORMAL, counter_a));
  int r = fj_wait(sys, counter_a); /* never returns */
  fprintf(stderr, "cycle child: fj_wait returned %d (%s)\n", r, fj_strerror(r));
}

/* ---- a job that never returns ------------------------------------------ */

static atomic_int release_spinner;

static void on_usr1(int sig) {
  (void)sig;
  atomic_store(&release_spinner, 1);
}

/* The spinners make a system call every turn: under valgrind, which runs
 * one thread at a time, a thread that makes none hands the core over only
 * at the end of its time slice and takes it straight back unless the
 * monitor thread is on a CPU at that instant (on a loaded machine the
 * report could take minutes).  Still jobs that never return. */
static void spinner(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_ctx_set_name(ctx, "spinner");
  while (!atomic_load(&release_spinner))
    sched_yield();
}

static void second_spinner(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_ctx_set_name(ctx, "second_spinner");
  for (;;)
    sched_yield();
}

static void spin_child(void) {
  signal(SIGUSR1, on_usr1);
  fj_system *sys = stall_system(2, 100);
  fj_counter *c = test_counter(sys);
  CHECK_OK(fj_run(sys, spinner, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c)); /* returns once the parent sends SIGUSR1 */
  CHECK_OK(fj_run(sys, second_spinner, NULL, FJ_PRIORITY_NORMAL, c));
  fj_wait(sys, c); /* never returns */
}

/* ---- progress: no report ------------------------------------------------ */

static void child_leaf(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  usleep(1000);
}

static void parent_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_counter *c = test_counter(fj_ctx_system(ctx));
  for (int round = 0; round < 20; round++) {
    CHECK_OK(fj_ctx_spawn(ctx, child_leaf, NULL, FJ_PRIORITY_NORMAL, c));
    CHECK_OK(fj_ctx_spawn(ctx, child_leaf, NULL, FJ_PRIORITY_NORMAL, c));
    CHECK_OK(fj_ctx_wait(ctx, c));
  }
  fj_counter_destroy(c);
}

static void progress_child(void) {
  /* A generous threshold: a report here would need a 5 s stretch in which
   * no 1 ms job finished. */
  fj_system *sys = stall_system(2, 5000);
  fj_counter *c = test_counter(sys);
  for (int i = 0; i < 8; i++)
    CHECK_OK(fj_run(sys, parent_job, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  fj_system_destroy(sys);
  fj_counter_destroy(c);
}

/* ---- the parent's side -------------------------------------------------- */

typedef struct child {
  pid_t pid;
  int fd;
  char buf[1 << 16];
  size_t len;
} child;

static void child_start(child *ch, void (*fn)(void)) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  ch->len = 0;
  ch->buf[0] = 0;
  pid_t parent = getpid();
  ch->pid = fork();
  CHECK(ch->pid >= 0);
  if (ch->pid == 0) {
    /* A deadlocked child must not outlive a parent that failed a check (or
     * met its alarm): it would spin or sleep forever holding the test's
     * stdout open, and the harness would wait for it until its timeout. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(1); /* the parent died before prctl */
    dup2(fds[1], 2);
    close(fds[0]);
    fn();
    _exit(0);
  }
  close(fds[1]);
  ch->fd = fds[0];
}

/* Reads until `count` end markers arrived (or EOF); returns the count. */
static int child_read_reports(child *ch, int count) {
  for (;;) {
    int seen = 0;
    for (const char *p = ch->buf; (p = strstr(p, "end of stall report")); p++)
      seen++;
    if (seen >= count)
      return seen;
    ssize_t r = read(ch->fd, ch->buf + ch->len, sizeof ch->buf - 1 - ch->len);
    if (r <= 0)
      return seen;
    ch->len += (size_t)r;
    ch->buf[ch->len] = 0;
  }
}

/* child_read_reports that must see `count` reports; else shows what came. */
static void child_expect_reports(child *ch, int count) {
  int seen = child_read_reports(ch, count);
  if (seen != count) {
    fprintf(stderr, "expected %d stall reports, got %d; child's stderr:\n%s\n", count, seen,
            ch->buf);
    exit(1);
  }
}

static void child_kill(child *ch) {
  kill(ch->pid, SIGKILL);
  waitpid(ch->pid, NULL, 0);
  close(ch->fd);
}

static void expect(const char *text, const char *needle) {
  if (!strstr(text, needle)) {
    fprintf(stderr, "report lacks \"%s\":\n%s\n", needle, text);
    exit(1);
  }
}

static child ch;

int main(void) {
  alarm(120); /* a hang here is a failure, not a stuck CI */

  child_start(&ch, cycle_child);
  child_expect_reports(&ch, 1);
  expect(ch.buf, "fiberjob: stall report: no job started, finished or resumed for");
  /* Either job may come first in the cycle; job_b may also run nested in
   * job_a's wait (or the reverse), on the same fiber. */
  if (!strstr(ch.buf, "DEADLOCK: job \"job_a\" waits on counter"))
    expect(ch.buf, "DEADLOCK: job \"job_b\" waits on counter");
  if (!strstr(ch.buf, ", held by job \"job_b\", which waits on counter"))
    expect(ch.buf, ", held by job \"job_a\", which waits on counter");
  expect(ch.buf, "a thread in fj_wait waits on counter");
  expect(ch.buf, "fiberjob dump: 2 workers");
#if FJ_TEST_BACKTRACE
  expect(ch.buf, "job_a (test_stall.c:"); /* call stacks: libdw */
  expect(ch.buf, "job_b (test_stall.c:");
#endif
  child_kill(&ch);
  fputs(ch.buf, stdout);

  child_start(&ch, spin_child);
  child_expect_reports(&ch, 1);
  expect(ch.buf, "STALL: job \"spinner\" has run on worker");
  expect(ch.buf, "without returning");
  CHECK(strstr(ch.buf, "DEADLOCK") == NULL);
  kill(ch.pid, SIGUSR1); /* progress, then a new stall: a second report */
  child_expect_reports(&ch, 2);
  const char *second = strstr(strstr(ch.buf, "end of stall report") + 1, "stall report");
  CHECK(second != NULL);
  expect(second, "STALL: job \"second_spinner\" has run on worker");
  CHECK(strstr(second, "\"spinner\"") == NULL);
  child_kill(&ch);

  child_start(&ch, progress_child);
  child_expect_reports(&ch, 0); /* reads to EOF: the child exits */
  int status;
  CHECK(waitpid(ch.pid, &status, 0) == ch.pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_EQ(ch.len, 0); /* nothing at all on stderr */
  close(ch.fd);
  return 0;
}
