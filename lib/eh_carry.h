/* SPDX-License-Identifier: MIT */
/*
 * eh_carry.h — a fiber's C++ exception state travels with the fiber.
 *
 * The C++ runtime (the Itanium ABI's, which libstdc++ and libc++abi share)
 * keeps per thread the exceptions being handled (a stack: the catch blocks
 * running now) and the count of exceptions thrown and not yet caught (an
 * unwinding in progress).  C++ code in a job may suspend inside a catch
 * block, or in a destructor run by an unwinding; meanwhile other jobs run
 * and catch on this thread, and the fiber may resume on another one.  So
 * every switch takes the thread's state off the thread, keeps it in the
 * leaving fiber's own frame (a local across the jump), and puts it on the
 * thread that resumes the fiber.  The scheduler's own code between jobs is
 * C and holds none, so every job starts with the thread's state empty.
 *
 * The library is C and need not be linked with a C++ runtime: it finds one
 * through a weak reference to __cxa_get_globals.  Boost.Context, which the
 * library links, is C++, so in practice every process has one; a switch
 * that carries nothing reads the thread's two words and branches.
 */
#ifndef FJ_EH_CARRY_H
#define FJ_EH_CARRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* The start of the ABI's __cxa_eh_globals (the part every implementation
 * shares on x86-64 and aarch64), and a fiber's copy of it. */
typedef struct fj__eh_state {
  void *caught;          /* exceptions being handled, innermost first */
  unsigned int uncaught; /* thrown, not caught yet */
} fj__eh_state;

/* The calling thread's exception state; without a C++ runtime, a shared
 * record that stays empty (so readers need no NULL test).  Call on the
 * thread it is for (workers and attached threads do at start); the address
 * stays valid for the thread's life. */
fj__eh_state *fj__eh_thread_globals(void);

/* Whether the thread holds exception state now (g: its globals).  A fiber
 * that leaves holding none resumes holding none, so a switch that sees none
 * here has nothing to carry either way.  Two loads, an or and a branch. */
static inline bool fj__eh_held(const fj__eh_state *g) {
  return __builtin_expect(((uintptr_t)g->caught | g->uncaught) != 0, 0);
}

/* Before a switch away: the thread's state, which is then cleared for the
 * fiber switched to.  {NULL, 0} in the common case. */
static inline fj__eh_state fj__eh_take(fj__eh_state *g) {
  fj__eh_state s = {NULL, 0};
  if (fj__eh_held(g)) {
    s = *g;
    g->caught = NULL;
    g->uncaught = 0;
  }
  return s;
}

/* After the switch back: puts the state fj__eh_take returned on the thread
 * that resumed the fiber (g: its globals).  That thread holds none: the
 * fiber that switched to us took its own along. */
static inline void fj__eh_put(fj__eh_state *g, fj__eh_state s) {
  if (fj__eh_held(&s)) {
    FJ__ASSERT(!fj__eh_held(g));
    *g = s;
  }
}

#endif
