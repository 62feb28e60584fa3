// SPDX-License-Identifier: MIT
/*
 * test_cpp_exceptions.cpp — exceptions thrown by jobs reach the waiter:
 * from leaves and inner jobs of a recursion, through Ctx::wait and
 * Counter::wait/wait_for; the first is kept and later ones dropped and
 * counted; other jobs keep running; a counter is reusable afterwards; a job
 * may yield and wait inside a catch block and during unwinding, through the
 * C++ layer or the C API, and so may an attached thread's wait.
 */
#include <stdexcept>
#include <thread>

#include "check.hpp"

// A binary tree of jobs; the leaf numbered `bad` throws.  Inner jobs do not
// catch: the leaf's exception climbs through every Ctx::wait to the root.
static long tree(fj::Ctx &ctx, long id, int depth, long bad) {
  if (depth == 0) {
    if (id == bad)
      throw JobFailure{id};
    return 1;
  }
  long a = 0, b = 0;
  fj::Counter c(ctx);
  ctx.spawn(c, [&a, id, depth, bad](fj::Ctx &sub) { a = tree(sub, 2 * id, depth - 1, bad); });
  ctx.spawn(c, [&b, id, depth, bad](fj::Ctx &sub) { b = tree(sub, 2 * id + 1, depth - 1, bad); });
  ctx.wait(c);
  return a + b;
}

static void from_leaf_and_inner(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);
  const int depth = 8; // leaves are 256..511
  for (long bad : {256L, 300L, 511L}) {
    long got = 0;
    sys.run(c, [bad](fj::Ctx &ctx) { tree(ctx, 1, depth, bad); });
    CHECK_JOB_FAILURE(c.wait(), got);
    CHECK_EQ(got, bad);
  }
  // No leaf throws: the counter is reusable and nothing is rethrown.
  long sum = 0;
  sys.run(c, [&sum](fj::Ctx &ctx) { sum = tree(ctx, 1, depth, -1); });
  c.wait();
  CHECK_EQ(sum, 256);

  // An inner job throws after its children finished; a standard exception
  // keeps its type and message.
  sys.run(c, [](fj::Ctx &ctx) {
    fj::Counter kids(ctx);
    ctx.spawn_many(kids, 4, [](fj::Ctx &, std::size_t) {});
    ctx.wait(kids);
    throw std::runtime_error("inner failed");
  });
  bool caught = false;
  try {
    c.wait();
  } catch (const std::runtime_error &e) {
    caught = std::strcmp(e.what(), "inner failed") == 0;
  }
  CHECK(caught);

  // A job of a spawn_many on a counter its spawner created (the fork-join
  // case: the shared callable lives in the counter's arena) throws; the
  // spawner's wait rethrows it once all four ran.
  sys.run(c, [](fj::Ctx &ctx) {
    fj::Counter kids(ctx);
    std::atomic<int> ran{0};
    ctx.spawn_many(kids, 4, [&ran](fj::Ctx &, std::size_t i) {
      ran++;
      if (i == 2)
        throw JobFailure{700 + (long)i};
    });
    long got = 0;
    CHECK_JOB_FAILURE(ctx.wait(kids), got);
    CHECK_EQ(got, 702);
    CHECK_EQ(ran.load(), 4);
  });
  c.wait();
}

// Several jobs throw: one exception reaches the waiter, the others are
// dropped and counted, and every job still ran.
static void first_kept_rest_dropped(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);
  std::atomic<long> ran{0};
  sys.run_many(c, 100, [&ran](fj::Ctx &, std::size_t i) {
    ran++;
    if (i % 10 == 0)
      throw JobFailure{(long)i};
  });
  long got = -1;
  CHECK_JOB_FAILURE(c.wait(), got);
  CHECK(got % 10 == 0 && got < 100);
  CHECK_EQ(ran.load(), 100);
  CHECK_EQ(c.value(), 0);
  CHECK_EQ(c.dropped_exceptions(), 9);
  c.wait(); // cleared by the first wait

  // Reuse after the exception, both ways.
  sys.run(c, [&ran] { ran++; });
  c.wait();
  CHECK_EQ(ran.load(), 101);
  sys.run(c, [] { throw JobFailure{5}; });
  CHECK_JOB_FAILURE(c.wait(), got);
  CHECK_EQ(got, 5);
  CHECK_EQ(c.dropped_exceptions(), 9);
}

static void wait_for(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);
  std::atomic<int> gate{0};
  sys.run(c, [&gate] {
    while (!gate.load())
      std::this_thread::yield();
    throw JobFailure{77};
  });
  // The job cannot finish before the gate opens, however slow the machine.
  CHECK(!c.wait_for(std::chrono::microseconds(200)));
  CHECK(!c.wait_for(std::chrono::nanoseconds(-5)));
  gate = 1;
  long got = 0;
  CHECK_JOB_FAILURE(c.wait_for(std::chrono::hours(1)), got);
  CHECK_EQ(got, 77);
  CHECK(c.wait_for(std::chrono::hours(1)));
}

// A job keeps its caught exception across yields and waits (it may resume
// on another worker, where other jobs threw and caught meanwhile) and can
// rethrow it afterwards; a counter destroyed during unwinding waits for
// its jobs first.
static void suspend_with_exception(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);
  const long rounds = test_scaled(200);
  std::atomic<long> noise{0};
  sys.run_many(c, 8, [&noise, rounds](fj::Ctx &ctx, std::size_t i) {
    for (long r = 0; r < rounds; r++) {
      try {
        throw JobFailure{(long)i};
      } catch (const JobFailure &) {
        ctx.yield();
        noise++;
      }
    }
  });
  sys.run(c, [rounds](fj::Ctx &ctx) {
    try {
      throw JobFailure{1234};
    } catch (...) {
      for (long r = 0; r < rounds; r++) {
        ctx.yield();
        fj::Counter kids(ctx);
        ctx.spawn(kids, [] {});
        ctx.wait(kids);
      }
      CHECK(std::current_exception() != nullptr);
      throw; // the original exception, still owned by this job
    }
  });
  long got = 0;
  CHECK_JOB_FAILURE(c.wait(), got);
  CHECK_EQ(got, 1234);
  CHECK_EQ(noise.load(), 8 * rounds);
  CHECK_EQ(c.dropped_exceptions(), 0);

  std::atomic<long> children_done{0};
  sys.run(c, [&children_done](fj::Ctx &ctx) {
    long local = 0;
    fj::Counter kids(ctx);
    ctx.spawn_many(kids, 4, [&local, &children_done](fj::Ctx &sub, std::size_t) {
      sub.yield();
      __atomic_fetch_add(&local, 1, __ATOMIC_RELAXED);
      children_done++;
    });
    throw JobFailure{-1}; // ~Counter waits for the four before `local` dies
  });
  CHECK_JOB_FAILURE(c.wait(), got);
  CHECK_EQ(got, -1);
  CHECK_EQ(children_done.load(), 4);
  CHECK_EQ(std::uncaught_exceptions(), 0);
}

// The library carries the state across waits, not the C++ layer: C++ code
// may call the C functions fj_ctx_wait and fj_wait inside a catch block too,
// while other jobs on the same workers throw, catch and yield.
struct Suspender {
  long rounds;
  std::atomic<long> *noise;
  std::atomic<long> next_id{1};
};

// Throws, yields inside the catch block (through fj::Ctx, which carries
// the state across a yield), then rethrows: what comes back must be its own
// exception, not one another job is handling on this thread.
static void c_noise_job(fj_ctx *cctx, void *arg) {
  auto *s = static_cast<Suspender *>(arg);
  fj::Ctx ctx(cctx);
  for (long r = 0; r < s->rounds; r++) {
    long id = s->next_id++;
    try {
      throw JobFailure{id};
    } catch (const JobFailure &) {
      ctx.yield();
      try {
        throw;
      } catch (const JobFailure &again) {
        CHECK_EQ(again.id, id);
      }
      (*s->noise)++;
    }
  }
}

static void c_api_in_catch(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);
  std::atomic<long> noise{0};
  Suspender s{test_scaled(100), &noise, {1}};
  for (int i = 0; i < 6; i++)
    CHECK_OK(fj_run(sys.get(), c_noise_job, &s, FJ_PRIORITY_NORMAL, c.get()));
  sys.run(c, [&s](fj::Ctx &ctx) {
    try {
      throw JobFailure{4321};
    } catch (const JobFailure &) {
      for (long r = 0; r < s.rounds; r++) {
        ctx.yield();
        fj_counter *kids;
        CHECK_OK(fj_counter_create(ctx.system(), &kids));
        CHECK_OK(fj_ctx_spawn(ctx.get(), c_noise_job, &s, FJ_PRIORITY_NORMAL, kids));
        CHECK_OK(fj_ctx_wait(ctx.get(), kids));
        fj_counter_destroy(kids);
      }
      throw; // still this job's own exception
    }
  });
  long got = 0;
  CHECK_JOB_FAILURE(c.wait(), got);
  CHECK_EQ(got, 4321);
  CHECK_EQ(noise.load(), (6 + s.rounds) * s.rounds);
  CHECK_EQ(std::uncaught_exceptions(), 0);
}

// An attached thread waiting inside a catch block runs jobs on fibers on its
// own thread meanwhile; they throw, catch and yield, and the thread's own
// exception is still there when its wait returns.
static void attached_in_catch(unsigned workers, int yielding) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = workers;
  cfg.enable_yielding = yielding;
  cfg.attach_slots = 1;
  fj::System sys(cfg);
  unsigned me;
  CHECK_OK(fj_thread_attach(sys.get(), &me));
  std::atomic<long> noise{0};
  Suspender s{test_scaled(50), &noise, {1}};
  fj::Counter c(sys);
  long seen = 0;
  try {
    throw JobFailure{99};
  } catch (const JobFailure &outer) {
    fj_run_opts o;
    fj_run_opts_init(&o);
    o.worker = (int)me; // these run on this thread, inside the wait below
    o.counter = c.get();
    fj_job jobs[4];
    for (fj_job &j : jobs)
      j = fj_job{c_noise_job, &s};
    CHECK_OK(fj_submit(sys.get(), jobs, 4, &o));
    CHECK_OK(fj_wait(sys.get(), c.get()));
    try {
      throw;
    } catch (const JobFailure &again) {
      CHECK_EQ(&again, &outer);
      seen = again.id;
    }
  }
  CHECK_EQ(seen, 99);
  CHECK_EQ(noise.load(), 4 * s.rounds);
  CHECK_EQ(std::uncaught_exceptions(), 0);
  CHECK_OK(fj_thread_detach(sys.get()));
}

// Errors of the C API inside a job travel the same way.
static void error_inside_job(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);
  sys.run(c, [&c](fj::Ctx &ctx) { ctx.wait(c); });
  CHECK_ERROR(c.wait(), FJ_EDEADLK);
}

int main() {
  FOR_EACH_SETUP(from_leaf_and_inner);
  FOR_EACH_SETUP(first_kept_rest_dropped);
  FOR_EACH_SETUP(wait_for);
  FOR_EACH_SETUP(suspend_with_exception);
  FOR_EACH_SETUP(c_api_in_catch);
  FOR_EACH_SETUP(attached_in_catch);
  FOR_EACH_SETUP(error_inside_job);
  std::printf("test_cpp_exceptions: ok\n");
  return 0;
}
