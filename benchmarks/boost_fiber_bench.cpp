// SPDX-License-Identifier: MIT
// boost_fiber_bench.cpp — Boost.Fiber baseline.  Yield and parked fibers
// run on one thread (the round-robin scheduler); jobs and fork-join run on
// 2 threads with the work_stealing algorithm, one fiber per job, 64 KiB
// stacks everywhere.
//   boost_fiber_bench yield|yield64|empty|fib|fib_cutoff|skynet|parked
#include <boost/fiber/all.hpp>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "bench_util.h"

namespace bf = boost::fibers;

template <class Fn> static bf::fiber spawn(Fn &&fn) {
  return bf::fiber(std::allocator_arg, bf::fixedsize_stack(BENCH_STACK), std::forward<Fn>(fn));
}

static void yield_bench(int fibers, long per_fiber, const char *name) {
  uint64_t best = UINT64_MAX;
  for (int pass = 0; pass < BENCH_PASSES; pass++) { // the fastest pass
    std::vector<bf::fiber> fs;
    uint64_t t0 = bench_cpu_ns(); // CPU time: see bench_cpu_ns
    for (int i = 0; i < fibers; i++)
      fs.push_back(spawn([per_fiber] {
        for (long k = 0; k < per_fiber; k++)
          boost::this_fiber::yield();
      }));
    for (auto &f : fs)
      f.join();
    best = std::min(best, bench_cpu_ns() - t0);
  }
  bench_report("boost-fiber", name, double(best) / double(fibers * per_fiber), "ns/yield");
}

static void parked_bench() {
  bf::mutex m;
  bf::condition_variable cv;
  bool open = false;
  std::atomic<int> parked{0}, resumed{0};
  std::vector<bf::fiber> fs;
  long before = bench_rss_bytes();
  for (int i = 0; i < BENCH_PARKED; i++)
    fs.push_back(bf::fiber(std::allocator_arg, bf::protected_fixedsize_stack(BENCH_STACK), [&] {
      std::unique_lock<bf::mutex> lk(m);
      parked++;
      cv.wait(lk, [&] { return open; });
      resumed++;
    }));
  while (parked < BENCH_PARKED)
    boost::this_fiber::yield();
  long during = bench_rss_bytes();
  {
    std::unique_lock<bf::mutex> lk(m);
    open = true;
  }
  cv.notify_all();
  for (auto &f : fs)
    f.join();
  bench_verify(resumed == BENCH_PARKED, "parked", resumed, BENCH_PARKED);
  bench_report("boost-fiber", "parked", double(during - before) / 1024.0 / BENCH_PARKED, "KiB/fiber");
  bench_report("boost-fiber", "parked_peak_rss", double(during) / 1048576.0, "MiB");
}

static long fib(int n, int cutoff) {
  if (n < 2 || n < cutoff)
    return bench_fib_serial(n);
  long x = 0;
  bf::fiber f = spawn([&] { x = fib(n - 1, cutoff); });
  long y = fib(n - 2, cutoff);
  f.join();
  return x + y;
}

static long skynet(long first, long size) {
  if (size == 1)
    return first;
  long sums[10];
  long step = size / 10;
  std::vector<bf::fiber> fs;
  fs.reserve(10);
  for (int i = 0; i < 10; i++)
    fs.push_back(spawn([&, i] { sums[i] = skynet(first + i * step, step); }));
  long sum = 0;
  for (int i = 0; i < 10; i++) {
    fs[i].join();
    sum += sums[i];
  }
  return sum;
}

// Runs body on a 2-thread work-stealing pool: this thread plus one helper
// that serves fibers until body is done.
template <class Body> static void on_two_threads(Body body) {
  std::atomic<bool> done{false};
  // work_stealing's constructor waits until both threads have registered,
  // so the helper must start first.
  std::thread helper([&] {
    bf::use_scheduling_algorithm<bf::algo::work_stealing>(2);
    while (!done)
      boost::this_fiber::sleep_for(std::chrono::microseconds(50));
  });
  bf::use_scheduling_algorithm<bf::algo::work_stealing>(2);
  spawn([&] { body(); }).join();
  done = true;
  helper.join();
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  const char *w = argv[1];
  if (!strcmp(w, "yield")) {
    yield_bench(2, BENCH_YIELDS, "yield");
  } else if (!strcmp(w, "yield64")) {
    yield_bench(64, BENCH_YIELDS_64, "yield64");
  } else if (!strcmp(w, "parked")) {
    parked_bench();
  } else if (!strcmp(w, "empty")) {
    // One fiber per job, joined at the end; a tenth of the jobs (each
    // fiber maps a stack), reported per job.
    const int jobs = BENCH_EMPTY_JOBS / 10;
    on_two_threads([&] {
      std::atomic<int> runs{0};
      uint64_t best = UINT64_MAX; // a warm-up pass, then the fastest of BENCH_EMPTY_PASSES
      for (int pass = 0; pass <= BENCH_EMPTY_PASSES; pass++) {
        std::vector<bf::fiber> fs;
        fs.reserve(jobs);
        uint64_t t0 = bench_now_ns();
        for (int i = 0; i < jobs; i++)
          fs.push_back(spawn([&] { runs.fetch_add(1, std::memory_order_relaxed); }));
        for (auto &f : fs)
          f.join();
        bench_keep_fastest(&best, pass, bench_now_ns() - t0);
      }
      double ns = double(best) / jobs;
      const int all = (1 + BENCH_EMPTY_PASSES) * jobs;
      bench_verify(runs == all, "empty", runs, all);
      bench_report("boost-fiber", "empty", ns, "ns/job");
      bench_report("boost-fiber", "empty_unbatched", ns, "ns/job");
    });
  } else if (!strcmp(w, "fib") || !strcmp(w, "fib_cutoff")) {
    on_two_threads([&] {
      uint64_t t0 = bench_now_ns();
      long r = fib(BENCH_FIB_N, !strcmp(w, "fib") ? 0 : BENCH_FIB_CUTOFF);
      double ms = double(bench_now_ns() - t0) / 1e6;
      bench_verify(r == BENCH_FIB_RESULT, w, r, BENCH_FIB_RESULT);
      bench_report("boost-fiber", w, ms, "ms");
    });
  } else if (!strcmp(w, "skynet")) {
    on_two_threads([&] {
      uint64_t t0 = bench_now_ns();
      long r = skynet(0, BENCH_SKYNET_LEAVES);
      double ms = double(bench_now_ns() - t0) / 1e6;
      bench_verify(r == BENCH_SKYNET_SUM, "skynet", r, BENCH_SKYNET_SUM);
      bench_report("boost-fiber", "skynet", ms, "ms");
    });
  } else {
    return 2;
  }
  return 0;
}
