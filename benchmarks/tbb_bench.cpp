// SPDX-License-Identifier: MIT
// tbb_bench.cpp — oneTBB baseline: task_group for jobs and fork-join,
// task::suspend for parked tasks, in an arena of 2 threads (the main thread
// takes one slot, as TBB programs do).
//   tbb_bench empty|fib|fib_cutoff|skynet|parked
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <atomic>
#include <vector>

#include "bench_util.h"

static long fib(int n, int cutoff) {
  if (n < 2 || n < cutoff)
    return bench_fib_serial(n);
  long x = 0, y = 0;
  tbb::task_group g;
  g.run([&] { x = fib(n - 1, cutoff); });
  g.run_and_wait([&] { y = fib(n - 2, cutoff); });
  return x + y;
}

static long skynet(long first, long size) {
  if (size == 1)
    return first;
  long sums[10];
  long step = size / 10;
  tbb::task_group g;
  for (int i = 0; i < 10; i++)
    g.run([&, i] { sums[i] = skynet(first + i * step, step); });
  g.wait();
  long sum = 0;
  for (long s : sums)
    sum += s;
  return sum;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  const char *w = argv[1];
  tbb::global_control stack(tbb::global_control::thread_stack_size, 2u << 20);
  tbb::task_arena arena(2);
  arena.execute([&] {
    if (!strcmp(w, "empty")) {
      // No batch submission in TBB: the batched and unbatched rows are the
      // same loop of task_group::run.
      std::atomic<long> runs{0};
      tbb::task_group g;
      for (int i = 0; i < 1000; i++)
        g.run([&] { runs.fetch_add(1, std::memory_order_relaxed); });
      g.wait();
      bench_verify(runs == 1000, "empty", runs, 1000);
      uint64_t best = UINT64_MAX; // a warm-up pass, then the fastest of BENCH_EMPTY_PASSES
      for (int pass = 0; pass <= BENCH_EMPTY_PASSES; pass++) {
        uint64_t t0 = bench_now_ns();
        for (int i = 0; i < BENCH_EMPTY_JOBS; i++)
          g.run([] {});
        g.wait();
        bench_keep_fastest(&best, pass, bench_now_ns() - t0);
      }
      double ns = double(best) / BENCH_EMPTY_JOBS;
      bench_report("onetbb", "empty", ns, "ns/job");
      bench_report("onetbb", "empty_unbatched", ns, "ns/job");
    } else if (!strcmp(w, "fib") || !strcmp(w, "fib_cutoff")) {
      int cutoff = !strcmp(w, "fib") ? 0 : BENCH_FIB_CUTOFF;
      uint64_t t0 = bench_now_ns();
      long r = fib(BENCH_FIB_N, cutoff);
      double ms = double(bench_now_ns() - t0) / 1e6;
      bench_verify(r == BENCH_FIB_RESULT, w, r, BENCH_FIB_RESULT);
      bench_report("onetbb", w, ms, "ms");
    } else if (!strcmp(w, "skynet")) {
      uint64_t t0 = bench_now_ns();
      long r = skynet(0, BENCH_SKYNET_LEAVES);
      double ms = double(bench_now_ns() - t0) / 1e6;
      bench_verify(r == BENCH_SKYNET_SUM, "skynet", r, BENCH_SKYNET_SUM);
      bench_report("onetbb", "skynet", ms, "ms");
    }
  });
  if (!strcmp(w, "parked")) {
    // Suspended tasks keep their stacks; TBB sizes them from the thread
    // stack size, set to 64 KiB here like everyone else's.
    tbb::global_control small(tbb::global_control::thread_stack_size, BENCH_STACK);
    std::vector<tbb::task::suspend_point> points(BENCH_PARKED);
    std::atomic<int> parked{0}, resumed{0};
    long before = bench_rss_bytes(), during = 0;
    tbb::task_arena park_arena(2);
    park_arena.execute([&] {
      tbb::task_group g;
      for (int i = 0; i < BENCH_PARKED; i++)
        g.run([&, i] {
          tbb::task::suspend([&, i](tbb::task::suspend_point sp) {
            points[i] = sp;
            parked.fetch_add(1);
          });
          resumed.fetch_add(1);
        });
      while (parked.load() < BENCH_PARKED)
        usleep(1000);
      during = bench_rss_bytes();
      for (auto sp : points)
        tbb::task::resume(sp);
      g.wait();
    });
    bench_verify(resumed == BENCH_PARKED, "parked", resumed, BENCH_PARKED);
    bench_report("onetbb", "parked", double(during - before) / 1024.0 / BENCH_PARKED, "KiB/fiber");
    bench_report("onetbb", "parked_peak_rss", double(during) / 1048576.0, "MiB");
  }
  return 0;
}
