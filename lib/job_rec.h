/* SPDX-License-Identifier: MIT */
/*
 * job_rec.h — a job submitted with options (a name, a LARGE stack, a pinned
 * worker).  Such a job travels through the ordinary queues as an item whose
 * fn is fj__job_rec_run and whose arg is a heap record holding the real
 * fn/arg and the options, so jobs without options keep their 24-byte items
 * and pay nothing.  The record is freed when the job starts.
 *
 * Ownership: the submitter allocates a record; the queue (deque, inject
 * queue, or a worker's pinned queue) owns it until a worker picks the item;
 * fj__job_rec_run frees it before calling the job.
 */
#ifndef FJ_JOB_REC_H
#define FJ_JOB_REC_H

#include <stdbool.h>
#include <stdint.h>

#include "fiberjob.h"
#include "item.h"
#include "list.h"

typedef struct fj__job_rec {
  fj__link link;             /* in a pinned queue */
  fj_job_fn fn;
  void *arg;
  fj_counter *counter;
  const char *name;          /* static string or NULL */
  int worker;                /* FJ_ANY_WORKER or the pinned worker index */
  uint8_t stack;             /* fj_stack_class */
  uint8_t prio;              /* fj_priority */
} fj__job_rec;

/* The item fn of every optioned job: applies the options to ctx and the
 * fiber, frees the record and calls the job. */
void fj__job_rec_run(fj_ctx *ctx, void *rec);

static inline bool fj__item_is_rec(const fj__item *it) { return it->fn == fj__job_rec_run; }

/* The stack class an item needs to start (SMALL for a ready fiber). */
static inline unsigned fj__item_stack_class(const fj__item *it) {
  return fj__item_is_rec(it) ? ((const fj__job_rec *)it->arg)->stack : FJ_STACK_SMALL;
}

/* The item that carries rec through the queues. */
static inline fj__item fj__job_rec_item(fj__job_rec *rec) {
  return (fj__item){.fn = fj__job_rec_run, .arg = rec, .counter = rec->counter};
}

/* Copies the caller's options (NULL = defaults) into *out following the
 * struct_size rule and validates them against a system with n_indices
 * worker indices.  FJ_OK, FJ_EINVAL, FJ_EPRIORITY or FJ_EWORKER. */
int fj__run_opts_load(const fj_run_opts *user, fj_run_opts *out, unsigned n_indices);

/* True when the options need a record (anything beyond priority/counter). */
static inline bool fj__run_opts_need_rec(const fj_run_opts *o) {
  return o->name || o->stack != FJ_STACK_SMALL || o->worker != FJ_ANY_WORKER;
}

static inline fj__job_rec *fj__job_rec_of_link(fj__link *l) {
  return l ? FJ__CONTAINER_OF(l, fj__job_rec, link) : NULL;
}

/* One record per job, all or nothing: FJ_OK and recs[0..n-1] filled, or
 * FJ_ENOMEM with nothing allocated. */
int fj__job_recs_alloc(const fj_job *jobs, size_t n, const fj_run_opts *o,
                       fj__job_rec **recs);
void fj__job_recs_free(fj__job_rec **recs, size_t n);

#endif
