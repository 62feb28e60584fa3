/* SPDX-License-Identifier: MIT */
/*
 * stack_guard.h — turns a fault in a fiber's guard pages into a clear
 * "fiber stack overflow" message instead of a bare SIGSEGV.
 */
#ifndef FJ_STACK_GUARD_H
#define FJ_STACK_GUARD_H

#include <stddef.h>

#include "fiber.h"

/* Returns the fiber the calling thread runs now, or NULL when the thread
 * is not a worker.  Must be async-signal-safe (it runs in the handler). */
typedef const fj__fiber *(*fj__running_fiber_fn)(void);

/* Installs the process-wide fault handler once (later calls do nothing);
 * `running` tells it which fiber the faulting thread was on.  Faults that
 * are not in that fiber's guard go to the handler installed before ours.
 * FJ_OK or the OS layer's error. */
int fj__stack_guard_install(fj__running_fiber_fn running);

/* Per worker thread: an alternate signal stack, since the overflowing stack
 * cannot host the handler.  FJ_OK or FJ_ENOMEM.  Threads: the worker. */
int fj__stack_guard_thread_enter(void);
void fj__stack_guard_thread_leave(void);

#endif
