/* SPDX-License-Identifier: MIT */
/*
 * attach.c — attach slots: plain threads (typically the main thread) that
 * take a worker index for a while, run pinned and other ready work while
 * they wait, and give the index back.
 *
 * A slot is an ordinary fj__worker without a thread of its own.  The
 * attached thread's own stack is the slot's thread fiber: it picks an item,
 * switches to a fiber that runs it, and that fiber's loop switches back to
 * the thread fiber after every job and whenever it finds nothing (see
 * fj__loop), so the thread re-checks its wait between jobs.  Fibers of
 * jobs pinned to the slot come back only through its pinned queue, which
 * only the attached thread pops.
 *
 * Who owns the slot's owner-only fields (queues, pools, thread fiber): the
 * thread that won `occupied` (acquire CAS in attach; release store in
 * detach, which publishes them to the next owner), or fj_system_destroy's
 * thread during the drain, which claims empty slots the same way.
 */
#include "attach.h"

#include "atomics.h"
#include "counter.h"
#include "run.h"
#include "stack_guard.h"
#include "sys/sys.h"
#include "worker.h"

/* Binds the calling thread to slot w, which it has just claimed.
 * `altstack`: give the thread an alternate signal stack, so overflows of
 * fibers run here are reported (not for destroy's short drains). */
static void fj__slot_enter(fj__worker *w, bool altstack) {
  fj__tls_worker = w;
  w->slot_altstack = altstack && fj__stack_guard_thread_enter() == FJ_OK;
  fj__fiber_init_thread(&w->thread_fiber);
  w->current = &w->thread_fiber;
  w->cur_ctx = NULL;
  w->eh_globals = fj__eh_thread_globals();
}

static void fj__slot_leave(fj__worker *w) {
  fj__fiber_fini_thread(&w->thread_fiber);
  w->current = NULL;
  if (w->slot_altstack)
    fj__stack_guard_thread_leave();
  fj__tls_worker = NULL;
  /* release: hands the slot's owner-only fields to the next owner; pairs
   * with the acquire CAS in fj__slot_claim. */
  fj__store_release(&w->occupied, 0);
}

static bool fj__slot_claim(fj__worker *w) {
  int expected = 0;
  /* seq_cst: orders the claim before our read of `stopping`, against
   * destroy's store of `stopping` before its scan of `occupied`. */
  return atomic_compare_exchange_strong_explicit(&w->occupied, &expected, 1,
                                                 memory_order_seq_cst, memory_order_relaxed);
}

/* Unpinned jobs that yielded on the attached thread sit in the slot's own
 * yield queue, which only this thread takes from.  Before the thread
 * leaves its wait they move to the slot's deque, where workers steal them:
 * an attached thread may not wait again for a long time.  Pinned ones stay
 * (they may only run here).  Owner only. */
static void fj__slot_release_yielded(fj__worker *w) {
  for (unsigned p = 0; p < FJ_PRIORITY_COUNT; p++) {
    fj__fifo keep = {0};
    fj__fiber *f;
    while ((f = fj__fiber_of_link(fj__fifo_pop(&w->yieldq[p])))) {
      if (f->pin == FJ_ANY_WORKER)
        fj__ready_fiber(w, f);
      else
        fj__fifo_push(&keep, &f->link);
    }
    w->yieldq[p] = keep;
  }
}

fj__worker *fj__attached_slot(fj_system *sys) {
  fj__worker *w = fj__this_worker();
  return w && w->sys == sys && w->is_slot ? w : NULL;
}

int fj__thread_attach(fj_system *sys, unsigned *index) {
  fj__worker *me = fj__this_worker();
  if (me)
    return me->is_slot ? FJ_EBUSY : FJ_EINJOB; /* attached already, or a worker's job */
  for (unsigned i = sys->num_workers; i < sys->num_indices; i++) {
    fj__worker *w = &sys->workers[i];
    if (!fj__slot_claim(w))
      continue;
    if (fj__load_seq_cst(&sys->stopping)) { /* see fj__slot_claim */
      fj__store_release(&w->occupied, 0);
      return FJ_ESHUTDOWN;
    }
    fj__slot_enter(w, true);
    *index = i;
    return FJ_OK;
  }
  return FJ_EBUSY;
}

int fj__thread_detach(fj_system *sys) {
  fj__worker *w = fj__attached_slot(sys);
  if (!w)
    return FJ_ENOTATTACHED;
  if (w->cur_ctx)
    return FJ_EINJOB;
  fj__flush_finished(w);
  fj__slot_leave(w);
  return FJ_OK;
}

int fj__slot_wait(fj__worker *w, fj_counter *c, int64_t timeout_ns) {
  if (fj__counter_pending(c) == 0)
    return FJ_OK;
  fj__waiter node = {.fiber = NULL, .counter = c, .bell = &w->bell};
  atomic_init(&node.done, 0);
  if (!fj__counter_park(c, &node))
    return FJ_OK;
  uint64_t deadline = timeout_ns >= 0 ? fj__now_ns() + (uint64_t)timeout_ns : 0;
  bool timed = timeout_ns >= 0;
  for (;;) {
    /* seq_cst: the bell is read before done and the queues are checked;
     * the crossing and pinned pushes change those before ringing it, so
     * the futex wait below returns at once if we missed either. */
    uint32_t seq = fj__load_seq_cst(&w->bell);
    /* acquire: pairs with the release store of done in fj__counter_finish. */
    if (fj__load_acquire(&node.done)) {
      fj__slot_release_yielded(w);
      return FJ_OK;
    }
    int64_t left = -1;
    if (timed) {
      uint64_t now = fj__now_ns();
      left = now >= deadline ? 0 : (int64_t)(deadline - now);
      if (left == 0) {
        if (fj__counter_unpark(c, &node)) {
          fj__slot_release_yielded(w);
          return FJ_ETIMEDOUT;
        }
        timed = false; /* claimed: the crossing is about to set done */
        continue;
      }
    }
    if (fj__slot_pump_once(w))
      continue;
    fj__futex_wait(&w->bell, seq, left);
  }
}

void fj__slots_check_destroy(fj_system *sys) {
  fj__worker *mine = fj__attached_slot(sys);
  if (mine)
    fj__thread_detach(sys); /* cannot fail: not in a job (checked by the caller) */
  for (unsigned i = sys->num_workers; i < sys->num_indices; i++) {
    /* seq_cst: see fj__slot_claim; a thread attaching from now on sees
     * `stopping` once destroy sets it, and backs out. */
    if (fj__load_seq_cst(&sys->workers[i].occupied))
      fj__fatal("fj_system_destroy while a thread is still attached to worker index %u; "
                "call fj_thread_detach on that thread first",
                i);
  }
}

bool fj__slots_drain(fj_system *sys) {
  bool ran = false;
  for (unsigned i = sys->num_workers; i < sys->num_indices; i++) {
    fj__worker *w = &sys->workers[i];
    if (!fj__slot_claim(w))
      continue; /* a thread that attached late is backing out */
    fj__slot_enter(w, false);
    while (fj__slot_pump_once(w))
      ran = true;
    fj__slot_release_yielded(w);
    fj__flush_finished(w);
    fj__slot_leave(w);
  }
  return ran;
}
