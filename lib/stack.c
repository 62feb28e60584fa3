/* SPDX-License-Identifier: MIT */
/*
 * stack.c — mapping and unmapping fiber stacks with guard pages.
 */
#include "stack.h"

#include <sys/mman.h>

#include "sys_linux.h"

size_t fj__stack_guard_size(void) { return 4 * fj__page_size(); }

size_t fj__stack_round(size_t usable) {
  size_t page = fj__page_size();
  return (usable + page - 1) / page * page;
}

int fj__stack_map(fj__stack *s, size_t usable) {
  size_t guard = fj__stack_guard_size();
  usable = fj__stack_round(usable);
  /* MAP_NORESERVE: the usable range is committed page by page as the fiber
   * touches it; a deep stack that is rarely used costs nothing. */
  char *map = mmap(NULL, guard + usable, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (map == MAP_FAILED)
    return -1;
  if (mprotect(map, guard, PROT_NONE) != 0) {
    munmap(map, guard + usable);
    return -1;
  }
  s->map = map;
  s->map_size = guard + usable;
  s->lo = map + guard;
  s->hi = map + guard + usable;
  return 0;
}

void fj__stack_unmap(fj__stack *s) {
  if (s->map)
    munmap(s->map, s->map_size);
  s->map = s->lo = s->hi = NULL;
  s->map_size = 0;
}
