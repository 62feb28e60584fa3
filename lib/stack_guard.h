/* SPDX-License-Identifier: MIT */
/*
 * stack_guard.h — turns a fault in a fiber's guard pages into a clear
 * "fiber stack overflow" message instead of a bare SIGSEGV.
 */
#ifndef FJ_STACK_GUARD_H
#define FJ_STACK_GUARD_H

#include <stddef.h>

struct fj__worker;

/* Installs the process-wide SIGSEGV/SIGBUS handler once (later calls do
 * nothing).  Faults that are not in the running fiber's guard go to the
 * handler that was installed before ours. */
void fj__stack_guard_install(void);

/* Per worker thread: an alternate signal stack (the overflowing stack cannot
 * host the handler) and the thread-local worker pointer the handler reads.
 * Returns 0 or -1.  Threads: the worker thread itself. */
int fj__stack_guard_thread_enter(struct fj__worker *w);
void fj__stack_guard_thread_leave(void);

#endif
