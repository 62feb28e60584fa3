/* SPDX-License-Identifier: MIT */
/* Randomized stress: random trees of spawn / yield / wait / fj_run from
 * inside jobs, mixed priorities, on several worker counts, fibers on and
 * off, many seeds.  Every node must run exactly once.
 * Usage: test_stress [first_seed [seeds]]. */
#include <stdatomic.h>
#include <string.h>

#include "check.h"

enum { MAX_NODES = 4000 };
static atomic_int ran[MAX_NODES];
static atomic_int next_node;
static uint64_t g_seed;

/* A node's behaviour comes from a hash of (seed, node id), so it does not
 * depend on which worker runs it or when. */
static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

static void node(fj_ctx *ctx, void *arg) {
  int id = (int)(long)arg;
  CHECK_EQ(atomic_fetch_add(&ran[id], 1), 0);
  uint64_t h = mix(g_seed * 1000003u + (uint64_t)id);
  fj_system *sys = fj_ctx_system(ctx);
  int kids = (int)(h % 5); /* 0..4 children */
  if (kids == 0)
    return;
  fj_counter *c = test_counter(sys);
  for (int k = 0; k < kids; k++) {
    int child = atomic_fetch_add(&next_node, 1);
    if (child >= MAX_NODES) {
      atomic_fetch_sub(&next_node, 1);
      break;
    }
    uint64_t hk = mix(h + (uint64_t)k);
    fj_priority prio = (fj_priority)(hk % 3);
    fj_counter *use = (hk >> 8) % 4 == 0 ? NULL : c; /* some fire-and-forget */
    if ((hk >> 12) % 3 == 0)
      CHECK_OK(fj_run(sys, node, (void *)(long)child, prio, use)); /* as a spawn */
    else
      CHECK_OK(fj_ctx_spawn(ctx, node, (void *)(long)child, prio, use));
    if ((hk >> 16) % 4 == 0)
      CHECK_OK(fj_ctx_yield(ctx));
    if ((hk >> 20) % 5 == 0) {
      CHECK_OK(fj_ctx_wait(ctx, c));
    }
  }
  CHECK_OK(fj_ctx_wait(ctx, c));
  CHECK_EQ(fj_counter_value(c), 0);
  fj_counter_destroy(c);
}

static void one_seed(uint64_t seed, unsigned workers, int yielding) {
  g_seed = seed;
  memset(ran, 0, sizeof ran);
  atomic_store(&next_node, 8);
  fj_system *sys = test_system(workers, yielding);
  fj_counter *c = test_counter(sys);
  for (long r = 0; r < 8; r++)
    CHECK_OK(fj_run(sys, node, (void *)r, (fj_priority)(r % 3), r % 2 ? c : NULL));
  CHECK_OK(fj_wait(sys, c));
  fj_counter_destroy(c);
  fj_system_destroy(sys); /* finishes the fire-and-forget ones */
  int nodes = atomic_load(&next_node);
  for (int i = 0; i < nodes; i++)
    if (atomic_load(&ran[i]) != 1) {
      fprintf(stderr, "seed %llu workers %u yielding %d: node %d ran %d times\n",
              (unsigned long long)seed, workers, yielding, i, atomic_load(&ran[i]));
      exit(1);
    }
}

int main(int argc, char **argv) {
  uint64_t first = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
  long seeds = argc > 2 ? atol(argv[2]) : test_scaled(200);
  static const unsigned workers[] = {1, 2, 4};
  for (long s = 0; s < seeds; s++)
    for (int y = 1; y >= 0; y--)
      one_seed(first + (uint64_t)s, workers[s % 3], y);
  printf("test_stress: ok (%ld seeds from %llu)\n", seeds, (unsigned long long)first);
  return 0;
}
