/* SPDX-License-Identifier: MIT */
/*
 * omp_bench.c — OpenMP tasks baseline (gcc's libgomp), 2 threads: one
 * thread creates tasks inside `single`, both run them.
 *   omp_bench empty|fib|fib_cutoff|skynet
 */
#include <omp.h>

#include "bench_util.h"

static long fib(int n, int cutoff) {
  if (n < 2 || n < cutoff)
    return bench_fib_serial(n);
  long x, y;
#pragma omp task shared(x)
  x = fib(n - 1, cutoff);
#pragma omp task shared(y)
  y = fib(n - 2, cutoff);
#pragma omp taskwait
  return x + y;
}

static long skynet(long first, long size) {
  if (size == 1)
    return first;
  long sums[10];
  long step = size / 10;
  for (int i = 0; i < 10; i++) {
#pragma omp task shared(sums)
    sums[i] = skynet(first + i * step, step);
  }
#pragma omp taskwait
  long sum = 0;
  for (int i = 0; i < 10; i++)
    sum += sums[i];
  return sum;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  const char *w = argv[1];
  omp_set_num_threads(2);
  uint64_t elapsed = 0; /* ns: the fastest empty pass, or the one fib/skynet run */
  long result = 0, runs = 0;
#pragma omp parallel
#pragma omp single
  {
    if (!strcmp(w, "empty")) {
      for (int i = 0; i < 1000; i++) {
#pragma omp task shared(runs)
        {
#pragma omp atomic
          runs++;
        }
      }
#pragma omp taskwait
      /* A warm-up pass, then the fastest of BENCH_EMPTY_PASSES. */
      uint64_t best = UINT64_MAX;
      for (int pass = 0; pass <= BENCH_EMPTY_PASSES; pass++) {
        uint64_t start = bench_now_ns();
        for (int i = 0; i < BENCH_EMPTY_JOBS; i++) {
#pragma omp task
          __asm__ volatile("" ::: "memory"); /* empty, but not elided */
        }
#pragma omp taskwait
        bench_keep_fastest(&best, pass, bench_now_ns() - start);
      }
      elapsed = best;
    } else if (!strcmp(w, "fib") || !strcmp(w, "fib_cutoff")) {
      uint64_t t0 = bench_now_ns();
      result = fib(BENCH_FIB_N, !strcmp(w, "fib") ? 0 : BENCH_FIB_CUTOFF);
      elapsed = bench_now_ns() - t0;
    } else if (!strcmp(w, "skynet")) {
      uint64_t t0 = bench_now_ns();
      result = skynet(0, BENCH_SKYNET_LEAVES);
      elapsed = bench_now_ns() - t0;
    }
  }
  if (!strcmp(w, "empty")) {
    bench_verify(runs == 1000, "empty", runs, 1000);
    /* No batch submission: both rows are the same loop of tasks. */
    bench_report("openmp", "empty", (double)elapsed / BENCH_EMPTY_JOBS, "ns/job");
    bench_report("openmp", "empty_unbatched", (double)elapsed / BENCH_EMPTY_JOBS, "ns/job");
  } else if (!strcmp(w, "skynet")) {
    bench_verify(result == BENCH_SKYNET_SUM, "skynet", result, BENCH_SKYNET_SUM);
    bench_report("openmp", "skynet", (double)elapsed / 1e6, "ms");
  } else if (!strncmp(w, "fib", 3)) {
    bench_verify(result == BENCH_FIB_RESULT, w, result, BENCH_FIB_RESULT);
    bench_report("openmp", w, (double)elapsed / 1e6, "ms");
  } else {
    return 2;
  }
  return 0;
}
