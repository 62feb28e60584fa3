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
 *
 * Debug builds track that hand-over in `state` and assert every
 * transition, so a fiber resumed twice or pooled while in use stops the
 * process with a message instead of corrupting two stacks:
 *
 *   BLANK --prepare--> SUSPENDED --switch to--> RUNNING --switch away--> LEAVING
 *     ^                    ^                                                |
 *     +--pool get-- POOLED <--pool put-- SUSPENDED <--context saved---------+
 *
 * (LEAVING: its context is not saved yet; only the code right after the
 * switch, on the same thread, may touch it — see switch.c.)
 */
#ifndef FJ_FIBER_H
#define FJ_FIBER_H

#include <stdbool.h>

#include "fcontext.h"
#include "fiber_debug.h"
#include "internal.h"
#include "list.h"
#include "stack.h"

struct fj__worker;
struct fj_ctx;

#if FJ__DEBUG
typedef enum fj__fiber_state {
  FJ__FIBER_BLANK = 1, /* mapped, no context yet */
  FJ__FIBER_SUSPENDED, /* context saved: may be resumed, exactly once */
  FJ__FIBER_RUNNING,   /* some worker runs on it */
  FJ__FIBER_LEAVING,   /* switched away from, context not saved yet */
  FJ__FIBER_POOLED,    /* idle in a worker's pool */
} fj__fiber_state;
#define FJ__FIBER_SET(f, from, to)                                             \
  do {                                                                         \
    FJ__ASSERT((f)->state == (from));                                          \
    (f)->state = (to);                                                         \
  } while (0)
#else
#define FJ__FIBER_SET(f, from, to) ((void)0)
#endif

/* The first 64 bytes (the struct is cache-line aligned) hold everything a
 * switch reads or writes, so a yield touches one line of each fiber: with
 * 64 fibers taking turns their hot lines and top frames must share L1. */
typedef struct fj__fiber {
  /* First, so converting between a queued link and its fiber is free on
   * the yield path. */
  fj__link link;             /* in a yield queue or a pool's free list */
  fj__fctx ctx;              /* saved context while not running */
  struct fj__worker *worker; /* worker running it (or that last ran it) */
  struct fj_ctx *job_ctx;    /* the job on this fiber, NULL for a bare loop */
  unsigned prio;             /* priority of that job */
  int pin;                   /* worker index the job on it is pinned to, or
                                FJ_ANY_WORKER; read when it becomes ready */
  fj__fiber_debug dbg;       /* for dumps and debuggers (fiber_debug.h);
                                state and resumes first */
  unsigned char stack_class; /* fj_stack_class of the pool that made it */
  fj__stack stack;           /* map == NULL for a worker thread's own stack */
#if FJ__DEBUG
  fj__fiber_state state;     /* written only by the fiber's current owner */
#endif
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

static inline fj__fiber *fj__fiber_of_link(fj__link *l) {
  return l ? FJ__CONTAINER_OF(l, fj__fiber, link) : NULL;
}

/* Switches from `from` (the running fiber) to `to`.  from_done: `from` will
 * never be resumed (its stack is about to be reused), which sanitizers need
 * to know.  Returns what the context that resumes `from` handed over.
 * Sanitizer builds annotate the switch (fiber.c); plain builds inline it to
 * the bare jump, which is all a yield's switch has to cost. */
#if FJ_ASAN_FIBERS || FJ_TSAN_FIBERS
fj__transfer fj__fiber_switch(fj__fiber *from, fj__fiber *to, void *data, bool from_done);
#else
static inline fj__transfer fj__fiber_switch(fj__fiber *from, fj__fiber *to, void *data,
                                            bool from_done) {
  (void)from_done;
  FJ__ASSERT(from != to);
  FJ__FIBER_SET(from, FJ__FIBER_RUNNING, FJ__FIBER_LEAVING);
  FJ__FIBER_SET(to, FJ__FIBER_SUSPENDED, FJ__FIBER_RUNNING); /* never resumed twice */
  return fj__fctx_jump(to->ctx, data);
}
#endif

/* Tells the sanitizer a switch into the current fiber completed; call first
 * thing in a fiber's entry function. */
void fj__fiber_entered(fj__fiber *self);

#endif
