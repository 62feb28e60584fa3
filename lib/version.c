/* SPDX-License-Identifier: MIT */
/*
 * version.c — the version of the library actually loaded at run time
 * (the header's macros say which one a program was compiled against).
 */
#include "fiberjob.h"

#define FJ__STR2(x) #x
#define FJ__STR(x) FJ__STR2(x)

unsigned fj_version(void) { return FJ_VERSION; }

const char *fj_version_string(void) {
  return FJ__STR(FJ_VERSION_MAJOR) "." FJ__STR(FJ_VERSION_MINOR) "." FJ__STR(FJ_VERSION_PATCH);
}
