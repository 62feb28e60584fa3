/* SPDX-License-Identifier: MIT */
/*
 * sys_linux.h — every operating-system call the library makes: futex,
 * threads, CPU count, clocks, page size.  The only place with Linux-specific
 * code; a port adds a sys_<os>.c behind this header.
 */
#ifndef FJ_SYS_LINUX_H
#define FJ_SYS_LINUX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Sleeps while *addr == expected, at most timeout_ns (< 0: no limit).
 * Returns 0 when woken (or the value differed), -1 on timeout.  May return
 * spuriously: callers always re-check their condition. */
int fj__futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ns);

/* Wakes up to n threads sleeping on addr.  Only the address is used, never
 * the memory behind it, so it is safe even if the word was just freed. */
void fj__futex_wake(_Atomic uint32_t *addr, int n);

unsigned fj__cpu_count(void);
uint64_t fj__now_ns(void); /* monotonic */
void fj__thread_yield(void);
size_t fj__page_size(void);

typedef struct fj__thread {
  unsigned long handle; /* pthread_t */
} fj__thread;
int fj__thread_start(fj__thread *t, void *(*fn)(void *), void *arg);
void fj__thread_join(fj__thread *t);

/* Bounds of the calling thread's own stack (for sanitizer annotations). */
void fj__thread_stack_bounds(void **lo, size_t *size);

#endif
