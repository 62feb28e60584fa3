/* SPDX-License-Identifier: MIT */
/*
 * sys_linux.c — the Linux implementation of sys.h: futex, pthreads,
 * sysconf, mmap'd stacks, sigaltstack and the SIGSEGV/SIGBUS handler.
 * The only file in lib/ that includes an operating-system header.
 */
#include "sys.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../internal.h"

/* ---- time, CPUs, memory geometry --------------------------------------- */

unsigned fj__cpu_count(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return (unsigned)n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1u;
}

uint64_t fj__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t fj__now_coarse_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

size_t fj__page_size(void) {
  long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? (size_t)p : 4096u;
}

/* ---- futex ------------------------------------------------------------- */

int fj__futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ns) {
  struct timespec ts, *tsp = NULL;
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    tsp = &ts;
  }
  long r = syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expected, tsp, NULL, 0);
  if (r == -1 && errno == ETIMEDOUT)
    return -1;
  return 0; /* woken, value changed (EAGAIN) or interrupted (EINTR) */
}

void fj__futex_wake(_Atomic uint32_t *addr, int n) {
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* ---- membarrier ---------------------------------------------------------- */

int fj__membarrier_register(void) {
  static _Atomic int state; /* 0 unknown, 1 registered, -1 unavailable */
  int st = atomic_load_explicit(&state, memory_order_acquire);
  if (st == 0) {
    long r = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
    st = r == 0 ? 1 : -1;
    atomic_store_explicit(&state, st, memory_order_release);
  }
  return st == 1 ? 0 : -1;
}

void fj__membarrier(void) {
  if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
    fj__fatal("membarrier failed after registering: %s", strerror(errno));
}

void fj__sleep_ns(int64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
  nanosleep(&ts, NULL); /* an early wake-up (EINTR) is fine: callers poll */
}

/* ---- threads ----------------------------------------------------------- */

int fj__thread_start(fj__thread *t, void *(*fn)(void *), void *arg) {
  _Static_assert(sizeof(pthread_t) <= sizeof t->handle, "pthread_t fits fj__thread");
  pthread_t th;
  /* The scheduler loop runs on fibers; the thread's own stack only hosts
   * start-up, shutdown and (with enable_yielding = 0) the jobs themselves,
   * where nested waits recurse: keep glibc's default size (8 MiB). */
  int r = pthread_create(&th, NULL, fn, arg);
  if (r != 0)
    return r == ENOMEM ? FJ_ENOMEM : FJ_ETHREAD; /* EAGAIN: thread limit */
  t->handle = (unsigned long)th;
  return FJ_OK;
}

void fj__thread_join(fj__thread *t) {
  int r = pthread_join((pthread_t)t->handle, NULL);
  if (r != 0)
    fj__fatal("cannot join a worker thread: %s", strerror(r));
}

void fj__thread_yield(void) { sched_yield(); }

void fj__thread_stack_bounds(void **lo, size_t *size) {
  pthread_attr_t attr;
  *lo = NULL;
  *size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, lo, size);
    pthread_attr_destroy(&attr);
  }
}

/* ---- mutex ------------------------------------------------------------- */

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(fj__mutex), "fj__mutex holds a pthread mutex");
_Static_assert(_Alignof(pthread_mutex_t) <= _Alignof(fj__mutex), "fj__mutex is aligned enough");

static pthread_mutex_t *fj__pmutex(fj__mutex *m) { return (pthread_mutex_t *)(void *)m->storage; }

int fj__mutex_init(fj__mutex *m) {
  int r = pthread_mutex_init(fj__pmutex(m), NULL);
  return r == 0 ? FJ_OK : FJ_ENOMEM; /* EAGAIN / ENOMEM: out of resources */
}

void fj__mutex_fini(fj__mutex *m) { pthread_mutex_destroy(fj__pmutex(m)); }

/* A failure here (EINVAL, EDEADLK) is a corrupted or misused lock: fatal. */
void fj__mutex_lock(fj__mutex *m) {
  int r = pthread_mutex_lock(fj__pmutex(m));
  if (r != 0)
    fj__fatal("mutex lock failed: %s", strerror(r));
}

void fj__mutex_unlock(fj__mutex *m) {
  int r = pthread_mutex_unlock(fj__pmutex(m));
  if (r != 0)
    fj__fatal("mutex unlock failed: %s", strerror(r));
}

/* ---- the thread-local current worker ----------------------------------- */

__thread struct fj__worker *fj__tls_worker __attribute__((tls_model("initial-exec")));

__attribute__((noinline)) struct fj__worker *fj__this_worker(void) { return fj__tls_worker; }

/* ---- stacks ------------------------------------------------------------ */

int fj__stack_pages_map(size_t guard, size_t usable, char **out) {
  /* MAP_NORESERVE: the usable range is committed page by page as the fiber
   * touches it; a deep stack that is rarely used costs nothing. */
  char *map = mmap(NULL, guard + usable, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (map == MAP_FAILED)
    return FJ_ENOMEM; /* ENOMEM: memory or vm.max_map_count */
  if (mprotect(map, guard, PROT_NONE) != 0) {
    munmap(map, guard + usable);
    return FJ_ENOMEM; /* splitting the mapping needs a second VMA */
  }
  *out = map;
  return FJ_OK;
}

void fj__stack_pages_unmap(char *map, size_t size) {
  if (munmap(map, size) != 0)
    fj__fatal("munmap of a fiber stack failed: %s", strerror(errno));
}

/* ---- faults ------------------------------------------------------------ */

static struct sigaction fj__previous_segv, fj__previous_bus;
static _Atomic(fj__fault_fn) fj__fault_callback;
static pthread_once_t fj__install_once = PTHREAD_ONCE_INIT;
static int fj__install_result = FJ_OK;

/* Alternate signal stack per worker thread; owned by that thread. */
static __thread void *fj__altstack __attribute__((tls_model("initial-exec")));
/* The alternate stack the thread had before ours (a sanitizer runtime sets
 * one on every thread and unmaps whatever is current when the thread ends):
 * put back on leave, so ours is not unmapped twice and theirs not leaked. */
static __thread stack_t fj__prev_altstack __attribute__((tls_model("initial-exec")));

void fj__write_stderr(const char *msg, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDERR_FILENO, msg, n);
    if (w <= 0)
      return;
    msg += w;
    n -= (size_t)w;
  }
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

/* Async-signal-safe throughout: the callback promises to be, and write(2),
 * signal and abort are. */
static void fj__on_fault(int sig, siginfo_t *info, void *uc) {
  char msg[512];
  /* relaxed: set before sigaction installed us (a syscall orders it). */
  fj__fault_fn fn = atomic_load_explicit(&fj__fault_callback, memory_order_relaxed);
  size_t n = fn ? fn(info->si_addr, msg, sizeof msg) : 0;
  if (n > 0) {
    fj__write_stderr(msg, n);
    signal(SIGABRT, SIG_DFL);
    abort(); /* the one abort that cannot go through fj__fatal (stdio) */
  }
  fj__chain(sig == SIGBUS ? &fj__previous_bus : &fj__previous_segv, sig, info, uc);
}

static void fj__install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fj__on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &fj__previous_segv) != 0 ||
      sigaction(SIGBUS, &sa, &fj__previous_bus) != 0)
    fj__install_result = FJ_ENOMEM; /* cannot happen for valid signals */
}

int fj__fault_handler_install(fj__fault_fn fn) {
  /* relaxed: one handler per process, always the same fn; the signal
   * handler is installed after this store, by a syscall. */
  atomic_store_explicit(&fj__fault_callback, fn, memory_order_relaxed);
  pthread_once(&fj__install_once, fj__install);
  return fj__install_result;
}

int fj__altstack_enter(void) {
  void *alt = mmap(NULL, FJ__ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (alt == MAP_FAILED)
    return FJ_ENOMEM;
  stack_t ss = {.ss_sp = alt, .ss_size = FJ__ALTSTACK_SIZE, .ss_flags = 0};
  if (sigaltstack(&ss, &fj__prev_altstack) != 0) {
    munmap(alt, FJ__ALTSTACK_SIZE);
    return FJ_ENOMEM;
  }
  fj__altstack = alt;
  return FJ_OK;
}

void fj__altstack_leave(void) {
  if (fj__altstack) {
    /* Not on it here (we are leaving the worker loop), so SS_ONSTACK is
     * not set in the saved flags; SS_DISABLE restores "none". */
    fj__prev_altstack.ss_flags &= SS_DISABLE;
    sigaltstack(&fj__prev_altstack, NULL);
    munmap(fj__altstack, FJ__ALTSTACK_SIZE);
    fj__altstack = NULL;
  }
}

/* ---- stack residency ---------------------------------------------------- */

size_t fj__resident_bytes(const void *lo, size_t len) {
  size_t page = fj__page_size();
  uintptr_t start = (uintptr_t)lo & ~(uintptr_t)(page - 1);
  size_t pages = ((uintptr_t)lo + len - start + page - 1) / page;
  unsigned char vec[256];
  size_t resident = 0;
  for (size_t done = 0; done < pages;) {
    size_t n = pages - done < sizeof vec ? pages - done : sizeof vec;
    if (mincore((void *)(start + done * page), n * page, vec) != 0)
      return 0;
    for (size_t i = 0; i < n; i++)
      resident += vec[i] & 1;
    done += n;
  }
  return resident * page;
}

/* ---- watched signals ---------------------------------------------------- */

static pthread_mutex_t fj__signal_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  unsigned users;            /* guarded by fj__signal_lock */
  void (*_Atomic fn)(int);   /* read by the handler */
  struct sigaction previous; /* guarded by fj__signal_lock */
} fj__watched[FJ__SIGNAL_MAX];

static void fj__on_watched_signal(int signo) {
  int saved = errno; /* the interrupted code may be between a call and its errno check */
  /* acquire: pairs with the release store in fj__signal_watch. */
  void (*fn)(int) = atomic_load_explicit(&fj__watched[signo].fn, memory_order_acquire);
  if (fn)
    fn(signo);
  errno = saved;
}

int fj__signal_watch(int signo, void (*fn)(int signo)) {
  if (signo <= 0 || signo >= FJ__SIGNAL_MAX || signo == SIGSEGV || signo == SIGBUS ||
      signo == SIGKILL || signo == SIGSTOP)
    return FJ_ECONFIG;
  int r = 0;
  pthread_mutex_lock(&fj__signal_lock);
  if (fj__watched[signo].users == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fj__on_watched_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    /* release: the handler sees fn once it can run. */
    atomic_store_explicit(&fj__watched[signo].fn, fn, memory_order_release);
    r = sigaction(signo, &sa, &fj__watched[signo].previous);
  }
  if (r == 0)
    fj__watched[signo].users++;
  pthread_mutex_unlock(&fj__signal_lock);
  return r == 0 ? FJ_OK : FJ_ECONFIG;
}

void fj__signal_unwatch(int signo) {
  pthread_mutex_lock(&fj__signal_lock);
  if (--fj__watched[signo].users == 0)
    sigaction(signo, &fj__watched[signo].previous, NULL);
  pthread_mutex_unlock(&fj__signal_lock);
}

const char *fj__symbol_name(const void *addr) {
  Dl_info info;
  if (addr && dladdr(addr, &info) && info.dli_sname && info.dli_saddr == addr)
    return info.dli_sname;
  return NULL;
}
