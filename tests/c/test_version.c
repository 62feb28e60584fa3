/* SPDX-License-Identifier: MIT */
/* Runtime identity: fj_version / fj_version_string agree with the header
 * the test was compiled against, and fj_err_name / fj_strerror cover every
 * code of FJ_ERRNO_MAP with distinct, stable names. */
#include <stdio.h>
#include <string.h>

#include "check.h"

static void version(void) {
  CHECK_EQ(fj_version(), FJ_VERSION);
  CHECK_EQ(FJ_VERSION >> 16, FJ_VERSION_MAJOR);
  CHECK_EQ((FJ_VERSION >> 8) & 0xff, FJ_VERSION_MINOR);
  CHECK_EQ(FJ_VERSION & 0xff, FJ_VERSION_PATCH);
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", FJ_VERSION_MAJOR, FJ_VERSION_MINOR, FJ_VERSION_PATCH);
  CHECK(fj_version_string() != NULL);
  CHECK(strcmp(fj_version_string(), want) == 0);
}

static void error_names(void) {
  CHECK(strcmp(fj_err_name(FJ_OK), "FJ_OK") == 0);
  CHECK(strcmp(fj_err_name(FJ_EINVAL), "FJ_EINVAL") == 0);
  CHECK(strcmp(fj_err_name(FJ_EDEADLK), "FJ_EDEADLK") == 0);
  CHECK(strcmp(fj_err_name(12345), "FJ_UNKNOWN") == 0);
  CHECK(strcmp(fj_err_name(-9999), "FJ_UNKNOWN") == 0);

  /* Every listed code: its name is "FJ_" + the list's name, its text starts
   * with that name, and no two codes share a name. */
  struct { int code; const char *name; } all[] = {
#define X(name, value, text) {FJ_##name, "FJ_" #name},
      FJ_ERRNO_MAP(X)
#undef X
  };
  size_t n = sizeof all / sizeof all[0];
  CHECK(n >= 12);
  for (size_t i = 0; i < n; i++) {
    CHECK(all[i].code < 0);
    const char *name = fj_err_name(all[i].code);
    CHECK(strcmp(name, all[i].name) == 0);
    const char *text = fj_strerror(all[i].code);
    CHECK(strncmp(text, name, strlen(name)) == 0);
    for (size_t j = 0; j < i; j++)
      CHECK(all[j].code != all[i].code && strcmp(fj_err_name(all[j].code), name) != 0);
  }
}

int main(void) {
  version();
  error_names();
  puts("test_version: ok");
  return 0;
}
