/* SPDX-License-Identifier: MIT */
/*
 * sys.h — everything the library asks of the operating system, and the only
 * header the rest of lib/ includes for it: threads, a mutex, futex-style
 * wait/wake, clocks, CPU count, page size, stack mappings, the alternate
 * signal stack and the fault handler, the thread-local current worker, and
 * the CPU's spin-wait hint.  One implementation file per OS (sys_linux.c);
 * a port is a new sys_<os>.c plus, if needed, the fcontext shim.
 *
 * Every function that can fail returns FJ_OK or the FJ_E... code that its
 * OS error maps to (out of memory or address space -> FJ_ENOMEM, no more
 * threads -> FJ_ETHREAD), so the cause reaches the caller.
 */
#ifndef FJ_SYS_H
#define FJ_SYS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- time, CPUs, memory geometry --------------------------------------- */

unsigned fj__cpu_count(void); /* CPUs this process may run on; at least 1 */
uint64_t fj__now_ns(void);    /* monotonic clock */
/* Monotonic with a resolution of a few ms, several times cheaper: for
 * "suspended for how long" in dumps, on the wait path. */
uint64_t fj__now_coarse_ns(void);
size_t fj__page_size(void);   /* a power of two */

/* The CPU's spin-wait hint: lets a sibling hyper-thread run and saves
 * power while we poll a cache line someone else will write. */
static inline void fj__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* ---- futex-style waiting ----------------------------------------------- */

/* Sleeps while *addr == expected, at most timeout_ns (< 0: no limit).
 * Returns 0 when woken (or the value differed), -1 on timeout.  May return
 * spuriously: callers always re-check their condition. */
int fj__futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ns);

/* Wakes up to n threads sleeping on addr.  Only the address is used, never
 * the memory behind it, so it is safe even if the word was just freed. */
void fj__futex_wake(_Atomic uint32_t *addr, int n);

/* Sleeps the calling thread for about ns nanoseconds. */
void fj__sleep_ns(int64_t ns);

/* membarrier(2), private expedited: fj__membarrier_register once per
 * process (0, or -1 when the kernel or an emulator lacks it), then
 * fj__membarrier runs a full memory barrier on every running thread of
 * the process before it returns (a failure after registering is fatal). */
int fj__membarrier_register(void);
void fj__membarrier(void);

/* ---- threads ----------------------------------------------------------- */

typedef struct fj__thread {
  unsigned long handle; /* the OS thread id (pthread_t on Linux) */
} fj__thread;

/* FJ_OK, FJ_ENOMEM or FJ_ETHREAD (the OS refused another thread). */
int fj__thread_start(fj__thread *t, void *(*fn)(void *), void *arg);
void fj__thread_join(fj__thread *t);
void fj__thread_yield(void); /* offers the core to another thread */

/* Bounds of the calling thread's own stack (for sanitizer annotations and
 * the nested-wait reserve).  Both 0 when the OS cannot say. */
void fj__thread_stack_bounds(void **lo, size_t *size);

/* A blocking mutex for short critical sections that may be contended
 * (the shared submission queue).  Storage for the OS's own mutex; only
 * sys_<os>.c looks inside (it checks the size at compile time). */
typedef union fj__mutex {
  unsigned char storage[64];
  uint64_t align_u64;
  void *align_ptr;
} fj__mutex;

int fj__mutex_init(fj__mutex *m); /* FJ_OK or FJ_ENOMEM */
void fj__mutex_fini(fj__mutex *m);
void fj__mutex_lock(fj__mutex *m);
void fj__mutex_unlock(fj__mutex *m);

/* ---- the thread-local current worker ----------------------------------- */

struct fj__worker;

/* The worker of the calling thread (NULL on other threads); set once when
 * the worker thread starts.  initial-exec: one pointer, fine in the static
 * TLS surplus even when the library is dlopen'ed, and safe to read in a
 * signal handler. */
extern __thread struct fj__worker *fj__tls_worker __attribute__((tls_model("initial-exec")));

/* The worker of the calling thread, or NULL.  Not inlined, on purpose: a
 * fiber may resume on another thread, and a compiler may keep a
 * thread-local's address in a register across a call, so code that runs on
 * both sides of a switch must read it through this function. */
struct fj__worker *fj__this_worker(void);

/* Inlined read, only for code that does not switch fibers after it. */
static inline struct fj__worker *fj__this_worker_before_switch(void) { return fj__tls_worker; }

/* ---- stacks ------------------------------------------------------------ */

/* Maps guard + usable bytes (both whole pages) of lazily committed memory
 * for a stack, the lowest `guard` bytes inaccessible.  FJ_OK or FJ_ENOMEM
 * (no memory, or the process's mapping limit reached). */
int fj__stack_pages_map(size_t guard, size_t usable, char **out);
void fj__stack_pages_unmap(char *map, size_t size);

/* Bytes of [lo, lo + len) the OS backs with memory now, in whole pages (a
 * stack page once touched stays): the stack high-water mark.  0 when the
 * OS cannot say. */
size_t fj__resident_bytes(const void *lo, size_t len);

/* ---- watched signals (fj_config.dump_signal) --------------------------- */

/* Signals 1..FJ__SIGNAL_MAX-1 may be watched: fn(signo) runs in the signal
 * handler, so it must be async-signal-safe.  Several watchers of a signal
 * share one handler; the program's previous action comes back when the
 * last one unwatches.  watch returns FJ_OK, or FJ_ECONFIG for a signal that
 * cannot be caught or is the fault handler's (SIGSEGV, SIGBUS). */
#define FJ__SIGNAL_MAX 65
int fj__signal_watch(int signo, void (*fn)(int signo));
void fj__signal_unwatch(int signo);

/* ---- faults ------------------------------------------------------------ */

/* Called on SIGSEGV/SIGBUS (or the OS's equivalent) with the fault address,
 * on the alternate signal stack.  When the fault is the library's to report
 * (a fiber stack overflow) it writes a message of at most `cap` bytes into
 * `buf` and returns its length: the message is printed and the process
 * aborts.  0 passes the fault on to the handler installed before ours.
 * Must be async-signal-safe. */
typedef size_t (*fj__fault_fn)(const void *addr, char *buf, size_t cap);

/* Installs fn as the process-wide fault handler, once (later calls do
 * nothing).  FJ_OK, or FJ_ENOMEM when the OS refused. */
int fj__fault_handler_install(fj__fault_fn fn);

/* An alternate signal stack for the calling thread, since an overflowing
 * stack cannot host the handler.  FJ_OK or FJ_ENOMEM. */
int fj__altstack_enter(void);
void fj__altstack_leave(void);

/* The name of the exported symbol at addr (a job's function), or NULL when
 * the loader does not know one.  Only called on the way to an abort from
 * the fault handler: it reads the loader's tables without locking. */
const char *fj__symbol_name(const void *addr);

/* Writes to standard error without stdio (async-signal-safe). */
void fj__write_stderr(const char *msg, size_t n);

#endif
