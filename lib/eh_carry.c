/* SPDX-License-Identifier: MIT */
/*
 * eh_carry.c — finding the C++ runtime's per-thread exception state, if a
 * C++ runtime is loaded (see eh_carry.h).
 */
#include "eh_carry.h"

/* Weak: resolved when the process has loaded a C++ runtime (any C++
 * program, or a library that pulls one in before the system starts), NULL
 * otherwise.  The ABI declares it `extern "C" __cxa_eh_globals *
 * __cxa_get_globals(void) noexcept`; it allocates nothing after the
 * thread's first call. */
extern void *__cxa_get_globals(void) __attribute__((weak));

/* Without a runtime: never written, since a switch writes the thread's
 * record only when it holds state (fj__eh_take). */
static fj__eh_state fj__eh_none;

fj__eh_state *fj__eh_thread_globals(void) {
  return __cxa_get_globals ? (fj__eh_state *)__cxa_get_globals() : &fj__eh_none;
}
