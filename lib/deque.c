/* SPDX-License-Identifier: MIT */
/*
 * deque.c — the Chase-Lev deque.  Invariant: top <= bottom + 1 at every
 * instant, and items live in slots [top, bottom) modulo the capacity.
 */
#include "deque.h"

#include <stdlib.h>

#include "atomics.h"

static fj__deque_array *fj__array_new(int64_t capacity) {
  FJ__ASSERT(FJ__IS_POW2(capacity));
  fj__deque_array *a = malloc(sizeof *a + (size_t)capacity * sizeof(fj__deque_slot));
  if (!a)
    return NULL;
  a->mask = capacity - 1;
  a->retired_next = NULL;
  return a;
}

static void fj__slot_write(fj__deque_array *a, int64_t i, const fj__item *it) {
  fj__deque_slot *s = &a->slots[i & a->mask];
  fj__store_relaxed(&s->fn, it->fn);
  fj__store_relaxed(&s->arg, it->arg);
  fj__store_relaxed(&s->counter, it->counter);
}

static void fj__slot_read(fj__deque_array *a, int64_t i, fj__item *it) {
  fj__deque_slot *s = &a->slots[i & a->mask];
  it->fn = fj__load_relaxed(&s->fn);
  it->arg = fj__load_relaxed(&s->arg);
  it->counter = fj__load_relaxed(&s->counter);
}

int fj__deque_init(fj__deque *d, int64_t capacity) {
  fj__deque_array *a = fj__array_new(capacity);
  if (!a)
    return -1;
  atomic_init(&d->top, 0);
  atomic_init(&d->bottom, 0);
  atomic_init(&d->array, a);
  d->retired = NULL;
  return 0;
}

void fj__deque_fini(fj__deque *d) {
  free(fj__load_relaxed(&d->array));
  while (d->retired) {
    fj__deque_array *r = d->retired;
    d->retired = r->retired_next;
    free(r);
  }
}

/* Owner only.  The old array is kept until fini because a thief that loaded
 * the old pointer may still read a slot from it (its CAS then decides). */
static fj__deque_array *fj__deque_grow(fj__deque *d, fj__deque_array *a, int64_t top,
                                       int64_t bottom, int64_t need) {
  int64_t cap = (a->mask + 1) * 2;
  while (cap < need)
    cap *= 2;
  fj__deque_array *n = fj__array_new(cap);
  if (!n)
    return NULL;
  for (int64_t i = top; i < bottom; i++) {
    fj__item it;
    fj__slot_read(a, i, &it);
    fj__slot_write(n, i, &it);
  }
  /* release: the copied slots are visible to a thief that acquires the new
   * array pointer in fj__deque_steal. */
  fj__store_release(&d->array, n);
  a->retired_next = d->retired;
  d->retired = a;
  return n;
}

int fj__deque_reserve(fj__deque *d, int64_t n) {
  int64_t b = fj__load_relaxed(&d->bottom);
  int64_t t = fj__load_acquire(&d->top); /* acquire: pairs with thieves' CAS */
  fj__deque_array *a = fj__load_relaxed(&d->array);
  if (b - t + n > a->mask + 1 && !fj__deque_grow(d, a, t, b, b - t + n))
    return -1;
  return 0;
}

int fj__deque_push_fifo(fj__deque *d, const fj__item *items, size_t n) {
  int64_t b = fj__load_relaxed(&d->bottom); /* relaxed: only the owner writes it */
  /* acquire: pairs with a thief's CAS on top, so the slots it vacated are
   * really free before we overwrite them. */
  int64_t t = fj__load_acquire(&d->top);
  fj__deque_array *a = fj__load_relaxed(&d->array);
  FJ__ASSERT(t <= b); /* no pop in progress: only the owner pops */
  if (b - t + (int64_t)n > a->mask + 1) {
    a = fj__deque_grow(d, a, t, b, b - t + (int64_t)n);
    if (!a)
      return -1;
  }
  /* The owner pops from the bottom: items[0] goes nearest to it. */
  for (size_t i = 0; i < n; i++)
    fj__slot_write(a, b + (int64_t)(n - 1 - i), &items[i]);
  /* release: all n slots are visible to a thief that acquires bottom in
   * fj__deque_steal. */
  fj__store_release(&d->bottom, b + (int64_t)n);
  return 0;
}

int fj__deque_push(fj__deque *d, const fj__item *it) { return fj__deque_push_fifo(d, it, 1); }

bool fj__deque_pop(fj__deque *d, fj__item *out) {
  /* Cheap exit for the common empty case, without the fence below: thieves
   * only ever raise top, and only the owner raises bottom, so top >= bottom
   * seen here stays true until the owner pushes again.  relaxed: a stale
   * top is older, hence smaller, which only sends us down the full path. */
  if (fj__load_relaxed(&d->top) >= fj__load_relaxed(&d->bottom))
    return false;
  int64_t b = fj__load_relaxed(&d->bottom) - 1;
  fj__deque_array *a = fj__load_relaxed(&d->array);
  fj__store_relaxed(&d->bottom, b);
  /* seq_cst fence: orders our claim of slot b (bottom store) before reading
   * top, against the fence in fj__deque_steal that orders a thief's read of
   * top before its read of bottom; without it both could take the last item. */
  fj__fence_seq_cst();
  int64_t t = fj__load_relaxed(&d->top);
  FJ__ASSERT(t <= b + 1); /* top <= bottom + 1, with bottom lowered to b */
  if (t > b) { /* empty */
    fj__store_relaxed(&d->bottom, b + 1);
    return false;
  }
  fj__slot_read(a, b, out);
  if (t < b)
    return true;
  /* Last item: race thieves for it through top. */
  bool won = fj__cas_seq_cst(&d->top, &t, t + 1);
  fj__store_relaxed(&d->bottom, b + 1);
  return won;
}

bool fj__deque_steal(fj__deque *d, fj__item *out) {
  /* acquire: pairs with other thieves' and the owner's CAS on top. */
  int64_t t = fj__load_acquire(&d->top);
  /* seq_cst fence: pairs with the fence in fj__deque_pop (see there). */
  fj__fence_seq_cst();
  /* acquire: pairs with the release store of bottom in fj__deque_push, so
   * the slot contents below bottom are visible. */
  int64_t b = fj__load_acquire(&d->bottom);
  /* Our t is older than b, and top only grows: t <= top <= bottom + 1. */
  FJ__ASSERT(t <= b + 1);
  if (t >= b)
    return false;
  /* acquire: pairs with the release store in fj__deque_grow. */
  fj__deque_array *a = fj__load_acquire(&d->array);
  fj__slot_read(a, t, out);
  /* seq_cst CAS: claims slot t; fails if the owner popped it or another
   * thief took it, in which case what we read is discarded. */
  return fj__cas_seq_cst(&d->top, &t, t + 1);
}
