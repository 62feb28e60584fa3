/* SPDX-License-Identifier: MIT */
/*
 * worker.h — one worker thread: setting it up, its thread's main function,
 * and the loop that picks and runs work.
 *
 * The struct itself is in types.h.
 *
 * How fibers are used: the scheduling loop itself runs on a fiber, and a
 * job is a plain function call on that fiber.  Only when a job yields or
 * waits does the worker switch to another fiber: a ready one, or a blank one
 * from the pool that continues the loop.  So a job that neither yields nor
 * waits costs no switch, and a worker has exactly one fiber that is not
 * parked.  The switch and its hand-over are in switch.h; the loop and the
 * thread's main function in worker.c.
 */
#ifndef FJ_WORKER_H
#define FJ_WORKER_H

#include "job_rec.h"
#include "types.h"

/* FJ_OK or FJ_ENOMEM; nothing to undo on failure. */
int fj__worker_init(fj__worker *w, struct fj_system *sys, unsigned index);
void fj__worker_fini(fj__worker *w);
/* The worker thread's main function (arg: the fj__worker). */
void *fj__worker_main(void *arg);

/* A fiber of the class from the pool, armed to run the loop (and, first,
 * the handoff job if one is set).  NULL: none could be had (the fiber
 * budget is spent, or the mapping failed; counted in the pool's stats). */
fj__fiber *fj__worker_blank_fiber(fj__worker *w, unsigned stack_class);

/* The fiber to switch to for a picked item: the item's own fiber, or a
 * blank one of the class the job needs, which will run it first thing
 * (through the handoff slot).  NULL: no fiber could be had (the item is
 * still the caller's). */
fj__fiber *fj__worker_target_for(fj__worker *w, const fj__item *it, unsigned prio);

/* True when item `it` may start on the stack of `stack` (a fiber, or a
 * thread's own stack, which is deep enough for any class).  A plain job
 * decides it with one comparison. */
static inline bool fj__fits_stack(const fj__fiber *stack, const fj__item *it) {
  return !fj__item_is_rec(it) || ((const fj__job_rec *)it->arg)->stack == FJ_STACK_SMALL ||
         !stack || !stack->stack.map || stack->stack_class == FJ_STACK_LARGE;
}

/* A LARGE job when no LARGE fiber can be had now: a pinned one goes back
 * to this worker's pinned queue, any other to the end of the shared queue,
 * where a worker takes it once a fiber is free.  The worker carries on. */
void fj__defer_for_stack(fj__worker *w, const fj__item *it, unsigned prio);

/* Attach slots: runs one ready item on the attached thread, whose own
 * stack is the slot's thread fiber; false when nothing was ready. */
bool fj__slot_pump_once(fj__worker *w);

/* The fiber the calling thread runs now (NULL off workers); for the stack
 * overflow handler, so async-signal-safe. */
const fj__fiber *fj__worker_running_fiber(void);
/* The function and name of the job the calling thread runs now (for the
 * overflow message); false off workers or between jobs.  Async-signal-safe. */
bool fj__worker_running_job(fj_job_fn *fn, const char **name);

#endif
