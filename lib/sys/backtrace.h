/* SPDX-License-Identifier: MIT */
/*
 * sys/backtrace.h — call stacks of suspended fibers and names of code
 * addresses, for the dump, the stall report and the trace writer.
 *
 * A session loads the process's modules and their debug information once
 * (elfutils' libdw); walking a fiber's stack starts from the registers its
 * context saved (fcontext_regs.h) and uses the modules' DWARF call-frame
 * information, so neither the library nor the program needs frame
 * pointers.  Static functions are named from the ELF symbol table, and
 * file:line comes from DWARF line tables where the module has them.  Built
 * without libdw, or on an architecture whose saved layout is unknown, every
 * call reports that it cannot and names addresses as hex.
 *
 * Threads: any; sessions are serialized by one lock (libdw is not
 * thread-safe).  Never from a signal handler (libdw allocates).
 */
#ifndef FJ_BACKTRACE_H
#define FJ_BACKTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../fcontext_regs.h"

typedef struct fj__bt_session fj__bt_session;

/* NULL when the process's modules cannot be read (or no libdw): callers
 * still work, with addresses instead of names. */
fj__bt_session *fj__bt_begin(void);
void fj__bt_end(fj__bt_session *s);

/* Walks the stack of a suspended context whose stack is [lo, hi); memory
 * outside that range is never read, so a context that resumes meanwhile
 * yields a short or odd stack, never a fault.  Stores up to max code
 * addresses, innermost first, each a return address, and each frame's
 * stack pointer (0 where unknown).  Returns how many. */
int fj__bt_walk(fj__bt_session *s, const fj__saved_regs *regs, const void *lo,
                const void *hi, uintptr_t *pcs, uintptr_t *sps, int max);

/* Describes a code address: "name (file:line)", "name+0xoff (module)" or
 * "0xaddr".  return_addr: pc is a return address (look up pc - 1, the call).
 * Always NUL-terminates. */
void fj__bt_describe(fj__bt_session *s, uintptr_t pc, bool return_addr, char *buf,
                     size_t size);

/* The name of the function containing addr, or false (buf gets "0xaddr"). */
bool fj__bt_function_name(fj__bt_session *s, uintptr_t addr, char *buf, size_t size);

/* True when addr lies in the module that contains this library. */
bool fj__bt_in_library(fj__bt_session *s, uintptr_t addr);

#endif
