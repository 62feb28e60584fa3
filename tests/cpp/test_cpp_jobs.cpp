// SPDX-License-Identifier: MIT
/*
 * test_cpp_jobs.cpp — lambda jobs: value, reference and move-only captures,
 * captures destroyed once the job ran, run_many sharing one callable, large
 * and over-aligned callables, boxes owned by a job's own counter (in its
 * arena, in cached blocks, on the heap), and the RAII rules of fj::Counter
 * and fj::System.
 */
#include <array>
#include <memory>
#include <thread>
#include <vector>

#include "check.hpp"

static void captures(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);

  // By value: the job sees the value at submission, not later changes.
  int v = 7;
  std::atomic<int> seen{0};
  sys.run(c, [v, &seen](fj::Ctx &) { seen = v; });
  v = 8;
  c.wait();
  CHECK_EQ(seen.load(), 7);

  // By reference: the job writes the caller's variable.
  long out = 0;
  sys.run(c, [&out] { out = 42; });
  c.wait();
  CHECK_EQ(out, 42);

  // Move-only: the job owns the unique_ptr; it is gone once wait returned.
  auto owned = std::make_unique<Tracker>();
  CHECK_EQ(Tracker::live.load(), 1);
  sys.run(c, [p = std::move(owned), &seen](fj::Ctx &) { seen = p ? 1 : -1; });
  c.wait();
  CHECK_EQ(seen.load(), 1);
  CHECK_EQ(Tracker::live.load(), 0);

  // Many jobs, each with a tracked capture: all destroyed after the wait.
  for (int i = 0; i < 200; i++)
    sys.run(c, [t = Tracker(), &seen](fj::Ctx &ctx) {
      (void)t;
      if (ctx.worker() >= fj_system_num_workers(ctx.system()))
        seen = -2;
    });
  c.wait();
  CHECK_EQ(Tracker::live.load(), 0);
  CHECK(seen.load() != -2);

  // A throwing job's captures are destroyed too.
  sys.run(c, [t = Tracker()] {
    (void)t;
    throw JobFailure{3};
  });
  long id = 0;
  CHECK_JOB_FAILURE(c.wait(), id);
  CHECK_EQ(id, 3);
  CHECK_EQ(Tracker::live.load(), 0);

  // An rvalue is moved into the job, an lvalue copied once; never more.
  Tracker::reset();
  Tracker keep;
  auto job = [keep](fj::Ctx &) { (void)keep; };
  Tracker::reset();
  sys.run(c, job);
  c.wait();
  CHECK_EQ(Tracker::copies.load(), 1);
  CHECK_EQ(Tracker::moves.load(), 0);
  Tracker::reset();
  sys.run(c, std::move(job));
  c.wait();
  CHECK_EQ(Tracker::copies.load(), 0);
  CHECK_EQ(Tracker::moves.load(), 1);
}

static void large_callables(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);
  // Larger than a box block: goes to the heap, works the same.
  std::array<long, 64> big{};
  for (long i = 0; i < 64; i++)
    big[(size_t)i] = i;
  std::atomic<long> sum{0};
  sys.run(c, [big, &sum](fj::Ctx &) {
    long s = 0;
    for (long x : big)
      s += x;
    sum = s;
  });
  c.wait();
  CHECK_EQ(sum.load(), 63 * 64 / 2);

  struct alignas(64) Aligned {
    long value = 5;
  };
  Aligned a;
  std::atomic<int> ok{0};
  sys.run(c, [a, &ok](fj::Ctx &) {
    ok = reinterpret_cast<std::uintptr_t>(&a) % 64 == 0 && a.value == 5;
  });
  c.wait();
  CHECK_EQ(ok.load(), 1);
}

static void run_many_shares_one_callable(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);
  for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(10), std::size_t(1000)}) {
    std::vector<std::atomic<int>> hits(n + 1);
    Tracker::reset();
    sys.run_many(c, n, [t = Tracker(), &hits](fj::Ctx &, std::size_t i) {
      (void)t;
      hits[i]++;
    });
    c.wait();
    // One callable for all n jobs: moved into its box once, never copied.
    CHECK_EQ(Tracker::copies.load(), 0);
    CHECK(Tracker::moves.load() <= 1);
    CHECK_EQ(Tracker::live.load(), 0);
    for (std::size_t i = 0; i < n; i++)
      CHECK_EQ(hits[i].load(), 1);
    CHECK_EQ(hits[n].load(), 0);
  }
  // Priorities are passed through.
  std::atomic<int> ran{0};
  sys.run_many(c, 3, [&](fj::Ctx &ctx, std::size_t) {
    if (ctx.priority() == fj::Priority::Low)
      ran++;
  }, fj::Priority::Low);
  sys.run(c, [&](fj::Ctx &ctx) {
    if (ctx.priority() == fj::Priority::High)
      ran++;
  }, fj::Priority::High);
  c.wait();
  CHECK_EQ(ran.load(), 4);
}

// Inside a job, the boxes of jobs spawned on a counter the job created are
// owned by that counter: every size of batch runs each index once, and
// every capture is gone when the job's wait returns.  Children spawning on
// their parent's counter (not its owner) share their boxes instead.
static void owned_boxes(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter outer(sys);
  std::atomic<int> bad{0};
  sys.run(outer, [&bad](fj::Ctx &ctx) {
    const long base = Tracker::live.load();
    for (std::size_t n : {1, 2, 5, 15, 16, 40, 127, 128, 300}) {
      std::vector<std::atomic<int>> hits(n);
      fj::Counter c(ctx);
      ctx.spawn_many(c, n, [t = Tracker(), &hits](fj::Ctx &, std::size_t i) {
        (void)t;
        hits[i]++;
      });
      // Some single jobs too: more than the arena holds.
      for (int k = 0; k < 12; k++)
        ctx.spawn(c, [t = Tracker(), &bad, &hits, n](fj::Ctx &) {
          (void)t;
          if (hits.size() != n)
            bad++;
        });
      ctx.wait(c);
      if (Tracker::live.load() != base)
        bad++;
      for (std::size_t i = 0; i < n; i++)
        if (hits[i].load() != 1)
          bad++;
    }
    // Children spawning on their parent's counter (not its owner).
    fj::Counter c(ctx);
    std::atomic<long> sum{0};
    ctx.spawn_many(c, 4, [&c, &sum](fj::Ctx &sub, std::size_t i) {
      sub.spawn_many(c, 3, [&sum, i](fj::Ctx &, std::size_t j) { sum += (long)(i * 3 + j); });
    });
    ctx.wait(c);
    if (sum.load() != 66)
      bad++;
  });
  outer.wait();
  CHECK_EQ(bad.load(), 0);
  CHECK_EQ(Tracker::live.load(), 0);
}

static void counter_raii(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  // A counter leaving its scope early waits for its jobs first.
  std::atomic<int> gate{0}, done{0};
  try {
    fj::Counter scoped(sys);
    sys.run(scoped, [&] {
      while (!gate.load())
        std::this_thread::yield();
      done = 1;
    });
    gate = 1;
    throw JobFailure{1};
  } catch (const JobFailure &) {
  }
  CHECK_EQ(done.load(), 1);

  // An idle counter moves with its stored exception; the moved-from one is empty.
  fj::Counter a(sys);
  sys.run(a, [] { throw JobFailure{9}; });
  while (a.value() != 0)
    std::this_thread::yield();
  fj::Counter b(std::move(a));
  CHECK(a.get() == nullptr);
  CHECK_EQ(a.value(), 0);
  long id = 0;
  CHECK_JOB_FAILURE(b.wait(), id);
  CHECK_EQ(id, 9);
  b.wait(); // cleared
  fj::Counter d(sys);
  d = std::move(b);
  sys.run(d, [&] { done = 2; });
  d.wait();
  CHECK_EQ(done.load(), 2);

  // A counter outlives its system.
  auto other = std::make_unique<fj::System>(make_system(workers, yielding));
  fj::Counter late(*other);
  other->run(late, [&] { done = 3; });
  other.reset(); // drains
  CHECK_EQ(late.value(), 0);
  CHECK_EQ(done.load(), 3);

  // Systems move; the moved-from one owns nothing.
  fj::System moved(std::move(sys));
  CHECK(sys.get() == nullptr);
  fj::Counter e(moved);
  moved.run(e, [&] { done = 4; });
  e.wait();
  CHECK_EQ(done.load(), 4);
}

static void c_set_flag(fj_ctx *, void *arg) { static_cast<std::atomic<int> *>(arg)->store(1); }

// A fork-join counter whose owner waited skips asking the library for its
// value at destruction; jobs counted on it afterwards by anyone else, or
// through its C handle, must still be waited for.
static void settled_hint(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter top(sys);
  std::atomic<int> via_c{0}, via_other{0}, gate{0};
  sys.run(top, [&](fj::Ctx &ctx) {
    {
      fj::Counter kids(ctx);
      ctx.spawn(kids, [] {});
      ctx.wait(kids); // settled
      // Through the C handle: on one worker the C job is still queued here.
      CHECK_OK(fj_ctx_spawn(ctx.get(), c_set_flag, &via_c, FJ_PRIORITY_NORMAL, kids.get()));
    } // must wait for it
    CHECK_EQ(via_c.load(), 1);
    if (!yielding)
      return;
    {
      fj::Counter kids(ctx), relay(ctx);
      ctx.spawn(kids, [] {});
      ctx.wait(kids); // settled
      // Another job counts a job on kids; that job cannot end before gate.
      ctx.spawn(relay, [&](fj::Ctx &sub) {
        sub.spawn(kids, [&](fj::Ctx &late) {
          while (!gate.load())
            late.yield();
          via_other = 1;
        });
      });
      ctx.wait(relay);
      gate = 1;
    } // must wait for the late job
    CHECK_EQ(via_other.load(), 1);
  });
  top.wait();
  CHECK_EQ(via_c.load(), 1);
}

int main() {
  FOR_EACH_SETUP(captures);
  FOR_EACH_SETUP(large_callables);
  FOR_EACH_SETUP(run_many_shares_one_callable);
  FOR_EACH_SETUP(owned_boxes);
  FOR_EACH_SETUP(counter_raii);
  FOR_EACH_SETUP(settled_hint);
  CHECK_EQ(Tracker::live.load(), 0);
  std::printf("test_cpp_jobs: ok\n");
  return 0;
}
