// SPDX-License-Identifier: MIT
/*
 * forkjoin.hpp — fib and skynet written with the C++ layer (fiberjob.hpp),
 * one counter per inner node: the programs fiberjob_cpp_bench times and the
 * C++ tests check (tests/cpp), so what is measured is what is tested.
 */
#ifndef FJ_BENCH_FORKJOIN_HPP
#define FJ_BENCH_FORKJOIN_HPP

#include <fiberjob.hpp>

#include <cstddef>

#include "bench_util.h"

// fib(n): serial below cutoff, else one counter, two children and a wait.
// The children come from one spawn_many (as the C program submits both with
// one fj_ctx_spawn_jobs), or with TwoSpawns from two ctx.spawn calls (the
// README's form).  A template parameter, not an argument: the benchmark
// compares instruction counts with the C program, which has no such choice
// to carry down the recursion.
template <bool TwoSpawns> long forkjoin_fib(fj::Ctx &ctx, int n, int cutoff) {
  if (n < 2 || n < cutoff)
    return bench_fib_serial(n);
  long r[2] = {0, 0};
  fj::Counter c(ctx);
  if (TwoSpawns) {
    ctx.spawn(c, [&r, n, cutoff](fj::Ctx &sub) { r[0] = forkjoin_fib<true>(sub, n - 1, cutoff); });
    ctx.spawn(c, [&r, n, cutoff](fj::Ctx &sub) { r[1] = forkjoin_fib<true>(sub, n - 2, cutoff); });
  } else {
    ctx.spawn_many(c, 2, [&r, n, cutoff](fj::Ctx &sub, std::size_t i) {
      r[i] = forkjoin_fib<false>(sub, n - 1 - (int)i, cutoff);
    });
  }
  ctx.wait(c);
  return r[0] + r[1];
}

// The sum of first .. first + size - 1 as a tree of ten children per node,
// spawned by one spawn_many sharing one callable; size a power of ten.
inline long forkjoin_skynet(fj::Ctx &ctx, long first, long size) {
  if (size == 1)
    return first;
  long sums[10];
  long step = size / 10;
  fj::Counter c(ctx);
  ctx.spawn_many(c, 10, [&sums, first, step](fj::Ctx &sub, std::size_t i) {
    sums[i] = forkjoin_skynet(sub, first + (long)i * step, step);
  });
  ctx.wait(c);
  long s = 0;
  for (long v : sums)
    s += v;
  return s;
}

#endif
