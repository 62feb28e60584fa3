/* SPDX-License-Identifier: MIT */
/*
 * list.h — the intrusive singly linked shapes lib/ uses: a FIFO with head
 * and tail (yielded fibers), and a LIFO free list with a length (idle
 * fibers, freed counters).  A struct that goes on one embeds an fj__link
 * and gets back to itself with FJ__CONTAINER_OF.  No locking: each list has
 * one owner, which its user documents.
 */
#ifndef FJ_LIST_H
#define FJ_LIST_H

#include <stddef.h>

#include "internal.h"

typedef struct fj__link {
  struct fj__link *next;
} fj__link;

/* ---- FIFO -------------------------------------------------------------- */

typedef struct fj__fifo {
  fj__link *head, *tail; /* both NULL when empty */
} fj__fifo;

static inline int fj__fifo_empty(const fj__fifo *q) { return q->head == NULL; }

static inline void fj__fifo_push(fj__fifo *q, fj__link *n) {
  n->next = NULL;
  if (q->tail)
    q->tail->next = n;
  else
    q->head = n;
  q->tail = n;
}

/* Takes the oldest node and appends n (not on q) in one step: the pop and
 * push of a yield that passes the turn on.  NULL, with q unchanged, when q
 * is empty. */
static inline fj__link *fj__fifo_rotate(fj__fifo *q, fj__link *n) {
  fj__link *oldest = q->head;
  if (!oldest)
    return NULL;
  n->next = NULL;
  if (oldest->next) {
    q->head = oldest->next;
    q->tail->next = n;
  } else {
    q->head = n; /* oldest was the only node */
  }
  q->tail = n;
  return oldest;
}

/* The oldest node, or NULL when empty. */
static inline fj__link *fj__fifo_pop(fj__fifo *q) {
  fj__link *n = q->head;
  if (n) {
    q->head = n->next;
    if (!q->head)
      q->tail = NULL;
  }
  return n;
}

/* ---- LIFO free list ---------------------------------------------------- */

typedef struct fj__lifo {
  fj__link *top; /* NULL when empty */
  size_t count;  /* nodes on it */
} fj__lifo;

static inline void fj__lifo_push(fj__lifo *l, fj__link *n) {
  n->next = l->top;
  l->top = n;
  l->count++;
}

/* The newest node, or NULL when empty. */
static inline fj__link *fj__lifo_pop(fj__lifo *l) {
  fj__link *n = l->top;
  if (n) {
    FJ__ASSERT(l->count > 0);
    l->top = n->next;
    l->count--;
  }
  return n;
}

#endif
