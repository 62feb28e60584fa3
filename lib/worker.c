/* SPDX-License-Identifier: MIT */
/*
 * worker.c — a worker's setup and teardown, its thread's main function, and
 * the scheduling loop every fiber of the worker runs between jobs.
 */
#include "worker.h"

#include <stdlib.h>

#include "atomics.h"
#include "idle.h"
#include "pick.h"
#include "run.h"
#include "stack_guard.h"
#include "submit.h"
#include "switch.h"

static void fj__loop(fj__worker *w, fj__fiber *self);

/* ---- setup ------------------------------------------------------------- */

int fj__worker_init(fj__worker *w, struct fj_system *sys, unsigned index) {
  *w = (fj__worker){.sys = sys,
                    .index = index,
                    .rng = 0x9e3779b9u * (index + 1),
                    .is_slot = index >= sys->num_workers,
                    .aging_on = sys->aging.period_ns != 0,
                    .yield_gate = sys->aging.period_ns != 0};
  w->take_buf = malloc(FJ__TAKE_MAX * sizeof *w->take_buf);
  if (!w->take_buf)
    return FJ_ENOMEM;
  if (fj__ps_init(&w->ps) != FJ_OK) {
    free(w->take_buf);
    return FJ_ENOMEM;
  }
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
    if (fj__deque_init(&w->deque[p], FJ__DEQUE_INITIAL) != 0) {
      while (p--)
        fj__deque_fini(&w->deque[p]);
      fj__ps_fini(&w->ps);
      free(w->take_buf);
      return FJ_ENOMEM;
    }
  }
  fj__fiber_pool_init(&w->pools[FJ_STACK_SMALL], FJ_STACK_SMALL, sys->cfg.stack_size,
                      sys->cfg.max_pooled_fibers, &sys->budget);
  fj__fiber_pool_init(&w->pools[FJ_STACK_LARGE], FJ_STACK_LARGE, sys->cfg.large_stack_size,
                      sys->cfg.max_pooled_fibers, &sys->budget);
  fj__pinned_init(&w->pinned);
  return FJ_OK;
}

void fj__worker_fini(fj__worker *w) {
  fj__counter_cache_fini(&w->counters);
  for (unsigned k = 0; k < FJ_STACK_CLASS_COUNT; k++)
    fj__fiber_pool_fini(&w->pools[k]);
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++)
    fj__deque_fini(&w->deque[p]);
  fj__ps_fini(&w->ps);
  free(w->take_buf);
}

/* ---- fibers that run the loop ------------------------------------------ */

static void fj__fiber_entry(fj__transfer t) {
  fj__worker *w = t.data;
  fj__fiber *self = w->current;
  fj__fiber_entered(self);
  fj__after_switch(w, t.from);
  fj__loop(self->worker, self); /* leaves by switching away for good */
  fj__fatal("internal error: a fiber's loop returned");
}

fj__fiber *fj__worker_blank_fiber(fj__worker *w, unsigned stack_class) {
  fj__fiber *f = fj__fiber_pool_get(&w->pools[stack_class]);
  /* At the fiber limit, an idle fiber of the other class makes room. */
  if (!f && w->sys->budget.max && fj__fiber_pool_shrink(&w->pools[!stack_class]))
    f = fj__fiber_pool_get(&w->pools[stack_class]);
  if (f)
    fj__fiber_prepare(f, fj__fiber_entry);
  return f;
}

fj__fiber *fj__worker_target_for(fj__worker *w, const fj__item *it, unsigned prio) {
  if (!it->fn)
    return fj__item_fiber(it);
  fj__fiber *f = fj__worker_blank_fiber(w, fj__item_stack_class(it));
  if (f) {
    FJ__ASSERT(!w->has_handoff);
    w->handoff = *it;
    w->handoff_prio = prio;
    w->has_handoff = true;
  }
  return f;
}

void fj__defer_for_stack(fj__worker *w, const fj__item *it, unsigned prio) {
  if (((const fj__job_rec *)it->arg)->worker != FJ_ANY_WORKER)
    fj__unpick(w, it, prio);
  else
    fj__requeue_shared(w->sys, it, prio);
}

const fj__fiber *fj__worker_running_fiber(void) {
  /* fj__tls_worker is initial-exec TLS: safe to read in a signal handler. */
  fj__worker *w = fj__tls_worker;
  return w ? w->current : NULL;
}

bool fj__worker_running_job(fj_job_fn *fn, const char **name) {
  fj__worker *w = fj__tls_worker; /* initial-exec TLS, as above */
  const fj_ctx *ctx = w && w->current ? w->current->job_ctx : NULL;
  if (!ctx)
    return false;
  *fn = ctx->fn;
  *name = ctx->name;
  return true;
}

/* ---- the loop ---------------------------------------------------------- */

/* Out of line, so the loop's hot path stays small: a LARGE job picked on a
 * SMALL loop fiber.  A LARGE fiber takes over the loop (this one retires:
 * no return), or the job waits for one (returns). */
__attribute__((noinline)) static void fj__start_on_large(fj__worker *w, fj__fiber *self,
                                                         const fj__item *it, unsigned prio) {
  fj__fiber *to = fj__worker_target_for(w, it, prio);
  if (to)
    fj__switch_to(w, self, to, FJ__LEAVE_RETIRE, NULL);
  fj__defer_for_stack(w, it, prio);
}

/* On an attached thread the loop fiber goes back to the thread's own
 * stack after every job and when idle, so the thread re-checks its wait.
 * Never returns (this fiber retires). */
__attribute__((noinline)) static void fj__back_to_slot_thread(fj__worker *w, fj__fiber *self) {
  fj__switch_to(w, self, &w->thread_fiber, FJ__LEAVE_RETIRE, NULL);
  fj__fatal("internal error: a retired loop fiber resumed");
}

/* self: the fiber the loop runs on, NULL on the thread's own stack
 * (enable_yielding = 0, or no fiber could be had at start-up).  Returns
 * only on the thread's own stack. */
static void fj__loop(fj__worker *w, fj__fiber *self) {
  bool was_idle = false; /* the last turn went through fj__idle */
  for (;;) {
    fj__item it;
    unsigned prio;
    if (fj__pick(w, &it, &prio, FJ__PICK_ANY, FJ_PRIORITY_LOW)) {
      if (__builtin_expect(was_idle, 0)) {
        was_idle = false;
        fj__idle_found_work(w); /* we may have been a share's watcher */
      }
    run_it:
      fj__flush_unless_same(w, &it);
      if (it.fn) {
        if (__builtin_expect(!fj__fits_stack(self, &it), 0)) {
          fj__start_on_large(w, self, &it, prio);
          continue;
        }
        w = fj__run_job(w, self, &it, prio);
        fj__job_finished(w, it.counter);
        if (__builtin_expect(w->is_slot, 0))
          fj__back_to_slot_thread(w, self);
        /* The next job of the private share, when it is what the pick
         * would choose anyway, without the pick. */
        if (fj__ps_next_due(w, prio) && fj__ps_pop(&w->ps, &it))
          goto run_it;
        continue;
      }
      /* A ready fiber: this loop fiber holds no job, so it retires and the
       * ready fiber carries on (its own loop continues after its job). */
      if (!self) {
        /* On the thread's own stack with fibers on (no blank fiber could
         * be had at start-up: fiber budget): the ready fiber takes over the
         * loop for good, as fj__worker_main's first fiber does; it switches
         * back to the thread fiber only when the worker exits. */
        FJ__ASSERT(w->current == &w->thread_fiber);
        fj__switch_to(w, &w->thread_fiber, fj__item_fiber(&it), FJ__LEAVE_NONE, NULL);
        return;
      }
      fj__switch_to(w, self, fj__item_fiber(&it), FJ__LEAVE_RETIRE, NULL);
    }
    fj__flush_finished(w); /* nothing to run: no more holding back */
    if (w->is_slot) /* an attached thread sleeps in its wait, not here */
      fj__back_to_slot_thread(w, self);
    if (fj__load_acquire(&w->sys->exiting)) /* acquire: pairs with destroy */
      break;
    fj__store_relaxed(&w->activity, FJ__WORKER_IDLE); /* relaxed: for dumps only */
    fj__idle(w);
    was_idle = true;
    fj__store_relaxed(&w->activity, FJ__WORKER_BUSY);
  }
  if (self)
    fj__switch_to(w, self, &w->thread_fiber, FJ__LEAVE_RETIRE, NULL);
}

void *fj__worker_main(void *arg) {
  fj__worker *w = arg;
  fj__tls_worker = w;
  /* Without the alternate stack overflows still crash, only silently. */
  int alt = fj__stack_guard_thread_enter();
  fj__fiber_init_thread(&w->thread_fiber);
  w->current = &w->thread_fiber;
  w->eh_globals = fj__eh_thread_globals();
  fj__fiber *first =
      w->sys->cfg.enable_yielding ? fj__worker_blank_fiber(w, FJ_STACK_SMALL) : NULL;
  if (first)
    fj__switch_to(w, &w->thread_fiber, first, FJ__LEAVE_NONE, NULL);
  else
    fj__loop(w, NULL);
  /* Back on the thread's own stack: the system is quiescent and exiting. */
  fj__fiber_fini_thread(&w->thread_fiber);
  if (alt == FJ_OK)
    fj__stack_guard_thread_leave();
  fj__tls_worker = NULL;
  return NULL;
}

/* ---- attached threads -------------------------------------------------- */

bool fj__slot_pump_once(fj__worker *w) {
  FJ__ASSERT(w->is_slot && w->current == &w->thread_fiber);
  fj__item it;
  unsigned prio;
  fj__flush_finished(w);
  if (!fj__pick(w, &it, &prio, FJ__PICK_ANY, FJ_PRIORITY_LOW))
    return false;
  fj__fiber *to = w->sys->cfg.enable_yielding ? fj__worker_target_for(w, &it, prio) : NULL;
  if (to) {
    /* The fiber runs the job (or resumes) and its loop switches back here
     * when the job ends, parks, or nothing is left (see fj__loop). */
    fj__switch_to(w, &w->thread_fiber, to, FJ__LEAVE_NONE, NULL);
    return true;
  }
  FJ__ASSERT(it.fn != NULL); /* a ready fiber is its own target */
  /* No fibers (enable_yielding = 0, or none can be had): run the job on the
   * thread's own stack, where its waits run other work inline. */
  w = fj__run_job(w, NULL, &it, prio);
  fj__finish_now(w, it.counter);
  return true;
}
