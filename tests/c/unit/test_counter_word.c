/* SPDX-License-Identifier: MIT */
/*
 * The counter's state word on its own, without a job system: the packing
 * of pending / waiters / wakers, overflow refused without a change, the
 * zero crossing claiming exactly the registered waiters (fiber nodes handed
 * back in FIFO order, thread nodes woken), timed-out thread waiters leaving
 * cleanly, and threads waiting while other threads finish jobs, round after
 * round on the same counter.  Fiber nodes carry fake fiber pointers: the
 * counter only stores and returns them.
 */
#include <stdint.h>
#include <stdlib.h>

#include "counter.h"
#include "unit.h"

static uint64_t word(fj_counter *c) { return atomic_load(&c->state); }
static uint64_t pending_of(uint64_t s) { return s >> FJ__PENDING_SHIFT; }
static uint64_t waiters_of(uint64_t s) { return (s & FJ__WAITERS_MASK) / FJ__WAITER_ONE; }
static uint64_t wakers_of(uint64_t s) { return s & FJ__WAKERS_MASK; }

static struct fj__fiber *fake_fiber(uintptr_t i) { return (struct fj__fiber *)(i * 64 + 64); }

static void fiber_node(fj__waiter *n, fj_counter *c, uintptr_t i) {
  *n = (fj__waiter){.fiber = fake_fiber(i), .counter = c};
  atomic_init(&n->done, 0);
}

static void packing_and_overflow(void) {
  fj_counter c;
  fj__counter_init(&c, NULL);
  CHECK_EQ(word(&c), 0);
  CHECK_EQ(fj__counter_add(&c, 5), FJ_OK);
  CHECK(word(&c) == 5 * FJ__PENDING_ONE); /* pending only, in the high half */
  CHECK_EQ(fj__counter_pending(&c), 5);
  /* The pending field holds up to UINT32_MAX; one more is refused and the
   * word is left as it was. */
  CHECK_EQ(fj__counter_add(&c, UINT32_MAX - 5), FJ_OK);
  CHECK_EQ(fj__counter_pending(&c), UINT32_MAX);
  CHECK_EQ(fj__counter_add(&c, 1), FJ_EOVERFLOW);
  CHECK_EQ(fj__counter_pending(&c), UINT32_MAX);
  CHECK(fj__counter_finish(&c, UINT32_MAX - 2) == NULL);
  CHECK_EQ(word(&c), 2 * FJ__PENDING_ONE);
  CHECK_EQ(fj__counter_add(&c, (size_t)UINT32_MAX + 1), FJ_EOVERFLOW); /* n itself too big */
  CHECK_EQ(fj__counter_add(&c, UINT32_MAX - 1), FJ_EOVERFLOW);
  CHECK_EQ(word(&c), 2 * FJ__PENDING_ONE);
  /* Waiters count in their own field, next to pending, without carry into
   * it or into wakers. */
  fj__waiter n[3];
  for (uintptr_t i = 0; i < 3; i++) {
    fiber_node(&n[i], &c, i);
    CHECK(fj__counter_park(&c, &n[i]));
  }
  CHECK_EQ(pending_of(word(&c)), 2);
  CHECK_EQ(waiters_of(word(&c)), 3);
  CHECK_EQ(wakers_of(word(&c)), 0);
  CHECK(fj__counter_finish(&c, 1) == NULL); /* not the crossing: claims nothing */
  CHECK_EQ(waiters_of(word(&c)), 3);
  /* The crossing claims all three and hands back the fiber nodes oldest
   * first; its waker has left again, so the word is zero. */
  fj__waiter *list = fj__counter_finish(&c, 1);
  for (uintptr_t i = 0; i < 3; i++, list = list->next)
    CHECK(list == &n[i] && list->fiber == fake_fiber(i));
  CHECK(list == NULL);
  CHECK_EQ(word(&c), 0);
  CHECK(c.head == NULL && c.tail == NULL);
  /* At zero nothing parks. */
  fiber_node(&n[0], &c, 0);
  CHECK(!fj__counter_park(&c, &n[0]));
  CHECK_EQ(word(&c), 0);
  fj__counter_check_idle_for_destroy(&c);
}

/* A batch of n finished at once crosses zero just like n singles. */
static void batch_crossing_and_reuse(void) {
  fj_counter c;
  fj__counter_init(&c, NULL);
  for (uintptr_t round = 0; round < 100; round++) {
    size_t n = 1 + round % 7;
    CHECK_EQ(fj__counter_add(&c, n), FJ_OK);
    fj__waiter node;
    fiber_node(&node, &c, round);
    CHECK(fj__counter_park(&c, &node));
    CHECK(fj__counter_finish(&c, n) == &node);
    CHECK(node.next == NULL);
    CHECK_EQ(word(&c), 0);
  }
}

static void timed_out_thread_waiter_leaves(void) {
  fj_counter c;
  fj__counter_init(&c, NULL);
  CHECK_EQ(fj__counter_add(&c, 1), FJ_OK);
  fj__waiter before, after;
  fiber_node(&before, &c, 1);
  fiber_node(&after, &c, 2);
  CHECK(fj__counter_park(&c, &before));
  CHECK_EQ(fj__counter_wait_thread(&c, 1000000), FJ_ETIMEDOUT); /* nobody finishes */
  CHECK(fj__counter_park(&c, &after));
  /* The timed-out node is gone from the list and from the count; the
   * others are still handed back, in order. */
  CHECK_EQ(waiters_of(word(&c)), 2);
  fj__waiter *list = fj__counter_finish(&c, 1);
  CHECK(list == &before && before.next == &after && after.next == NULL);
  CHECK_EQ(word(&c), 0);
  CHECK_EQ(fj__counter_wait_thread(&c, 0), FJ_OK); /* zero: at once */
  CHECK_EQ(fj__counter_wait_thread(&c, -1), FJ_OK);
}

/* ---- racing waiters and finishers ----------------------------------- */

enum { FINISHERS = 2, THREAD_WAITERS = 3, FIBER_PARKERS = 2, JOBS = 64, NODES = 16 };
/* The last LAST_JOBS jobs of a round wait until every waiter is under way,
 * so the zero crossing races registrations instead of always beating them. */
enum { LAST_JOBS = 4 };

static fj_counter shared;
static unit_group group;
static long rounds;
static atomic_long round_started;  /* the round the finishers may work on */
static atomic_long round_finished; /* rounds whose jobs all finished */
static atomic_long acks;           /* participants done checking, all rounds */
static long parked_total;          /* fiber nodes parked, all rounds (reported) */
static atomic_int jobs_left;       /* jobs of this round not yet claimed by a finisher */
static atomic_int effects;         /* "work" of this round's jobs */
static atomic_int ready;           /* waiters under way in this round */
/* Per parker and node: parked this round, and how often a crossing handed
 * it back.  The main thread compares them once every participant acked. */
static atomic_int handed_back[FIBER_PARKERS][NODES];
static bool parked[FIBER_PARKERS][NODES];
static fj__waiter fiber_nodes[FIBER_PARKERS][NODES];

static void start_of_round(long r, unsigned *spins) {
  while (atomic_load(&round_started) < r)
    unit_backoff(spins);
}

/* Every participant waits for the round to end, then says it is done with
 * it, so the next round cannot start under its checks. */
static void end_of_round(long r, unsigned *spins) {
  while (atomic_load(&round_finished) < r)
    unit_backoff(spins);
  atomic_fetch_add(&acks, 1);
}

/* Finishers take jobs one at a time; each does its "work" before finishing,
 * and collects the fiber nodes a crossing hands back. */
static void *finisher(void *arg) {
  (void)arg;
  unit_start_line(&group);
  unsigned spins = 0;
  for (long r = 1; r <= rounds; r++) {
    start_of_round(r, &spins);
    int left;
    while ((left = atomic_fetch_sub(&jobs_left, 1)) > 0) {
      while (left <= LAST_JOBS && atomic_load(&ready) < THREAD_WAITERS + FIBER_PARKERS)
        unit_backoff(&spins);
      atomic_fetch_add_explicit(&effects, 1, memory_order_relaxed);
      for (fj__waiter *n = fj__counter_finish(&shared, 1), *next; n; n = next) {
        next = n->next; /* read before "resuming" the fiber, as workers do */
        uintptr_t i = (uintptr_t)n->fiber / 64 - 1;
        CHECK_EQ(atomic_fetch_add(&handed_back[i / NODES][i % NODES], 1), 0);
      }
    }
    end_of_round(r, &spins);
  }
  return NULL;
}

/* Thread waiters block until the round's zero crossing; whoever returns
 * must see every job's effect (the acquire on the word).  Some use a
 * timeout: they either time out or see zero. */
static void *thread_waiter(void *arg) {
  uintptr_t self = (uintptr_t)arg;
  unit_start_line(&group);
  unsigned spins = 0;
  for (long r = 1; r <= rounds; r++) {
    start_of_round(r, &spins);
    int64_t timeout = self == 0 ? (r % 3 == 0 ? 0 : 20000) : -1;
    atomic_fetch_add(&ready, 1);
    int rc = fj__counter_wait_thread(&shared, timeout);
    if (rc == FJ_OK) {
      CHECK_EQ(fj__counter_pending(&shared), 0);
      CHECK_EQ(atomic_load_explicit(&effects, memory_order_relaxed), JOBS);
    } else {
      CHECK_EQ(rc, FJ_ETIMEDOUT);
      CHECK(timeout >= 0);
    }
    end_of_round(r, &spins);
  }
  return NULL;
}

/* Fiber parkers register nodes as a fiber would; a node that parks must be
 * handed back by exactly one crossing, one that does not is never seen
 * (checked by the main thread at the end of the round). */
static void *fiber_parker(void *arg) {
  uintptr_t self = (uintptr_t)arg;
  unit_start_line(&group);
  unsigned spins = 0;
  for (long r = 1; r <= rounds; r++) {
    start_of_round(r, &spins);
    for (uintptr_t k = 0; k < NODES; k++) {
      fj__waiter *n = &fiber_nodes[self][k];
      fiber_node(n, &shared, self * NODES + k);
      atomic_store(&handed_back[self][k], 0);
    }
    for (uintptr_t k = 0; k < NODES; k++) {
      if (k == (uintptr_t)r % 4) /* from here on, race the crossing */
        atomic_fetch_add(&ready, 1);
      parked[self][k] = fj__counter_park(&shared, &fiber_nodes[self][k]);
      for (volatile unsigned d = 0; d < (unsigned)(r * 7 + k * 13) % 4096; d++)
        ; /* a varying pause spreads the parks across the crossing */
    }
    end_of_round(r, &spins);
  }
  return NULL;
}

static void racing_waiters(void) {
  rounds = test_scaled(2000);
  fj__counter_init(&shared, NULL);
  atomic_store(&round_started, 0);
  atomic_store(&round_finished, 0);
  atomic_store(&acks, 0);
  parked_total = 0;
  const long participants = FINISHERS + THREAD_WAITERS + FIBER_PARKERS;
  unit_group_init(&group, (int)participants);
  for (int i = 0; i < FINISHERS; i++)
    unit_spawn(&group, finisher, NULL);
  for (uintptr_t i = 0; i < THREAD_WAITERS; i++)
    unit_spawn(&group, thread_waiter, (void *)i);
  for (uintptr_t i = 0; i < FIBER_PARKERS; i++)
    unit_spawn(&group, fiber_parker, (void *)i);
  /* This thread runs the rounds: add the jobs, let everyone go, wait for
   * the crossing, then reuse the same counter. */
  unsigned spins = 0;
  for (long r = 1; r <= rounds; r++) {
    CHECK_EQ(fj__counter_add(&shared, JOBS), FJ_OK);
    atomic_store(&effects, 0);
    atomic_store(&ready, 0);
    atomic_store(&jobs_left, JOBS);
    atomic_store(&round_started, r);
    while (fj__counter_pending(&shared) != 0)
      unit_backoff(&spins);
    /* Every job finished, but a crossing's waker may still be detaching
     * its claimed nodes; the destroy check waits for it, and the word must
     * then be all zero. */
    fj__counter_check_idle_for_destroy(&shared);
    CHECK_EQ(word(&shared), 0);
    atomic_store(&round_finished, r);
    /* Once all acked, the finishers have recorded every node handed back. */
    while (atomic_load(&acks) < participants * r)
      unit_backoff(&spins);
    for (int p = 0; p < FIBER_PARKERS; p++)
      for (int k = 0; k < NODES; k++) {
        CHECK_EQ(atomic_load(&handed_back[p][k]), parked[p][k] ? 1 : 0);
        parked_total += parked[p][k];
      }
  }
  unit_join(&group);
  /* A report, not a check: how often the parkers beat the crossing. */
  printf("%ld rounds, %ld fiber nodes parked\n", rounds, parked_total);
}

int main(void) {
  packing_and_overflow();
  batch_crossing_and_reuse();
  timed_out_thread_waiter_leaves();
  racing_waiters();
  puts("counter_word: ok");
  return 0;
}
