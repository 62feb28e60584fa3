/* SPDX-License-Identifier: MIT */
/* The fiber budget: with max_fibers = 64, 100,000 jobs that all wait on one
 * gate complete, the live fiber count never reads above 64 (sampled while
 * they run, and the recorded peak), and the times no fiber could be had are
 * counted.  Under an RLIMIT_AS low enough that stack mappings fail, the
 * same workload completes with the right sum or the submitter gets
 * FJ_ENOMEM, never a crash (in a child process).  With the budget equal to
 * the worker count and no pooling, a worker may find no fiber for its
 * scheduling loop at start-up and run it on its thread's stack; a ready
 * fiber it picks there then takes the loop over (found by the job-graph
 * fuzzer: it used to switch away from a NULL fiber). */
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "check.h"

static atomic_long sum;
static fj_counter *gate;
static atomic_int open_gate;

static void waiter(fj_ctx *ctx, void *arg) {
  CHECK_OK(fj_ctx_wait(ctx, gate));
  atomic_fetch_add(&sum, (long)arg);
}

/* Holds the gate counter above zero until the main thread opens it. */
static void gate_keeper(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  while (!atomic_load(&open_gate))
    usleep(200);
}

static void check_budget(const fj_stats *st, uint64_t max) {
  CHECK(st->fibers_live <= max);
  CHECK(st->fibers_peak <= max);
}

static void run_gate(unsigned workers, size_t max_fibers, long n) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = workers;
  cfg.max_fibers = max_fibers;
  fj_system *sys = NULL;
  CHECK_OK(fj_system_create(&cfg, &sys));
  gate = test_counter(sys);
  fj_counter *all = test_counter(sys);
  atomic_store(&sum, 0);
  atomic_store(&open_gate, 0);
  /* The keeper first, at HIGH: some worker holds it from the start. */
  CHECK_OK(fj_run(sys, gate_keeper, NULL, FJ_PRIORITY_HIGH, gate));
  for (long i = 0; i < n; i++)
    CHECK_OK(fj_run(sys, waiter, (void *)(i + 1), FJ_PRIORITY_NORMAL, all));
  /* Open only once the budget has been hit: waiters are then carrying on
   * without parking.  Sample the gauges all along. */
  fj_stats st;
  for (;;) {
    CHECK_OK(fj_system_stats(sys, &st));
    check_budget(&st, max_fibers);
    if (st.fiber_unavailable > 0 && st.fibers_peak == max_fibers)
      break;
    usleep(500);
  }
  atomic_store(&open_gate, 1);
  while (fj_counter_value(all) > 0) {
    CHECK_OK(fj_system_stats(sys, &st));
    check_budget(&st, max_fibers);
    usleep(200);
  }
  CHECK_OK(fj_wait(sys, all));
  CHECK_EQ(atomic_load(&sum), n * (n + 1) / 2);
  CHECK_OK(fj_system_stats(sys, &st));
  check_budget(&st, max_fibers);
  CHECK(st.fiber_unavailable > 0);
  CHECK_OK(fj_wait(sys, gate));
  fj_counter_destroy(all);
  fj_counter_destroy(gate);
  fj_system_destroy(sys);
}

/* ---- RLIMIT_AS --------------------------------------------------------- */

static size_t vm_size_bytes(void) {
  FILE *f = fopen("/proc/self/status", "r");
  CHECK(f != NULL);
  char line[256];
  size_t kb = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
      break;
  fclose(f);
  CHECK(kb > 0);
  return kb * 1024;
}

static void rlimit_child(void) {
  atomic_store(&sum, 0);
  atomic_store(&open_gate, 0);
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = 2;
  fj_system *sys = NULL;
  CHECK_OK(fj_system_create(&cfg, &sys));
  gate = test_counter(sys);
  fj_counter *all = test_counter(sys);
  /* Room for a few hundred fiber stacks (64 KiB + guard), not thousands. */
  struct rlimit rl = {.rlim_cur = vm_size_bytes() + 24u * 1024 * 1024,
                      .rlim_max = RLIM_INFINITY};
  CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
  void *probe = mmap(NULL, 64u * 1024 * 1024, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (probe != MAP_FAILED) { /* the limit is not enforced here (an emulator) */
    puts("RLIMIT_AS not enforced: skipped");
    _exit(0);
  }
  CHECK_OK(fj_run(sys, gate_keeper, NULL, FJ_PRIORITY_HIGH, gate));
  long n = test_scaled(20000), submitted = 0, expect = 0;
  int enomem = 0;
  for (long i = 0; i < n; i++) {
    int r = fj_run(sys, waiter, (void *)(i + 1), FJ_PRIORITY_NORMAL, all);
    if (r == FJ_ENOMEM) { /* acceptable: reported to the submitter */
      enomem++;
      continue;
    }
    CHECK_OK(r);
    submitted++;
    expect += i + 1;
  }
  fj_stats st;
  for (int tries = 0; tries < 20000; tries++) { /* until waiters run out of stacks */
    CHECK_OK(fj_system_stats(sys, &st));
    if (st.fiber_unavailable > 0)
      break;
    usleep(500);
  }
  atomic_store(&open_gate, 1);
  CHECK_OK(fj_wait(sys, all));
  CHECK_EQ(atomic_load(&sum), expect);
  CHECK_OK(fj_system_stats(sys, &st));
  printf("submitted %ld, FJ_ENOMEM %d, fiber_unavailable %llu, fibers_peak %llu\n", submitted,
         enomem, (unsigned long long)st.fiber_unavailable, (unsigned long long)st.fibers_peak);
  CHECK(st.fiber_unavailable > 0 || submitted == 0);
  CHECK_OK(fj_wait(sys, gate));
  fj_counter_destroy(all);
  fj_counter_destroy(gate);
  fj_system_destroy(sys);
  fflush(stdout);
  _exit(0);
}

static void yield_twice(fj_ctx *ctx, void *arg) {
  (void)arg;
  CHECK_OK(fj_ctx_yield(ctx));
  CHECK_OK(fj_ctx_yield(ctx));
  atomic_fetch_add(&sum, 1);
}

static void fork_yielders(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_counter *mine = test_counter(fj_ctx_system(ctx));
  fj_job jobs[4];
  for (int i = 0; i < 4; i++)
    jobs[i] = (fj_job){yield_twice, NULL};
  CHECK_OK(fj_ctx_spawn_jobs(ctx, jobs, 4, FJ_PRIORITY_NORMAL, mine));
  CHECK_OK(fj_ctx_wait(ctx, mine));
  fj_counter_destroy(mine);
}

/* Fresh systems, so workers start while others already hold every fiber. */
static void budget_of_one_per_worker(long rounds) {
  atomic_store(&sum, 0);
  for (long r = 0; r < rounds; r++) {
    fj_config cfg;
    fj_config_init(&cfg);
    cfg.num_workers = 4;
    cfg.max_fibers = 4;
    cfg.max_pooled_fibers = 0;
    fj_system *sys = NULL;
    CHECK_OK(fj_system_create(&cfg, &sys));
    fj_counter *c = test_counter(sys);
    CHECK_OK(fj_run(sys, fork_yielders, NULL, FJ_PRIORITY_HIGH, c));
    CHECK_OK(fj_wait(sys, c));
    fj_counter_destroy(c);
    fj_system_destroy(sys);
  }
  CHECK_EQ(atomic_load(&sum), 4 * rounds);
}

int main(void) {
  budget_of_one_per_worker(test_scaled(3000));
  run_gate(2, 64, test_scaled(100000));
  run_gate(3, 8, test_scaled(5000));
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  puts("test_fiber_budget: RLIMIT_AS case skipped (sanitizers reserve huge shadow maps)");
#else
  if (getenv("FJ_UNDER_VALGRIND")) {
    puts("test_fiber_budget: RLIMIT_AS case skipped under valgrind");
  } else {
    char err[4096];
    int status = test_run_child(rlimit_child, err, sizeof err);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      fprintf(stderr, "RLIMIT_AS child failed (status %d): %s\n", status, err);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
#endif
  puts("test_fiber_budget: ok");
  return 0;
}
