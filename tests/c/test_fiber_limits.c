/* SPDX-License-Identifier: MIT */
/*
 * Self-waits and running out of fibers (issue 8, C core):
 *   - a job waiting on the counter that counts it gets FJ_EDEADLK at once
 *     (fj_ctx_wait and fj_wait, fibers on and off); other waits still work;
 *   - 40,000 jobs that yield once on one worker make a handful of fibers
 *     and no yield fails;
 *   - 40,000 NORMAL jobs waiting on a gate that one LOW job opens, on one
 *     worker, all finish although fiber stacks run out (the kernel's
 *     mapping limit allows about 32,700); again with the mapping limit
 *     nearly used up beforehand, so that a few fibers can be made and the
 *     fallback is exercised at any test scale;
 *   - with fibers run out and new jobs queued, a yield carries on instead
 *     of failing (fj_stats.yields_inline).
 * Every case runs in a child process under an alarm: a regression that
 * hangs fails the test instead of stalling the suite.
 */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

enum { CASE_TIMEOUT_S = 240 };

/* When the cases below use up the mapping limit, malloc fails too; the
 * library copes with NULL, but the sanitizers' allocators abort unless told
 * to return it. */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
#endif
/* TSan's runtime cannot live without mappings of its own (it aborts when an
 * munmap needs to split one): under TSan the cases that use up the limit
 * are skipped; a fiber budget (fj_config.max_fibers) will let them run
 * there without touching the kernel's limit. */
#if defined(__SANITIZE_THREAD__)
#define CAN_USE_UP_MAPPINGS 0
#else
#define CAN_USE_UP_MAPPINGS 1
#endif

/* Mappings left free when a case makes fibers run out on purpose: a fiber
 * takes two.  The sanitizer runtimes map memory of their own as they go,
 * so they get more room. */
#define FEW_MAPS (SANITIZED ? 20000L : 600L)

/* ---- self-wait --------------------------------------------------------- */

typedef struct {
  fj_system *sys;
  fj_counter *own, *other;
  atomic_int checked;
} self_arg;

static void quick_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
}

static void self_waiter(fj_ctx *ctx, void *p) {
  self_arg *a = p;
  CHECK_EQ(fj_ctx_wait(ctx, a->own), FJ_EDEADLK);
  CHECK_EQ(fj_wait(a->sys, a->own), FJ_EDEADLK);
  /* A different counter is an ordinary wait. */
  CHECK_OK(fj_ctx_spawn(ctx, quick_job, NULL, FJ_PRIORITY_NORMAL, a->other));
  CHECK_OK(fj_ctx_wait(ctx, a->other));
  CHECK_EQ(fj_counter_value(a->other), 0);
  atomic_fetch_add(&a->checked, 1);
}

/* Spawns a child and waits for it (a parked fiber). */
static void self_waiter_free_child(fj_ctx *ctx, void *p) {
  (void)p;
  fj_counter *c;
  CHECK_OK(fj_counter_create(fj_ctx_system(ctx), &c));
  CHECK_OK(fj_ctx_spawn(ctx, quick_job, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_ctx_wait(ctx, c));
  fj_counter_destroy(c);
}

/* A spawned child's ctx carries the child's own counter (`other`), not
 * its parent's. */
static void child_self_waiter(fj_ctx *ctx, void *p) {
  self_arg *a = p;
  CHECK_EQ(fj_ctx_wait(ctx, a->other), FJ_EDEADLK);
  atomic_fetch_add(&a->checked, 1);
}

static void parent_of_self_waiter(fj_ctx *ctx, void *p) {
  self_arg *a = p;
  CHECK_OK(fj_ctx_spawn(ctx, child_self_waiter, a, FJ_PRIORITY_HIGH, a->other));
  CHECK_OK(fj_ctx_wait(ctx, a->other));
}

static void self_wait_with(unsigned workers, int yielding) {
  fj_system *sys = test_system(workers, yielding);
  self_arg a = {.sys = sys, .own = test_counter(sys), .other = test_counter(sys)};
  atomic_init(&a.checked, 0);
  CHECK_OK(fj_run(sys, self_waiter, &a, FJ_PRIORITY_NORMAL, a.own));
  CHECK_OK(fj_wait(sys, a.own));
  CHECK_EQ(atomic_load(&a.checked), 1);
  fj_counter *outer = test_counter(sys);
  CHECK_OK(fj_run(sys, parent_of_self_waiter, &a, FJ_PRIORITY_LOW, outer));
  CHECK_OK(fj_wait(sys, outer));
  CHECK_EQ(atomic_load(&a.checked), 2);
  fj_system_destroy(sys); /* must not hang either */
  fj_counter_destroy(outer);
  fj_counter_destroy(a.own);
  fj_counter_destroy(a.other);
}

static void self_wait(void) { FOR_EACH_SETUP(self_wait_with); }

/* ---- one-yield jobs ---------------------------------------------------- */

static atomic_long yield_failures, yield_jobs_done;

static void yield_once(fj_ctx *ctx, void *arg) {
  (void)arg;
  if (fj_ctx_yield(ctx) != FJ_OK)
    atomic_fetch_add(&yield_failures, 1);
  atomic_fetch_add(&yield_jobs_done, 1);
}

static void one_yield_jobs(void) {
  long n = test_scaled(40000);
  fj_system *sys = test_system(1, 1);
  fj_counter *c = test_counter(sys);
  fj_job *jobs = malloc((size_t)n * sizeof *jobs);
  CHECK(jobs != NULL);
  for (long i = 0; i < n; i++)
    jobs[i] = (fj_job){yield_once, NULL};
  CHECK_OK(fj_run_jobs(sys, jobs, (size_t)n, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  fj_stats st;
  CHECK_OK(fj_system_stats(sys, &st));
  printf("%ld one-yield jobs: %llu fibers made, %llu yields switched, %llu inline\n", n,
         (unsigned long long)st.fibers_created, (unsigned long long)st.yields,
         (unsigned long long)st.yields_inline);
  CHECK_EQ(atomic_load(&yield_jobs_done), n);
  CHECK_EQ(atomic_load(&yield_failures), 0);
  CHECK_EQ(st.jobs_run, n);
  /* Yielded jobs and new ones alternate: a handful of fibers, not one per
   * job (before, 32,737 were made and then yields failed). */
  CHECK(st.fibers_created <= 16);
  CHECK(st.yields >= (uint64_t)n / 2); /* they did take turns */
  CHECK_EQ(st.yields_inline, 0);        /* fibers never ran out */
  free(jobs);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* ---- gate waiters ------------------------------------------------------ */

typedef struct {
  fj_counter *gate;
  atomic_long passed, failed_yields, failed_waits;
} gate_arg;

/* Yields once (while fibers may be exhausted: must not fail), then waits
 * for the gate. */
static void gate_waiter(fj_ctx *ctx, void *p) {
  gate_arg *a = p;
  if (fj_ctx_yield(ctx) != FJ_OK)
    atomic_fetch_add(&a->failed_yields, 1);
  int r = fj_ctx_wait(ctx, a->gate);
  if (r != FJ_OK) {
    atomic_fetch_add(&a->failed_waits, 1);
    return;
  }
  CHECK_EQ(fj_counter_value(a->gate), 0);
  atomic_fetch_add(&a->passed, 1);
}

/* Holds the only worker until everything is queued, so that the order of
 * submission cannot decide what runs first. */
static void hold_worker(fj_ctx *ctx, void *p) {
  (void)ctx;
  while (!atomic_load((atomic_int *)p))
    usleep(100);
}

/* The gate: the counter that counts this LOW job opens when it returns. */
static void gate_opener(fj_ctx *ctx, void *p) {
  (void)ctx;
  (void)p;
}

/* Leaves about `maps` free entries of the process's mapping limit by
 * mapping single pages of alternating protection (so neighbours never
 * merge) until the kernel refuses, then unmapping `maps` of them.  The
 * pages stay mapped until the child exits. */
static void use_up_mappings(long maps) {
  long page = sysconf(_SC_PAGESIZE);
  size_t cap = 1 << 20;
  char **held = malloc(cap * sizeof *held);
  CHECK(held != NULL);
  size_t n = 0;
  while (n < cap) {
    char *p = mmap(NULL, (size_t)page, n % 2 ? PROT_NONE : PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      break;
    held[n++] = p;
  }
  CHECK(n > (size_t)maps);
  for (long i = 0; i < maps; i++)
    CHECK(munmap(held[--n], (size_t)page) == 0);
  free(held); /* the pages themselves stay mapped */
}

/* Runs one job that waits for a child, so the worker thread has made
 * every allocation of its start-up (and the sanitizers theirs) before the
 * mappings are used up. */
static void warm_up(fj_system *sys) {
  fj_counter *c = test_counter(sys);
  CHECK_OK(fj_run(sys, self_waiter_free_child, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  fj_counter_destroy(c);
}

static void gate_waiters(long n, long free_maps) {
  fj_system *sys = test_system(1, 1);
  warm_up(sys);
  fj_stats before;
  CHECK_OK(fj_system_stats(sys, &before));
  gate_arg a = {.gate = test_counter(sys)};
  atomic_init(&a.passed, 0);
  atomic_init(&a.failed_yields, 0);
  atomic_init(&a.failed_waits, 0);
  fj_counter *all = test_counter(sys);
  fj_job *jobs = malloc((size_t)n * sizeof *jobs);
  CHECK(jobs != NULL);
  for (long i = 0; i < n; i++)
    jobs[i] = (fj_job){gate_waiter, &a};
  if (free_maps > 0)
    use_up_mappings(free_maps);
  /* The opener is queued first, yet strict priorities keep it behind every
   * NORMAL waiter: only the out-of-fibers path can reach it. */
  atomic_int queued = 0;
  CHECK_OK(fj_run(sys, hold_worker, &queued, FJ_PRIORITY_HIGH, NULL));
  CHECK_OK(fj_run(sys, gate_opener, NULL, FJ_PRIORITY_LOW, a.gate));
  CHECK_OK(fj_run_jobs(sys, jobs, (size_t)n, FJ_PRIORITY_NORMAL, all));
  atomic_store(&queued, 1);
  CHECK_OK(fj_wait(sys, all));
  CHECK_OK(fj_wait(sys, a.gate));
  fj_stats st;
  CHECK_OK(fj_system_stats(sys, &st));
  printf("%ld gate waiters (%ld free mappings): %llu fibers made, %llu parked, "
         "%llu waits inline, %llu yields inline\n",
         n, free_maps, (unsigned long long)st.fibers_created,
         (unsigned long long)st.waits_suspended, (unsigned long long)st.waits_inline,
         (unsigned long long)st.yields_inline);
  CHECK_EQ(atomic_load(&a.failed_yields), 0);
  CHECK_EQ(atomic_load(&a.failed_waits), 0);
  CHECK_EQ(atomic_load(&a.passed), n);
  CHECK_EQ(st.jobs_run - before.jobs_run, n + 2); /* and the holder and the opener */
  if ((long)st.fibers_created < n) /* fibers ran out before the gate opened */
    CHECK(st.waits_inline >= 1);
  free(jobs);
  fj_system_destroy(sys);
  fj_counter_destroy(all);
  fj_counter_destroy(a.gate);
}

/* Once fibers have run out (a wait fell back to running jobs inline), a
 * parker yields instead of waiting: new jobs are queued and none can get a
 * fiber, so the yield must carry on rather than fail. */
static void parker_or_yielder(fj_ctx *ctx, void *p) {
  gate_arg *a = p;
  fj_stats st;
  CHECK_OK(fj_system_stats(fj_ctx_system(ctx), &st));
  if (st.waits_inline == 0) {
    if (fj_ctx_wait(ctx, a->gate) != FJ_OK)
      atomic_fetch_add(&a->failed_waits, 1);
    return;
  }
  if (fj_ctx_yield(ctx) != FJ_OK)
    atomic_fetch_add(&a->failed_yields, 1);
  atomic_fetch_add(&a->passed, 1);
}

static void yield_without_fibers(void) {
  if (!CAN_USE_UP_MAPPINGS || getenv("FJ_UNDER_VALGRIND"))
    return;
  long n = 2 * FEW_MAPS + 300; /* well past the FEW_MAPS / 2 fibers they allow */
  fj_system *sys = test_system(1, 1);
  warm_up(sys);
  gate_arg a = {.gate = test_counter(sys)};
  atomic_init(&a.passed, 0);
  atomic_init(&a.failed_yields, 0);
  atomic_init(&a.failed_waits, 0);
  fj_counter *all = test_counter(sys);
  fj_job *jobs = malloc((size_t)(n + 1) * sizeof *jobs);
  CHECK(jobs != NULL);
  for (long i = 0; i < n; i++)
    jobs[i] = (fj_job){parker_or_yielder, &a};
  use_up_mappings(FEW_MAPS);
  atomic_int queued = 0;
  CHECK_OK(fj_run(sys, hold_worker, &queued, FJ_PRIORITY_HIGH, NULL));
  CHECK_OK(fj_run_jobs(sys, jobs, (size_t)n, FJ_PRIORITY_NORMAL, all));
  /* The gate opens after all of them (FIFO within a priority). */
  CHECK_OK(fj_run(sys, gate_opener, NULL, FJ_PRIORITY_NORMAL, a.gate));
  atomic_store(&queued, 1);
  CHECK_OK(fj_wait(sys, all));
  fj_stats st;
  CHECK_OK(fj_system_stats(sys, &st));
  printf("%ld parkers then yielders: %llu fibers made, %llu parked, %llu waits inline, "
         "%llu yields inline\n",
         n, (unsigned long long)st.fibers_created, (unsigned long long)st.waits_suspended,
         (unsigned long long)st.waits_inline, (unsigned long long)st.yields_inline);
  CHECK_EQ(atomic_load(&a.failed_yields), 0);
  CHECK_EQ(atomic_load(&a.failed_waits), 0);
  CHECK(st.waits_inline >= 1);
  CHECK(atomic_load(&a.passed) >= 1);          /* some yielded under exhaustion */
  CHECK(st.yields_inline >= (uint64_t)atomic_load(&a.passed) - 1); /* all but maybe the last */
  free(jobs);
  fj_system_destroy(sys);
  fj_counter_destroy(all);
  fj_counter_destroy(a.gate);
}

/* As the issue reported it: 40,000 waiters, the kernel's limit on
 * mappings (about 32,700 fibers) is what runs out.  Only unscaled, plain
 * runs map that many stacks. */
static void gate_waiters_natural(void) {
  if (SANITIZED || test_scaled(2) != 2 || getenv("FJ_UNDER_VALGRIND"))
    return;
  gate_waiters(40000, 0);
}

/* Room for FEW_MAPS mappings, so fibers run out after a few hundred (or
 * thousand) waiters, in every build. */
static void gate_waiters_few_fibers(void) {
  if (!CAN_USE_UP_MAPPINGS || getenv("FJ_UNDER_VALGRIND"))
    return; /* valgrind keeps its own map of the address space */
  gate_waiters(2 * FEW_MAPS, FEW_MAPS);
}

/* ---- driver ------------------------------------------------------------ */

static void run_case(const char *name, void (*fn)(void)) {
  char out[8192];
  int status = test_run_child(fn, out, sizeof out);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "case %s failed (%s %d):\n%s\n", name,
            WIFSIGNALED(status) ? "signal" : "exit",
            WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), out);
    exit(1);
  }
  fputs(out, stderr);
  printf("case %s: ok\n", name);
  fflush(stdout);
}

static void with_alarm(void (*fn)(void)) {
  alarm(CASE_TIMEOUT_S); /* a hang is a failure (SIGALRM kills the child) */
  fn();
  fflush(stdout);
}

static void case_self_wait(void) { with_alarm(self_wait); }
static void case_one_yield(void) { with_alarm(one_yield_jobs); }
static void case_gate_natural(void) { with_alarm(gate_waiters_natural); }
static void case_gate_few(void) { with_alarm(gate_waiters_few_fibers); }
static void case_yield_few(void) { with_alarm(yield_without_fibers); }

int main(void) {
  run_case("self_wait", case_self_wait);
  run_case("one_yield_jobs", case_one_yield);
  run_case("gate_waiters_few_fibers", case_gate_few);
  run_case("yield_without_fibers", case_yield_few);
  run_case("gate_waiters_40000", case_gate_natural);
  puts("test_fiber_limits: ok");
  return 0;
}
