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
static _Atomic(fj__running_job_fn) fj__running_job;

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

/* Appends at most max bytes of s. */
static size_t fj__append_max(char *buf, size_t at, const char *s, size_t max) {
  size_t n = strnlen(s, max);
  memcpy(buf + at, s, n);
  return at + n;
}

/* Names the job the faulting thread runs: its name (fj_run_opts.name or
 * fj_ctx_set_name), else the symbol of its function, else the function's
 * address. */
static size_t fj__append_job_name(char *buf, size_t at) {
  enum { NAME_MAX_SHOWN = 96 };
  /* relaxed: see fj__running's comment. */
  fj__running_job_fn running = atomic_load_explicit(&fj__running_job, memory_order_relaxed);
  fj_job_fn fn = NULL;
  const char *name = NULL;
  if (!running || !running(&fn, &name))
    return fj__append(buf, at, "(no job)");
  if (name)
    return fj__append_max(buf, at, name, NAME_MAX_SHOWN);
  const char *sym = fj__symbol_name((const void *)(uintptr_t)fn);
  if (sym)
    return fj__append_max(buf, at, sym, NAME_MAX_SHOWN);
  at = fj__append(buf, at, "function at 0x");
  return at + fj__format_u(buf + at, (unsigned long long)(uintptr_t)fn, 16);
}

/* The message needs at most about 460 bytes; the OS layer offers 512. */
static size_t fj__on_fault(const void *addr, char *msg, size_t cap) {
  /* relaxed: see fj__running's comment. */
  fj__running_fiber_fn running = atomic_load_explicit(&fj__running, memory_order_relaxed);
  const fj__fiber *f = running ? running() : NULL;
  const char *a = addr;
  if (!f || !f->stack.map || a < f->stack.map || a >= f->stack.lo || cap < 480)
    return 0; /* not in the running fiber's guard: not ours */
  size_t n = 0;
  bool large = f->stack_class == FJ_STACK_LARGE;
  n = fj__append(msg, n, "fiberjob: fiber stack overflow: job '");
  n = fj__append_job_name(msg, n);
  n = fj__append(msg, n, "' ran past the end of its fiber stack (");
  n = fj__append(msg, n, large ? "FJ_STACK_LARGE" : "FJ_STACK_SMALL");
  n = fj__append(msg, n, ", stack size ");
  n += fj__format_u(msg + n, (unsigned long long)f->stack.size, 10);
  n = fj__append(msg, n, " bytes; fault at 0x");
  n += fj__format_u(msg + n, (unsigned long long)(uintptr_t)addr, 16);
  /* Names the settings in both APIs: the handler cannot tell whether the
   * job came from C or from the Python package. */
  n = fj__append(msg, n, " in the guard pages). ");
  n = fj__append(msg, n, large ? "Raise fj_config.large_stack_size (Python: "
                                 "JobSystem(large_stack_size=...))"
                               : "Submit it with fj_run_opts.stack = FJ_STACK_LARGE (Python: "
                                 "stack=\"large\"), raise fj_config.stack_size (Python: "
                                 "JobSystem(stack_size=...))");
  n = fj__append(msg, n, " or move large buffers off the stack.\n");
  return n;
}

int fj__stack_guard_install(fj__running_fiber_fn running, fj__running_job_fn job) {
  atomic_store_explicit(&fj__running, running, memory_order_relaxed);
  atomic_store_explicit(&fj__running_job, job, memory_order_relaxed); /* as fj__running */
  return fj__fault_handler_install(fj__on_fault);
}

int fj__stack_guard_thread_enter(void) { return fj__altstack_enter(); }

void fj__stack_guard_thread_leave(void) { fj__altstack_leave(); }
