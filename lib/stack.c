/* SPDX-License-Identifier: MIT */
/*
 * stack.c — sizing fiber stacks and their guards; the mapping itself is the
 * OS layer's (fj__stack_pages_map).
 */
#include "stack.h"

#include "internal.h"
#include "sys/sys.h"

size_t fj__stack_round(size_t usable) {
  size_t page = fj__page_size();
  FJ__ASSERT(FJ__IS_POW2(page));
  return (usable + page - 1) / page * page;
}

size_t fj__stack_guard_size(void) { return fj__stack_round(FJ__STACK_GUARD_MIN); }

int fj__stack_map(fj__stack *s, size_t usable) {
  size_t guard = fj__stack_guard_size();
  usable = fj__stack_round(usable);
  char *map;
  int r = fj__stack_pages_map(guard, usable, &map);
  if (r != FJ_OK)
    return r;
  s->map = map;
  s->map_size = guard + usable;
  s->lo = map + guard;
  s->hi = map + guard + usable;
  s->size = usable;
  return FJ_OK;
}

void fj__stack_unmap(fj__stack *s) {
  if (s->map)
    fj__stack_pages_unmap(s->map, s->map_size);
  s->map = s->lo = s->hi = NULL;
  s->map_size = s->size = 0;
}
