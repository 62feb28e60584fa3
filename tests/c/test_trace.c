/* SPDX-License-Identifier: MIT */
/*
 * test_trace: fj_trace_start/stop's errors, and a fork-join run with
 * yields, traced: the JSON's slices, flow arrows and instants match the
 * run's fj_stats (tests/python/test_debugging.py parses it fully).
 */
#include <string.h>

#include "check.h"

static void leaf(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_ctx_yield(ctx);
}

static void node(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_counter *c = test_counter(fj_ctx_system(ctx));
  for (int i = 0; i < 8; i++)
    CHECK_OK(fj_ctx_spawn(ctx, leaf, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_ctx_wait(ctx, c));
  fj_counter_destroy(c);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  CHECK(f != NULL);
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  rewind(f);
  char *text = calloc(1, (size_t)len + 1);
  CHECK(text != NULL);
  CHECK(fread(text, 1, (size_t)len, f) == (size_t)len);
  fclose(f);
  return text;
}

static long count(const char *text, const char *needle) {
  long n = 0;
  for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

int main(void) {
  CHECK_EQ(fj_trace_stop(NULL, "x.json"), FJ_EINVAL);
  CHECK_EQ(fj_trace_start(NULL, 10), FJ_EINVAL);
  fj_system *sys = test_system(2, 1);
  CHECK_EQ(fj_trace_stop(sys, "x.json"), FJ_ESTATE);
  CHECK_EQ(fj_trace_start(sys, 0), FJ_EINVAL);
  CHECK_OK(fj_trace_start(sys, 16));
  CHECK_EQ(fj_trace_start(sys, 16), FJ_ESTATE);
  CHECK_EQ(fj_trace_stop(sys, "/nonexistent-dir/trace.json"), FJ_EIO);
  CHECK_EQ(fj_trace_stop(sys, NULL), FJ_ESTATE); /* the failed stop still stopped */

  fj_stats before, after;
  CHECK_OK(fj_system_stats(sys, &before));
  CHECK_OK(fj_trace_start(sys, 100000));
  fj_counter *c = test_counter(sys);
  long nodes = test_scaled(50);
  for (long i = 0; i < nodes; i++)
    CHECK_OK(fj_run(sys, node, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  char path[] = "/tmp/fj_trace_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  CHECK_OK(fj_trace_stop(sys, path));
  CHECK_OK(fj_system_stats(sys, &after));

  char *json = slurp(path);
  unlink(path);
  CHECK(strstr(json, "\"traceEvents\":[") != NULL);
  CHECK(strstr(json, "\"dropped_events\":0") != NULL);
  CHECK_EQ(count(json, "\"name\":\"thread_name\""), 2);
  CHECK(strstr(json, "\"args\":{\"name\":\"worker 1\"}") != NULL);
  /* Every job ran to the end inside the trace: one finished slice each. */
  CHECK_EQ(count(json, "\"end\":\"finished\""), (long)(after.jobs_run - before.jobs_run));
  CHECK_EQ(count(json, "\"end\":\"finished\""), nodes * 9);
  CHECK_EQ(count(json, "\"end\":\"yielded\""), (long)(after.yields - before.yields));
  CHECK_EQ(count(json, "\"end\":\"parked\""), (long)(after.waits_suspended - before.waits_suspended));
  CHECK_EQ(count(json, "\"name\":\"park\""), (long)(after.waits_suspended - before.waits_suspended));
  CHECK_EQ(count(json, "\"name\":\"steal\""), (long)(after.jobs_stolen - before.jobs_stolen));
  /* An arrow per suspension, both ends present. */
  long suspensions = (long)(after.yields - before.yields + after.waits_suspended -
                            before.waits_suspended);
  CHECK_EQ(count(json, "\"ph\":\"s\""), suspensions);
  CHECK_EQ(count(json, "\"ph\":\"f\""), suspensions);
#if FJ_TEST_BACKTRACE
  /* Job names on slices: the functions' symbols (libdw). */
  CHECK(strstr(json, "\"name\":\"node\"") != NULL);
  CHECK(strstr(json, "\"name\":\"leaf\"") != NULL);
#else
  /* Without libdw slices carry the functions'
   * addresses, which must be exactly these functions'. */
  char by_addr[64];
  snprintf(by_addr, sizeof by_addr, "\"name\":\"0x%lx\"", (unsigned long)(uintptr_t)node);
  CHECK(strstr(json, by_addr) != NULL);
  snprintf(by_addr, sizeof by_addr, "\"name\":\"0x%lx\"", (unsigned long)(uintptr_t)leaf);
  CHECK(strstr(json, by_addr) != NULL);
#endif
  free(json);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
  return 0;
}
