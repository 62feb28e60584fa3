/* SPDX-License-Identifier: MIT */
/*
 * stack_guard.c — recognising and describing fiber stack overflows.
 *
 * The worker always knows which fiber it runs, so the handler needs no
 * per-switch bookkeeping: it asks for the running fiber and checks the
 * fault address against that fiber's guard range.  Everything here is
 * async-signal-safe: no stdio, no allocation, only reads of memory the
 * faulting thread owns.  The OS layer installs the handler, prints the
 * message and aborts.
 */
#include "stack_guard.h"

#include <stdint.h>
#include <string.h>

#include "sys/sys.h"

/* Set before the handler is installed (a syscall orders it); read in it. */
static _Atomic(fj__running_fiber_fn) fj__running;

static size_t fj__format_u(char *buf, unsigned long long v, unsigned base) {
  char tmp[32];
  size_t n = 0;
  do {
    unsigned d = (unsigned)(v % base);
    tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= base;
  } while (v);
  for (size_t i = 0; i < n; i++)
    buf[i] = tmp[n - 1 - i];
  return n;
}

static size_t fj__append(char *buf, size_t at, const char *s) {
  size_t n = strlen(s);
  memcpy(buf + at, s, n);
  return at + n;
}

/* The message needs about 300 bytes; the OS layer offers 512. */
static size_t fj__on_fault(const void *addr, char *msg, size_t cap) {
  /* relaxed: see fj__running's comment. */
  fj__running_fiber_fn running = atomic_load_explicit(&fj__running, memory_order_relaxed);
  const fj__fiber *f = running ? running() : NULL;
  const char *a = addr;
  if (!f || !f->stack.map || a < f->stack.map || a >= f->stack.lo || cap < 400)
    return 0; /* not in the running fiber's guard: not ours */
  size_t n = 0;
  n = fj__append(msg, n, "fiberjob: fiber stack overflow: a job ran past the end of its "
                         "fiber stack (stack size ");
  n += fj__format_u(msg + n, (unsigned long long)(f->stack.hi - f->stack.lo), 10);
  n = fj__append(msg, n, " bytes; fault at 0x");
  n += fj__format_u(msg + n, (unsigned long long)(uintptr_t)addr, 16);
  /* Names the setting in both APIs: the handler cannot tell whether the
   * job came from C or from the Python package. */
  n = fj__append(msg, n, " in the guard pages). Raise fj_config.stack_size (Python: "
                         "JobSystem(stack_size=...)) or move large buffers off the stack.\n");
  return n;
}

int fj__stack_guard_install(fj__running_fiber_fn running) {
  atomic_store_explicit(&fj__running, running, memory_order_relaxed);
  return fj__fault_handler_install(fj__on_fault);
}

int fj__stack_guard_thread_enter(void) { return fj__altstack_enter(); }

void fj__stack_guard_thread_leave(void) { fj__altstack_leave(); }
