/* SPDX-License-Identifier: MIT */
/*
 * error.c — fj_strerror, generated from the same FJ_ERRNO_MAP list as the
 * error enum so texts and codes cannot drift.
 */
#include "fiberjob.h"

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
