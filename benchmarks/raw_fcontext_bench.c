/* SPDX-License-Identifier: MIT */
/*
 * raw_fcontext_bench.c — the physical floor: Boost.Context's own
 * jump_fcontext with nothing around it.
 *   raw_fcontext_bench yield    round trip (two jumps) between two contexts
 *   raw_fcontext_bench parked   10,000 contexts on 64 KiB mmap'd stacks with
 *                               a guard page, each entered once and left
 *                               suspended: resident memory per context
 */
#include <sys/mman.h>

#include "bench_util.h"

/* Boost 1.74's C-linkage entry points (libboost_context.so). */
typedef void *fcontext_t;
typedef struct { fcontext_t fctx; void *data; } transfer_t;
extern transfer_t jump_fcontext(fcontext_t const to, void *vp);
extern fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t));

static void bouncer(transfer_t t) {
  for (;;)
    t = jump_fcontext(t.fctx, NULL);
}

static void bench_round_trip(void) {
  static char stack[BENCH_STACK];
  fcontext_t ctx = make_fcontext(stack + sizeof stack, sizeof stack, bouncer);
  enum { TRIPS = 20000000 };
  for (int warm = 0; warm < 1000; warm++)
    ctx = jump_fcontext(ctx, NULL).fctx;
  uint64_t t0 = bench_now_ns();
  for (long i = 0; i < TRIPS; i++)
    ctx = jump_fcontext(ctx, NULL).fctx;
  uint64_t t1 = bench_now_ns();
  bench_report("raw-fcontext", "yield", (double)(t1 - t0) / TRIPS, "ns/round-trip");
}

/* Touches a little of its stack the way a job's frames would, then parks. */
static void parker(transfer_t t) {
  volatile char frame[512];
  frame[0] = 1;
  frame[511] = frame[0];
  jump_fcontext(t.fctx, NULL);
  abort(); /* never resumed */
}

static void bench_parked(void) {
  long page = sysconf(_SC_PAGESIZE);
  size_t map = BENCH_STACK + (size_t)page;
  static void *stacks[BENCH_PARKED];
  long before = bench_rss_bytes();
  for (int i = 0; i < BENCH_PARKED; i++) {
    char *m = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED || mprotect(m, (size_t)page, PROT_NONE) != 0) {
      perror("mmap");
      exit(2);
    }
    stacks[i] = m;
    fcontext_t ctx = make_fcontext(m + map, BENCH_STACK, parker);
    jump_fcontext(ctx, NULL); /* runs parker up to its park */
  }
  long during = bench_rss_bytes();
  bench_report("raw-fcontext", "parked", (double)(during - before) / 1024.0 / BENCH_PARKED,
               "KiB/fiber");
  bench_report("raw-fcontext", "parked_peak_rss", (double)during / 1048576.0, "MiB");
  for (int i = 0; i < BENCH_PARKED; i++)
    munmap(stacks[i], map);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s yield|parked\n", argv[0]);
    return 2;
  }
  if (!strcmp(argv[1], "yield"))
    bench_round_trip();
  else if (!strcmp(argv[1], "parked"))
    bench_parked();
  else
    return 2;
  return 0;
}
