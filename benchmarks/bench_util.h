/* SPDX-License-Identifier: MIT */
/*
 * bench_util.h — what every benchmark program shares: a monotonic clock,
 * resident memory, one JSON line per measurement, and a loud failure when
 * a result is wrong.  Plain C, also included from the C++ baselines.
 */
#ifndef FJ_BENCH_UTIL_H
#define FJ_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time the whole process has used, in ns.  The yield programs divide
 * this, not wall time: they keep one thread busy (a worker, or main) while
 * any other sleeps, and on a shared machine the wall clock also counts the
 * time the kernel gave the CPU to someone else. */
static inline uint64_t bench_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Resident set size in bytes, from /proc/self/statm. */
static inline long bench_rss_bytes(void) {
  long total = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f || fscanf(f, "%ld %ld", &total, &resident) != 2) {
    fprintf(stderr, "bench: cannot read /proc/self/statm\n");
    exit(2);
  }
  fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

/* Peak resident set size of this program in bytes: VmHWM from
 * /proc/self/status.  Not getrusage's ru_maxrss, which on Linux keeps the
 * peak of the image before exec (the Python runner that forked us). */
static inline long bench_peak_rss_bytes(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
      break;
  if (f)
    fclose(f);
  if (kib < 0) {
    fprintf(stderr, "bench: cannot read VmHWM from /proc/self/status\n");
    exit(2);
  }
  return kib * 1024;
}

/* One measurement, as the runner (benchmarks/run.py) parses it. */
static inline void bench_report(const char *system, const char *workload, double value,
                                const char *unit) {
  printf("{\"system\": \"%s\", \"workload\": \"%s\", \"value\": %.6g, \"unit\": \"%s\"}\n",
         system, workload, value, unit);
  fflush(stdout);
}

/* A wrong result fails the whole run: the runner treats exit 3 as fatal. */
static inline void bench_verify(int ok, const char *what, long long got, long long want) {
  if (!ok) {
    fprintf(stderr, "bench: WRONG RESULT in %s: got %lld, expected %lld\n", what, got, want);
    exit(3);
  }
}

/* Busy-waits for ns nanoseconds (long jobs in the fairness workload). */
static inline void bench_spin_ns(uint64_t ns) {
  uint64_t end = bench_now_ns() + ns;
  while (bench_now_ns() < end) {
  }
}

/* Work that needs no clock: `iters` dependent multiply-adds the compiler
 * cannot remove.  bench_work_calibrate() returns iterations per
 * microsecond on this machine; the yield-frequency sweep runs the same
 * iteration counts with and without yields, so its ratios do not depend on
 * how exact the calibration is. */
static inline uint64_t bench_work(uint64_t iters) {
  uint64_t x = iters | 1;
  for (uint64_t i = 0; i < iters; i++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    __asm__ volatile("" : "+r"(x));
  }
  return x;
}

static inline double bench_work_calibrate(void) {
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    uint64_t n = 200000, t0 = bench_now_ns();
    bench_work(n);
    double per_us = (double)n / ((double)(bench_now_ns() - t0) / 1000.0);
    if (per_us > best)
      best = per_us; /* the fastest pass: the least disturbed by other load */
  }
  return best;
}

/* Command line: <workload> [options]; option lookup by exact name. */
static inline int bench_has_flag(int argc, char **argv, const char *flag) {
  for (int i = 2; i < argc; i++)
    if (strcmp(argv[i], flag) == 0)
      return 1;
  return 0;
}

/* The integer after option `flag` (e.g. --workers 4), or `dflt`. */
static inline long bench_int_option(int argc, char **argv, const char *flag, long dflt) {
  for (int i = 2; i + 1 < argc; i++)
    if (strcmp(argv[i], flag) == 0)
      return atol(argv[i + 1]);
  return dflt;
}

/* The sizes every system uses, so rows compare like with like. */
enum {
  BENCH_YIELDS = 1000000,     /* yields per fiber, 2-fiber case */
  BENCH_YIELDS_64 = 100000,   /* yields per fiber, 64-fiber case */
  BENCH_EMPTY_JOBS = 1000000, /* empty jobs per run */
  BENCH_BATCH = 1000,         /* jobs per submission in the batched case */
  BENCH_SUBMIT_BUSY_JOBS = 200000, /* submit_busy: jobs queued while the workers are held */
  BENCH_FIB_N = 30,
  BENCH_FIB_CUTOFF = 16,      /* serial below this n in the cutoff variant */
  BENCH_SKYNET_LEAVES = 1000000,
  BENCH_PARKED = 10000,
  BENCH_STACK = 64 * 1024,
  BENCH_PASSES = 3,           /* yield programs: the fastest of 3 passes */
  /* Every program's empty-job loop: one untimed warm-up pass, then this
   * many timed passes in the same process, the fastest reported.  The
   * first pass after the warm-up was still up to 3x the later ones in most
   * processes on these VMs (benchmarks/README.md, "How figures are
   * taken"). */
  BENCH_EMPTY_PASSES = 3,
  /* Paired programs (two variants timed in turn in one process): pairs per
   * run; the median pair ratio is reported. */
  BENCH_PAIRS = 5
};
#define BENCH_FIB_RESULT 832040LL
#define BENCH_SKYNET_SUM 499999500000LL

static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of v[0..n), sorting v in place: v[n / 2] once sorted (the
 * upper of the two middle values when n is even). */
static inline double bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof v[0], bench_cmp_double);
  return v[n / 2];
}

/* Keeps the fastest of the timed passes (pass 0 is the warm-up). */
static inline void bench_keep_fastest(uint64_t *best, int pass, uint64_t elapsed) {
  if (pass > 0 && elapsed < *best)
    *best = elapsed;
}

static inline long bench_fib_serial(int n) { return n < 2 ? n : bench_fib_serial(n - 1) + bench_fib_serial(n - 2); }

#endif
