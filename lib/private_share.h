/* SPDX-License-Identifier: MIT */
/*
 * private_share.h — jobs a worker took from a shared queue and runs without
 * publishing them on its deque: no push, and no fenced pop per job.  Other
 * workers can still take them, so a share never waits behind a job that
 * runs long or blocks while another worker is free.
 *
 * The owner claims item j with a plain store (next = j + 1) and a plain
 * load of `cut`, no fence (fj__ps_pop).  A thief, an idle worker that has
 * seen the share hold work for a while (idle.c decides when), takes the
 * later half: under the lock it stores cut = c, calls membarrier(2), which
 * runs a full barrier on every running thread of the process, the owner's
 * included, and only then reads `next`.  So either the thief sees the owner's claim
 * of j, or the owner's read of cut after claiming j sees c: the classic
 * two-sided fence with the owner's half paid by the thief.  The thief takes
 * [max(c, next), limit) and lowers `limit`; an owner whose claim is at or
 * past `cut` asks `limit` under the lock whether the item is still its own.
 *
 * Ownership: `buf` and `prio` are written by the owner only, under the lock
 * (fj__ps_fill), while the share is empty; thieves read them under the lock
 * and the owner reads them freely.  `next`: stored by the owner, read by
 * thieves.  `cut`: stored by thieves under the lock (only ever lowered
 * between fills), read by the owner.  `limit`: lowered by thieves under the
 * lock; reads outside it are hints.
 */
#ifndef FJ_PRIVATE_SHARE_H
#define FJ_PRIVATE_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atomics.h"
#include "item.h"
#include "spinlock.h"

typedef struct fj__private_share {
  fj__item *buf; /* FJ__TAKE_MAX items */
  _Atomic unsigned prio; /* of every item in it; relaxed (dumps read it racily) */
  _Atomic size_t next;  /* the owner's next item */
  _Atomic size_t cut;   /* a thief may be taking from here on (SIZE_MAX: none) */
  _Atomic size_t limit; /* items below it belong to the owner */
  fj__spinlock lock;
} fj__private_share;

/* FJ_OK or FJ_ENOMEM.  An empty share. */
int fj__ps_init(fj__private_share *s);
void fj__ps_fini(fj__private_share *s);

/* Whether membarrier(2) is there (registered once per process): without it
 * nobody may take from a share, so workers do not keep one. */
bool fj__ps_supported(void);

/* Owner: the share is empty (racy for anyone else: a hint). */
static inline bool fj__ps_empty(const fj__private_share *s) {
  return fj__load_relaxed(&s->next) >= fj__load_relaxed(&s->limit);
}

/* Items not claimed yet (racy for anyone but the owner: a hint). */
static inline size_t fj__ps_size_hint(const fj__private_share *s) {
  size_t next = fj__load_relaxed(&s->next), limit = fj__load_relaxed(&s->limit);
  return next < limit ? limit - next : 0;
}

/* Owner: makes items[0..n) the share (it must be empty; n <= FJ__TAKE_MAX). */
void fj__ps_fill(fj__private_share *s, const fj__item *items, size_t n, unsigned prio);

/* Owner: a claim that found a thief's cut at or below it. */
bool fj__ps_pop_contended(fj__private_share *s, size_t j, fj__item *out);

/* Owner: the next item of the share, oldest first.  False when empty. */
static inline bool fj__ps_pop(fj__private_share *s, fj__item *out) {
  size_t j = fj__load_relaxed(&s->next);
  if (j >= fj__load_relaxed(&s->limit))
    return false;
  /* relaxed store, then relaxed load, and no fence between them: the
   * thief's membarrier is the fence (see the file comment). */
  fj__store_relaxed(&s->next, j + 1);
  atomic_signal_fence(memory_order_seq_cst); /* the compiler keeps the order */
  if (__builtin_expect(j >= fj__load_relaxed(&s->cut), 0))
    return fj__ps_pop_contended(s, j, out);
  *out = s->buf[j];
  return true;
}

/* Thief: takes up to max of the items the owner has not claimed (at least
 * one, at most the later half) into out, oldest first; their priority in
 * *prio.  0 when there were none, or another thief holds the share. */
size_t fj__ps_take(fj__private_share *s, fj__item *out, size_t max, unsigned *prio);

#endif
