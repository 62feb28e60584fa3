/* SPDX-License-Identifier: MIT */
/*
 * test_dump: fj_system_dump shows a parked fiber and a yielded one with
 * their jobs' names, counters and call stacks down to static functions of
 * this program (built with -g, not -rdynamic), and rejects NULL arguments.
 *
 * One worker makes the picture deterministic: two "yielder" jobs take turns
 * (at any moment one of them is suspended after a yield), and a "waiter"
 * job, submitted after them, parks on their counter.
 */
#include <stdatomic.h>
#include <string.h>

#include "check.h"

static atomic_int stop, finished, hold;

/* While `hold` is set the running yielder spins instead of yielding, so
 * nothing resumes and the picture stands still for the dump. */
__attribute__((noinline)) static void yield_loop(fj_ctx *ctx) {
  while (!atomic_load(&stop))
    if (!atomic_load(&hold))
      fj_ctx_yield(ctx);
}

static void yielder_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  yield_loop(ctx);
  atomic_fetch_add(&finished, 1); /* not a tail call: keeps this frame */
}

__attribute__((noinline)) static void deep_wait(fj_ctx *ctx, fj_counter *gate) {
  CHECK_OK(fj_ctx_wait(ctx, gate));
}

static void waiter_job(fj_ctx *ctx, void *arg) {
  fj_ctx_set_name(ctx, "the waiter");
  deep_wait(ctx, arg);
  atomic_fetch_add(&finished, 1);
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

int main(void) {
  /* Known gap: under meson's valgrind setup this test has twice spun
   * without end (never when valgrind was run by hand); until that is
   * understood it runs natively and under ASan, TSan and qemu only. */
  if (getenv("FJ_UNDER_VALGRIND")) {
    puts("test_dump: skipped under valgrind");
    return 77;
  }
  CHECK_EQ(fj_system_dump(NULL, stdout), FJ_EINVAL);
  fj_system *sys = test_system(1, 1);
  CHECK_EQ(fj_system_dump(sys, NULL), FJ_EINVAL);

  fj_counter *gate = test_counter(sys), *done = test_counter(sys);
  fj_job yielders[2] = {{yielder_job, NULL}, {yielder_job, NULL}};
  CHECK_OK(fj_run_jobs(sys, yielders, 2, FJ_PRIORITY_NORMAL, gate));
  CHECK_OK(fj_run(sys, waiter_job, gate, FJ_PRIORITY_NORMAL, done));

  /* Until the waiter has parked (by then both yielders have started; a
   * dump taken earlier is still valid, just not the picture this test
   * checks).  Then the yielders hold still, so a dump reads them whole: one
   * that marks a fiber it saw resume while reading it may come only before
   * the hold took effect.  Without the hold, under valgrind, whose
   * serialised threads let the yielders run through every read, a whole
   * read of a yielder could take forever. */
  char *text = NULL;
  for (;;) {
    free(text);
    text = dump_to_string(sys);
    if (strstr(text, "parked on"))
      break;
  }
  atomic_store(&hold, 1);
  for (;;) {
    free(text);
    text = dump_to_string(sys);
    if (strstr(text, "parked on") && strstr(text, "ready after a yield") &&
        !strstr(text, "[resumed while being read]"))
      break;
  }
  expect(text, "fiberjob dump: 1 worker");
  expect(text, "job \"the waiter\" (priority normal), parked on counter");
  expect(text, "(value 2, 1 waiter)");
  expect(text, "(priority normal), ready after a yield");
  expect(text, "#0 fj_ctx_yield");
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
  fputs(text, stdout);
  free(text);

  atomic_store(&stop, 1);
  atomic_store(&hold, 0);
  CHECK_OK(fj_wait(sys, done));
  CHECK_EQ(atomic_load(&finished), 3);
  fj_stats st;
  CHECK_OK(fj_system_stats(sys, &st));
  CHECK(st.stack_high_water > 0);
  CHECK(st.stack_high_water <= 64 * 1024);
  fj_system_destroy(sys);
  fj_counter_destroy(gate);
  fj_counter_destroy(done);
  return 0;
}
