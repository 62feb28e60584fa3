/* SPDX-License-Identifier: MIT */
/*
 * sys_linux.c — Linux implementations of sys_linux.h: futex, pthreads,
 * sysconf.
 */
#include "sys_linux.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

void fj__thread_yield(void) { sched_yield(); }

size_t fj__page_size(void) {
  long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? (size_t)p : 4096u;
}

int fj__thread_start(fj__thread *t, void *(*fn)(void *), void *arg) {
  pthread_t th;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  /* The scheduler loop runs on fibers; the thread's own stack only hosts
   * start-up, shutdown and (with enable_yielding = 0) the jobs themselves,
   * where nested waits recurse: keep glibc's default size (8 MiB). */
  int r = pthread_create(&th, &attr, fn, arg);
  pthread_attr_destroy(&attr);
  if (r != 0)
    return -1;
  t->handle = (unsigned long)th;
  return 0;
}

void fj__thread_join(fj__thread *t) { pthread_join((pthread_t)t->handle, NULL); }

void fj__thread_stack_bounds(void **lo, size_t *size) {
  pthread_attr_t attr;
  *lo = NULL;
  *size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, lo, size);
    pthread_attr_destroy(&attr);
  }
}
