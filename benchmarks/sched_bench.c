/* SPDX-License-Identifier: MIT */
/*
 * sched_bench.c — the scheduling controls (fj_run_opts, attached threads,
 * the fiber budget, aging), one JSON line per figure:
 *
 *   pinned_roundtrip  a job pinned to worker 0 submits a job pinned to the
 *                     main thread (attached, pumping in fj_wait) and waits
 *                     for it: ns per round trip, 20,000 trips
 *   aging_off / aging_on
 *                     1 worker, an endless stream of 20 µs HIGH jobs; one
 *                     LOW job submitted into it: µs from submit to start, the
 *                     median of 20 probes (with aging off the stream is cut
 *                     after 50 ms, so the figure is the cut)
 *   gate_budget / gate_nobudget
 *                     100,000 jobs that all wait on one gate, with
 *                     max_fibers = 64 or unlimited: ms from first submit to
 *                     last finish, and peak RSS in MiB
 */
#include <fiberjob.h>
#include <stdatomic.h>

#include "bench_util.h"

static void check(int r, const char *what) {
  if (r != FJ_OK) {
    fprintf(stderr, "sched_bench: %s: %s\n", what, fj_strerror(r));
    exit(2);
  }
}

/* The defaults with n worker threads. */
static fj_config config_with_workers(unsigned n) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = n;
  return cfg;
}

static fj_system *create_system(const fj_config *cfg) {
  fj_system *sys;
  check(fj_system_create(cfg, &sys), "create");
  return sys;
}

static fj_counter *create_counter(fj_system *sys) {
  fj_counter *c;
  check(fj_counter_create(sys, &c), "counter");
  return c;
}

/* ---- pinned round trip --------------------------------------------------- */

enum { TRIPS = 20000 };
static unsigned main_index;
static atomic_long trips_done;

static void on_main(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&trips_done, 1);
}

static void caller(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_counter *c = create_counter(fj_ctx_system(ctx));
  fj_run_opts o;
  fj_run_opts_init(&o);
  o.worker = (int)main_index;
  o.counter = c;
  fj_job j = {on_main, NULL};
  for (int i = 0; i < TRIPS; i++) {
    check(fj_ctx_submit(ctx, &j, 1, &o), "submit");
    check(fj_ctx_wait(ctx, c), "wait");
  }
  fj_counter_destroy(c);
}

static void pinned_roundtrip(void) {
  fj_config cfg = config_with_workers(2);
  cfg.attach_slots = 1;
  fj_system *sys = create_system(&cfg);
  check(fj_thread_attach(sys, &main_index), "attach");
  fj_counter *all = create_counter(sys);
  for (int pass = 0; pass < 2; pass++) { /* the first pass is the warm-up */
    atomic_store(&trips_done, 0);
    uint64_t t0 = bench_now_ns();
    /* The caller is pinned to worker 0, so every trip crosses threads both
     * ways (unpinned, it would soon resume on the main thread itself). */
    fj_run_opts o;
    fj_run_opts_init(&o);
    o.worker = 0;
    o.counter = all;
    fj_job j = {caller, NULL};
    check(fj_submit(sys, &j, 1, &o), "submit");
    check(fj_wait(sys, all), "wait");
    uint64_t t = bench_now_ns() - t0;
    bench_verify(atomic_load(&trips_done) == TRIPS, "pinned_roundtrip", atomic_load(&trips_done),
                 TRIPS);
    if (pass == 1)
      bench_report("fiberjob", "pinned_roundtrip", (double)t / TRIPS, "ns/trip");
  }
  fj_counter_destroy(all);
  check(fj_thread_detach(sys), "detach");
  fj_system_destroy(sys);
}

/* ---- LOW start latency under a HIGH stream -------------------------------- */

static atomic_int stream_on;
static atomic_uint_fast64_t low_start_ns;
static uint64_t stream_deadline;

static void high_link(fj_ctx *ctx, void *arg) {
  if (atomic_load(&stream_on) && bench_now_ns() < stream_deadline)
    check(fj_ctx_spawn(ctx, high_link, arg, FJ_PRIORITY_HIGH, NULL), "spawn");
  bench_spin_ns(20000);
}

static void low_probe(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_store(&low_start_ns, bench_now_ns());
  atomic_store(&stream_on, 0);
}

static void aging(uint32_t aging_us, const char *workload) {
  fj_config cfg = config_with_workers(1);
  cfg.aging_us = aging_us;
  fj_system *sys = create_system(&cfg);
  fj_counter *c = create_counter(sys);
  enum { PROBES = 20 };
  double lat[PROBES];
  for (int i = 0; i < PROBES; i++) {
    atomic_store(&stream_on, 1);
    atomic_store(&low_start_ns, 0);
    stream_deadline = bench_now_ns() + 50 * 1000 * 1000;
    check(fj_run(sys, high_link, NULL, FJ_PRIORITY_HIGH, c), "run");
    bench_spin_ns(2 * 1000 * 1000); /* the stream is flowing */
    uint64_t t0 = bench_now_ns();
    check(fj_run(sys, low_probe, NULL, FJ_PRIORITY_LOW, c), "run");
    check(fj_wait(sys, c), "wait");
    lat[i] = (double)(atomic_load(&low_start_ns) - t0) / 1000.0;
  }
  bench_report("fiberjob", workload, bench_median(lat, PROBES), "us");
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* ---- gate waiters under a fiber budget -------------------------------------- */

enum { GATE_JOBS = 100000 };
static fj_counter *gate;
static atomic_int gate_open;
static atomic_long gate_sum;

static void gate_keeper(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  while (!atomic_load(&gate_open))
    usleep(100);
}

static void gate_waiter(fj_ctx *ctx, void *arg) {
  check(fj_ctx_wait(ctx, gate), "wait");
  atomic_fetch_add(&gate_sum, (long)arg);
}

static void gate_run(size_t max_fibers, const char *workload) {
  fj_config cfg = config_with_workers(2);
  cfg.max_fibers = max_fibers;
  fj_system *sys = create_system(&cfg);
  gate = create_counter(sys);
  fj_counter *all = create_counter(sys);
  uint64_t t0 = bench_now_ns();
  check(fj_run(sys, gate_keeper, NULL, FJ_PRIORITY_HIGH, gate), "run");
  for (long i = 0; i < GATE_JOBS; i++)
    check(fj_run(sys, gate_waiter, (void *)(i + 1), FJ_PRIORITY_NORMAL, all), "run");
  /* Open once every waiter has started (parked, or waiting without a fiber). */
  fj_stats st;
  do {
    usleep(1000);
    check(fj_system_stats(sys, &st), "stats");
  } while (fj_counter_value(all) == GATE_JOBS && st.waits_suspended + st.fiber_unavailable == 0);
  atomic_store(&gate_open, 1);
  check(fj_wait(sys, all), "wait");
  uint64_t t = bench_now_ns() - t0;
  long want = (long)GATE_JOBS * (GATE_JOBS + 1) / 2;
  bench_verify(atomic_load(&gate_sum) == want, workload, atomic_load(&gate_sum), want);
  check(fj_system_stats(sys, &st), "stats");
  if (max_fibers)
    bench_verify(st.fibers_peak <= max_fibers, "fibers_peak", (long long)st.fibers_peak,
                 (long long)max_fibers);
  char name[64];
  bench_report("fiberjob", workload, (double)t / 1e6, "ms");
  snprintf(name, sizeof name, "%s_peak_rss", workload);
  bench_report("fiberjob", name, (double)bench_peak_rss_bytes() / 1048576.0, "MiB");
  fj_counter_destroy(all);
  fj_counter_destroy(gate);
  fj_system_destroy(sys);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s pinned_roundtrip|aging_off|aging_on|gate_budget|gate_nobudget\n",
            argv[0]);
    return 2;
  }
  const char *w = argv[1];
  if (!strcmp(w, "pinned_roundtrip"))
    pinned_roundtrip();
  else if (!strcmp(w, "aging_off"))
    aging(0, w);
  else if (!strcmp(w, "aging_on"))
    aging(1000, w);
  else if (!strcmp(w, "gate_budget"))
    gate_run(64, w);
  else if (!strcmp(w, "gate_nobudget"))
    gate_run(0, w);
  else {
    fprintf(stderr, "sched_bench: unknown workload %s\n", w);
    return 2;
  }
  return 0;
}
