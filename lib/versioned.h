/* SPDX-License-Identifier: MIT */
/*
 * versioned.h — reading a caller's append-only struct (fj_config,
 * fj_run_opts): it starts with `size_t struct_size`, set by its _init
 * function, so a program built against an older header (a smaller struct)
 * keeps working, and a newer, larger one is accepted while the fields this
 * library does not know are zero.
 */
#ifndef FJ_VERSIONED_H
#define FJ_VERSIONED_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Copies min(size, out_size) bytes of user over out, which already holds
 * the defaults.  False (nothing copied) when size is below min_size (not
 * filled by the _init function) or a byte beyond out_size is not zero. */
static inline bool fj__copy_versioned(const void *user, size_t size, void *out,
                                      size_t out_size, size_t min_size) {
  if (size < min_size)
    return false;
  const unsigned char *tail = (const unsigned char *)user + out_size;
  for (size_t i = out_size; i < size; i++)
    if (tail[i - out_size])
      return false;
  memcpy(out, user, size < out_size ? size : out_size);
  return true;
}

#endif
