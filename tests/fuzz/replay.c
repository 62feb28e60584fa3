/* SPDX-License-Identifier: MIT */
/*
 * replay.c — runs fuzz inputs through the fuzz target without libFuzzer, so
 * the seed corpus (and any crash file) also runs in the ordinary, sanitizer
 * and emulated test builds.  Usage: fuzz_replay <file or directory>...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  uint8_t buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  LLVMFuzzerTestOneInput(buf, n); /* aborts on a failed check */
  return 0;
}

static int replay(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    return 1;
  }
  if (!S_ISDIR(st.st_mode))
    return replay_file(path);
  DIR *d = opendir(path);
  if (!d) {
    perror(path);
    return 1;
  }
  int bad = 0, files = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", path, e->d_name);
    bad |= replay_file(full);
    files++;
  }
  closedir(d);
  printf("%s: %d inputs\n", path, files);
  return bad || files == 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <file or directory>...\n", argv[0]);
    return 2;
  }
  int bad = 0;
  for (int i = 1; i < argc; i++)
    bad |= replay(argv[i]);
  return bad;
}
