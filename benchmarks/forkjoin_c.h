/* SPDX-License-Identifier: MIT */
/*
 * forkjoin_c.h — fib and skynet on the C API, one counter per inner node:
 * the programs fiberjob_bench times, and the C side of fiberjob_cpp_bench's
 * paired runs (which alternate them with forkjoin.hpp's in one process).
 * Compiles as C and as C++.
 */
#ifndef FJ_BENCH_FORKJOIN_C_H
#define FJ_BENCH_FORKJOIN_C_H

#include <fiberjob.h>
#include <stdlib.h>

#include "bench_util.h"

static fj_counter *bench_counter(fj_system *sys) {
  fj_counter *c;
  if (fj_counter_create(sys, &c) != FJ_OK)
    exit(2);
  return c;
}

/* fib(n): serial below cutoff, else one counter, both children in one
 * fj_ctx_spawn_jobs, and a wait. */
typedef struct { int n, cutoff; long result; } bench_fib_arg;

static void bench_fib_job(fj_ctx *ctx, void *p) {
  bench_fib_arg *a = (bench_fib_arg *)p;
  if (a->n < 2 || a->n < a->cutoff) {
    a->result = bench_fib_serial(a->n);
    return;
  }
  bench_fib_arg x = {a->n - 1, a->cutoff, 0}, y = {a->n - 2, a->cutoff, 0};
  fj_counter *c = bench_counter(fj_ctx_system(ctx));
  fj_job kids[2] = {{bench_fib_job, &x}, {bench_fib_job, &y}};
  fj_ctx_spawn_jobs(ctx, kids, 2, FJ_PRIORITY_NORMAL, c);
  fj_ctx_wait(ctx, c);
  fj_counter_destroy(c);
  a->result = x.result + y.result;
}

/* The sum of first .. first + size - 1 as a tree of ten children per node;
 * size a power of ten. */
typedef struct { long first, size, sum; } bench_sky_arg;

static void bench_skynet_job(fj_ctx *ctx, void *p) {
  bench_sky_arg *a = (bench_sky_arg *)p;
  if (a->size == 1) {
    a->sum = a->first;
    return;
  }
  bench_sky_arg kids[10];
  fj_job jobs[10];
  long step = a->size / 10;
  for (int i = 0; i < 10; i++) {
    kids[i].first = a->first + i * step;
    kids[i].size = step;
    kids[i].sum = 0;
    jobs[i].fn = bench_skynet_job;
    jobs[i].arg = &kids[i];
  }
  fj_counter *c = bench_counter(fj_ctx_system(ctx));
  fj_ctx_spawn_jobs(ctx, jobs, 10, FJ_PRIORITY_NORMAL, c);
  fj_ctx_wait(ctx, c);
  fj_counter_destroy(c);
  long sum = 0;
  for (int i = 0; i < 10; i++)
    sum += kids[i].sum;
  a->sum = sum;
}

#endif
