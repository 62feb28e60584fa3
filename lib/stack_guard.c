/* SPDX-License-Identifier: MIT */
/*
 * stack_guard.c — the SIGSEGV handler that reports fiber stack overflows.
 *
 * A worker thread records itself in a thread-local once at start; the worker
 * always knows which fiber it runs (worker->current), so the handler needs no
 * per-switch bookkeeping: it checks the fault address against that fiber's
 * guard range.  Everything here is async-signal-safe: write(2), sigaction,
 * abort, and reads of memory the faulting thread owns.
 */
#include "stack_guard.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fiber.h"
#include "worker.h"

static struct sigaction fj__previous_segv, fj__previous_bus;
static pthread_once_t fj__install_once = PTHREAD_ONCE_INIT;

/* Alternate signal stack per worker thread; owned by that thread. */
static __thread void *fj__altstack __attribute__((tls_model("initial-exec")));
#define FJ__ALTSTACK_SIZE (64 * 1024)

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

static void fj__report_overflow(const fj__fiber *f, const void *addr) {
  char msg[512];
  size_t n = 0;
  n = fj__append(msg, n, "fiberjob: fiber stack overflow: a job ran past the end of its "
                         "fiber stack (stack size ");
  n += fj__format_u(msg + n, (unsigned long long)(f->stack.hi - f->stack.lo), 10);
  n = fj__append(msg, n, " bytes; fault at 0x");
  n += fj__format_u(msg + n, (unsigned long long)(uintptr_t)addr, 16);
  n = fj__append(msg, n, " in the guard pages). Raise fj_config.stack_size or move "
                         "large buffers off the stack.\n");
  ssize_t ignored = write(STDERR_FILENO, msg, n);
  (void)ignored;
}

static void fj__chain(const struct sigaction *prev, int sig, siginfo_t *info, void *uc) {
  if (prev->sa_flags & SA_SIGINFO) {
    if (prev->sa_sigaction) {
      prev->sa_sigaction(sig, info, uc);
      return;
    }
  } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
    prev->sa_handler(sig);
    return;
  }
  /* Default action: restore it and return; the faulting instruction runs
   * again and the kernel kills the process with the original signal. */
  signal(sig, SIG_DFL);
}

static void fj__on_fault(int sig, siginfo_t *info, void *uc) {
  /* fj__tls_worker is initial-exec TLS: safe to read in a signal handler. */
  struct fj__worker *w = fj__tls_worker;
  const char *addr = info->si_addr;
  if (w) {
    const fj__fiber *f = w->current;
    if (f && f->stack.map && addr >= f->stack.map && addr < f->stack.lo) {
      fj__report_overflow(f, addr);
      signal(SIGABRT, SIG_DFL);
      abort();
    }
  }
  fj__chain(sig == SIGBUS ? &fj__previous_bus : &fj__previous_segv, sig, info, uc);
}

static void fj__install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fj__on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &fj__previous_segv);
  sigaction(SIGBUS, &sa, &fj__previous_bus);
}

void fj__stack_guard_install(void) { pthread_once(&fj__install_once, fj__install); }

int fj__stack_guard_thread_enter(void) {
  void *alt = mmap(NULL, FJ__ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (alt == MAP_FAILED)
    return -1;
  stack_t ss = {.ss_sp = alt, .ss_size = FJ__ALTSTACK_SIZE, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) {
    munmap(alt, FJ__ALTSTACK_SIZE);
    return -1;
  }
  fj__altstack = alt;
  return 0;
}

void fj__stack_guard_thread_leave(void) {
  if (fj__altstack) {
    stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(fj__altstack, FJ__ALTSTACK_SIZE);
    fj__altstack = NULL;
  }
}
