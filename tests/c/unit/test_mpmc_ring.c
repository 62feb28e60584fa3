/* SPDX-License-Identifier: MIT */
/*
 * The bounded MPMC ring on its own: full and empty edges, a claimed but
 * unpublished cell holding consumers back, many laps around a small ring,
 * the single-try claim (fj__ring_claim_once) against the loop,
 * and many producers against many consumers (taking one at a time or
 * several at once) with every item taken exactly once and each producer's
 * items seen in order by every consumer.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mpmc_ring.h"
#include "unit.h"

enum { PRODUCERS = 3, CONSUMERS = 3, SEQ_BITS = 40 };

/* An item names its producer and sequence number; the counter field is
 * derived from both, so a torn copy shows. */
static fj__item item_of(uintptr_t producer, uintptr_t seq) {
  uintptr_t id = producer << SEQ_BITS | seq;
  return (fj__item){.fn = NULL, .arg = (void *)id, .counter = (fj_counter *)(~id)};
}

static void put(fj__mpmc_ring *r, uintptr_t producer, uintptr_t seq) {
  fj__ring_cell *cell = fj__ring_claim(r);
  CHECK(cell != NULL);
  fj__item it = item_of(producer, seq);
  fj__ring_publish(cell, &it);
}

static uintptr_t get(fj__mpmc_ring *r) {
  fj__item it;
  CHECK(fj__ring_take(r, &it));
  CHECK(it.counter == (fj_counter *)~(uintptr_t)it.arg);
  return (uintptr_t)it.arg;
}

static void full_and_empty_edges(void) {
  fj__mpmc_ring r;
  CHECK(fj__ring_init(&r, 4) == 0);
  fj__item it;
  CHECK(!fj__ring_take(&r, &it)); /* empty */
  CHECK_EQ(fj__ring_size_hint(&r), 0);
  for (uintptr_t i = 0; i < 4; i++)
    put(&r, 0, i);
  CHECK(fj__ring_claim(&r) == NULL); /* full: capacity 4 */
  CHECK(fj__ring_claim_once(&r) == NULL);
  CHECK_EQ(fj__ring_size_hint(&r), 4);
  CHECK_EQ(get(&r), 0);
  put(&r, 0, 4); /* one freed cell is usable again at once */
  CHECK(fj__ring_claim(&r) == NULL);
  for (uintptr_t i = 1; i <= 4; i++)
    CHECK_EQ(get(&r), i);
  CHECK(!fj__ring_take(&r, &it));
  CHECK_EQ(fj__ring_size_hint(&r), 0);
  fj__ring_fini(&r);
  /* A lazy ring not yet allocated is full to both claims. */
  fj__ring_init_lazy(&r, 4);
  CHECK(fj__ring_claim(&r) == NULL);
  CHECK(fj__ring_claim_once(&r) == NULL);
  CHECK_EQ(fj__ring_size_hint(&r), 0);
  fj__ring_fini(&r);
}

/* The single try claims the same cells, in the same order, as the loop. */
static void claim_once_in_order(void) {
  fj__mpmc_ring r;
  CHECK(fj__ring_init(&r, 2) == 0);
  for (uintptr_t i = 0; i < 1000; i++) {
    fj__ring_cell *cell = i % 3 ? fj__ring_claim_once(&r) : fj__ring_claim(&r);
    CHECK(cell != NULL);
    fj__item it = item_of(0, i);
    fj__ring_publish(cell, &it);
    CHECK_EQ(get(&r), i);
  }
  fj__ring_fini(&r);
}

/* Consumers stop at a claimed, unpublished cell even when a later one is
 * published: that keeps FIFO order. */
static void unpublished_cell_blocks(void) {
  fj__mpmc_ring r;
  CHECK(fj__ring_init(&r, 8) == 0);
  fj__ring_cell *a = fj__ring_claim(&r), *b = fj__ring_claim(&r);
  CHECK(a != NULL && b != NULL && a != b);
  fj__item it = item_of(0, 2);
  fj__ring_publish(b, &it);
  CHECK(!fj__ring_take(&r, &it));
  it = item_of(0, 1);
  fj__ring_publish(a, &it);
  CHECK_EQ(get(&r), 1);
  CHECK_EQ(get(&r), 2);
  CHECK(!fj__ring_take(&r, &it));
  fj__ring_fini(&r);
}

/* Taking several at once: in order, stopping at the first unpublished
 * cell, never more than asked for, and never a lap's worth twice when
 * asked for more than the capacity. */
static void take_many_edges(void) {
  fj__mpmc_ring r;
  CHECK(fj__ring_init(&r, 4) == 0);
  fj__item out[8];
  CHECK_EQ(fj__ring_take_many(&r, out, 8), 0); /* empty */
  for (uintptr_t i = 0; i < 4; i++)
    put(&r, 0, i);
  CHECK_EQ(fj__ring_take_many(&r, out, 3), 3);
  for (uintptr_t i = 0; i < 3; i++)
    CHECK_EQ((uintptr_t)out[i].arg, i);
  put(&r, 0, 4);
  put(&r, 0, 5);
  put(&r, 0, 6);
  CHECK(fj__ring_claim(&r) == NULL); /* full again: 3..6 */
  CHECK_EQ(fj__ring_take_many(&r, out, 8), 4);
  for (uintptr_t i = 0; i < 4; i++) {
    CHECK_EQ((uintptr_t)out[i].arg, 3 + i);
    CHECK(out[i].counter == (fj_counter *)~(uintptr_t)out[i].arg);
  }
  CHECK_EQ(fj__ring_take_many(&r, out, 8), 0);
  /* 7 published, 8 claimed but not yet, 9 published: only 7 comes out. */
  put(&r, 0, 7);
  fj__ring_cell *hole = fj__ring_claim(&r);
  CHECK(hole != NULL);
  put(&r, 0, 9);
  CHECK_EQ(fj__ring_take_many(&r, out, 8), 1);
  CHECK_EQ((uintptr_t)out[0].arg, 7);
  CHECK_EQ(fj__ring_take_many(&r, out, 8), 0);
  fj__item it = item_of(0, 8);
  fj__ring_publish(hole, &it);
  CHECK_EQ(fj__ring_take_many(&r, out, 8), 2);
  CHECK_EQ((uintptr_t)out[0].arg, 8);
  CHECK_EQ((uintptr_t)out[1].arg, 9);
  CHECK_EQ(fj__ring_size_hint(&r), 0);
  fj__ring_fini(&r);
}

/* Thousands of laps around a ring of two: the sequence numbers keep
 * working as positions grow far past the capacity. */
static void many_laps(void) {
  fj__mpmc_ring r;
  CHECK(fj__ring_init(&r, 2) == 0);
  for (uintptr_t i = 0; i < 10000; i += 2) {
    put(&r, 0, i);
    put(&r, 0, i + 1);
    CHECK(fj__ring_claim(&r) == NULL);
    CHECK_EQ(get(&r), i);
    CHECK_EQ(get(&r), i + 1);
  }
  fj__ring_fini(&r);
}

/* ---- producers against consumers ------------------------------------ */

static fj__mpmc_ring shared;
static unit_group group;
static uintptr_t per_producer;
static atomic_uchar *taken[PRODUCERS];
static atomic_long consumed;

static void *producer(void *arg) {
  uintptr_t p = (uintptr_t)arg;
  unit_start_line(&group);
  unsigned spins = 0;
  for (uintptr_t seq = 0; seq < per_producer; seq++) {
    /* Producer 0 tries once first, as a single submission does, and
     * falls back to the loop when it loses a race or finds the ring full. */
    fj__ring_cell *cell = p == 0 ? fj__ring_claim_once(&shared) : NULL;
    while (!cell && !(cell = fj__ring_claim(&shared)))
      unit_backoff(&spins); /* full: wait for a consumer */
    fj__item it = item_of(p, seq);
    fj__ring_publish(cell, &it);
  }
  return NULL;
}

/* arg = 0: one item per take; otherwise up to 1..arg per take, varying. */
static void *consumer(void *arg) {
  size_t many = (size_t)(uintptr_t)arg;
  unit_start_line(&group);
  long want = (long)(per_producer * PRODUCERS);
  intptr_t last[PRODUCERS];
  for (int p = 0; p < PRODUCERS; p++)
    last[p] = -1;
  unsigned spins = 0;
  fj__item got[8];
  size_t n = 0, next = 0, round = 0;
  while (atomic_load(&consumed) < want) {
    if (next == n) {
      next = 0;
      n = many ? fj__ring_take_many(&shared, got, 1 + round++ % many)
               : (size_t)fj__ring_take(&shared, &got[0]);
      if (n == 0) {
        unit_backoff(&spins);
        continue;
      }
    }
    fj__item it = got[next++];
    uintptr_t id = (uintptr_t)it.arg;
    CHECK(it.counter == (fj_counter *)~id);
    uintptr_t p = id >> SEQ_BITS, seq = id & (((uintptr_t)1 << SEQ_BITS) - 1);
    CHECK(p < PRODUCERS && seq < per_producer);
    /* This consumer's takes are at rising positions, and each producer's
     * items sit at rising positions: per producer, seq must rise. */
    CHECK((intptr_t)seq > last[p]);
    last[p] = (intptr_t)seq;
    CHECK_EQ(atomic_fetch_add(&taken[p][seq], 1), 0);
    atomic_fetch_add(&consumed, 1);
  }
  return NULL;
}

static void producers_against_consumers(size_t capacity) {
  per_producer = (uintptr_t)test_scaled(200000);
  CHECK(fj__ring_init(&shared, capacity) == 0);
  for (int p = 0; p < PRODUCERS; p++)
    CHECK((taken[p] = calloc(per_producer, sizeof *taken[p])) != NULL);
  atomic_store(&consumed, 0);
  unit_group_init(&group, PRODUCERS + CONSUMERS);
  for (uintptr_t p = 0; p < PRODUCERS; p++)
    unit_spawn(&group, producer, (void *)p);
  for (int c = 0; c < CONSUMERS; c++) /* the first one at a time, the others in batches */
    unit_spawn(&group, consumer, (void *)(uintptr_t)(c == 0 ? 0 : c == 1 ? 3 : 8));
  unit_join(&group);
  for (int p = 0; p < PRODUCERS; p++) {
    for (uintptr_t s = 0; s < per_producer; s++)
      CHECK_EQ(atomic_load(&taken[p][s]), 1);
    free(taken[p]);
  }
  fj__item it;
  CHECK(!fj__ring_take(&shared, &it));
  fj__ring_fini(&shared);
}

int main(void) {
  full_and_empty_edges();
  unpublished_cell_blocks();
  take_many_edges();
  many_laps();
  claim_once_in_order();
  producers_against_consumers(4);    /* mostly full: producers wait */
  producers_against_consumers(1024); /* mostly empty: consumers wait */
  puts("mpmc_ring: ok");
  return 0;
}
