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

#include "types.h"

/* FJ_OK or FJ_ENOMEM; nothing to undo on failure. */
int fj__worker_init(fj__worker *w, struct fj_system *sys, unsigned index);
void fj__worker_fini(fj__worker *w);
/* The worker thread's main function (arg: the fj__worker). */
void *fj__worker_main(void *arg);

/* A fiber from the pool, armed to run the loop (and, first, the handoff
 * job if one is set).  NULL: no fiber could be mapped. */
fj__fiber *fj__worker_blank_fiber(fj__worker *w);

/* The fiber the calling thread runs now (NULL off workers); for the stack
 * overflow handler, so async-signal-safe. */
const fj__fiber *fj__worker_running_fiber(void);

#endif
