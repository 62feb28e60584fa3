/* SPDX-License-Identifier: MIT */
/*
 * internal.h — what every file in lib/ shares: the assertion macro, the one
 * fatal-error path, the cache-line size, and every tuning constant, named
 * and in one place.
 */
#ifndef FJ_INTERNAL_H
#define FJ_INTERNAL_H

#include <stddef.h>

#include "fiberjob.h"

/* ---- invariants -------------------------------------------------------- */

/* Prints "fiberjob: <message>" on stderr and aborts.  Every abort path in
 * lib/ goes through it, except the fault handler, which must stay
 * async-signal-safe (sys_linux.c). */
__attribute__((noreturn, format(printf, 1, 2), cold)) void fj__fatal(const char *fmt, ...);

/* Checks an invariant in debug and sanitizer builds (NDEBUG not defined;
 * Meson's b_ndebug=if-release sets it only for release builds).  Compiled
 * out in release builds: the expression is not evaluated there, so it must
 * have no side effects. */
#ifndef NDEBUG
#define FJ__DEBUG 1
#define FJ__ASSERT(cond)                                                       \
  do {                                                                         \
    if (__builtin_expect(!(cond), 0))                                          \
      fj__fatal("internal error: assertion `%s' failed at %s:%d", #cond,       \
                __FILE__, __LINE__);                                           \
  } while (0)
#else
#define FJ__DEBUG 0
#define FJ__ASSERT(cond) ((void)sizeof(!(cond)))
#endif

#define FJ__IS_POW2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)

/* The containing struct of an embedded member. */
#define FJ__CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---- memory layout ----------------------------------------------------- */

/* Shared atomics that different threads write live on their own line, so
 * one writer does not slow the others down (false sharing).  64 bytes on
 * x86-64 and on the ARM cores engines target. */
#define FJ__CACHE_LINE 64

/* ---- tuning ------------------------------------------------------------ */

/* Deque slots a worker starts with per priority; it grows on demand. */
#define FJ__DEQUE_INITIAL 256
/* Most items one worker takes from a shared submission queue at once. */
#define FJ__TAKE_MAX 256
/* A shared queue this short is taken whole (a trickle of single jobs);
 * longer ones are shared out: size / workers each. */
#define FJ__TAKE_WHOLE_MAX 64
/* Cells of the lock-free ring in front of each shared queue (32 bytes each):
 * single submissions in flight before they spill into the locked part. */
#define FJ__FAST_RING_CAPACITY 1024
/* Cells of the second lock-free ring (32 bytes each, 8 MiB), allocated the
 * first time the fast ring is full: a flood of single submissions up to
 * this deep stays lock-free. */
#define FJ__OVERFLOW_RING_CAPACITY (256u * 1024u)
/* Initial slots of the locked part of each shared queue; grows on demand. */
#define FJ__INJECT_INITIAL 1024
/* An idle worker takes the later half of another worker's private share
 * once it has seen that share hold work this long: a share of short jobs
 * is gone by then (no take, no membarrier, no interrupt for its owner),
 * and a free worker never waits longer on a busy one's share, whether its
 * owner's job runs long, blocks, or the share is simply large. */
#define FJ__PS_TAKE_AFTER_NS (50 * 1000)
/* Freed counters a worker keeps for reuse. */
#define FJ__COUNTER_CACHE_MAX 256
/* Idle fibers a worker may be configured to cache (fj_config limit). */
#define FJ__MAX_POOLED_LIMIT 65536u

/* An idle worker first spins (pauses), then offers its core with
 * sched_yield for a while (a submitting thread may be waiting for it: the
 * machine may have no spare core), and only then sleeps, since a futex
 * sleep/wake round trip costs ~3 µs.  It looks for work every
 * FJ__IDLE_LOOK_EVERY pauses: each look reads lines a submitting thread is
 * writing, and pulling them away slows it down.  A `pause` takes about
 * 25 ns on the development VM's EPYC, so a look every 64 is ~1.6 µs, the
 * bare ring floor's back-off (spsc_floor_bench); every 16, a submitter that
 * the workers kept up with ran at 40-55 ns a job in some passes. */
#define FJ__IDLE_SPINS 256
#define FJ__IDLE_YIELDS 64
#define FJ__IDLE_LOOK_EVERY 64
/* Pauses before a contended spinlock yields the thread instead. */
#define FJ__SPINLOCK_SPINS 256

/* A wait that runs other jobs on its own stack, and has none to run, sleeps
 * on the counter this long before it looks for work again. */
#define FJ__WAIT_POLL_NS (200 * 1000)
/* How often shutdown re-checks that the system is quiescent. */
#define FJ__DRAIN_POLL_NS (200 * 1000)
/* Stack a waiting job keeps free before it runs another job nested on its
 * stack: a quarter of the stack, at least this much. */
#define FJ__NEST_RESERVE_MIN ((size_t)16 * 1024)

/* Guard below every fiber stack: at least this much, in whole pages, so a
 * frame of up to 16 KiB that skips the first guard page still faults in the
 * guard (one 64 KiB page on kernels with 64 KiB pages). */
#define FJ__STACK_GUARD_MIN ((size_t)16 * 1024)
/* Per-worker alternate signal stack that reports stack overflows. */
#define FJ__ALTSTACK_SIZE ((size_t)64 * 1024)

#endif
