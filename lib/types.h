/* SPDX-License-Identifier: MIT */
/*
 * types.h — the structs every scheduling file shares: the system and its
 * workers (the context handed to a job is in ctx.h).  Types only; the
 * functions that work on them live one concern per file (docs/design.md
 * has the map).
 *
 * Fields of a worker are owned by the worker's own thread unless they say
 * otherwise.  The deques are the only structures other threads touch (they
 * steal from them); the statistics are single-writer atomics others may
 * read.  The system's fields are immutable after creation except the
 * atomics, whose protocols idle.h, submit.c and system.c describe.
 */
#ifndef FJ_TYPES_H
#define FJ_TYPES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aging.h"
#include "counter.h"
#include "ctx.h"
#include "debug_state.h"
#include "deque.h"
#include "eh_carry.h"
#include "fiber.h"
#include "fiber_budget.h"
#include "fiber_pool.h"
#include "fiberjob.h"
#include "inject_queue.h"
#include "internal.h"
#include "item.h"
#include "list.h"
#include "pinned.h"
#include "private_share.h"
#include "sys/sys.h"

/* What the fiber that just left wants done once it is off its stack. */
typedef enum fj__leave {
  FJ__LEAVE_NONE,   /* nothing: it is the thread's own stack at start-up */
  FJ__LEAVE_YIELD,  /* already at the back of the worker's yield queue (switch.h) */
  FJ__LEAVE_WAIT,   /* park it on leave_node->counter */
  FJ__LEAVE_RETIRE, /* its stack is free: back to the pool */
} fj__leave;

typedef struct fj__worker {
  struct fj_system *sys; /* immutable */
  unsigned index;        /* immutable */

  fj__deque deque[FJ_PRIORITY_COUNT]; /* owner pushes/pops; anyone steals */
  /* Owner only.  Bit p clear => deque[p] is empty; bit p +
   * FJ__PS_MAYBE_SHIFT clear => the private share holds nothing of
   * priority p (fj__take_injected sets it when it fills the share, and
   * clears the other priorities' share bits: at most one is set, that of
   * the share's priority; a thief of the share leaves it stale, as
   * below).  Only the owner pushes, through fj__worker_deque_push, which
   * sets the bit first; the owner clears it only when its own pop finds the
   * deque empty, and an empty deque stays empty until the owner pushes
   * again (thieves only take).  A set bit may be stale (thieves emptied the
   * deque): that costs one yield its fast path, nothing else.  Lets a yield
   * skip reading the deques' top and bottom, lines thieves write. */
  unsigned deque_maybe;
#define FJ__PS_MAYBE_SHIFT 8
#define FJ__PS_MAYBE_ALL (((1u << FJ_PRIORITY_COUNT) - 1) << FJ__PS_MAYBE_SHIFT)
  fj__fifo yieldq[FJ_PRIORITY_COUNT]; /* yielded fibers, through ->link */
  fj__fiber_pool pools[FJ_STACK_CLASS_COUNT]; /* idle fibers per stack class */
  fj__pinned_queue pinned; /* work pinned here: anyone pushes, the owner pops */
  fj__fiber thread_fiber; /* the OS thread's own stack */
  fj__fiber *current;     /* running now; also read by the fault handler */
  /* This thread's C++ exception state (eh_carry.h).  Set by the thread
   * itself before its first switch; read and written by it only. */
  fj__eh_state *eh_globals;

  /* Hand-over from the fiber that leaves to the code right after the
   * switch, on the same thread (see fj__after_switch).  Set and cleared
   * by the switch only: `leaving` is non-NULL exactly between the two. */
  fj__fiber *leaving;
  fj__leave leave;
  fj__waiter *leave_node;

  /* A job picked before a switch, for the blank fiber that runs it (or an
   * item put back when its deque could not grow).  Taken by the next pick. */
  fj__item handoff;
  unsigned handoff_prio;
  bool has_handoff;

  struct fj_ctx *cur_ctx; /* job running now, for fj_current_ctx */
  bool is_slot;           /* immutable: an attach slot (index >= num_workers) */
  bool aging_on;          /* immutable: fj_config.aging_us != 0 */
  /* Attach slots only (attach.c).  `occupied`: a thread holds the slot
   * (seq_cst CAS 0 -> 1 in attach; release store of 0 in detach, which
   * hands the slot's owner-only fields to the next thread).  `bell`: the
   * attached thread sleeps on it in fj_wait; pinned pushes and the zero
   * crossing of the counter it waits for ring it. */
  _Atomic int occupied;
  _Atomic uint32_t bell;
  bool slot_altstack; /* owner only: the attached thread got an altstack */
  bool turn_yield;        /* next pick favours the yield queue (fairness) */
  _Atomic bool trace_on;  /* a trace records (set by trace.c; read by FJ__TRACE) */
  /* Nonzero: every yield takes the slow path (aging_on, or trace_on; set
   * with it by trace.c).  One byte for the yield fast path to read. */
  _Atomic uint8_t yield_gate;
  bool stuck_low_first;   /* next fj__pick_for_stuck_wait looks LOW first */
  uint32_t rng;           /* victim choice */
  fj__item *take_buf;     /* scratch for taking from the inject queues */
  /* Finished jobs whose counter decrement is held back (see run.h):
   * `finished` jobs of counter `finished_counter`. */
  fj_counter *finished_counter;
  size_t finished;
  fj__counter_cache counters; /* freed counters for reuse */

  /* Single-writer statistics (see fj__stat_add).  spawned and completed
   * also drive shutdown's quiescence check and use release stores. */
  _Atomic uint64_t spawned, completed, stolen, yields, waits;
  /* Yields and waits that found no fiber for new work (see wait.c). */
  _Atomic uint64_t yields_inline, waits_inline;
  _Atomic uint64_t aged, pinned_run;

  fj__thread thread;

  _Atomic uint32_t activity;   /* fj__worker_activity, for dumps (relaxed) */
  _Atomic uint32_t trace_busy; /* recording a trace event (see trace.c) */

  /* Jobs taken from a shared queue, run from here instead of the deque
   * (private_share.h).  The owner pops; an idle worker takes half of a
   * share it has seen hold work for FJ__PS_TAKE_AFTER_NS (pick.c).  Last
   * in the struct: the yield path reads none of it, and the lines it does
   * read keep their layout (placed mid-struct, yield measured 1.14x the
   * time in 11 interleaved rounds; here, 1.05x). */
  fj__private_share ps;
  /* Owner only: the share this worker watches while idle, and since when
   * (fj__share_watch). */
  const struct fj__worker *watch_victim;
  uint64_t watch_ns;
} fj__worker;

/* The owner's push onto its deque of priority p (see deque_maybe).
 * Returns as fj__deque_push. */
static inline int fj__worker_deque_push(fj__worker *w, unsigned p, const fj__item *it) {
  w->deque_maybe |= 1u << p;
  return fj__deque_push(&w->deque[p], it);
}

/* fj__deque_push_fifo onto the owner's deque of priority p (n > 0). */
static inline int fj__worker_deque_push_fifo(fj__worker *w, unsigned p, const fj__item *items,
                                             size_t n) {
  w->deque_maybe |= 1u << p;
  return fj__deque_push_fifo(&w->deque[p], items, n);
}

/* Debug check of deque_maybe's invariant for priority p. */
#define FJ__ASSERT_DEQUE_MAYBE(w, p)                                           \
  FJ__ASSERT(((w)->deque_maybe >> (p) & 1u) || fj__deque_size_hint(&(w)->deque[p]) == 0)

typedef enum fj__worker_activity {
  FJ__WORKER_BUSY,
  FJ__WORKER_IDLE,   /* looking for work */
  FJ__WORKER_ASLEEP, /* sleeping until notified */
} fj__worker_activity;

struct fj_system {
  fj_config cfg;          /* validated copy; immutable */
  unsigned num_workers;   /* immutable: worker threads */
  unsigned num_indices;   /* immutable: num_workers + attach_slots */
  /* immutable: workers keep private shares of what they take from the
   * shared queues (private_share.h): membarrier is there and aging is off
   * (aging takes the oldest work a worker can see, which a share hides). */
  bool ps_on;
  fj__worker *workers;    /* immutable array of num_indices; [num_workers..] are
                             the attach slots, which have no thread of their own */
  fj__aging aging;        /* priority aging clocks (period 0 = off) */
  fj__inject_queue inject[FJ_PRIORITY_COUNT];
  /* Bit p: inject[p] may hold work.  The yield fast path reads this one
   * word instead of five indices per queue; the protocol that keeps it
   * from ever reading clear while a queue holds work is in inject_queue.h
   * (fj__inject_mark_after_rmw, fj__inject_clear_if_empty).  Its own line: read on every yield, written only
   * when a queue goes from empty to not. */
  _Alignas(FJ__CACHE_LINE) _Atomic uint32_t inject_maybe;

  /* Idle protocol: a worker about to sleep increments `sleepers`, re-checks
   * for work, then sleeps on `wake_seq`; whoever publishes work that needs
   * a sleeper increments `wake_seq` and wakes.  See fj__notify. */
  _Alignas(FJ__CACHE_LINE) _Atomic uint32_t wake_seq;
  _Atomic uint32_t sleepers;
  /* Idle workers still awake and looking for work.  While one is, nobody
   * needs waking: it will find new work itself (see fj__notify). */
  _Atomic uint32_t spinning;
  /* Set by every wake, cleared by a sleeper as it goes to sleep and as it
   * wakes: "a worker was woken and has not yet run".  A hint for spawns
   * (see fj__notify); relaxed throughout. */
  _Atomic uint32_t wake_pending;

  /* Shutdown: `stopping` is set under every inject lock, so no locked
   * submission lands after it; the lock-free path pairs with it through
   * the fast ring's tail (see fj__fill_claimed). */
  _Alignas(FJ__CACHE_LINE) _Atomic int stopping;

  /* Workers whose innermost wait can neither get a fiber nor run another
   * job on its stack (wait.c).  When all are, and work is queued, nothing
   * can progress: their waits return FJ_ENOMEM. */
  _Atomic uint32_t stuck;

  /* Tells idle workers to leave. */
  _Alignas(FJ__CACHE_LINE) _Atomic int exiting;

  fj__fiber_budget budget; /* live fibers and their limit, shared by every pool */

  fj__sys_debug dbg; /* dumps, stall reports, traces (debug_state.h) */
};

#endif
