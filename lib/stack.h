/* SPDX-License-Identifier: MIT */
/*
 * stack.h — fiber stacks: one anonymous mapping each, with PROT_NONE guard
 * pages below the usable range.  Pages are committed lazily by the kernel
 * on first touch, so a parked fiber costs only the pages it used.
 */
#ifndef FJ_STACK_H
#define FJ_STACK_H

#include <stddef.h>

typedef struct fj__stack {
  char *map;       /* start of the mapping = start of the guard */
  size_t map_size; /* guard + usable */
  char *lo;        /* lowest usable byte (= map + guard) */
  char *hi;        /* one past the highest usable byte */
} fj__stack;

/* Guard size below every stack: four pages, so a frame of up to 16 KiB that
 * skips over the first guard page still lands in the guard. */
size_t fj__stack_guard_size(void);

/* Rounds a requested usable size up to whole pages. */
size_t fj__stack_round(size_t usable);

/* Returns 0, or -1 when the mapping failed (out of memory or map count). */
int fj__stack_map(fj__stack *s, size_t usable);
void fj__stack_unmap(fj__stack *s);

#endif
