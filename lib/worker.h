/* SPDX-License-Identifier: MIT */
/*
 * worker.h — one worker thread: its queues, its fiber pool, and the loop
 * that picks and runs work.
 *
 * Fields are owned by the worker's own thread unless they say otherwise.
 * The deques are the only structures other threads touch (they steal from
 * them); the statistics are single-writer atomics others may read.
 *
 * How fibers are used: the scheduling loop itself runs on a fiber, and a
 * job is a plain function call on that fiber.  Only when a job yields or
 * waits does the worker switch to another fiber: a ready one, or a blank one
 * from the pool that continues the loop.  So a job that neither yields nor
 * waits costs no switch, and a worker has exactly one fiber that is not
 * parked.  Every switch goes directly from fiber to fiber; the code that
 * runs right after the switch, on the new fiber, finishes the bookkeeping of
 * the fiber that left (queues it, parks it on a counter, or pools it), so a
 * fiber is never visible to another worker while still running on its stack.
 */
#ifndef FJ_WORKER_H
#define FJ_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "counter.h"
#include "deque.h"
#include "fiber.h"
#include "fiber_pool.h"
#include "item.h"
#include "sys_linux.h"

/* What the fiber that just left wants done once it is off its stack. */
typedef enum fj__leave {
  FJ__LEAVE_NONE,   /* nothing: it is the thread's own stack at start-up */
  FJ__LEAVE_YIELD,  /* queue it at the back of the worker's yield queue */
  FJ__LEAVE_WAIT,   /* park it on leave_node->counter */
  FJ__LEAVE_RETIRE, /* its stack is free: back to the pool */
} fj__leave;

/* FIFO of yielded fibers, linked through fiber->next; owner only. */
typedef struct fj__fiber_fifo {
  fj__fiber *head, *tail;
} fj__fiber_fifo;

typedef struct fj__worker {
  struct fj_system *sys; /* immutable */
  unsigned index;        /* immutable */

  fj__deque deque[FJ_PRIORITY_COUNT]; /* owner pushes/pops; anyone steals */
  fj__fiber_fifo yieldq[FJ_PRIORITY_COUNT];
  fj__fiber_pool pool;
  fj__fiber thread_fiber; /* the OS thread's own stack */
  fj__fiber *current;     /* running now; also read by the fault handler */

  /* Hand-over from the fiber that leaves to the code right after the
   * switch, on the same thread (see fj__after_switch). */
  fj__fiber *leaving;
  fj__leave leave;
  fj__waiter *leave_node;

  /* A job picked before a switch, for the blank fiber that runs it. */
  fj__item handoff;
  unsigned handoff_prio;
  bool has_handoff;

  struct fj_ctx *cur_ctx; /* job running now, for fj_current_ctx */
  bool turn_yield;        /* next pick favours the yield queue (fairness) */
  uint32_t rng;           /* victim choice */
  fj__item *take_buf;     /* scratch for taking from the inject queues */
  /* Finished jobs whose counter decrement is held back (see
   * fj__job_finished): `finished` jobs of counter `finished_counter`. */
  fj_counter *finished_counter;
  size_t finished;
  fj_counter *counter_cache; /* freed counters for reuse, linked through ->cache_next */
  unsigned counter_cached;   /* length of counter_cache */

  /* Single-writer statistics (see fj__stat_add).  spawned and completed
   * also drive shutdown's quiescence check and use release stores. */
  _Atomic uint64_t spawned, completed, stolen, yields, waits;

  fj__thread thread;
} fj__worker;

/* The context handed to a job.  It lives on the stack that runs the job
 * (a fiber's, or the worker thread's with enable_yielding = 0). */
struct fj_ctx {
  struct fj_system *sys;
  fj__worker *worker; /* updated whenever the job resumes on another worker */
  fj__fiber *fiber;   /* NULL with enable_yielding = 0 */
  unsigned prio;
};

int fj__worker_init(fj__worker *w, struct fj_system *sys, unsigned index);
void fj__worker_fini(fj__worker *w);
void *fj__worker_main(void *arg);

/* The worker of the calling thread, or NULL for a non-worker thread.
 * Non-inlined: a fiber may resume on another thread, and a compiler may keep
 * a thread-local's address in a register across a call, so code that runs
 * on both sides of a switch must read it through this function. */
fj__worker *fj__this_worker(void);

/* initial-exec: one pointer, fine in glibc's static TLS surplus even when
 * the library is dlopen'ed; the fault handler reads it too. */
extern __thread fj__worker *fj__tls_worker __attribute__((tls_model("initial-exec")));

/* Inlined read, only for functions that do not switch fibers after it. */
static inline fj__worker *fj__this_worker_before_switch(void) { return fj__tls_worker; }

int fj__worker_spawn(fj_ctx *ctx, const fj_job *jobs, size_t n, unsigned prio,
                     fj_counter *c);
int fj__worker_yield(fj_ctx *ctx);
int fj__worker_wait(fj_ctx *ctx, fj_counter *c);

/* Counter memory: jobs that fork and join allocate one per node, so a
 * worker recycles freed counters instead of going to malloc each time.
 * w may be NULL (a plain thread): then plain malloc/free. */
fj_counter *fj__counter_alloc(fj__worker *w);
void fj__counter_free(fj__worker *w, fj_counter *c);

/* Racy check used by idle workers before sleeping. */
bool fj__worker_has_local_work(const fj__worker *w);

#endif
