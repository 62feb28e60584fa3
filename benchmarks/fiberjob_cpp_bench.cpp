// SPDX-License-Identifier: MIT
/*
 * fiberjob_cpp_bench.cpp — fib and skynet written with the C++ layer
 * (forkjoin.hpp), the same programs as fiberjob_bench.c's on the C API:
 * same sizes, 2 workers, 64 KiB stacks, one counter per inner node, the
 * timed region from the first submission to the end of the outer wait.
 * The report divides these by the C figures of the same round.
 * fib spawns both children with one spawn_many, as the C program submits
 * both with one fj_ctx_spawn_jobs; --two-spawns uses two ctx.spawn calls
 * instead (the README's form: two submissions per node, in C as well).
 *   fiberjob_cpp_bench fib|fib_cutoff|skynet [--workers N] [--two-spawns]
 *
 *   fiberjob_cpp_bench fib_paired|skynet_paired
 * The layer's cost without the noise between processes: BENCH_PAIRS runs of
 * the C program (forkjoin_c.h) and of the C++ one, alternating in one
 * process and one system; reports the median of the per-pair ratios
 * (C++ time ÷ C time, figure fib_cpp_over_c or skynet_cpp_over_c).  Separate
 * processes of one binary can run at different speeds on these VMs
 * (benchmarks/README.md), which made the ratio of the plain figures swing
 * 0.81-1.55x from one pair of processes to the next; in one process both
 * programs see the same speed.
 */
#include <fiberjob.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bench_util.h"
#include "forkjoin.hpp"
#include "forkjoin_c.h"

static const char *const kSystem = "fiberjob-cpp";

static fj::System make_system(unsigned workers) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = workers;
  cfg.stack_size = BENCH_STACK;
  return fj::System(cfg);
}

// Runs body(ctx) as one job on sys: ns to the end of its wait, and
// body's result in *result.
template <class Body> static uint64_t run_once(fj::System &sys, Body body, long *result) {
  fj::Counter c(sys);
  uint64_t t0 = bench_now_ns();
  sys.run(c, [&](fj::Ctx &ctx) { *result = body(ctx); });
  c.wait();
  return bench_now_ns() - t0;
}

// Runs body(ctx) as one job on a new system and reports the time to its end.
template <class Body>
static long timed(unsigned workers, const char *figure, Body body) {
  fj::System sys = make_system(workers);
  long result = 0;
  uint64_t ns = run_once(sys, body, &result);
  bench_report(kSystem, figure, (double)ns / 1e6, "ms");
  return result;
}

// One run of the C program (forkjoin_c.h) on sys: ns to the end of its wait.
static uint64_t c_run(fj::System &sys, bool skynet) {
  fj_counter *c = bench_counter(sys.get());
  bench_fib_arg f = {BENCH_FIB_N, 0, 0};
  bench_sky_arg s = {0, BENCH_SKYNET_LEAVES, 0};
  uint64_t t0 = bench_now_ns();
  if (skynet)
    fj_run(sys.get(), bench_skynet_job, &s, FJ_PRIORITY_NORMAL, c);
  else
    fj_run(sys.get(), bench_fib_job, &f, FJ_PRIORITY_NORMAL, c);
  fj_wait(sys.get(), c);
  uint64_t t = bench_now_ns() - t0;
  fj_counter_destroy(c);
  if (skynet)
    bench_verify(s.sum == BENCH_SKYNET_SUM, "skynet (C)", s.sum, BENCH_SKYNET_SUM);
  else
    bench_verify(f.result == BENCH_FIB_RESULT, "fib (C)", f.result, BENCH_FIB_RESULT);
  return t;
}

// One run of the C++ program (forkjoin.hpp) on sys, as timed() runs it.
static uint64_t cpp_run(fj::System &sys, bool skynet) {
  long r = 0;
  uint64_t t = run_once(
      sys,
      [skynet](fj::Ctx &ctx) {
        return skynet ? forkjoin_skynet(ctx, 0, BENCH_SKYNET_LEAVES)
                      : forkjoin_fib<false>(ctx, BENCH_FIB_N, 0);
      },
      &r);
  long want = skynet ? BENCH_SKYNET_SUM : BENCH_FIB_RESULT;
  bench_verify(r == want, skynet ? "skynet (C++)" : "fib (C++)", r, want);
  return t;
}

// BENCH_PAIRS of (C run, C++ run) in one system; the C run goes first in
// even pairs and second in odd ones, so neither always follows the other.
static void paired(bool skynet) {
  fj::System sys = make_system(2);
  std::vector<double> ratios;
  for (int k = 0; k < BENCH_PAIRS; k++) {
    uint64_t c_ns, cpp_ns;
    if (k % 2 == 0) {
      c_ns = c_run(sys, skynet);
      cpp_ns = cpp_run(sys, skynet);
    } else {
      cpp_ns = cpp_run(sys, skynet);
      c_ns = c_run(sys, skynet);
    }
    ratios.push_back(double(cpp_ns) / double(c_ns));
  }
  std::sort(ratios.begin(), ratios.end());
  bench_report(kSystem, skynet ? "skynet_cpp_over_c" : "fib_cpp_over_c",
               ratios[ratios.size() / 2], "ratio");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s fib|fib_cutoff|skynet|fib_paired|skynet_paired [--workers N]\n",
                 argv[0]);
    return 2;
  }
  const char *w = argv[1];
  long n = bench_int_option(argc, argv, "--workers", 0);
  unsigned workers = n > 0 ? (unsigned)n : 2;
  bool two_spawns = bench_has_flag(argc, argv, "--two-spawns");
  char figure[64];
  const char *base = w;
  std::snprintf(figure, sizeof figure, "%s%s", base, two_spawns ? "_two_spawns" : "");
  if (n > 0)
    std::snprintf(figure + std::strlen(figure), sizeof figure - std::strlen(figure), "_w%u", workers);
  try {
    if (!std::strcmp(w, "fib_paired") || !std::strcmp(w, "skynet_paired")) {
      paired(!std::strcmp(w, "skynet_paired"));
    } else if (!std::strcmp(w, "fib") || !std::strcmp(w, "fib_cutoff")) {
      int cutoff = std::strcmp(w, "fib") ? BENCH_FIB_CUTOFF : 0;
      long r = timed(workers, figure, [cutoff, two_spawns](fj::Ctx &ctx) {
        return two_spawns ? forkjoin_fib<true>(ctx, BENCH_FIB_N, cutoff)
                          : forkjoin_fib<false>(ctx, BENCH_FIB_N, cutoff);
      });
      bench_verify(r == BENCH_FIB_RESULT, "fib", r, BENCH_FIB_RESULT);
    } else if (!std::strcmp(w, "skynet")) {
      long r = timed(workers, figure,
                     [](fj::Ctx &ctx) { return forkjoin_skynet(ctx, 0, BENCH_SKYNET_LEAVES); });
      bench_verify(r == BENCH_SKYNET_SUM, "skynet", r, BENCH_SKYNET_SUM);
    } else {
      std::fprintf(stderr, "unknown workload %s\n", w);
      return 2;
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "fiberjob_cpp_bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
