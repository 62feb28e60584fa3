/* SPDX-License-Identifier: MIT */
/*
 * error.c — fj_strerror and fj_err_name, generated from the same
 * FJ_ERRNO_MAP list as the error enum so texts and codes cannot drift, and
 * fj__fatal, the one path by which the library aborts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fiberjob.h"
#include "internal.h"

const char *fj_strerror(int err) {
  switch (err) {
  case FJ_OK:
    return "success";
#define FJ__ERRNO_CASE(name, value, text)                                      \
  case FJ_##name:                                                              \
    return "FJ_" #name ": " text;
    FJ_ERRNO_MAP(FJ__ERRNO_CASE)
#undef FJ__ERRNO_CASE
  }
  return "unknown libfiberjob error code";
}

const char *fj_err_name(int err) {
  switch (err) {
  case FJ_OK:
    return "FJ_OK";
#define FJ__ERRNO_NAME(name, value, text)                                      \
  case FJ_##name:                                                              \
    return "FJ_" #name;
    FJ_ERRNO_MAP(FJ__ERRNO_NAME)
#undef FJ__ERRNO_NAME
  }
  return "FJ_UNKNOWN";
}

void fj__fatal(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* Formatted first, so the line goes out in one piece. */
  fprintf(stderr, "fiberjob: %s\n", msg);
  fflush(stderr);
  abort();
}
