/* SPDX-License-Identifier: MIT */
/*
 * item.h — one unit of ready work: a job not yet started, or a suspended
 * fiber that is ready to resume.  The tag is fn: NULL means arg is the
 * fiber (and counter is NULL); a job always has a function (fj_run checks).
 */
#ifndef FJ_ITEM_H
#define FJ_ITEM_H

#include "fiberjob.h"
#include "internal.h"

struct fj__fiber;

typedef struct fj__item {
  fj_job_fn fn;        /* NULL: arg is a ready fj__fiber */
  void *arg;
  fj_counter *counter; /* may be NULL; always NULL for a fiber */
} fj__item;

static inline fj__item fj__item_of_fiber(struct fj__fiber *f) {
  FJ__ASSERT(f != NULL);
  return (fj__item){.fn = NULL, .arg = f, .counter = NULL};
}

/* The fiber an item holds; asserts the tag says so. */
static inline struct fj__fiber *fj__item_fiber(const fj__item *it) {
  FJ__ASSERT(it->fn == NULL && it->arg != NULL && it->counter == NULL);
  return (struct fj__fiber *)it->arg;
}

#endif
