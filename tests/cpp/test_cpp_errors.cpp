// SPDX-License-Identifier: MIT
/*
 * test_cpp_errors.cpp — every bad input gets an fj::Error with the C code:
 * bad configuration, unknown priority, a counter of another system,
 * moved-from handles, a job waiting on its own counter, a timed wait inside
 * a job.  A failed submission runs nothing and destroys the callable.
 * Moving a counter that still counts jobs aborts with a message.
 */
#include <thread>

#include "check.hpp"

static void bad_input(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::System other = make_system(1, yielding);
  fj::Counter c(sys), foreign(other);
  std::atomic<int> ran{0};
  const auto bad = static_cast<fj::Priority>(7);

  CHECK_ERROR(sys.run(c, [&, t = Tracker()] { (void)t, ran++; }, bad), FJ_EPRIORITY);
  CHECK_ERROR(sys.run_many(c, 3, [&, t = Tracker()](fj::Ctx &, std::size_t) { (void)t, ran++; }, bad),
              FJ_EPRIORITY);
  CHECK_ERROR(sys.run(foreign, [&, t = Tracker()] { (void)t, ran++; }), FJ_EWRONGSYSTEM);
  CHECK_ERROR(sys.run_many(foreign, 40, [&](fj::Ctx &, std::size_t) { ran++; }), FJ_EWRONGSYSTEM);
  CHECK_EQ(fj_wait(sys.get(), foreign.get()), FJ_EWRONGSYSTEM);
  CHECK_EQ(Tracker::live.load(), 0);

  // Inside a job: the same checks on spawn, plus the job's own counter and a timed wait.
  sys.run(c, [&](fj::Ctx &ctx) {
    CHECK_ERROR(ctx.spawn(c, [&] { ran++; }, bad), FJ_EPRIORITY);
    CHECK_ERROR(ctx.spawn_many(c, 2, [&](fj::Ctx &, std::size_t) { ran++; }, bad), FJ_EPRIORITY);
    CHECK_ERROR(ctx.spawn(foreign, [&] { ran++; }), FJ_EWRONGSYSTEM);
    CHECK_ERROR(ctx.wait(c), FJ_EDEADLK);
    CHECK_ERROR(ctx.wait(foreign), FJ_EWRONGSYSTEM);
    fj::Counter mine(ctx);
    CHECK_ERROR(mine.wait_for(std::chrono::milliseconds(1)), FJ_EINJOB);
  });
  c.wait();
  CHECK_EQ(ran.load(), 0);
  CHECK_EQ(Tracker::live.load(), 0);

  // Moved-from handles.
  fj::Counter moved(std::move(c));
  CHECK_ERROR(sys.run(c, [&] { ran++; }), FJ_EINVAL);
  CHECK_ERROR(sys.run_many(c, 2, [&](fj::Ctx &, std::size_t) { ran++; }), FJ_EINVAL);
  CHECK_ERROR(c.wait(), FJ_EINVAL);
  CHECK_ERROR(c.wait_for(std::chrono::seconds(1)), FJ_EINVAL);
  fj::System gone(std::move(other));
  CHECK_ERROR(fj::Counter x(other), FJ_EINVAL);
  CHECK_ERROR(other.run(moved, [&] { ran++; }), FJ_EINVAL);
  CHECK_EQ(ran.load(), 0);
}

static void messages() {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.stack_size = 1; // below FJ_MIN_STACK_SIZE
  bool ok = false;
  try {
    fj::System s(cfg);
  } catch (const fj::Error &e) {
    // The message names the call and carries the C library's text.
    ok = e.code() == FJ_ECONFIG && std::strstr(e.what(), "fj_system_create") &&
         std::strstr(e.what(), fj_strerror(FJ_ECONFIG));
  }
  CHECK(ok);
  cfg.stack_size = FJ_DEFAULT_STACK_SIZE;
  cfg.num_workers = FJ_MAX_WORKERS + 1;
  CHECK_ERROR(fj::System s(cfg), FJ_ECONFIG);
  // fj::Error is a std::runtime_error.
  try {
    throw fj::Error(FJ_ENOMEM);
  } catch (const std::runtime_error &e) {
    ok = std::strstr(e.what(), fj_strerror(FJ_ENOMEM)) != nullptr;
  }
  CHECK(ok);
}

static void move_busy_counter(void) {
  fj::System sys(1);
  fj::Counter c(sys);
  std::atomic<int> gate{0};
  sys.run(c, [&] {
    while (!gate.load())
      std::this_thread::yield();
  });
  fj::Counter stolen(std::move(c)); // aborts: the job holds c's address
  gate = 1;
}

int main() {
  FOR_EACH_SETUP(bad_input);
  messages();
  char out[1024];
  int st = test_run_child(move_busy_counter, out, sizeof out);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
  CHECK(std::strstr(out, "unfinished jobs was moved") != nullptr);
  std::printf("test_cpp_errors: ok\n");
  return 0;
}
