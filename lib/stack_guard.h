/* SPDX-License-Identifier: MIT */
/*
 * stack_guard.h — turns a fault in a fiber's guard pages into a clear
 * "fiber stack overflow" message instead of a bare SIGSEGV.
 */
#ifndef FJ_STACK_GUARD_H
#define FJ_STACK_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "fiber.h"

/* Returns the fiber the calling thread runs now, or NULL when the thread
 * is not a worker.  Must be async-signal-safe (it runs in the handler). */
typedef const fj__fiber *(*fj__running_fiber_fn)(void);

/* The function and name of the job the calling thread runs now (name may
 * be NULL); false when it runs none.  Async-signal-safe, like the above. */
typedef bool (*fj__running_job_fn)(fj_job_fn *fn, const char **name);

/* Installs the process-wide fault handler once (later calls do nothing);
 * `running` tells it which fiber the faulting thread was on, `job` which
 * job, for the message.  Faults that
 * are not in that fiber's guard go to the handler installed before ours.
 * FJ_OK or the OS layer's error. */
int fj__stack_guard_install(fj__running_fiber_fn running, fj__running_job_fn job);


/* Per worker thread: an alternate signal stack, since the overflowing stack
 * cannot host the handler.  FJ_OK or FJ_ENOMEM.  Threads: the worker. */
int fj__stack_guard_thread_enter(void);
void fj__stack_guard_thread_leave(void);

#endif
