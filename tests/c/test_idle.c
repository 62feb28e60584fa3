/* SPDX-License-Identifier: MIT */
/* Idle workers sleep: a system with nothing to do uses (almost) no CPU,
 * and wakes promptly enough to finish work submitted after the pause. */
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"

static double cpu_seconds(void) {
  struct rusage ru;
  CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static atomic_int ran;
static void job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&ran, 1);
}

int main(void) {
  fj_system *sys = test_system(4, 1);
  fj_counter *c = test_counter(sys);
  CHECK_OK(fj_run(sys, job, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  usleep(100 * 1000); /* let every worker finish spinning and go to sleep */
  double before = cpu_seconds();
  usleep(500 * 1000);
  double used = cpu_seconds() - before;
  printf("4 idle workers used %.1f ms of CPU in 500 ms\n", used * 1e3);
  /* Four spinning workers would burn up to 2 s of CPU here (a resource
   * bound, not a timing one: sleeping workers use none). */
  CHECK(used < 0.1);
  for (int i = 0; i < 100; i++)
    CHECK_OK(fj_run(sys, job, NULL, (fj_priority)(i % 3), c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(atomic_load(&ran), 101);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
  puts("test_idle: ok");
  return 0;
}
