/* SPDX-License-Identifier: MIT */
/*
 * fiber_registry.h — every fiber stack mapped in the process, on one list,
 * so that a dump or a debugger can find fibers that nothing else points to
 * (a fiber parked on a counter is reachable only from that counter).
 * Adding and removing happen when a stack is mapped or unmapped, which
 * costs a system call anyway; the scheduler's hot paths never touch it.
 */
#ifndef FJ_FIBER_REGISTRY_H
#define FJ_FIBER_REGISTRY_H

#include "fiber.h"
#include "spinlock.h"

/* The gdb extension reads `head` by name (tools/gdb/fiberjob.py). */
typedef struct fj__fiber_registry {
  fj__spinlock lock;
  fj__fiber *head; /* guarded by lock; newest first */
  unsigned long count;
} fj__fiber_registry;

extern fj__fiber_registry fj__fibers;

void fj__fiber_registry_add(fj__fiber *f);
void fj__fiber_registry_remove(fj__fiber *f);

/* Hold the lock while reading other threads' fibers: no fiber on the list
 * is unmapped meanwhile.  Keep it short: fiber creation waits for it. */
static inline void fj__fiber_registry_lock(void) { fj__spin_lock(&fj__fibers.lock); }
static inline void fj__fiber_registry_unlock(void) { fj__spin_unlock(&fj__fibers.lock); }

#endif
