// SPDX-License-Identifier: MIT
/*
 * check.hpp — the C++ tests' harness: the C tests' checks (../c/check.h)
 * plus checks on exceptions, a live-object tracker for captures, and the
 * worker/fiber setups every test runs over.
 */
#ifndef FJ_TEST_CHECK_HPP
#define FJ_TEST_CHECK_HPP

#include <fiberjob.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../c/check.h"

// stmt must throw fj::Error with code `want`.
#define CHECK_ERROR(stmt, want)                                                \
  do {                                                                         \
    int got_ = 0;                                                              \
    try {                                                                      \
      stmt;                                                                    \
    } catch (const fj::Error &e_) {                                            \
      got_ = e_.code();                                                        \
    }                                                                          \
    if (got_ != (want)) {                                                      \
      std::fprintf(stderr, "%s:%d: %s: expected fj::Error %d, got %d\n",       \
                   __FILE__, __LINE__, #stmt, (int)(want), got_);              \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

// The exception type the tests throw from jobs: carries which job threw.
struct JobFailure {
  long id;
};

// stmt must throw JobFailure; stores its id in `id_out`.
#define CHECK_JOB_FAILURE(stmt, id_out)                                        \
  do {                                                                         \
    bool caught_ = false;                                                      \
    try {                                                                      \
      stmt;                                                                    \
    } catch (const JobFailure &f_) {                                           \
      caught_ = true;                                                          \
      (id_out) = f_.id;                                                        \
    }                                                                          \
    if (!caught_) {                                                            \
      std::fprintf(stderr, "%s:%d: %s did not throw JobFailure\n", __FILE__,   \
                   __LINE__, #stmt);                                           \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

// Counts live instances, copies and moves: captured by jobs to check that
// captures are destroyed, and that run_many shares one callable.
struct Tracker {
  static std::atomic<long> live, copies, moves;
  Tracker() { live++; }
  Tracker(const Tracker &) { live++, copies++; }
  Tracker(Tracker &&) noexcept { live++, moves++; }
  Tracker &operator=(const Tracker &) = delete;
  ~Tracker() { live--; }
  static void reset() { copies = 0, moves = 0; }
};
inline std::atomic<long> Tracker::live{0}, Tracker::copies{0}, Tracker::moves{0};

inline fj::System make_system(unsigned workers, int yielding) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = workers;
  cfg.enable_yielding = yielding;
  return fj::System(cfg);
}

#endif
