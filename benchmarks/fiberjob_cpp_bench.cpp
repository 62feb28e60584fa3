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
 */
#include <fiberjob.hpp>

#include <cstdio>
#include <cstring>

#include "bench_util.h"
#include "forkjoin.hpp"

static const char *const kSystem = "fiberjob-cpp";

static fj::System make_system(unsigned workers) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = workers;
  cfg.stack_size = BENCH_STACK;
  return fj::System(cfg);
}

// Runs body(ctx) as one job and reports the time to its end.
template <class Body>
static long timed(unsigned workers, const char *figure, Body body) {
  fj::System sys = make_system(workers);
  fj::Counter c(sys);
  long result = 0;
  uint64_t t0 = bench_now_ns();
  sys.run(c, [&](fj::Ctx &ctx) { result = body(ctx); });
  c.wait();
  uint64_t t1 = bench_now_ns();
  bench_report(kSystem, figure, (double)(t1 - t0) / 1e6, "ms");
  return result;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s fib|fib_cutoff|skynet [--workers N]\n", argv[0]);
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
    if (!std::strcmp(w, "fib") || !std::strcmp(w, "fib_cutoff")) {
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
