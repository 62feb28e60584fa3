/* SPDX-License-Identifier: MIT */
/*
 * wait.c — yield, the fiber wait that parks on a counter, and the wait that
 * runs other jobs on its own stack (no fibers, or none could be mapped).
 *
 * A yield looks only at local work of the same or higher priority and never
 * steals, so it stays cheap and returns at once when nothing else is ready.
 * A wait first runs, right on its own stack, the jobs it waits for while
 * they are what the worker would pick next anyway (no switch, no fiber);
 * anything else parks the fiber.
 *
 * Running out of fibers (no stack can be mapped) is never an error by
 * itself.  A yield then resumes an older yielded fiber or carries on.  A
 * wait runs other jobs on its own stack, alternating LOW-first and
 * HIGH-first picks so that the job that will release it runs whatever its
 * priority; only when its stack has no room left, every worker is in that
 * state and work is queued — no progress possible at all — does it return
 * FJ_ENOMEM, so its job can unwind and free the stack.
 */
#include "wait.h"

#include "atomics.h"
#include "idle.h"
#include "pick.h"
#include "run.h"
#include "switch.h"
#include "trace.h"
#include "worker.h"

/* True when nothing new (deque or shared queue) is ready at priority <= top,
 * and no yielded fiber waits at a strictly higher priority than top, and
 * neither pinned work, aging nor a trace recording asks for the full pick
 * (the slow path records the trace events; the fast path has no hooks).
 * (A picked-but-not-started job, has_handoff, cannot exist while a job runs:
 * see fj__yield.) */
__attribute__((always_inline)) static inline bool fj__nothing_new_upto(fj__worker *w,
                                                                      unsigned top) {
  unsigned upto = (2u << top) - 1; /* priorities 0 (HIGH) .. top */
  /* Our own deques and private share, from deque_maybe alone: no line a
   * thief writes.  The multiply puts upto's bits at both places; written
   * as a shift and an or, yield64 measured 1.13x (layout, not the two
   * instructions: this form measured 0.90-0.93x against no share bits). */
  if (w->deque_maybe & (upto * (1u + (1u << FJ__PS_MAYBE_SHIFT))))
    return false;
  /* A relaxed hint (a pusher's line, written only by pinned submissions),
   * and aging or a trace in one byte (relaxed: a hint, as FJ__TRACE's). */
  if (__builtin_expect(fj__load_relaxed(&w->pinned.size) | fj__load_relaxed(&w->yield_gate), 0))
    return false;
#if FJ__DEBUG
  for (unsigned p = 0; p <= top; p++)
    FJ__ASSERT_DEQUE_MAYBE(w, p);
#endif
  /* The shared queues, one word for all of them (inject_queue.h).
   * relaxed: a hint; a bit set a moment late delays a priority switch by
   * one yield at most, never loses work (the worker loop reads the queues
   * themselves). */
  if (fj__load_relaxed(&w->sys->inject_maybe) & upto)
    return false;
  /* Yielded fibers of strictly higher priority (priorities 0 = HIGH .. 2 =
   * LOW; unrolled: this is every yield). */
  _Static_assert(FJ_PRIORITY_COUNT == 3, "unrolled for three priorities");
  switch (top) {
  case 2:
    if (!fj__fifo_empty(&w->yieldq[1]))
      return false;
    /* fall through */
  case 1:
    return fj__fifo_empty(&w->yieldq[0]);
  default:
    return true;
  }
}

/* Passes the turn from ctx's fiber to `to` through fj__switch_to, for every
 * yield but the fast path's (which does the same in fewer steps): counted,
 * traced, queued before the switch as FJ__LEAVE_YIELD requires
 * (fj__queue_yielding), and traced again once resumed, maybe elsewhere. */
static void fj__yield_to(fj_ctx *ctx, fj__worker *w, fj__fiber *to) {
  fj__stat_add(&w->yields, 1);
  FJ__TRACE(w, fj__trace_run_end(w, ctx, FJ__TRACE_YIELDED, NULL));
  fj__queue_yielding(w, ctx->fiber);
  fj__switch_to(w, ctx->fiber, to, FJ__LEAVE_YIELD, NULL);
  FJ__TRACE(ctx->worker, fj__trace_run_begin(ctx->worker, ctx, true));
}

/* A yield when something new is ready at our priority or above: pick it
 * the way the worker loop would (new work may need a blank fiber). */
__attribute__((noinline)) static int fj__yield_slow(fj_ctx *ctx, fj__worker *w) {
  fj__item it;
  unsigned prio = ctx->prio;
  /* Held-back decrements go out first, found or not: the fast path sends
   * every yield here while any are held. */
  fj__flush_finished(w);
  /* A stale bit (the queue was taken empty by someone) would send every
   * later yield here: clear it, the clearer's half of the pair. */
  for (unsigned p = 0; p <= prio; p++)
    fj__inject_clear_if_empty(&w->sys->inject_maybe, &w->sys->inject[p], p);
  if (!fj__pick(w, &it, &prio, FJ__PICK_FOR_YIELD, ctx->prio))
    return FJ_OK; /* nothing else ready: carry on */
  fj__fiber *to = fj__worker_target_for(w, &it, prio);
  if (!to) {
    /* No fiber for the new job (fiber budget, or no memory): leave it
     * queued, and give way to an older yielded job instead (it has its
     * fiber), or carry on. */
    fj__unpick(w, &it, prio);
    fj__stat_add(&w->yields_inline, 1);
    to = fj__take_yielded(w, ctx->prio);
    if (!to)
      return FJ_OK;
  }
  fj__yield_to(ctx, w, to);
  return FJ_OK;
}

/* A job without a fiber (enable_yielding = 0) yields the thread.  Out of
 * line and reached by a tail call, so fj__yield needs no stack frame. */
__attribute__((noinline)) static int fj__yield_without_fiber(void) {
  fj__thread_yield();
  return FJ_OK;
}

int fj__yield(fj_ctx *ctx) {
  fj__fiber *self = ctx->fiber;
  if (__builtin_expect(!self, 0))
    return fj__yield_without_fiber();
  fj__worker *w = ctx->worker;
  unsigned prio = ctx->prio;
  /* A picked job waits in `handoff` only between fj__target_for and the
   * blank fiber's first pick, and no job runs in between: so never here,
   * and the fast path need not look at it. */
  FJ__ASSERT(!w->has_handoff);
  /* Held-back decrements (run.h) also take the slow path, which flushes
   * them: the fast one then calls nothing and needs no stack frame. */
  if (__builtin_expect(!fj__nothing_new_upto(w, prio) || w->finished_counter, 0))
    return fj__yield_slow(ctx, w);
  /* Fast path, the steady state of fibers taking turns: no new work at our
   * priority or above, so the next yielded fiber of our priority runs, and
   * this one goes to the back of that queue (fj__queue_yielding's early
   * queuing, done in the same step).  The queue is the job's priority,
   * which fj__run_job also gives its fiber. */
  fj__fiber *to = fj__fiber_of_link(fj__fifo_rotate(&w->yieldq[prio], &self->link));
  if (!to)
    return FJ_OK; /* nothing else ready: carry on */
  w->turn_yield = false;
  fj__stat_add(&w->yields, 1);
  /* No trace hooks: a recording sends yields down the slow path.  A trace
   * started while this fiber is suspended misses only its resumption. */
  /* A fast yield carries no C++ exception state (eh_carry.h): a yield
   * inside a catch block goes through fj::Ctx::yield, which does. */
  FJ__ASSERT(!fj__eh_held(w->eh_globals));
  fj__switch_yield(w, self, to);
  return FJ_OK;
}

/* Whether a waiting job may run another job nested on its stack: it keeps
 * a quarter of the stack free, at least FJ__NEST_RESERVE_MIN. */
static bool fj__stack_has_room(const fj__fiber *stack) {
  char probe;
  size_t size = (size_t)(stack->stack.hi - stack->stack.lo);
  size_t reserve = size / 4 > FJ__NEST_RESERVE_MIN ? size / 4 : FJ__NEST_RESERVE_MIN;
  return (size_t)(&probe - stack->stack.lo) > reserve;
}

/* This wait's stack has no room for another job and it has no fiber to
 * switch to.  True when every worker is in the same state while work is
 * queued: no job can run anywhere, so nothing can ever bring c to zero. */
static bool fj__no_progress_possible(fj__worker *w, bool *stuck) {
  fj_system *sys = w->sys;
  if (w->is_slot) /* an attached thread is not one of the num_workers counted */
    return false;
  if (!*stuck) {
    *stuck = true;
    /* seq_cst: every stuck worker's increment is ordered before its own
     * check below; the last one in sees all the others. */
    fj__fetch_add_seq_cst(&sys->stuck, 1);
  }
  return fj__load_seq_cst(&sys->stuck) >= sys->num_workers && fj__work_visible(w);
}

/* Waiting without parking: run other jobs on this stack until c is zero.
 * The mode for enable_yielding = 0, and the fallback when no fiber stack
 * can be mapped.  Sleeps on the counter briefly when there is nothing to
 * run, since new work may arrive for this thread meanwhile. */
static int fj__wait_running_jobs(fj_ctx *ctx, fj_counter *c) {
  int result = FJ_OK;
  bool stuck = false; /* counted in sys->stuck */
  for (;;) {
    fj__worker *w = ctx->worker;
    fj__flush_finished(w); /* c may be the counter held back */
    if (fj__counter_pending(c) == 0)
      break;
    fj__item it;
    unsigned prio;
    /* Each job run here nests on this stack; when it runs low, stop taking
     * new work and just wait (other workers, or the jobs below us once they
     * resume, carry on) — unless nothing anywhere can run any more. */
    if (!fj__stack_has_room(ctx->fiber ? ctx->fiber : &w->thread_fiber)) {
      /* A ready fiber needs no room here: switching to it is progress. */
      if (ctx->fiber && fj__pick(w, &it, &prio, FJ__PICK_FOR_YIELD, FJ_PRIORITY_LOW)) {
        if (!it.fn) {
          if (stuck) { /* a suspended wait does not hold its worker */
            fj__fetch_sub_seq_cst(&w->sys->stuck, 1);
            stuck = false;
          }
          fj__yield_to(ctx, w, fj__item_fiber(&it));
          continue;
        }
        fj__unpick(w, &it, prio); /* a job: no room to run it here */
      }
      if (fj__no_progress_possible(w, &stuck) && fj__counter_pending(c) != 0) {
        result = FJ_ENOMEM;
        break;
      }
      fj__counter_wait_thread(c, FJ__WAIT_POLL_NS);
      continue;
    }
    /* Without fibers at all (enable_yielding = 0) priorities stay strict;
     * a fiber that found none to switch to takes turns LOW-first. */
    bool picked = ctx->fiber ? fj__pick_for_stuck_wait(w, &it, &prio)
                             : fj__pick(w, &it, &prio, FJ__PICK_ANY, FJ_PRIORITY_LOW);
    if (!picked) {
      fj__counter_wait_thread(c, FJ__WAIT_POLL_NS);
      continue;
    }
    if (it.fn && !fj__fits_stack(ctx->fiber, &it)) {
      fj__defer_for_stack(w, &it, prio); /* too deep to nest here */
      fj__counter_wait_thread(c, FJ__WAIT_POLL_NS);
    } else if (it.fn) {
      w = fj__run_job(w, ctx->fiber, &it, prio);
      fj__finish_now(w, it.counter);
    } else if (ctx->fiber) {
      /* A ready fiber (fallback mode only): let it run, come back later. */
      fj__yield_to(ctx, w, fj__item_fiber(&it));
    } else {
      fj__unpick(w, &it, prio); /* cannot happen without fibers */
    }
  }
  if (stuck)
    fj__fetch_sub_seq_cst(&ctx->worker->sys->stuck, 1);
  return result;
}

static int fj__wait_on(fj_ctx *ctx, fj_counter *c) {
  fj__flush_finished(ctx->worker); /* c may be the counter held back */
  if (fj__counter_pending(c) == 0)
    return FJ_OK;
  fj__fiber *self = ctx->fiber;
  if (!self)
    return fj__wait_running_jobs(ctx, c);
  fj__worker *w;
  fj__item it;
  unsigned prio;
  fj__fiber *to;
  bool picked;
  /* While the next job this worker would pick anyway is one of the jobs we
   * wait for, run it right here: no switch, no extra fiber.  It cannot add
   * a dependency (we need it to finish in any case), and the reserve keeps
   * nesting off the guard page; anything else parks this fiber. */
  for (;;) {
    w = ctx->worker;
    picked = fj__pick(w, &it, &prio, FJ__PICK_ANY, FJ_PRIORITY_LOW);
    if (!picked || !it.fn || it.counter != c || !fj__stack_has_room(self) ||
        !fj__fits_stack(self, &it))
      break;
    w = fj__run_job(w, self, &it, prio);
    fj__finish_now(w, it.counter);
    if (fj__counter_pending(c) == 0)
      return FJ_OK;
  }
  if (picked) {
    to = fj__worker_target_for(w, &it, prio);
    if (!to)
      fj__unpick(w, &it, prio);
  } else {
    to = fj__worker_blank_fiber(w, FJ_STACK_SMALL); /* continues the loop (and sleeps if idle) */
  }
  if (!to) {
    fj__stat_add(&w->waits_inline, 1);
    return fj__wait_running_jobs(ctx, c);
  }
  fj__waiter node = {.fiber = self, .counter = c};
  atomic_init(&node.done, 0);
  fj__stat_add(&w->waits, 1);
  /* relaxed: for dumps only (fiber_debug.h). */
  fj__store_relaxed(&self->dbg.parked_on, c);
  fj__store_relaxed(&self->dbg.parked_ns, fj__now_coarse_ns());
  FJ__TRACE(w, fj__trace_run_end(w, ctx, FJ__TRACE_PARKED, c));
  fj__switch_to(w, self, to, FJ__LEAVE_WAIT, &node);
  FJ__TRACE(ctx->worker, fj__trace_run_begin(ctx->worker, ctx, true));
  return FJ_OK;
}

int fj__wait(fj_ctx *ctx, fj_counter *c) {
  if (c == ctx->counter)
    return FJ_EDEADLK; /* it counts this very job: it could never reach zero */
  ctx->waiting_on = c; /* for dumps: jobs it runs nested meanwhile point here */
  int r = fj__wait_on(ctx, c);
  ctx->waiting_on = NULL;
  return r;
}
