/* SPDX-License-Identifier: MIT */
/*
 * fiber.c — creating fibers and switching between them, with the
 * annotations ASan, TSan and valgrind need to follow a stack switch
 * (compiled in only for those builds; plain builds pay nothing).
 */
#include "fiber.h"

#include "fiber_registry.h"

#include <stdatomic.h>
#include <stdint.h>

#include "sys/sys.h"

#if FJ_ASAN_FIBERS
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if FJ_TSAN_FIBERS
#include <sanitizer/tsan_interface.h>
#endif
#if FJ_VALGRIND_STACKS
#include <valgrind/valgrind.h>
#endif

/* Puts f on the process-wide registry (fiber_registry.h), newest first.
 * Here rather than in fiber_registry.c: the links live in the fiber's
 * debug record, so only the file that knows a fiber's layout links it. */
static void fj__fiber_register(fj__fiber *f) {
  fj__fiber_registry_lock();
  f->dbg.reg_prev = NULL;
  f->dbg.reg_next = fj__fibers.head;
  if (fj__fibers.head)
    fj__fibers.head->dbg.reg_prev = f;
  fj__fibers.head = f;
  fj__fibers.count++;
  fj__fiber_registry_unlock();
}

static void fj__fiber_unregister(fj__fiber *f) {
  fj__fiber_registry_lock();
  if (f->dbg.reg_prev)
    f->dbg.reg_prev->dbg.reg_next = f->dbg.reg_next;
  else
    fj__fibers.head = f->dbg.reg_next;
  if (f->dbg.reg_next)
    f->dbg.reg_next->dbg.reg_prev = f->dbg.reg_prev;
  fj__fibers.count--;
  fj__fiber_registry_unlock();
}

/* Cache colouring.  Stack mappings are page aligned, so without it every
 * fiber's struct and top frames — what a switch touches — would sit at the
 * same offset in a page, and on the same few L1 sets: with 64 fibers taking
 * turns, a 32 KiB 8-way L1 then misses on every switch.  Each new fiber
 * starts one cache line lower in its top page than the one before, over
 * FJ__COLOURS lines, and the mapping has one page more so the stack below
 * the struct is never smaller than asked for.  relaxed: any spread will do. */
enum { FJ__COLOUR_LINE = 64, FJ__COLOURS = 48 };
static _Atomic unsigned fj__next_colour;

fj__fiber *fj__fiber_create(size_t usable) {
  fj__stack s;
  size_t page = fj__page_size();
  _Static_assert(FJ__COLOURS * FJ__COLOUR_LINE + sizeof(fj__fiber) + 64 <= 4096,
                 "the colours and the struct fit in the extra page");
  _Static_assert(offsetof(fj__fiber, dbg.resumes) + sizeof(uint32_t) <= 64,
                 "what a switch touches fits the struct's first cache line (fiber.h)");
  if (fj__stack_map(&s, usable + page) != 0)
    return NULL;
  unsigned colour = atomic_fetch_add_explicit(&fj__next_colour, 1, memory_order_relaxed) %
                    FJ__COLOURS;
  /* The struct takes the top of the stack, below its colour; 64-byte
   * aligned so the first frame below it starts on a fresh cache line.
   * The stack proper is [lo, hi) with hi at the struct. */
  uintptr_t top = ((uintptr_t)s.hi - (size_t)colour * FJ__COLOUR_LINE - sizeof(fj__fiber)) &
                  ~(uintptr_t)63;
  s.hi = (char *)top;
  s.size = fj__stack_round(usable);
  fj__fiber *f = (fj__fiber *)top;
  *f = (fj__fiber){.stack = s, .pin = FJ_ANY_WORKER};
#if FJ__DEBUG
  f->state = FJ__FIBER_BLANK;
#endif
#if FJ_TSAN_FIBERS
  f->tsan_fiber = __tsan_create_fiber(0);
#endif
#if FJ_VALGRIND_STACKS
  f->valgrind_id = VALGRIND_STACK_REGISTER(s.lo, (char *)f);
#endif
  fj__fiber_register(f);
  return f;
}

void fj__fiber_destroy(fj__fiber *f) {
  fj__fiber_unregister(f); /* before unmapping: dumps read it under the lock */
  fj__stack s = f->stack;
#if FJ_TSAN_FIBERS
  __tsan_destroy_fiber(f->tsan_fiber);
#endif
#if FJ_VALGRIND_STACKS
  VALGRIND_STACK_DEREGISTER(f->valgrind_id);
#endif
#if FJ_ASAN_FIBERS
  /* Frames that died with the fiber leave poisoned redzones behind. */
  ASAN_UNPOISON_MEMORY_REGION(s.lo, (size_t)(s.hi - s.lo));
#endif
  fj__stack_unmap(&s);
}

void fj__fiber_init_thread(fj__fiber *f) {
  *f = (fj__fiber){.pin = FJ_ANY_WORKER};
  void *lo;
  size_t size;
  fj__thread_stack_bounds(&lo, &size);
  f->stack.lo = lo; /* map stays NULL: not ours to unmap, no guard */
  f->stack.hi = (char *)lo + size;
  f->stack.size = size;
#if FJ__DEBUG
  f->state = FJ__FIBER_RUNNING; /* the thread is running on it */
#endif
#if FJ_TSAN_FIBERS
  f->tsan_fiber = __tsan_get_current_fiber();
#endif
}

void fj__fiber_fini_thread(fj__fiber *f) { (void)f; }

/* Usable bytes below the fiber struct (a mapped fiber's hi is its struct). */
static size_t fj__fiber_usable(const fj__fiber *f) { return (size_t)(f->stack.hi - f->stack.lo); }

void fj__fiber_prepare(fj__fiber *f, void (*entry)(fj__transfer)) {
#if FJ_ASAN_FIBERS
  ASAN_UNPOISON_MEMORY_REGION(f->stack.lo, fj__fiber_usable(f));
#endif
  f->ctx = fj__fctx_make((void *)f, fj__fiber_usable(f), entry);
  f->job_ctx = NULL;
  f->pin = FJ_ANY_WORKER; /* a blank fiber holds no job */
  FJ__FIBER_SET(f, FJ__FIBER_BLANK, FJ__FIBER_SUSPENDED);
}

#if FJ_ASAN_FIBERS || FJ_TSAN_FIBERS
fj__transfer fj__fiber_switch(fj__fiber *from, fj__fiber *to, void *data, bool from_done) {
  FJ__ASSERT(from != to);
  FJ__FIBER_SET(from, FJ__FIBER_RUNNING, FJ__FIBER_LEAVING);
  FJ__FIBER_SET(to, FJ__FIBER_SUSPENDED, FJ__FIBER_RUNNING); /* never resumed twice */
#if FJ_ASAN_FIBERS
  __sanitizer_start_switch_fiber(from_done ? NULL : &from->asan_fake_stack, to->stack.lo,
                                 fj__fiber_usable(to));
#else
  (void)from;
  (void)from_done;
#endif
#if FJ_TSAN_FIBERS
  __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
  fj__transfer t = fj__fctx_jump(to->ctx, data);
#if FJ_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(from->asan_fake_stack, NULL, NULL);
#endif
  return t;
}
#endif

void fj__fiber_entered(fj__fiber *self) {
#if FJ_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
  (void)self;
}
