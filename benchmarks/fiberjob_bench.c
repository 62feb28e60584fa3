/* SPDX-License-Identifier: MIT */
/*
 * fiberjob_bench.c — the workloads on libfiberjob.  One workload per run;
 * `--no-fibers` runs it with enable_yielding = 0, `--workers N` changes the
 * worker count of empty, empty_unbatched, fib and skynet (the figure's name
 * then ends in _wN), `--trace` records a trace throughout (the system is then
 * "fiberjob-traced").  Prints one JSON line per measurement (bench_util.h).
 *   fiberjob_bench yield|yield64|empty|empty_unbatched|submit_busy|fib|fib_cutoff|
 *                  skynet|parked|fairness|sweep|backlog|starve
 *                  [--no-fibers] [--trace] [--workers N]
 *   fiberjob_bench empty_tax_paired|fib_tax_paired
 * The last two time a system with fibers and one with enable_yielding = 0
 * in turn in one process and print the ratio (bench_tax_paired).
 */
#include <fiberjob.h>
#include <semaphore.h>
#include <stdatomic.h>

#include "bench_util.h"
#include "forkjoin_c.h"

static const char *sys_name = "fiberjob";
static unsigned opt_workers; /* --workers; 0 = the workload's default */

/* The figure's name: `base`, or `base_wN` when --workers was given. */
static const char *figure(const char *base) {
  static char buf[64];
  if (!opt_workers)
    return base;
  snprintf(buf, sizeof buf, "%s_w%u", base, opt_workers);
  return buf;
}

/* --trace: record a trace (fj_trace_start) for the whole run and discard it
 * at destroy, to price tracing when it is on (system "fiberjob-traced"). */
static int opt_trace;
enum { BENCH_TRACE_EVENTS = 5000000 }; /* per worker: every event of yield and empty */

static fj_system *make_system_aging(unsigned workers, int yielding, uint32_t aging_us) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = workers;
  cfg.enable_yielding = yielding;
  cfg.stack_size = BENCH_STACK;
  cfg.aging_us = aging_us;
  fj_system *sys;
  int err = fj_system_create(&cfg, &sys);
  if (err) {
    fprintf(stderr, "fj_system_create: %s\n", fj_strerror(err));
    exit(2);
  }
  if (opt_trace && (err = fj_trace_start(sys, BENCH_TRACE_EVENTS)) != FJ_OK) {
    fprintf(stderr, "fj_trace_start: %s\n", fj_strerror(err));
    exit(2);
  }
  return sys;
}

static fj_system *make_system(unsigned workers, int yielding) {
  return make_system_aging(workers, yielding, 0);
}

/* ---- 1. yield --------------------------------------------------------- */

static void yielder(fj_ctx *ctx, void *arg) {
  long n = (long)arg;
  for (long i = 0; i < n; i++)
    fj_ctx_yield(ctx);
}

static void bench_yield(int yielding, int fibers, long per_fiber, const char *name) {
  fj_system *sys = make_system(1, yielding);
  fj_counter *c = bench_counter(sys);
  fj_job jobs[64];
  for (int i = 0; i < fibers; i++)
    jobs[i] = (fj_job){yielder, (void *)per_fiber};
  long want = (long)fibers * per_fiber;
  uint64_t best = UINT64_MAX;
  /* The fastest of BENCH_PASSES passes: the one the shared machine
   * disturbed least (every yield program does the same). */
  for (int pass = 0; pass < BENCH_PASSES; pass++) {
    fj_stats before, after;
    fj_system_stats(sys, &before);
    uint64_t t0 = bench_cpu_ns(); /* CPU time: see bench_cpu_ns */
    fj_run_jobs(sys, jobs, (size_t)fibers, FJ_PRIORITY_NORMAL, c);
    fj_wait(sys, c);
    uint64_t t1 = bench_cpu_ns();
    fj_system_stats(sys, &after);
    long yields = (long)(after.yields - before.yields);
    bench_verify(!yielding || yields >= want - fibers, name, yields, want);
    if (t1 - t0 < best)
      best = t1 - t0;
  }
  bench_report(sys_name, name, (double)best / (double)want, "ns/yield");
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

/* One pass: BENCH_EMPTY_JOBS empty jobs on sys, in batches of BENCH_BATCH
 * or one fj_run each, then a wait.  ns to the end of the wait. */
static uint64_t empty_pass(fj_system *sys, fj_counter *c, int batched) {
  static fj_job batch[BENCH_BATCH];
  for (int i = 0; i < BENCH_BATCH; i++)
    batch[i] = (fj_job){empty_job, NULL};
  fj_stats before, after;
  fj_system_stats(sys, &before);
  uint64_t t0 = bench_now_ns();
  if (batched) {
    for (int i = 0; i < BENCH_EMPTY_JOBS / BENCH_BATCH; i++)
      fj_run_jobs(sys, batch, BENCH_BATCH, FJ_PRIORITY_NORMAL, c);
  } else {
    for (int i = 0; i < BENCH_EMPTY_JOBS; i++)
      fj_run(sys, empty_job, NULL, FJ_PRIORITY_NORMAL, c);
  }
  fj_wait(sys, c);
  uint64_t t = bench_now_ns() - t0;
  fj_system_stats(sys, &after);
  bench_verify(after.jobs_run - before.jobs_run == BENCH_EMPTY_JOBS, "empty jobs",
               (long long)(after.jobs_run - before.jobs_run), BENCH_EMPTY_JOBS);
  return t;
}

/* 1000 counted jobs, checked: the empty loop runs what it submits. */
static void verify_empty_runs(fj_system *sys, fj_counter *c) {
  long first = atomic_load(&empty_runs);
  for (int i = 0; i < 1000; i++)
    fj_run(sys, counted_job, NULL, FJ_PRIORITY_NORMAL, c);
  fj_wait(sys, c);
  long ran = atomic_load(&empty_runs) - first;
  bench_verify(ran == 1000, "empty jobs", ran, 1000);
}

static void bench_empty(int yielding, int batched) {
  fj_system *sys = make_system(opt_workers ? opt_workers : 2, yielding);
  fj_counter *c = bench_counter(sys);
  /* Verification pass (counted jobs), then the timed passes (empty jobs). */
  verify_empty_runs(sys, c);
  /* A warm-up pass, then the fastest of BENCH_EMPTY_PASSES (bench_util.h):
   * every system's program runs its passes the same way. */
  uint64_t best = UINT64_MAX;
  for (int pass = 0; pass <= BENCH_EMPTY_PASSES; pass++)
    bench_keep_fastest(&best, pass, empty_pass(sys, c, batched));
  bench_report(sys_name, figure(batched ? "empty" : "empty_unbatched"),
               (double)best / BENCH_EMPTY_JOBS, "ns/job");
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* ---- 2b. submission while every worker is busy ---------------------- */

/* Holds its worker's thread (blocked, not spinning: the submitting thread
 * keeps a CPU to itself) until main posts the semaphore. */
static sem_t hold_sem;
static atomic_int holding;
static void blocking_hold_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&holding, 1);
  while (sem_wait(&hold_sem) != 0) {
  }
}

/* What one unbatched fj_run costs the submitting thread itself when no
 * worker takes the job at once (an engine's main thread queuing a frame's
 * work while the workers run the last one): every worker is held, main
 * submits BENCH_SUBMIT_BUSY_JOBS empty jobs one call each, and only then
 * are the workers let go.  CPU time of the process (only main runs), the
 * fastest of BENCH_PASSES passes; the first also maps the overflow ring. */
static void bench_submit_busy(int yielding) {
  unsigned workers = opt_workers ? opt_workers : 2;
  fj_system *sys = make_system(workers, yielding);
  fj_counter *c = bench_counter(sys);
  fj_counter *held = bench_counter(sys);
  if (sem_init(&hold_sem, 0, 0) != 0)
    exit(2);
  uint64_t best = UINT64_MAX;
  for (int pass = 0; pass < BENCH_PASSES; pass++) {
    atomic_store(&holding, 0);
    for (unsigned i = 0; i < workers; i++)
      fj_run(sys, blocking_hold_job, NULL, FJ_PRIORITY_HIGH, held);
    while (atomic_load(&holding) < (int)workers) {
    }
    fj_stats before, after;
    fj_system_stats(sys, &before);
    uint64_t t0 = bench_cpu_ns();
    for (int i = 0; i < BENCH_SUBMIT_BUSY_JOBS; i++)
      fj_run(sys, empty_job, NULL, FJ_PRIORITY_NORMAL, c);
    uint64_t t1 = bench_cpu_ns();
    for (unsigned i = 0; i < workers; i++)
      sem_post(&hold_sem);
    fj_wait(sys, held);
    fj_wait(sys, c);
    fj_system_stats(sys, &after);
    long ran = (long)(after.jobs_run - before.jobs_run); /* the holds finish in between */
    long want = BENCH_SUBMIT_BUSY_JOBS + (long)workers;
    bench_verify(ran == want, "submit_busy jobs", ran, want);
    if (t1 - t0 < best)
      best = t1 - t0;
  }
  bench_report(sys_name, figure("submit_busy"), (double)best / BENCH_SUBMIT_BUSY_JOBS, "ns/job");
  sem_destroy(&hold_sem);
  fj_counter_destroy(held);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* ---- 3. fib ----------------------------------------------------------- */

/* One fib(BENCH_FIB_N) on sys, checked: ns to the end of its wait. */
static uint64_t fib_pass(fj_system *sys, fj_counter *c, int cutoff) {
  bench_fib_arg a = {BENCH_FIB_N, cutoff, 0};
  uint64_t t0 = bench_now_ns();
  fj_run(sys, bench_fib_job, &a, FJ_PRIORITY_NORMAL, c);
  fj_wait(sys, c);
  uint64_t t = bench_now_ns() - t0;
  bench_verify(a.result == BENCH_FIB_RESULT, "fib", a.result, BENCH_FIB_RESULT);
  return t;
}

static void bench_fib(int yielding, int cutoff) {
  fj_system *sys = make_system(opt_workers ? opt_workers : 2, yielding);
  fj_counter *c = bench_counter(sys);
  uint64_t t = fib_pass(sys, c, cutoff);
  bench_report(sys_name, figure(cutoff ? "fib_cutoff" : "fib"), (double)t / 1e6, "ms");
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* ---- 4. skynet -------------------------------------------------------- */

static void bench_skynet(int yielding) {
  fj_system *sys = make_system(opt_workers ? opt_workers : 2, yielding);
  fj_counter *c = bench_counter(sys);
  bench_sky_arg a = {0, BENCH_SKYNET_LEAVES, 0};
  uint64_t t0 = bench_now_ns();
  fj_run(sys, bench_skynet_job, &a, FJ_PRIORITY_NORMAL, c);
  fj_wait(sys, c);
  uint64_t t1 = bench_now_ns();
  bench_verify(a.sum == BENCH_SKYNET_SUM, "skynet", a.sum, BENCH_SKYNET_SUM);
  bench_report(sys_name, figure("skynet"), (double)(t1 - t0) / 1e6, "ms");
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* ---- 4b. the no-fiber tax, paired --------------------------------------- */

/* One pass of the tax workload: empty jobs in batches, or fib. */
static uint64_t tax_pass(fj_system *sys, fj_counter *c, int fib) {
  return fib ? fib_pass(sys, c, 0) : empty_pass(sys, c, 1);
}

/* What fibers cost against enable_yielding = 0, with both systems in one
 * process: after a warm-up pass on each, BENCH_PAIRS pairs, each the faster
 * of two passes per system taken in turn, the fiber system first in even
 * pairs and second in odd ones; prints the median of the pairs' ratios
 * (fibers on ÷ off).  Separate processes of
 * one binary can run at different speeds on these VMs (benchmarks/README.md,
 * "C++ layer"), and a ratio of two processes' figures carries that; passes
 * taken in turn in one process do not.  2 workers each; the idle system's
 * workers sleep. */
static void bench_tax_paired(int fib) {
  fj_system *on = make_system(2, 1), *off = make_system(2, 0);
  fj_counter *c_on = bench_counter(on), *c_off = bench_counter(off);
  if (!fib) {
    verify_empty_runs(on, c_on);
    verify_empty_runs(off, c_off);
  }
  tax_pass(on, c_on, fib);
  tax_pass(off, c_off, fib);
  double ratios[BENCH_PAIRS];
  for (int k = 0; k < BENCH_PAIRS; k++) {
    /* Each side's faster of two passes, taken in turn: a pass here swings
     * by a fifth either way, and a disturbance only ever slows one down. */
    uint64_t best_on = UINT64_MAX, best_off = UINT64_MAX;
    for (int pass = 0; pass < 2; pass++) {
      for (int side = 0; side < 2; side++) {
        int fibers_side = (k + side) % 2 == 0; /* fibers first in even pairs */
        uint64_t t = fibers_side ? tax_pass(on, c_on, fib) : tax_pass(off, c_off, fib);
        uint64_t *best = fibers_side ? &best_on : &best_off;
        if (t < *best)
          *best = t;
      }
    }
    ratios[k] = (double)best_on / (double)best_off;
  }
  bench_report("fiberjob-nofibers", fib ? "fib_fibers_over_nofibers" : "empty_fibers_over_nofibers",
               bench_median(ratios, BENCH_PAIRS), "ratio");
  fj_counter_destroy(c_on);
  fj_counter_destroy(c_off);
  fj_system_destroy(on);
  fj_system_destroy(off);
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
  gate = bench_counter(sys);
  fj_counter *all = bench_counter(sys);
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

enum { FAIR_SLICE_NS = 50000, FAIR_SAMPLES = 400, FAIR_LONG_JOBS = 4, FAIR_TRIALS = 3 };
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

/* One trial: FAIR_SAMPLES probes at prio; their p50 and p99 in *p50, *p99. */
static void fairness_trial(fj_priority prio, uint64_t *p50, uint64_t *p99) {
  fj_system *sys = make_system(1, 1);
  fj_counter *longs = bench_counter(sys), *probe = bench_counter(sys);
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
  *p50 = lat[FAIR_SAMPLES / 2];
  *p99 = lat[FAIR_SAMPLES * 99 / 100];
  fj_counter_destroy(probe);
  fj_counter_destroy(longs);
  fj_system_destroy(sys);
}

/* The median over FAIR_TRIALS trials of each percentile, as backlog and
 * starve take the median of their trials: a p99 of 400 probes is four late
 * probes, and one burst of the host taking the worker's CPU makes them (the
 * same tails, 141-161 us, in 14 rounds of the tree before and after private
 * shares); it now has to hit two trials of three. */
static void bench_fairness_at(fj_priority prio, const char *name) {
  double p50[FAIR_TRIALS], p99[FAIR_TRIALS];
  for (int t = 0; t < FAIR_TRIALS; t++) {
    uint64_t a, b;
    fairness_trial(prio, &a, &b);
    p50[t] = (double)a / 1000.0;
    p99[t] = (double)b / 1000.0;
  }
  char key[64];
  snprintf(key, sizeof key, "%s_p50", name);
  bench_report(sys_name, key, bench_median(p50, FAIR_TRIALS), "us");
  snprintf(key, sizeof key, "%s_p99", name);
  bench_report(sys_name, key, bench_median(p99, FAIR_TRIALS), "us");
}

/* ---- 7. yield-frequency sweep ------------------------------------------ */

/* Two jobs on one worker, each doing `units` pieces of W ns of work, with a
 * yield after every piece or without: the ratio of the two wall times is
 * what yielding at that frequency costs.  W = 0 measures the yield alone. */
static double work_per_us;
typedef struct { long units; uint64_t iters; int yield; } sweep_arg;

static void sweep_job(fj_ctx *ctx, void *p) {
  const sweep_arg *a = p;
  uint64_t sink = 0;
  for (long u = 0; u < a->units; u++) {
    sink += bench_work(a->iters);
    if (a->yield)
      fj_ctx_yield(ctx);
  }
  __asm__ volatile("" ::"r"(sink));
}

static double sweep_once(fj_system *sys, fj_counter *c, sweep_arg *a) {
  fj_job jobs[2] = {{sweep_job, a}, {sweep_job, a}};
  uint64_t t0 = bench_now_ns();
  fj_run_jobs(sys, jobs, 2, FJ_PRIORITY_NORMAL, c);
  fj_wait(sys, c);
  return (double)(bench_now_ns() - t0) / (2.0 * (double)a->units);
}

static void bench_sweep(void) {
  static const unsigned w_ns[] = {0, 100, 1000, 10000, 100000};
  fj_system *sys = make_system(1, 1);
  fj_counter *c = bench_counter(sys);
  work_per_us = bench_work_calibrate();
  for (size_t i = 0; i < sizeof w_ns / sizeof w_ns[0]; i++) {
    unsigned w = w_ns[i];
    /* about 40 ms of work per variant */
    long units = w ? 20000000L / (long)w : 500000;
    uint64_t iters = (uint64_t)(work_per_us * w / 1000.0);
    double best[2] = {1e30, 1e30};
    /* alternate plain and yielding passes; keep each one's fastest */
    for (int rep = 0; rep < 3; rep++)
      for (int y = 0; y < 2; y++) {
        sweep_arg a = {units, iters, y};
        double ns = sweep_once(sys, c, &a);
        if (ns < best[y])
          best[y] = ns;
      }
    char key[64];
    snprintf(key, sizeof key, "sweep_%u_plain", w);
    bench_report(sys_name, key, best[0], "ns/unit");
    snprintf(key, sizeof key, "sweep_%u_yield", w);
    bench_report(sys_name, key, best[1], "ns/unit");
  }
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* ---- 8. priority under a backlog -------------------------------------- */

/* 20,000 NORMAL jobs of about 2 µs are queued, then one HIGH, one NORMAL
 * and one LOW probe: how long from each probe's submission until it starts.
 * Submitted from the main thread (the shared queue) or from inside a job
 * (that worker's own queue). */
enum { BACKLOG_JOBS = 20000, BACKLOG_JOB_NS = 2000, BACKLOG_TRIALS = 3 };
static uint64_t backlog_iters;
typedef struct { atomic_uint_fast64_t submitted, started; } probe_times;
static probe_times probes[FJ_PRIORITY_COUNT];
static fj_job backlog[BACKLOG_JOBS];

static void backlog_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  __asm__ volatile("" ::"r"(bench_work(backlog_iters)));
}

static void probe_start_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  atomic_store(&((probe_times *)arg)->started, bench_now_ns());
}

static const fj_priority probe_prio[FJ_PRIORITY_COUNT] = {FJ_PRIORITY_HIGH, FJ_PRIORITY_NORMAL,
                                                          FJ_PRIORITY_LOW};

static void submit_backlog_and_probes(fj_system *sys, fj_ctx *ctx, fj_counter *c) {
  if (ctx)
    fj_ctx_spawn_jobs(ctx, backlog, BACKLOG_JOBS, FJ_PRIORITY_NORMAL, c);
  else
    fj_run_jobs(sys, backlog, BACKLOG_JOBS, FJ_PRIORITY_NORMAL, c);
  for (int p = 0; p < FJ_PRIORITY_COUNT; p++) {
    atomic_store(&probes[p].submitted, bench_now_ns());
    if (ctx)
      fj_ctx_spawn(ctx, probe_start_job, &probes[p], probe_prio[p], c);
    else
      fj_run(sys, probe_start_job, &probes[p], probe_prio[p], c);
  }
}

static fj_counter *backlog_counter;
static void backlog_submitter(fj_ctx *ctx, void *arg) {
  (void)arg;
  submit_backlog_and_probes(fj_ctx_system(ctx), ctx, backlog_counter);
}

static void bench_backlog(void) {
  static const char *names[FJ_PRIORITY_COUNT] = {"high", "normal", "low"};
  backlog_iters = (uint64_t)(bench_work_calibrate() * BACKLOG_JOB_NS / 1000.0);
  for (int i = 0; i < BACKLOG_JOBS; i++)
    backlog[i] = (fj_job){backlog_job, NULL};
  fj_system *sys = make_system(2, 1);
  backlog_counter = bench_counter(sys);
  for (int from_job = 0; from_job < 2; from_job++) {
    double lat[FJ_PRIORITY_COUNT][BACKLOG_TRIALS];
    for (int t = 0; t < BACKLOG_TRIALS; t++) {
      uint64_t t0 = bench_now_ns();
      if (from_job)
        fj_run(sys, backlog_submitter, NULL, FJ_PRIORITY_NORMAL, backlog_counter);
      else
        submit_backlog_and_probes(sys, NULL, backlog_counter);
      fj_wait(sys, backlog_counter);
      uint64_t total = bench_now_ns() - t0;
      for (int p = 0; p < FJ_PRIORITY_COUNT; p++) {
        uint64_t s0 = atomic_load(&probes[p].submitted), s1 = atomic_load(&probes[p].started);
        bench_verify(s1 >= s0 && s1 - s0 <= total, "backlog probe ran", (long long)(s1 - s0),
                     (long long)total);
        lat[p][t] = (double)(s1 - s0) / 1000.0;
      }
    }
    for (int p = 0; p < FJ_PRIORITY_COUNT; p++) {
      char key[64];
      snprintf(key, sizeof key, "backlog_%s_%s", from_job ? "job" : "thread", names[p]);
      bench_report(sys_name, key, bench_median(lat[p], BACKLOG_TRIALS), "us");
    }
  }
  fj_counter_destroy(backlog_counter);
  fj_system_destroy(sys);
}

/* ---- 9. LOW under a continuous HIGH stream ----------------------------- */

/* Four HIGH jobs on 2 workers each resubmit themselves and spin 20 µs, so
 * HIGH work is always ready; a LOW probe is submitted and the stream stops
 * after STARVE_CAP_MS whether or not the probe has started.  A probe that
 * only starts once the stream stops shows about STARVE_CAP_MS: starved.
 * Run with aging off (strict priorities) and with aging_us = 1000. */
enum { STREAM_JOBS = 4, STREAM_JOB_NS = 20000, STARVE_CAP_MS = 100, STARVE_PROBES = 3 };
static atomic_int stream_stop;
static uint64_t stream_iters;
static fj_counter *stream_counter;

/* The successor is queued before the work, so every worker always has a
 * ready HIGH job while the stream runs. */
static void stream_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  if (!atomic_load(&stream_stop))
    fj_ctx_spawn(ctx, stream_job, NULL, FJ_PRIORITY_HIGH, stream_counter);
  __asm__ volatile("" ::"r"(bench_work(stream_iters)));
}

static void bench_starve_at(uint32_t aging_us) {
  fj_system *sys = make_system_aging(2, 1, aging_us);
  stream_counter = bench_counter(sys);
  fj_counter *probe = bench_counter(sys);
  double lat[STARVE_PROBES];
  for (int i = 0; i < STARVE_PROBES; i++) {
    atomic_store(&stream_stop, 0);
    for (int k = 0; k < STREAM_JOBS; k++)
      fj_run(sys, stream_job, NULL, FJ_PRIORITY_HIGH, stream_counter);
    usleep(2000);
    atomic_store(&probes[0].started, 0);
    atomic_store(&probes[0].submitted, bench_now_ns());
    fj_run(sys, probe_start_job, &probes[0], FJ_PRIORITY_LOW, probe);
    fj_wait_timeout(sys, probe, (uint64_t)STARVE_CAP_MS * 1000000u);
    atomic_store(&stream_stop, 1);
    fj_wait(sys, probe);
    fj_wait(sys, stream_counter);
    lat[i] = (double)(atomic_load(&probes[0].started) - atomic_load(&probes[0].submitted)) / 1000.0;
  }
  char key[64];
  snprintf(key, sizeof key, "starve_low_aging%u", (unsigned)aging_us);
  bench_report(sys_name, key, bench_median(lat, STARVE_PROBES), "us");
  fj_counter_destroy(probe);
  fj_counter_destroy(stream_counter);
  fj_system_destroy(sys);
}

static void bench_starve(void) {
  stream_iters = (uint64_t)(bench_work_calibrate() * STREAM_JOB_NS / 1000.0);
  bench_starve_at(0);
  bench_starve_at(1000);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <workload> [--no-fibers] [--trace] [--workers N]\n", argv[0]);
    return 2;
  }
  const char *w = argv[1];
  int yielding = !bench_has_flag(argc, argv, "--no-fibers");
  opt_workers = (unsigned)bench_int_option(argc, argv, "--workers", 0);
  opt_trace = bench_has_flag(argc, argv, "--trace");
  if (!yielding)
    sys_name = "fiberjob-nofibers";
  else if (opt_trace)
    sys_name = "fiberjob-traced";
  if (!strcmp(w, "yield"))
    bench_yield(yielding, 2, BENCH_YIELDS, "yield");
  else if (!strcmp(w, "yield64"))
    bench_yield(yielding, 64, BENCH_YIELDS_64, "yield64");
  else if (!strcmp(w, "empty"))
    bench_empty(yielding, 1);
  else if (!strcmp(w, "empty_unbatched"))
    bench_empty(yielding, 0);
  else if (!strcmp(w, "submit_busy"))
    bench_submit_busy(yielding);
  else if (!strcmp(w, "fib"))
    bench_fib(yielding, 0);
  else if (!strcmp(w, "fib_cutoff"))
    bench_fib(yielding, BENCH_FIB_CUTOFF);
  else if (!strcmp(w, "skynet"))
    bench_skynet(yielding);
  else if (!strcmp(w, "empty_tax_paired") || !strcmp(w, "fib_tax_paired"))
    bench_tax_paired(!strcmp(w, "fib_tax_paired"));
  else if (!strcmp(w, "parked"))
    bench_parked();
  else if (!strcmp(w, "fairness")) {
    bench_fairness_at(FJ_PRIORITY_HIGH, "fairness_high");
    bench_fairness_at(FJ_PRIORITY_NORMAL, "fairness_normal");
  } else if (!strcmp(w, "sweep"))
    bench_sweep();
  else if (!strcmp(w, "backlog"))
    bench_backlog();
  else if (!strcmp(w, "starve"))
    bench_starve();
  else {
    fprintf(stderr, "unknown workload %s\n", w);
    return 2;
  }
  return 0;
}
