/* SPDX-License-Identifier: MIT */
/*
 * ctx.h — the context handed to a job (fj_ctx).  A header of its own,
 * below the worker and the system, so that a file that only says what a
 * job is (job_rec.c) need not see the scheduler's structs (types.h).
 */
#ifndef FJ_CTX_H
#define FJ_CTX_H

#include <stdint.h>

#include "fiberjob.h"

struct fj__worker;
struct fj__fiber;

/* It lives on the stack that runs the job (a fiber's, or the worker
 * thread's with enable_yielding = 0). */
struct fj_ctx {
  struct fj_system *sys;
  struct fj__worker *worker; /* updated whenever the job resumes on another worker */
  struct fj__fiber *fiber;   /* NULL with enable_yielding = 0 */
  fj_counter *counter; /* the counter that counts this job (NULL: none) */
  unsigned prio;
  /* What the job is, for dumps and traces (which read it racily). */
  fj_job_fn fn;
  void *arg;
  const char *name;    /* fj_ctx_set_name, or NULL */
  /* A job run nested on a waiting job's stack (see fj__wait) points to
   * it; the waiting job's waiting_on is the counter it waits for. */
  struct fj_ctx *outer;
  fj_counter *waiting_on;
  uint64_t trace_id;   /* 0 until a trace records the job */
  uint32_t trace_seq;  /* suspensions recorded so far */
};

#endif
