/* SPDX-License-Identifier: MIT */
/*
 * private_share.c — the slower parts of a private share (see
 * private_share.h): filling it, the owner's contended claim, and a thief's
 * take.
 */
#include "private_share.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sys/sys.h"

int fj__ps_init(fj__private_share *s) {
  *s = (fj__private_share){.buf = malloc(FJ__TAKE_MAX * sizeof(fj__item))};
  if (!s->buf)
    return FJ_ENOMEM;
  atomic_init(&s->prio, 0);
  atomic_init(&s->next, 0);
  atomic_init(&s->cut, SIZE_MAX);
  atomic_init(&s->limit, 0);
  atomic_init(&s->lock.locked, false);
  return FJ_OK;
}

void fj__ps_fini(fj__private_share *s) { free(s->buf); }

bool fj__ps_supported(void) { return fj__membarrier_register() == 0; }

void fj__ps_fill(fj__private_share *s, const fj__item *items, size_t n, unsigned prio) {
  FJ__ASSERT(n <= FJ__TAKE_MAX && fj__ps_empty(s));
  /* Under the lock: a thief that looked at the old, empty share may still
   * be inside fj__ps_take; it must see either all of this or none. */
  fj__spin_lock(&s->lock);
  memcpy(s->buf, items, n * sizeof *items);
  fj__store_relaxed(&s->prio, prio);
  fj__store_relaxed(&s->next, 0);
  fj__store_relaxed(&s->cut, SIZE_MAX);
  fj__store_relaxed(&s->limit, n);
  fj__spin_unlock(&s->lock);
}

bool fj__ps_pop_contended(fj__private_share *s, size_t j, fj__item *out) {
  /* A thief stored cut under the lock and holds it until it has lowered
   * limit to where its take starts: once we have the lock, limit says
   * whether j is still ours. */
  fj__spin_lock(&s->lock);
  bool ours = j < fj__load_relaxed(&s->limit);
  fj__spin_unlock(&s->lock);
  if (!ours)
    return false; /* next > limit from now on: the share reads empty */
  *out = s->buf[j];
  return true;
}

size_t fj__ps_take(fj__private_share *s, fj__item *out, size_t max, unsigned *prio) {
  FJ__ASSERT(max >= 1);
  /* One thief at a time; a busy lock means someone else is at it. */
  if (!fj__spin_trylock(&s->lock))
    return 0;
  size_t limit = fj__load_relaxed(&s->limit);
  size_t next = fj__load_relaxed(&s->next);
  size_t n = 0;
  if (next < limit) {
    size_t cut = next + (limit - next) / 2; /* the later half; the last one if one */
    fj__store_relaxed(&s->cut, cut);
    fj__membarrier(); /* the owner's fence: see the file comment */
    size_t claimed = fj__load_relaxed(&s->next);
    size_t from = claimed > cut ? claimed : cut;
    if (from < limit) {
      if (limit - from > max)
        from = limit - max; /* the rest stays the owner's (below limit) */
      n = limit - from;
      memcpy(out, s->buf + from, n * sizeof *out);
      *prio = fj__load_relaxed(&s->prio);
      fj__store_relaxed(&s->limit, from);
    }
  }
  fj__spin_unlock(&s->lock);
  return n;
}
