/* SPDX-License-Identifier: MIT */
/*
 * item.h — one unit of ready work: a job not yet started, or a suspended
 * fiber that is ready to resume (fn == NULL, arg = the fiber).
 */
#ifndef FJ_ITEM_H
#define FJ_ITEM_H

#include "fiberjob.h"

typedef struct fj__item {
  fj_job_fn fn;        /* NULL: arg is a ready fj__fiber */
  void *arg;
  fj_counter *counter; /* may be NULL */
} fj__item;

#endif
