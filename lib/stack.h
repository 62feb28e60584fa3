/* SPDX-License-Identifier: MIT */
/*
 * stack.h — fiber stacks: one lazily committed mapping each, with an
 * inaccessible guard below the usable range.  A parked fiber costs only the
 * pages it touched.
 */
#ifndef FJ_STACK_H
#define FJ_STACK_H

#include <stddef.h>

typedef struct fj__stack {
  char *map;       /* start of the mapping = start of the guard */
  size_t map_size; /* guard + usable */
  char *lo;        /* lowest usable byte (= map + guard) */
  char *hi;        /* one past the highest usable byte */
  size_t size;     /* usable bytes asked for, in whole pages: what messages
                      name.  hi - lo may be up to a page more (a fiber's
                      cache colour, fiber.c). */
} fj__stack;

/* Guard size below every stack: FJ__STACK_GUARD_MIN (16 KiB) rounded up to
 * whole pages, so a frame of up to 16 KiB that skips the first guard page
 * still lands in the guard; one page where pages are 16 or 64 KiB. */
size_t fj__stack_guard_size(void);

/* Rounds a requested usable size up to whole pages. */
size_t fj__stack_round(size_t usable);

/* FJ_OK, or FJ_ENOMEM when the mapping failed (out of memory or the
 * process's mapping limit). */
int fj__stack_map(fj__stack *s, size_t usable);
void fj__stack_unmap(fj__stack *s);

#endif
