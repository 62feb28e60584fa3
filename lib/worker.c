/* SPDX-License-Identifier: MIT */
/*
 * worker.c — the worker loop: picking work in priority order, running jobs,
 * switching fibers for yield and wait, and the post-switch hand-over.
 *
 * Picking order (fj__pick), for each priority from HIGH to LOW:
 *   own deque (newest first) → shared inject queue → own yield queue,
 * except that after a pick of new work the next pick prefers the yield
 * queue, so yielded fibers and new jobs alternate and neither starves the
 * other.  Only when nothing is local at any priority does the worker steal,
 * again HIGH to LOW.  A yield looks only at local work of the same or higher
 * priority and never steals, so it stays cheap and returns at once when
 * nothing else is ready.
 */
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>

#include "inject_queue.h"
#include "scheduler.h"
#include "stack_guard.h"

/* The worker of this thread; set once at thread start. */
__thread fj__worker *fj__tls_worker __attribute__((tls_model("initial-exec")));

__attribute__((noinline)) fj__worker *fj__this_worker(void) { return fj__tls_worker; }

enum { FJ__PICK_ANY, FJ__PICK_FOR_YIELD };
enum { FJ__TAKE_MAX = 256, FJ__DEQUE_INITIAL = 256 };

static void fj__loop(fj__worker *w, fj__fiber *self);

/* ---- yield queue ------------------------------------------------------- */

static void fj__fifo_push(fj__fiber_fifo *q, fj__fiber *f) {
  f->next = NULL;
  if (q->tail)
    q->tail->next = f;
  else
    q->head = f;
  q->tail = f;
}

static fj__fiber *fj__fifo_pop(fj__fiber_fifo *q) {
  fj__fiber *f = q->head;
  if (f) {
    q->head = f->next;
    if (!q->head)
      q->tail = NULL;
  }
  return f;
}

/* ---- setup ------------------------------------------------------------- */

int fj__worker_init(fj__worker *w, struct fj_system *sys, unsigned index) {
  *w = (fj__worker){.sys = sys, .index = index, .rng = 0x9e3779b9u * (index + 1)};
  w->take_buf = malloc(FJ__TAKE_MAX * sizeof *w->take_buf);
  if (!w->take_buf)
    return -1;
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
    if (fj__deque_init(&w->deque[p], FJ__DEQUE_INITIAL) != 0) {
      while (p--)
        fj__deque_fini(&w->deque[p]);
      free(w->take_buf);
      return -1;
    }
  }
  fj__fiber_pool_init(&w->pool, sys->cfg.stack_size, sys->cfg.max_pooled_fibers,
                      &sys->fibers_live);
  return 0;
}

/* Freed counters a worker keeps for reuse. */
enum { FJ__COUNTER_CACHE_MAX = 256 };

fj_counter *fj__counter_alloc(fj__worker *w) {
  if (w && w->counter_cache) {
    fj_counter *c = w->counter_cache;
    w->counter_cache = c->cache_next;
    w->counter_cached--;
    return c;
  }
  return malloc(sizeof(fj_counter));
}

void fj__counter_free(fj__worker *w, fj_counter *c) {
  if (w && w->counter_cached < FJ__COUNTER_CACHE_MAX) {
    c->cache_next = w->counter_cache;
    w->counter_cache = c;
    w->counter_cached++;
    return;
  }
  free(c);
}

void fj__worker_fini(fj__worker *w) {
  while (w->counter_cache) {
    fj_counter *c = w->counter_cache;
    w->counter_cache = c->cache_next;
    free(c);
  }
  fj__fiber_pool_fini(&w->pool);
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++)
    fj__deque_fini(&w->deque[p]);
  free(w->take_buf);
}

/* ---- making work runnable --------------------------------------------- */

/* A parked or yielding fiber becomes runnable on this worker.  It goes to
 * the deque, where this worker finds it next (fork-join continuations
 * resume early) and idle workers can steal it. */
static void fj__ready_fiber(fj__worker *w, fj__fiber *f) {
  fj__item it = {.fn = NULL, .arg = f, .counter = NULL};
  if (fj__deque_push(&w->deque[f->prio], &it) != 0) {
    /* No memory to grow the deque: the intrusive yield queue cannot fail. */
    fj__fifo_push(&w->yieldq[f->prio], f);
    return;
  }
  fj__notify(w->sys, 1, false);
}

/* n jobs of c finished: decrement, and make ready the fibers a zero
 * crossing released. */
static void fj__settle(fj__worker *w, fj_counter *c, size_t n_jobs) {
  fj__waiter *n = fj__counter_finish(c, n_jobs);
  while (n) {
    fj__fiber *f = n->fiber; /* read both before the fiber can run: */
    n = n->next;             /* the node lives on its stack */
    fj__ready_fiber(w, f);
  }
}

/* Applies the held-back counter decrements (see fj__job_finished).  Out
 * of line: the check below sits on the yield path. */
__attribute__((noinline)) static void fj__flush_finished_now(fj__worker *w) {
  fj_counter *c = w->finished_counter;
  w->finished_counter = NULL;
  fj__settle(w, c, w->finished);
}

static inline void fj__flush_finished(fj__worker *w) {
  if (w->finished_counter)
    fj__flush_finished_now(w);
}

/*
 * A job of counter c returned.  Consecutive jobs of one counter on one
 * worker (a batch, a spread of siblings) decrement it once, not once each,
 * which keeps a shared counter's cache line from bouncing per job.
 * Holding the decrement back never delays the zero crossing: it is held
 * only until this worker picks its next item, and only kept when that
 * item is another job of c, which holds c above zero while it runs anyway.
 * Every switch, wait and idle path flushes first (fj__flush_finished).
 */
static void fj__job_finished(fj__worker *w, fj_counter *c) {
  if (!c)
    return;
  if (c == w->finished_counter) {
    w->finished++;
    return;
  }
  fj__flush_finished(w);
  w->finished_counter = c;
  w->finished = 1;
}

/* For waits, which check the counter right after: no holding back. */
static void fj__finish_now(fj__worker *w, fj_counter *c) {
  fj__flush_finished(w);
  if (c)
    fj__settle(w, c, 1);
}

/* The held-back decrements may wait for the picked item only if it is a
 * new job of the same counter. */
static void fj__flush_unless_same(fj__worker *w, const fj__item *it) {
  if (!it->fn || it->counter != w->finished_counter)
    fj__flush_finished(w);
}

/* ---- the post-switch hand-over ----------------------------------------- */

/* Runs on the fiber that was just resumed, on thread `w`.  `from` is the
 * saved context of the fiber that left. */
static void fj__after_switch(fj__worker *w, fj__fctx from) {
  fj__fiber *cur = w->current;
  cur->worker = w;
  if (cur->job_ctx)
    cur->job_ctx->worker = w; /* the job may have moved to this worker */
  w->cur_ctx = cur->job_ctx;

  fj__fiber *gone = w->leaving;
  if (!gone)
    return;
  w->leaving = NULL;
  gone->ctx = from; /* only now is it safe for anyone to resume it */
  switch (w->leave) {
  case FJ__LEAVE_NONE:
    break;
  case FJ__LEAVE_YIELD:
    fj__fifo_push(&w->yieldq[gone->prio], gone);
    break;
  case FJ__LEAVE_WAIT:
    if (!fj__counter_park(w->leave_node->counter, w->leave_node))
      fj__ready_fiber(w, gone); /* reached zero while we were switching */
    break;
  case FJ__LEAVE_RETIRE:
    fj__fiber_pool_put(&w->pool, gone);
    break;
  }
}

/* Inlined: a call here costs ~20 instructions per yield (measured with
 * callgrind). */
__attribute__((always_inline)) static inline void
fj__switch_to(fj__worker *w, fj__fiber *self, fj__fiber *to, fj__leave leave,
              fj__waiter *node) {
  fj__flush_finished(w); /* the fiber we switch to may run for long */
  w->leaving = self;
  w->leave = leave;
  w->leave_node = node;
  w->current = to;
  fj__transfer t = fj__fiber_switch(self, to, w, leave == FJ__LEAVE_RETIRE);
  /* Resumed, possibly by another worker: t.data is the worker we are on. */
  fj__after_switch((fj__worker *)t.data, t.from);
}

static void fj__fiber_entry(fj__transfer t) {
  fj__worker *w = t.data;
  fj__fiber *self = w->current;
  fj__fiber_entered(self);
  fj__after_switch(w, t.from);
  fj__loop(self->worker, self); /* leaves by switching away for good */
  fputs("fiberjob: internal error: a fiber's loop returned\n", stderr);
  abort();
}

static fj__fiber *fj__blank_fiber(fj__worker *w) {
  fj__fiber *f = fj__fiber_pool_get(&w->pool);
  if (f)
    fj__fiber_prepare(f, fj__fiber_entry);
  return f;
}

/* ---- picking work ------------------------------------------------------ */

static bool fj__take_injected(fj__worker *w, unsigned p, fj__item *out) {
  fj__inject_queue *q = &w->sys->inject[p];
  size_t hint = fj__inject_size_hint(q);
  if (hint == 0)
    return false;
  /* A big batch is shared out (hint / workers each); a trickle of single
   * submissions is taken whole, so workers do not fight over the queue's
   * lock once per job; thieves spread it from our deque. */
  size_t share = hint <= 64 ? hint : hint / w->sys->num_workers + 1;
  if (share > FJ__TAKE_MAX)
    share = FJ__TAKE_MAX;
  if (share > 1 && fj__deque_reserve(&w->deque[p], (int64_t)share) != 0)
    share = 1;
  size_t n = fj__inject_take(q, w->take_buf, share);
  if (n == 0)
    return false;
  *out = w->take_buf[0];
  /* Reverse order, so popping from the deque continues in FIFO order. */
  for (size_t i = n - 1; i >= 1; i--)
    fj__deque_push(&w->deque[p], &w->take_buf[i]); /* reserved: cannot fail */
  if (n > 1)
    fj__notify(w->sys, 1, false);
  return true;
}

static bool fj__steal(fj__worker *w, fj__item *out, unsigned *prio) {
  fj_system *sys = w->sys;
  unsigned n = sys->num_workers;
  if (n < 2)
    return false;
  w->rng = w->rng * 1664525u + 1013904223u;
  unsigned start = w->rng >> 8;
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
    for (unsigned i = 0; i < n; i++) {
      fj__worker *v = &sys->workers[(start + i) % n];
      if (v == w)
        continue;
      /* A failed steal may only mean a lost race; retry while it has items. */
      while (fj__deque_size_hint(&v->deque[p]) > 0) {
        if (fj__deque_steal(&v->deque[p], out)) {
          fj__stat_add(&w->stolen, 1);
          *prio = p;
          if (fj__deque_size_hint(&v->deque[p]) > 0)
            fj__notify(sys, 1, false); /* more to take: wake another thief */
          return true;
        }
      }
    }
  }
  return false;
}

/* Inlined into its callers: it is the hot path of every loop turn. */
__attribute__((always_inline)) static inline bool
fj__pick(fj__worker *w, fj__item *out, unsigned *prio, int mode,
                     unsigned max_prio) {
  if (w->has_handoff) {
    w->has_handoff = false;
    *out = w->handoff;
    *prio = w->handoff_prio;
    return true;
  }
  for (unsigned p = 0; p <= max_prio; p++) {
    fj__fiber_fifo *yq = &w->yieldq[p];
    if (mode == FJ__PICK_ANY && w->turn_yield && yq->head)
      goto take_yielded;
    /* The inline hint check spares a call per pick when nothing came in. */
    if (fj__deque_pop(&w->deque[p], out) ||
        (fj__inject_size_hint(&w->sys->inject[p]) > 0 && fj__take_injected(w, p, out))) {
      w->turn_yield = true;
      *prio = p;
      return true;
    }
    if (yq->head)
      goto take_yielded;
    continue;
  take_yielded:
    w->turn_yield = false;
    *out = (fj__item){.fn = NULL, .arg = fj__fifo_pop(yq), .counter = NULL};
    *prio = p;
    return true;
  }
  if (mode == FJ__PICK_FOR_YIELD)
    return false;
  return fj__steal(w, out, prio);
}

bool fj__worker_has_local_work(const fj__worker *w) {
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++)
    if (w->yieldq[p].head || fj__deque_size_hint(&w->deque[p]) > 0)
      return true;
  return w->has_handoff;
}

/* Puts back an item picked for a switch that could not happen. */
static void fj__unpick(fj__worker *w, const fj__item *it, unsigned prio) {
  if (!it->fn) {
    fj__fifo_push(&w->yieldq[prio], it->arg);
  } else if (fj__deque_push(&w->deque[prio], it) != 0) {
    fputs("fiberjob: out of memory re-queueing a job\n", stderr);
    abort();
  }
}

/* The fiber to switch to for a picked item: the item's own fiber, or a
 * blank one that will run the job first thing.  NULL: no memory. */
static fj__fiber *fj__target_for(fj__worker *w, const fj__item *it, unsigned prio) {
  if (!it->fn)
    return it->arg;
  fj__fiber *f = fj__blank_fiber(w);
  if (f) {
    w->handoff = *it;
    w->handoff_prio = prio;
    w->has_handoff = true;
  }
  return f;
}

/* ---- running jobs ------------------------------------------------------ */

/* Runs one job on the current stack.  Returns the worker the job finished
 * on (a job that suspended may have moved).  The caller then settles the
 * job's counter: fj__job_finished (may hold back) or fj__finish_now. */
static fj__worker *fj__run_job(fj__worker *w, fj__fiber *self, const fj__item *it,
                               unsigned prio) {
  fj_ctx ctx = {.sys = w->sys, .worker = w, .fiber = self, .prio = prio};
  fj_ctx *outer = w->cur_ctx; /* non-NULL only for nested runs in a wait */
  fj_ctx *outer_fiber_ctx = NULL;
  unsigned outer_prio = 0;
  if (self) {
    outer_fiber_ctx = self->job_ctx;
    outer_prio = self->prio;
    self->job_ctx = &ctx;
    self->prio = prio;
  }
  w->cur_ctx = &ctx;
  it->fn(&ctx, it->arg);
  w = ctx.worker;
  if (self) {
    self->job_ctx = outer_fiber_ctx;
    self->prio = outer_prio;
    if (outer_fiber_ctx)
      outer_fiber_ctx->worker = w;
  }
  w->cur_ctx = outer_fiber_ctx ? outer_fiber_ctx : (self ? NULL : outer);
  /* release: shutdown's quiescence check reads completed with acquire and
   * must then see every spawn this job made (see fj__system_quiescent). */
  fj__store_release(&w->completed, fj__load_relaxed(&w->completed) + 1);
  return w;
}

static void fj__loop(fj__worker *w, fj__fiber *self) {
  for (;;) {
    fj__item it;
    unsigned prio;
    if (fj__pick(w, &it, &prio, FJ__PICK_ANY, FJ_PRIORITY_LOW)) {
      fj__flush_unless_same(w, &it);
      if (it.fn) {
        w = fj__run_job(w, self, &it, prio);
        fj__job_finished(w, it.counter);
        continue;
      }
      /* A ready fiber: this loop fiber holds no job, so it retires and the
       * ready fiber carries on (its own loop continues after its job). */
      fj__switch_to(w, self, it.arg, FJ__LEAVE_RETIRE, NULL);
    }
    fj__flush_finished(w); /* nothing to run: no more holding back */
    if (fj__load_acquire(&w->sys->exiting)) /* acquire: pairs with destroy */
      break;
    fj__idle(w);
  }
  if (self)
    fj__switch_to(w, self, &w->thread_fiber, FJ__LEAVE_RETIRE, NULL);
}

void *fj__worker_main(void *arg) {
  fj__worker *w = arg;
  fj__tls_worker = w;
  fj__stack_guard_thread_enter(); /* without it overflows still crash, silently */
  fj__fiber_init_thread(&w->thread_fiber);
  w->current = &w->thread_fiber;
  fj__fiber *first = w->sys->cfg.enable_yielding ? fj__blank_fiber(w) : NULL;
  if (first)
    fj__switch_to(w, &w->thread_fiber, first, FJ__LEAVE_NONE, NULL);
  else
    fj__loop(w, NULL);
  /* Back on the thread's own stack: the system is quiescent and exiting. */
  fj__fiber_fini_thread(&w->thread_fiber);
  fj__stack_guard_thread_leave();
  fj__tls_worker = NULL;
  return NULL;
}

/* ---- operations of a running job --------------------------------------- */

int fj__worker_spawn(fj_ctx *ctx, const fj_job *jobs, size_t n, unsigned prio,
                     fj_counter *c) {
  fj__worker *w = ctx->worker;
  fj__deque *d = &w->deque[prio];
  if (fj__deque_reserve(d, (int64_t)n) != 0)
    return FJ_ENOMEM;
  if (c) {
    int r = fj__counter_add(c, n);
    if (r != FJ_OK)
      return r;
  }
  /* release: counted before any of them can complete (quiescence check). */
  fj__store_release(&w->spawned, fj__load_relaxed(&w->spawned) + n);
  for (size_t i = 0; i < n; i++) {
    fj__item it = {.fn = jobs[i].fn, .arg = jobs[i].arg, .counter = c};
    fj__deque_push(d, &it); /* reserved: cannot fail */
  }
  /* Unfenced: this worker runs the jobs itself if no thief wakes up, so a
   * missed wake-up costs parallelism until the next spawn, never progress. */
  fj__notify(w->sys, (unsigned)(n < w->sys->num_workers ? n : w->sys->num_workers), false);
  return FJ_OK;
}

/* True when nothing new (deque or inject queue) is ready at priority <= top,
 * and no yielded fiber waits at a strictly higher priority than top. */
static bool fj__nothing_new_upto(const fj__worker *w, unsigned top) {
  for (unsigned p = 0; p <= top; p++) {
    if (fj__deque_size_hint(&w->deque[p]) > 0 ||
        fj__inject_size_hint(&w->sys->inject[p]) > 0 || (p < top && w->yieldq[p].head))
      return false;
  }
  return !w->has_handoff;
}

int fj__worker_yield(fj_ctx *ctx) {
  fj__fiber *self = ctx->fiber;
  if (!self) {
    fj__thread_yield();
    return FJ_OK;
  }
  fj__worker *w = ctx->worker;
  fj__item it;
  unsigned prio = ctx->prio;
  /* Fast path, the steady state of fibers taking turns: no new work at our
   * priority or above, so the next yielded fiber of our priority runs. */
  if (fj__nothing_new_upto(w, prio)) {
    fj__fiber *to = fj__fifo_pop(&w->yieldq[prio]);
    if (!to)
      return FJ_OK; /* nothing else ready: carry on */
    w->turn_yield = false;
    fj__stat_add(&w->yields, 1);
    fj__switch_to(w, self, to, FJ__LEAVE_YIELD, NULL);
    return FJ_OK;
  }
  if (!fj__pick(w, &it, &prio, FJ__PICK_FOR_YIELD, ctx->prio))
    return FJ_OK; /* nothing else ready: carry on */
  fj__fiber *to = fj__target_for(w, &it, prio);
  if (!to) {
    fj__unpick(w, &it, prio);
    return FJ_ENOMEM;
  }
  fj__stat_add(&w->yields, 1);
  fj__switch_to(w, self, to, FJ__LEAVE_YIELD, NULL);
  return FJ_OK;
}

/* Stack a waiting job keeps free before it runs another job nested on the
 * same stack: a quarter of the stack, at least 16 KiB. */
static bool fj__stack_has_room(const fj__fiber *stack) {
  char probe;
  size_t size = (size_t)(stack->stack.hi - stack->stack.lo);
  size_t reserve = size / 4 > 16 * 1024 ? size / 4 : 16 * 1024;
  return (size_t)(&probe - stack->stack.lo) > reserve;
}

/* Waiting without parking: run other jobs on this stack until c is zero.
 * The mode for enable_yielding = 0, and the fallback when no fiber stack
 * can be mapped.  Sleeps on the counter briefly when there is nothing to
 * run, since new work may arrive for this thread meanwhile. */
static int fj__wait_running_jobs(fj_ctx *ctx, fj_counter *c) {
  for (;;) {
    fj__worker *w = ctx->worker;
    fj__flush_finished(w); /* c may be the counter held back */
    if (fj__counter_pending(c) == 0)
      break;
    fj__item it;
    unsigned prio;
    /* Each job run here nests on this stack; when it runs low, stop taking
     * new work and just wait (other workers, or the jobs below us once they
     * resume, carry on). */
    if (!fj__stack_has_room(ctx->fiber ? ctx->fiber : &w->thread_fiber) ||
        !fj__pick(w, &it, &prio, FJ__PICK_ANY, FJ_PRIORITY_LOW)) {
      fj__counter_wait_thread(c, 200 * 1000);
      continue;
    }
    if (it.fn) {
      w = fj__run_job(w, ctx->fiber, &it, prio);
      fj__finish_now(w, it.counter);
    } else if (ctx->fiber) {
      /* A ready fiber (fallback mode only): let it run, come back later. */
      fj__stat_add(&w->yields, 1);
      fj__switch_to(w, ctx->fiber, it.arg, FJ__LEAVE_YIELD, NULL);
    } else {
      fj__unpick(w, &it, prio); /* cannot happen without fibers */
    }
  }
  return FJ_OK;
}

int fj__worker_wait(fj_ctx *ctx, fj_counter *c) {
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
    if (!picked || !it.fn || it.counter != c || !fj__stack_has_room(self))
      break;
    w = fj__run_job(w, self, &it, prio);
    fj__finish_now(w, it.counter);
    if (fj__counter_pending(c) == 0)
      return FJ_OK;
  }
  if (picked) {
    to = fj__target_for(w, &it, prio);
    if (!to)
      fj__unpick(w, &it, prio);
  } else {
    to = fj__blank_fiber(w); /* continues the loop (and sleeps if idle) */
  }
  if (!to)
    return fj__wait_running_jobs(ctx, c);
  fj__waiter node = {.fiber = self, .counter = c};
  atomic_init(&node.done, 0);
  fj__stat_add(&w->waits, 1);
  fj__switch_to(w, self, to, FJ__LEAVE_WAIT, &node);
  return FJ_OK;
}
