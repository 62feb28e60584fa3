/* SPDX-License-Identifier: MIT */
/*
 * raw_fcontext_bench.c — the physical floor: Boost.Context's own
 * jump_fcontext with nothing around it, and the smallest scheduler built on
 * it.  Times are process CPU time (bench_cpu_ns), like fiberjob_bench's
 * yield figures.
 *   raw_fcontext_bench yield    round trip (two jumps) between two contexts;
 *                               also reported per jump (half a round trip)
 *   raw_fcontext_bench rr2|rr64 a bare round-robin scheduler: 2 or 64 fibers
 *                               on their own stacks, each yield jumps to the
 *                               scheduler context, which jumps to the next
 *                               fiber in the ring — two jumps per yield, no
 *                               queue, no priorities, no atomics
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
  enum { TRIPS = 10000000 };
  for (int warm = 0; warm < 1000; warm++)
    ctx = jump_fcontext(ctx, NULL).fctx;
  uint64_t best = UINT64_MAX;
  for (int pass = 0; pass < BENCH_PASSES; pass++) { /* the fastest pass */
    uint64_t t0 = bench_cpu_ns();
    for (long i = 0; i < TRIPS; i++)
      ctx = jump_fcontext(ctx, NULL).fctx;
    uint64_t t1 = bench_cpu_ns();
    if (t1 - t0 < best)
      best = t1 - t0;
  }
  bench_report("raw-fcontext", "roundtrip", (double)best / TRIPS, "ns/round-trip");
  bench_report("raw-fcontext", "jump", (double)best / TRIPS / 2, "ns/jump");
}

/* ---- bare round-robin scheduler ---------------------------------------- */

/* A fiber of the ring: yields `per_fiber` times, then reports it is done by
 * jumping back with a non-NULL data pointer. */
static long rr_per_fiber;
static void rr_fiber(transfer_t t) {
  for (long i = 0; i < rr_per_fiber; i++)
    t = jump_fcontext(t.fctx, NULL); /* yield: back to the scheduler */
  jump_fcontext(t.fctx, &rr_per_fiber);
  abort(); /* a finished fiber is never resumed */
}

static uint64_t round_robin_pass(int fibers, long per_fiber, const char *name) {
  static char stacks[64][BENCH_STACK];
  fcontext_t ctx[64];
  int live = fibers;
  long yields = 0;
  rr_per_fiber = per_fiber;
  for (int i = 0; i < fibers; i++) {
    /* Each stack's top one cache line lower than the last: without it
     * the 64 stacks' hot frames share a few L1 sets (they are 64 KiB
     * apart) and the floor would be slower than it need be.  libfiberjob
     * colours its fibers the same way (lib/fiber.c). */
    size_t size = BENCH_STACK - (size_t)(i % 48) * 64;
    ctx[i] = make_fcontext(stacks[i] + size, size, rr_fiber);
  }
  uint64_t t0 = bench_cpu_ns();
  /* The scheduler: resume each live fiber in turn until all are done. */
  while (live > 0) {
    for (int i = 0; i < fibers; i++) {
      if (!ctx[i])
        continue;
      transfer_t t = jump_fcontext(ctx[i], NULL);
      if (t.data) {
        ctx[i] = NULL;
        live--;
      } else {
        ctx[i] = t.fctx;
        yields++;
      }
    }
  }
  uint64_t t1 = bench_cpu_ns();
  long want = (long)fibers * per_fiber;
  bench_verify(yields == want, name, yields, want);
  return t1 - t0;
}

static void bench_round_robin(int fibers, long per_fiber, const char *name) {
  uint64_t best = UINT64_MAX;
  for (int pass = 0; pass < BENCH_PASSES; pass++) { /* the fastest pass */
    uint64_t ns = round_robin_pass(fibers, per_fiber, name);
    if (ns < best)
      best = ns;
  }
  bench_report("rr-fcontext", name, (double)best / (double)((long)fibers * per_fiber),
               "ns/yield");
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
    fprintf(stderr, "usage: %s yield|rr2|rr64|parked\n", argv[0]);
    return 2;
  }
  if (!strcmp(argv[1], "yield"))
    bench_round_trip();
  else if (!strcmp(argv[1], "rr2"))
    bench_round_robin(2, BENCH_YIELDS, "yield");
  else if (!strcmp(argv[1], "rr64"))
    bench_round_robin(64, BENCH_YIELDS_64, "yield64");
  else if (!strcmp(argv[1], "parked"))
    bench_parked();
  else
    return 2;
  return 0;
}
