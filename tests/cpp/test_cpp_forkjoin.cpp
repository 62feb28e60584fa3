// SPDX-License-Identifier: MIT
/*
 * test_cpp_forkjoin.cpp — recursion through the C++ layer: the benchmark's
 * fib (spawn and wait inside lambdas) and skynet (spawn_many), jobs that
 * yield, and plain threads waiting on counters at the same time.
 */
#include <thread>
#include <vector>

#include "check.hpp"
#include "../../benchmarks/forkjoin.hpp"

static long fib_serial(int n) { return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2); }

static void recursion(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);
  int n = (int)test_scaled(20) < 12 ? 12 : 20;
  long f = -1, sk = -1;
  sys.run(c, [&](fj::Ctx &ctx) { f = forkjoin_fib<true>(ctx, n, 0); });
  long leaves = test_scaled(100000) >= 100000 ? 100000 : 1000;
  sys.run(c, [&](fj::Ctx &ctx) { sk = forkjoin_skynet(ctx, 0, leaves); });
  c.wait();
  CHECK_EQ(f, fib_serial(n));
  CHECK_EQ(sk, leaves * (leaves - 1) / 2);
}

// Jobs that yield in a loop all finish, and each sees its own locals intact
// after every yield (it may resume on another worker).
static void yields(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);
  const long rounds = test_scaled(2000);
  std::vector<long> progress(16, 0);
  sys.run_many(c, progress.size(), [&progress, rounds](fj::Ctx &ctx, std::size_t i) {
    long mine = 0;
    for (long r = 0; r < rounds; r++) {
      mine += (long)i;
      ctx.yield();
    }
    progress[i] = mine;
  });
  c.wait();
  for (std::size_t i = 0; i < progress.size(); i++)
    CHECK_EQ(progress[i], (long)i * rounds);
}

// A job waits on children that yield; plain threads wait on the same
// outer counter concurrently.
static void waits(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter outer(sys);
  std::atomic<long> total{0};
  for (int j = 0; j < 8; j++)
    sys.run(outer, [&total](fj::Ctx &ctx) {
      fj::Counter kids(ctx);
      std::atomic<long> local{0};
      ctx.spawn_many(kids, 8, [&local](fj::Ctx &sub, std::size_t i) {
        sub.yield();
        local += (long)i + 1;
      });
      ctx.wait(kids);
      CHECK_EQ(local.load(), 36);
      ctx.wait(kids); // zero already: returns at once
      total += local.load();
    });
  std::vector<std::thread> waiters;
  for (int t = 0; t < 3; t++)
    waiters.emplace_back([&outer] { outer.wait(); });
  outer.wait();
  for (auto &t : waiters)
    t.join();
  CHECK_EQ(total.load(), 8 * 36);
}

int main() {
  FOR_EACH_SETUP(recursion);
  FOR_EACH_SETUP(yields);
  FOR_EACH_SETUP(waits);
  std::printf("test_cpp_forkjoin: ok\n");
  return 0;
}
