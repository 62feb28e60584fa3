/* SPDX-License-Identifier: MIT */
/*
 * fiber_registry.h — every fiber stack mapped in the process, on one list,
 * so that a dump or a debugger can find fibers that nothing else points to
 * (a fiber parked on a counter is reachable only from that counter).
 * fiber.c adds a fiber when it maps its stack and removes it before
 * unmapping, which costs a system call anyway; the scheduler's hot paths
 * never touch it.  The links are the fibers' own (fiber_debug.h), so this
 * header needs no fiber layout: readers that walk the list include fiber.h.
 */
#ifndef FJ_FIBER_REGISTRY_H
#define FJ_FIBER_REGISTRY_H

#include "spinlock.h"

struct fj__fiber;

/* The gdb extension reads `head` by name (tools/gdb/fiberjob.py). */
typedef struct fj__fiber_registry {
  fj__spinlock lock;
  struct fj__fiber *head; /* guarded by lock; newest first */
  unsigned long count;
} fj__fiber_registry;

extern fj__fiber_registry fj__fibers;

/* Hold the lock while reading other threads' fibers: no fiber on the list
 * is unmapped meanwhile.  Keep it short: fiber creation waits for it. */
static inline void fj__fiber_registry_lock(void) { fj__spin_lock(&fj__fibers.lock); }
static inline void fj__fiber_registry_unlock(void) { fj__spin_unlock(&fj__fibers.lock); }

#endif
