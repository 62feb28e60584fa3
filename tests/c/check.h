/* SPDX-License-Identifier: MIT */
/*
 * check.h — the C tests' tiny harness: checks that name the failed
 * expression and its values, and helpers shared by every test program.
 */
#ifndef FJ_TEST_CHECK_H
#define FJ_TEST_CHECK_H

#include <fiberjob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* Integer equality, printing both values on failure. */
#define CHECK_EQ(a, b)                                                         \
  do {                                                                         \
    long long a_ = (long long)(a), b_ = (long long)(b);                        \
    if (a_ != b_) {                                                            \
      fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n",        \
              __FILE__, __LINE__, #a, #b, a_, b_);                             \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* A call that must succeed; prints fj_strerror on failure. */
#define CHECK_OK(call)                                                         \
  do {                                                                         \
    int r_ = (call);                                                           \
    if (r_ != FJ_OK) {                                                         \
      fprintf(stderr, "%s:%d: %s returned %d (%s)\n", __FILE__, __LINE__,      \
              #call, r_, fj_strerror(r_));                                     \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* Sanitizer and valgrind runs are many times slower: tests shrink their
 * loops by FJ_TEST_SCALE (a divisor, default 1) there. */
static inline long test_scaled(long n) {
  const char *s = getenv("FJ_TEST_SCALE");
  long div = s ? atol(s) : 1;
  if (div < 1)
    div = 1;
  return n / div > 0 ? n / div : 1;
}

/* A system with attach slots (worker indices workers..workers+slots-1). */
static inline fj_system *test_system_slots(unsigned workers, int yielding, unsigned slots) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = workers;
  cfg.enable_yielding = yielding;
  cfg.attach_slots = slots;
  fj_system *sys = NULL;
  CHECK_OK(fj_system_create(&cfg, &sys));
  CHECK(sys != NULL);
  return sys;
}

static inline fj_system *test_system(unsigned workers, int yielding) {
  return test_system_slots(workers, yielding, 0);
}

static inline fj_counter *test_counter(fj_system *sys) {
  fj_counter *c = NULL;
  CHECK_OK(fj_counter_create(sys, &c));
  return c;
}

/* Runs body(workers, yielding) for 1, 2 and 4 workers, fibers on and off. */
#define FOR_EACH_SETUP(body)                                                   \
  do {                                                                         \
    static const unsigned workers_[] = {1, 2, 4};                              \
    for (int y_ = 1; y_ >= 0; y_--)                                            \
      for (unsigned i_ = 0; i_ < 3; i_++)                                      \
        body(workers_[i_], y_);                                                \
  } while (0)

/* Runs fn in a forked child with its stderr captured into out (NUL
 * terminated); returns the child's wait status. */
static inline int test_run_child(void (*fn)(void), char *out, size_t cap) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    fn();
    _exit(0);
  }
  close(fds[1]);
  size_t len = 0;
  ssize_t r;
  while (len + 1 < cap && (r = read(fds[0], out + len, cap - 1 - len)) > 0)
    len += (size_t)r;
  out[len] = 0;
  close(fds[0]);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  return status;
}

#endif
