/* SPDX-License-Identifier: MIT */
/*
 * _lifetime.c — the close / fork guard of one fj_system; see _lifetime.h.
 *
 * Ownership and locking: every field but `sys` is read and written under
 * `mu`.  `sys` is set once before the guard is shared and cleared (under mu)
 * when the system is down; threads read it without the lock only to ask
 * "is the job I am running one of this system's?", which the closer cannot
 * change under them: while such a job runs, fj_system_destroy has not
 * returned, so `sys` is still set.  One gap is accepted: between the free
 * inside fj_system_destroy and the clearing of `sys`, a job of a brand-new
 * system created at the same address could pass that test; it would need a
 * job to call a JobSystem that is being closed, which is already a bug.
 *
 * Invariants (checked with assert in debug builds):
 *   - users > 0 only while state is OPEN or CLOSING;
 *   - the closer calls fj_system_destroy once, after users dropped to 0,
 *     and nobody enters (users++) after state left OPEN;
 *   - refs counts the Python handle and, while it runs, the closer thread.
 */
#include "_lifetime.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { OPEN = 0, CLOSING = 1, DOWN = 2, FORKED = 3 };

struct fjpy_sys {
  pthread_mutex_t mu;
  pthread_cond_t cv;            /* broadcast when users reaches 0 and at DOWN */
  _Atomic(fj_system *) sys;     /* see the header comment of this file */
  int state;                    /* mu */
  unsigned users;               /* external calls inside the system; mu */
  unsigned refs;                /* mu */
};

static void fjpy__init_sync(fjpy_sys *g) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  /* Waits use deadlines on the monotonic clock: immune to clock changes. */
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&g->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&g->mu, NULL);
}

int fjpy_sys_create(const fj_config *cfg, fjpy_sys **out) {
  *out = NULL;
  fjpy_sys *g = calloc(1, sizeof *g);
  if (!g)
    return FJ_ENOMEM;
  fj_system *s;
  /* The workers and the monitor inherit this mask: asynchronous signals
   * (Ctrl-C, SIGALRM, ...) then reach Python's own threads, whose handler
   * runs at once in the interrupted call; landed on a worker, the handler
   * would only flag it, and the main thread would raise later, outside the
   * code the signal interrupted.  Faults stay deliverable (stack guard,
   * sanitizers). */
  sigset_t async, old;
  sigfillset(&async);
  sigdelset(&async, SIGSEGV);
  sigdelset(&async, SIGBUS);
  sigdelset(&async, SIGFPE);
  sigdelset(&async, SIGILL);
  sigdelset(&async, SIGTRAP);
  sigdelset(&async, SIGSYS);
  pthread_sigmask(SIG_BLOCK, &async, &old);
  int r = fj_system_create(cfg, &s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r != FJ_OK) {
    free(g);
    return r;
  }
  fjpy__init_sync(g);
  /* relaxed: the guard is not shared yet; handing it to Python publishes it. */
  atomic_store_explicit(&g->sys, s, memory_order_relaxed);
  g->state = OPEN;
  g->refs = 1;
  *out = g;
  return FJ_OK;
}

void fjpy_sys_release(fjpy_sys *g) {
  pthread_mutex_lock(&g->mu);
  assert(g->refs > 0);
  unsigned left = --g->refs;
  pthread_mutex_unlock(&g->mu);
  if (left)
    return;
  /* The last reference: the closer (if any) has finished, so the system is
   * down, or it was inherited through fork() and is not ours to destroy. */
  assert(g->state == DOWN || g->state == FORKED);
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
  free(g);
}

fj_system *fjpy_sys_raw(fjpy_sys *g) {
  /* relaxed: see the file comment; the caller keeps the system up. */
  return atomic_load_explicit(&g->sys, memory_order_relaxed);
}

int fjpy_sys_in_own_job(fjpy_sys *g) {
  fj_ctx *cx = fj_current_ctx();
  /* relaxed: see the file comment; a job of this system sees `sys` set. */
  fj_system *s = atomic_load_explicit(&g->sys, memory_order_relaxed);
  return cx && s && fj_ctx_system(cx) == s;
}

/* Lets an external caller in (counted) or refuses it.  Own-job callers pass
 * uncounted.  Returns FJ_OK, FJ_ESHUTDOWN or FJPY_EFORKED. */
static int fjpy__enter(fjpy_sys *g, int *counted) {
  *counted = 0;
  if (fjpy_sys_in_own_job(g))
    return FJ_OK;
  pthread_mutex_lock(&g->mu);
  int st = g->state;
  if (st == OPEN) {
    g->users++;
    *counted = 1;
  }
  pthread_mutex_unlock(&g->mu);
  if (st == OPEN)
    return FJ_OK;
  return st == FORKED ? FJPY_EFORKED : FJ_ESHUTDOWN;
}

static void fjpy__leave(fjpy_sys *g, int counted) {
  if (!counted)
    return;
  pthread_mutex_lock(&g->mu);
  assert(g->users > 0 && (g->state == OPEN || g->state == CLOSING));
  if (--g->users == 0 && g->state == CLOSING)
    pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static fj_system *fjpy__sys(fjpy_sys *g) {
  /* relaxed: the caller entered (or runs an own job), so `sys` is set and
   * was published before the guard reached this thread. */
  return atomic_load_explicit(&g->sys, memory_order_relaxed);
}

static void *fjpy__closer(void *arg) {
  fjpy_sys *g = arg;
  pthread_mutex_lock(&g->mu);
  while (g->users > 0)
    pthread_cond_wait(&g->cv, &g->mu);
  fj_system *s = fjpy__sys(g);
  pthread_mutex_unlock(&g->mu);
  /* Runs every job to completion, then joins the workers.  No external
   * call is inside now, and none can enter (state is CLOSING). */
  fj_system_destroy(s);
  pthread_mutex_lock(&g->mu);
  atomic_store_explicit(&g->sys, NULL, memory_order_relaxed); /* under mu; see the file comment */
  g->state = DOWN;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
  fjpy_sys_release(g);
  return NULL;
}

int fjpy_sys_close(fjpy_sys *g) {
  pthread_mutex_lock(&g->mu);
  if (g->state != OPEN) {
    pthread_mutex_unlock(&g->mu);
    return 0;
  }
  g->state = CLOSING;
  g->refs++; /* the closer's */
  pthread_mutex_unlock(&g->mu);

  /* The closer never runs signal handlers: they belong to Python's threads. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  int rc = pthread_create(&t, &attr, fjpy__closer, g);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc == 0)
    return 1;
  pthread_mutex_lock(&g->mu);
  g->state = OPEN;
  g->refs--;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
  return FJ_ETHREAD;
}

int fjpy_sys_wait_down(fjpy_sys *g, uint64_t timeout_ns) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += (time_t)(timeout_ns / 1000000000u);
  deadline.tv_nsec += (long)(timeout_ns % 1000000000u);
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&g->mu);
  while (g->state == CLOSING) {
    if (pthread_cond_timedwait(&g->cv, &g->mu, &deadline) == ETIMEDOUT)
      break;
  }
  int st = g->state;
  pthread_mutex_unlock(&g->mu);
  return st;
}

int fjpy_sys_state(fjpy_sys *g) {
  pthread_mutex_lock(&g->mu);
  int st = g->state;
  pthread_mutex_unlock(&g->mu);
  return st;
}

void fjpy_sys_forked(fjpy_sys *g) {
  /* The child's only thread: nobody else can touch the guard, and the lock
   * may have been held by a parent thread at the fork, so re-create it. */
  fjpy__init_sync(g);
  if (g->state == CLOSING)
    g->refs--; /* that closer thread does not exist here */
  if (g->state != DOWN)
    g->state = FORKED;
  g->users = 0;
  atomic_store_explicit(&g->sys, NULL, memory_order_relaxed); /* single thread */
}

/* Static, so never freed; refs stays 1 (nobody owns it, nobody releases it);
 * only fjpy_sys_forked writes it (single-threaded child). */
static fjpy_sys fjpy__dropped = {
    .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .state = DOWN, .refs = 1};

fjpy_sys *fjpy_sys_dropped(void) { return &fjpy__dropped; }

int fjpy_sys_run(fjpy_sys *g, fj_job_fn fn, void *arg, fj_priority prio, fj_counter *c,
                 int *submitted) {
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK)
    r = fj_run(fjpy__sys(g), fn, arg, prio, c);
  fjpy__leave(g, counted);
  if (submitted)
    *submitted = r;
  return r;
}

int fjpy_sys_run_jobs(fjpy_sys *g, const fj_job *jobs, size_t n, fj_priority prio,
                      fj_counter *c, int *submitted) {
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK)
    r = fj_run_jobs(fjpy__sys(g), jobs, n, prio, c);
  fjpy__leave(g, counted);
  if (submitted)
    *submitted = r;
  return r;
}

int fjpy_sys_submit(fjpy_sys *g, const fj_job *jobs, size_t n, const fj_run_opts *opts,
                    int *submitted) {
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK)
    r = fj_submit(fjpy__sys(g), jobs, n, opts);
  fjpy__leave(g, counted);
  if (submitted)
    *submitted = r;
  return r;
}

int fjpy_sys_attach(fjpy_sys *g, unsigned *worker_index) {
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK)
    r = fj_thread_attach(fjpy__sys(g), worker_index);
  fjpy__leave(g, counted);
  return r;
}

int fjpy_sys_detach(fjpy_sys *g) {
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK)
    r = fj_thread_detach(fjpy__sys(g));
  fjpy__leave(g, counted);
  return r;
}

int fjpy_sys_counter_create(fjpy_sys *g, fj_counter **out) {
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK)
    r = fj_counter_create(fjpy__sys(g), out);
  fjpy__leave(g, counted);
  return r;
}

int fjpy_sys_wait_timeout(fjpy_sys *g, fj_counter *c, uint64_t timeout_ns) {
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK)
    r = fj_wait_timeout(fjpy__sys(g), c, timeout_ns);
  fjpy__leave(g, counted);
  return r;
}

int fjpy_sys_stats(fjpy_sys *g, fj_stats *out) {
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK)
    r = fj_system_stats(fjpy__sys(g), out);
  fjpy__leave(g, counted);
  return r;
}

int fjpy_sys_num_workers(fjpy_sys *g) {
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK)
    r = (int)fj_system_num_workers(fjpy__sys(g));
  fjpy__leave(g, counted);
  return r;
}

int fjpy_sys_dump(fjpy_sys *g, char **text, size_t *len) {
  *text = NULL;
  *len = 0;
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK) {
    FILE *f = open_memstream(text, len);
    if (!f) {
      r = FJ_ENOMEM;
    } else {
      r = fj_system_dump(fjpy__sys(g), f);
      if (fclose(f) != 0 && r == FJ_OK)
        r = FJ_ENOMEM;
    }
  }
  fjpy__leave(g, counted);
  return r;
}

int fjpy_sys_trace_start(fjpy_sys *g, size_t max_events) {
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK)
    r = fj_trace_start(fjpy__sys(g), max_events);
  fjpy__leave(g, counted);
  return r;
}

int fjpy_sys_trace_stop(fjpy_sys *g, const char *json_path) {
  int counted, r = fjpy__enter(g, &counted);
  if (r == FJ_OK)
    r = fj_trace_stop(fjpy__sys(g), json_path);
  fjpy__leave(g, counted);
  return r;
}

void fjpy_free(void *p) { free(p); }
