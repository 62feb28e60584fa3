/* SPDX-License-Identifier: MIT */
/*
 * spinlock.h — a test-and-test-and-set lock for critical sections of a few
 * instructions (a counter's waiter list).  Spins politely and yields the
 * thread if the holder was preempted.
 */
#ifndef FJ_SPINLOCK_H
#define FJ_SPINLOCK_H

#include "atomics.h"
#include "internal.h"
#include "sys/sys.h"

typedef struct fj__spinlock {
  atomic_bool locked;
} fj__spinlock;

static inline void fj__spin_lock(fj__spinlock *l) {
  unsigned spins = 0;
  /* acquire: everything the previous holder wrote before its release in
   * fj__spin_unlock is visible inside our critical section. */
  while (atomic_exchange_explicit(&l->locked, true, memory_order_acquire)) {
    while (fj__load_relaxed(&l->locked)) {
      if (++spins < FJ__SPINLOCK_SPINS)
        fj__cpu_relax();
      else
        fj__thread_yield();
    }
  }
}

/* One attempt: true when the lock is now ours (acquire, as fj__spin_lock). */
static inline bool fj__spin_trylock(fj__spinlock *l) {
  return !atomic_exchange_explicit(&l->locked, true, memory_order_acquire);
}

static inline void fj__spin_unlock(fj__spinlock *l) {
  /* release: pairs with the acquire exchange in fj__spin_lock. */
  fj__store_release(&l->locked, false);
}

#endif
