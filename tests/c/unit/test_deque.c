/* SPDX-License-Identifier: MIT */
/*
 * The Chase-Lev deque on its own: LIFO for the owner and FIFO for thieves,
 * a many-item push popped in its own order, growth keeping every item, and
 * the owner pushing (one item or many at once) and popping against
 * several thieves with every item taken exactly once — from a tiny initial
 * array, so it grows while thieves read the old one, and with the deque
 * drained to its last item often, the one race the owner settles by CAS.
 */
#include <stdint.h>
#include <stdlib.h>

#include "deque.h"
#include "unit.h"

enum { THIEVES = 3 };

/* Item id carries a counter field derived from it, so a torn read (fields
 * from two different items) shows. */
static fj__item item_of(uintptr_t id) {
  return (fj__item){.fn = NULL, .arg = (void *)id, .counter = (fj_counter *)(id * 8)};
}

static void push(fj__deque *d, uintptr_t id) {
  fj__item it = item_of(id);
  CHECK(fj__deque_push(d, &it) == 0);
}

static uintptr_t id_of(const fj__item *it) { return (uintptr_t)it->arg; }

static void owner_lifo_thief_fifo(void) {
  fj__deque d;
  CHECK(fj__deque_init(&d, 4) == 0);
  fj__item it;
  CHECK(!fj__deque_pop(&d, &it));
  CHECK(!fj__deque_steal(&d, &it));
  for (uintptr_t i = 1; i <= 3; i++)
    push(&d, i);
  CHECK_EQ(fj__deque_size_hint(&d), 3);
  CHECK(fj__deque_steal(&d, &it)); /* oldest */
  CHECK_EQ(id_of(&it), 1);
  CHECK(it.counter == (fj_counter *)8); /* every field travels */
  CHECK(fj__deque_pop(&d, &it));   /* newest */
  CHECK_EQ(id_of(&it), 3);
  CHECK(fj__deque_pop(&d, &it));   /* the last item, through the CAS path */
  CHECK_EQ(id_of(&it), 2);
  CHECK(!fj__deque_pop(&d, &it));
  CHECK(!fj__deque_steal(&d, &it));
  CHECK_EQ(fj__deque_size_hint(&d), 0);
  fj__deque_fini(&d);
}

/* fj__deque_push_fifo: the owner pops items[0] first, thieves take the
 * last first, and it grows the array when needed (capacity 2 here). */
static void push_fifo_order(void) {
  fj__deque d;
  CHECK(fj__deque_init(&d, 2) == 0);
  push(&d, 100); /* older than the batch: below it */
  fj__item items[5];
  for (uintptr_t i = 0; i < 5; i++)
    items[i] = item_of(i);
  CHECK(fj__deque_push_fifo(&d, items, 5) == 0);
  CHECK_EQ(fj__deque_size_hint(&d), 6);
  fj__item it;
  CHECK(fj__deque_steal(&d, &it));
  CHECK_EQ(id_of(&it), 100);
  CHECK(fj__deque_steal(&d, &it));
  CHECK_EQ(id_of(&it), 4);
  CHECK(it.counter == (fj_counter *)(4 * 8));
  for (uintptr_t i = 0; i < 4; i++) {
    CHECK(fj__deque_pop(&d, &it));
    CHECK_EQ(id_of(&it), i);
  }
  CHECK(!fj__deque_pop(&d, &it));
  fj__deque_fini(&d);
}

/* From capacity 2, growing many times (also after top moved, so the live
 * range wraps the old array), every item survives in order. */
static void growth_keeps_items(void) {
  fj__deque d;
  CHECK(fj__deque_init(&d, 2) == 0);
  const uintptr_t n = 5000;
  fj__item it;
  uintptr_t next_steal = 0;
  for (uintptr_t i = 0; i < n; i++) {
    push(&d, i);
    if (i % 3 == 0) { /* move top so the live range wraps */
      CHECK(fj__deque_steal(&d, &it));
      CHECK_EQ(id_of(&it), next_steal);
      next_steal++;
    }
  }
  CHECK_EQ(fj__deque_size_hint(&d), (int64_t)(n - next_steal));
  /* reserve: a batch afterwards pushes without growing halfway. */
  CHECK(fj__deque_reserve(&d, 10000) == 0);
  fj__deque_array *before = atomic_load(&d.array);
  for (uintptr_t i = n; i < n + 10000; i++)
    push(&d, i);
  CHECK(atomic_load(&d.array) == before);
  for (uintptr_t i = n + 10000; i-- > next_steal;) {
    CHECK(fj__deque_pop(&d, &it));
    CHECK_EQ(id_of(&it), i);
  }
  CHECK(!fj__deque_pop(&d, &it));
  fj__deque_fini(&d);
}

/* ---- owner against thieves ------------------------------------------ */

static fj__deque shared;
static unit_group group;
static atomic_uchar *taken; /* taken[id]: how many times item id was taken */
static uintptr_t total;
static atomic_bool owner_done;
static atomic_long stolen;

static void record(const fj__item *it) {
  uintptr_t id = id_of(it);
  CHECK(id < total);
  CHECK(it->counter == (fj_counter *)(id * 8)); /* no torn item */
  CHECK_EQ(atomic_fetch_add(&taken[id], 1), 0);
}

static void *thief(void *arg) {
  (void)arg;
  unit_start_line(&group);
  fj__item it;
  unsigned spins = 0;
  long mine = 0;
  for (;;) {
    if (fj__deque_steal(&shared, &it)) {
      record(&it);
      mine++;
      continue;
    }
    /* Stop only once the owner is done and the deque looks empty (a
     * failed steal may also mean a lost race, so look again). */
    if (atomic_load(&owner_done) && fj__deque_size_hint(&shared) == 0)
      break;
    unit_backoff(&spins);
  }
  atomic_fetch_add(&stolen, mine);
  return NULL;
}

/* The owner pushes in bursts of varying size and pops some back, often down
 * to the last item, so pops race steals for it. */
static void *owner(void *arg) {
  (void)arg;
  unit_start_line(&group);
  uint64_t rng = 0x9e3779b97f4a7c15u;
  uintptr_t next = 0;
  fj__item it;
  while (next < total) {
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    uintptr_t burst = 1 + (rng >> 33) % 64;
    if (burst % 4 == 0) { /* one push of many, as a worker takes a share */
      fj__item items[64];
      uintptr_t k = 0;
      for (; k < burst && next + k < total; k++)
        items[k] = item_of(next + k);
      CHECK(fj__deque_push_fifo(&shared, items, (size_t)k) == 0);
      next += k;
    } else {
      for (uintptr_t k = 0; k < burst && next < total; k++, next++)
        push(&shared, next);
    }
    uintptr_t pops = (rng >> 20) % 3 == 0 ? burst : (rng >> 40) % (burst + 1);
    for (uintptr_t k = 0; k < pops; k++)
      if (fj__deque_pop(&shared, &it))
        record(&it);
  }
  while (fj__deque_pop(&shared, &it))
    record(&it);
  atomic_store(&owner_done, true);
  return NULL;
}

static void owner_against_thieves(int64_t initial_capacity) {
  total = (uintptr_t)test_scaled(2000000);
  taken = calloc(total, sizeof *taken);
  CHECK(taken != NULL);
  CHECK(fj__deque_init(&shared, initial_capacity) == 0);
  atomic_store(&owner_done, false);
  atomic_store(&stolen, 0);
  unit_group_init(&group, 1 + THIEVES);
  unit_spawn(&group, owner, NULL);
  for (int i = 0; i < THIEVES; i++)
    unit_spawn(&group, thief, NULL);
  unit_join(&group);
  for (uintptr_t i = 0; i < total; i++)
    CHECK_EQ(atomic_load(&taken[i]), 1);
  /* Not an assertion on scheduling, just a report: on one core thieves may
   * rarely get in. */
  printf("capacity %lld: %lu items, %ld stolen\n", (long long)initial_capacity,
         (unsigned long)total, atomic_load(&stolen));
  fj__deque_fini(&shared);
  free(taken);
}

int main(void) {
  owner_lifo_thief_fifo();
  push_fifo_order();
  growth_keeps_items();
  owner_against_thieves(2);    /* grows under contention */
  owner_against_thieves(4096); /* mostly no growth: pop/steal races */
  puts("deque: ok");
  return 0;
}
