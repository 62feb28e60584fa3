/* SPDX-License-Identifier: MIT */
/*
 * fiber.h — a fiber: a stack plus a saved context.  The fiber struct lives
 * in the top bytes of its own stack mapping, so a parked fiber costs exactly
 * the stack pages it touched and no separate allocation.
 *
 * Ownership: a fiber is owned by exactly one party at a time — the worker
 * running it, the worker's pool, a yield queue, a deque slot, or a
 * counter's waiter list.  Handing it over always goes through a release/
 * acquire pair in that structure, so fields need no atomics.
 */
#ifndef FJ_FIBER_H
#define FJ_FIBER_H

#include <stdbool.h>

#include "fcontext.h"
#include "stack.h"

struct fj__worker;
struct fj_ctx;

typedef struct fj__fiber {
  fj__fctx ctx;              /* saved context while not running */
  fj__stack stack;           /* map == NULL for a worker thread's own stack */
  struct fj__fiber *next;    /* pool free list link */
  struct fj__worker *worker; /* worker running it (or that last ran it) */
  struct fj_ctx *job_ctx;    /* the job on this fiber, NULL for a bare loop */
  unsigned prio;             /* priority of that job */
#if FJ_ASAN_FIBERS
  void *asan_fake_stack;
#endif
#if FJ_TSAN_FIBERS
  void *tsan_fiber;
#endif
#if FJ_VALGRIND_STACKS
  unsigned valgrind_id;
#endif
} fj__fiber;

/* Maps a stack of `usable` bytes and places the fiber struct at its top.
 * Returns NULL when mapping fails. */
fj__fiber *fj__fiber_create(size_t usable);
void fj__fiber_destroy(fj__fiber *f);

/* Describes the calling thread's own stack as a fiber, so switching between
 * it and real fibers is uniform (and correctly annotated). */
void fj__fiber_init_thread(fj__fiber *f);
void fj__fiber_fini_thread(fj__fiber *f);

/* Arms a blank fiber to run entry() at its next resume. */
void fj__fiber_prepare(fj__fiber *f, void (*entry)(fj__transfer));

/* Switches from `from` (the running fiber) to `to`.  from_done: `from` will
 * never be resumed (its stack is about to be reused), which sanitizers need
 * to know.  Returns what the context that resumes `from` handed over. */
fj__transfer fj__fiber_switch(fj__fiber *from, fj__fiber *to, void *data, bool from_done);

/* Tells the sanitizer a switch into the current fiber completed; call first
 * thing in a fiber's entry function. */
void fj__fiber_entered(fj__fiber *self);

#endif
