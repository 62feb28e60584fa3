/* SPDX-License-Identifier: MIT */
/*
 * fiberjob_bench.c — the seven workloads on libfiberjob.  One workload per
 * run; `--no-fibers` runs it with enable_yielding = 0.  Prints one JSON
 * line per measurement (bench_util.h).
 *   fiberjob_bench yield|yield64|empty|empty_unbatched|fib|fib_cutoff|
 *                  skynet|parked|fairness [--no-fibers]
 */
#include <fiberjob.h>
#include <stdatomic.h>

#include "bench_util.h"

static const char *sys_name = "fiberjob";

static fj_system *make_system(unsigned workers, int yielding) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = workers;
  cfg.enable_yielding = yielding;
  cfg.stack_size = BENCH_STACK;
  fj_system *sys;
  int err = fj_system_create(&cfg, &sys);
  if (err) {
    fprintf(stderr, "fj_system_create: %s\n", fj_strerror(err));
    exit(2);
  }
  return sys;
}

static fj_counter *make_counter(fj_system *sys) {
  fj_counter *c;
  if (fj_counter_create(sys, &c) != FJ_OK)
    exit(2);
  return c;
}

/* ---- 1. yield --------------------------------------------------------- */

static void yielder(fj_ctx *ctx, void *arg) {
  long n = (long)arg;
  for (long i = 0; i < n; i++)
    fj_ctx_yield(ctx);
}

static void bench_yield(int yielding, int fibers, long per_fiber, const char *name) {
  fj_system *sys = make_system(1, yielding);
  fj_counter *c = make_counter(sys);
  fj_job jobs[64];
  for (int i = 0; i < fibers; i++)
    jobs[i] = (fj_job){yielder, (void *)per_fiber};
  uint64_t t0 = bench_now_ns();
  fj_run_jobs(sys, jobs, (size_t)fibers, FJ_PRIORITY_NORMAL, c);
  fj_wait(sys, c);
  uint64_t t1 = bench_now_ns();
  fj_stats st;
  fj_system_stats(sys, &st);
  long want = (long)fibers * per_fiber;
  bench_verify(!yielding || (long)st.yields >= want - fibers, name, (long long)st.yields, want);
  bench_report(sys_name, name, (double)(t1 - t0) / (double)want, "ns/yield");
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* ---- 2. empty jobs ---------------------------------------------------- */

static atomic_long empty_runs;
static void empty_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
}
static void counted_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add_explicit(&empty_runs, 1, memory_order_relaxed);
}

static void bench_empty(int yielding, int batched) {
  fj_system *sys = make_system(2, yielding);
  fj_counter *c = make_counter(sys);
  static fj_job batch[BENCH_BATCH];
  for (int i = 0; i < BENCH_BATCH; i++)
    batch[i] = (fj_job){empty_job, NULL};
  /* Verification pass (counted jobs), then the timed pass (empty jobs). */
  for (int i = 0; i < 1000; i++)
    fj_run(sys, counted_job, NULL, FJ_PRIORITY_NORMAL, c);
  fj_wait(sys, c);
  bench_verify(atomic_load(&empty_runs) == 1000, "empty jobs", atomic_load(&empty_runs), 1000);
  /* Two passes, the first untimed: every system's program warms up its
   * queues and allocations the same way before the timed pass. */
  fj_stats before, after;
  uint64_t t0 = 0, t1 = 0;
  for (int pass = 0; pass < 2; pass++) {
    fj_system_stats(sys, &before);
    t0 = bench_now_ns();
    if (batched) {
      for (int i = 0; i < BENCH_EMPTY_JOBS / BENCH_BATCH; i++)
        fj_run_jobs(sys, batch, BENCH_BATCH, FJ_PRIORITY_NORMAL, c);
    } else {
      for (int i = 0; i < BENCH_EMPTY_JOBS; i++)
        fj_run(sys, empty_job, NULL, FJ_PRIORITY_NORMAL, c);
    }
    fj_wait(sys, c);
    t1 = bench_now_ns();
    fj_system_stats(sys, &after);
  }
  bench_verify(after.jobs_run - before.jobs_run == BENCH_EMPTY_JOBS, "empty jobs",
               (long long)(after.jobs_run - before.jobs_run), BENCH_EMPTY_JOBS);
  bench_report(sys_name, batched ? "empty" : "empty_unbatched",
               (double)(t1 - t0) / BENCH_EMPTY_JOBS, "ns/job");
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* ---- 3. fib ----------------------------------------------------------- */

typedef struct { int n, cutoff; long result; } fib_arg;

static void fib(fj_ctx *ctx, void *p) {
  fib_arg *a = p;
  if (a->n < 2 || a->n < a->cutoff) {
    a->result = bench_fib_serial(a->n);
    return;
  }
  fib_arg x = {a->n - 1, a->cutoff, 0}, y = {a->n - 2, a->cutoff, 0};
  fj_counter *c = make_counter(fj_ctx_system(ctx));
  fj_job kids[2] = {{fib, &x}, {fib, &y}};
  fj_ctx_spawn_jobs(ctx, kids, 2, FJ_PRIORITY_NORMAL, c);
  fj_ctx_wait(ctx, c);
  fj_counter_destroy(c);
  a->result = x.result + y.result;
}

static void bench_fib(int yielding, int cutoff) {
  fj_system *sys = make_system(2, yielding);
  fj_counter *c = make_counter(sys);
  fib_arg a = {BENCH_FIB_N, cutoff, 0};
  uint64_t t0 = bench_now_ns();
  fj_run(sys, fib, &a, FJ_PRIORITY_NORMAL, c);
  fj_wait(sys, c);
  uint64_t t1 = bench_now_ns();
  bench_verify(a.result == BENCH_FIB_RESULT, "fib", a.result, BENCH_FIB_RESULT);
  bench_report(sys_name, cutoff ? "fib_cutoff" : "fib", (double)(t1 - t0) / 1e6, "ms");
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* ---- 4. skynet -------------------------------------------------------- */

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
  fj_counter *c = make_counter(fj_ctx_system(ctx));
  fj_ctx_spawn_jobs(ctx, jobs, 10, FJ_PRIORITY_NORMAL, c);
  fj_ctx_wait(ctx, c);
  fj_counter_destroy(c);
  long sum = 0;
  for (int i = 0; i < 10; i++)
    sum += kids[i].sum;
  a->sum = sum;
}

static void bench_skynet(int yielding) {
  fj_system *sys = make_system(2, yielding);
  fj_counter *c = make_counter(sys);
  sky_arg a = {0, BENCH_SKYNET_LEAVES, 0};
  uint64_t t0 = bench_now_ns();
  fj_run(sys, skynet, &a, FJ_PRIORITY_NORMAL, c);
  fj_wait(sys, c);
  uint64_t t1 = bench_now_ns();
  bench_verify(a.sum == BENCH_SKYNET_SUM, "skynet", a.sum, BENCH_SKYNET_SUM);
  bench_report(sys_name, "skynet", (double)(t1 - t0) / 1e6, "ms");
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* ---- 5. parked fibers ------------------------------------------------- */

static fj_counter *gate;
static atomic_int parked_resumed;

static void parked_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_ctx_wait(ctx, gate);
  atomic_fetch_add(&parked_resumed, 1);
}

static void hold_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  while (!atomic_load((atomic_int *)arg))
    usleep(100);
}

static void bench_parked(void) {
  fj_system *sys = make_system(2, 1);
  gate = make_counter(sys);
  fj_counter *all = make_counter(sys);
  atomic_int open = 0;
  fj_run(sys, hold_job, &open, FJ_PRIORITY_HIGH, gate);
  usleep(20000);
  long before = bench_rss_bytes();
  for (int i = 0; i < BENCH_PARKED; i++)
    fj_run(sys, parked_job, NULL, FJ_PRIORITY_NORMAL, all);
  fj_stats st;
  do {
    usleep(1000);
    fj_system_stats(sys, &st);
  } while (st.waits_suspended < BENCH_PARKED);
  long during = bench_rss_bytes();
  atomic_store(&open, 1);
  fj_wait(sys, all);
  bench_verify(atomic_load(&parked_resumed) == BENCH_PARKED, "parked", atomic_load(&parked_resumed),
               BENCH_PARKED);
  bench_report(sys_name, "parked", (double)(during - before) / 1024.0 / BENCH_PARKED, "KiB/fiber");
  bench_report(sys_name, "parked_peak_rss", (double)during / 1048576.0, "MiB");
  fj_counter_destroy(all);
  fj_counter_destroy(gate);
  fj_system_destroy(sys);
}

/* ---- 6. fairness ------------------------------------------------------ */

enum { FAIR_SLICE_NS = 50000, FAIR_SAMPLES = 400, FAIR_LONG_JOBS = 4 };
static atomic_int fair_stop;
static atomic_uint_fast64_t probe_start;

static void long_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  while (!atomic_load(&fair_stop)) {
    bench_spin_ns(FAIR_SLICE_NS);
    fj_ctx_yield(ctx);
  }
}

static void probe_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_store(&probe_start, bench_now_ns());
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void bench_fairness_at(fj_priority prio, const char *name) {
  fj_system *sys = make_system(1, 1);
  fj_counter *longs = make_counter(sys), *probe = make_counter(sys);
  atomic_store(&fair_stop, 0);
  for (int i = 0; i < FAIR_LONG_JOBS; i++)
    fj_run(sys, long_job, NULL, FJ_PRIORITY_NORMAL, longs);
  usleep(5000);
  static uint64_t lat[FAIR_SAMPLES];
  for (int i = 0; i < FAIR_SAMPLES; i++) {
    usleep(500 + (unsigned)(i * 37) % 300); /* land at varied points of a slice */
    uint64_t t0 = bench_now_ns();
    fj_run(sys, probe_job, NULL, prio, probe);
    fj_wait(sys, probe);
    lat[i] = atomic_load(&probe_start) - t0;
  }
  atomic_store(&fair_stop, 1);
  fj_wait(sys, longs);
  qsort(lat, FAIR_SAMPLES, sizeof lat[0], cmp_u64);
  char key[64];
  snprintf(key, sizeof key, "%s_p50", name);
  bench_report(sys_name, key, (double)lat[FAIR_SAMPLES / 2] / 1000.0, "us");
  snprintf(key, sizeof key, "%s_p99", name);
  bench_report(sys_name, key, (double)lat[FAIR_SAMPLES * 99 / 100] / 1000.0, "us");
  fj_counter_destroy(probe);
  fj_counter_destroy(longs);
  fj_system_destroy(sys);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <workload> [--no-fibers]\n", argv[0]);
    return 2;
  }
  const char *w = argv[1];
  int yielding = !bench_has_flag(argc, argv, "--no-fibers");
  if (!yielding)
    sys_name = "fiberjob-nofibers";
  if (!strcmp(w, "yield"))
    bench_yield(yielding, 2, BENCH_YIELDS, "yield");
  else if (!strcmp(w, "yield64"))
    bench_yield(yielding, 64, BENCH_YIELDS_64, "yield64");
  else if (!strcmp(w, "empty"))
    bench_empty(yielding, 1);
  else if (!strcmp(w, "empty_unbatched"))
    bench_empty(yielding, 0);
  else if (!strcmp(w, "fib"))
    bench_fib(yielding, 0);
  else if (!strcmp(w, "fib_cutoff"))
    bench_fib(yielding, BENCH_FIB_CUTOFF);
  else if (!strcmp(w, "skynet"))
    bench_skynet(yielding);
  else if (!strcmp(w, "parked"))
    bench_parked();
  else if (!strcmp(w, "fairness")) {
    bench_fairness_at(FJ_PRIORITY_HIGH, "fairness_high");
    bench_fairness_at(FJ_PRIORITY_NORMAL, "fairness_normal");
  } else {
    fprintf(stderr, "unknown workload %s\n", w);
    return 2;
  }
  return 0;
}
