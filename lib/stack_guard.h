/* SPDX-License-Identifier: MIT */
/*
 * stack_guard.h — turns a fault in a fiber's guard pages into a clear
 * "fiber stack overflow" message instead of a bare SIGSEGV.
 */
#ifndef FJ_STACK_GUARD_H
#define FJ_STACK_GUARD_H

#include <stddef.h>

/* Installs the process-wide SIGSEGV/SIGBUS handler once (later calls do
 * nothing).  Faults that are not in the running fiber's guard go to the
 * handler that was installed before ours. */
void fj__stack_guard_install(void);

/* Per worker thread: an alternate signal stack, since the overflowing stack
 * cannot host the handler.  The handler finds the running fiber through the
 * worker's thread-local pointer (fj__tls_worker), which the worker sets
 * before calling this.  Returns 0 or -1.  Threads: the worker itself. */
int fj__stack_guard_thread_enter(void);
void fj__stack_guard_thread_leave(void);

#endif
