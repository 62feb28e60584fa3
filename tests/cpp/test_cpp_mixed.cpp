// SPDX-License-Identifier: MIT
/*
 * test_cpp_mixed.cpp — the C++ layer and the C API on one fj_system: C jobs
 * spawning lambdas through fj::Ctx, lambdas spawning C jobs on C++ counters,
 * C waits on C++ counters, and engine threads submitting both at once.
 */
#include <thread>
#include <vector>

#include "check.hpp"

static std::atomic<long> c_runs{0};

static void c_leaf(fj_ctx *ctx, void *arg) {
  (void)ctx;
  c_runs += (long)(intptr_t)arg;
}

// A C job that uses the C++ layer for its children.
static void c_parent(fj_ctx *cctx, void *arg) {
  auto *sum = static_cast<std::atomic<long> *>(arg);
  fj::Ctx ctx(cctx);
  fj::Counter kids(ctx);
  ctx.spawn_many(kids, 5, [sum](fj::Ctx &, std::size_t i) { *sum += (long)i; });
  ctx.spawn(kids, [sum] { *sum += 100; });
  ctx.wait(kids);
}

static void mixed(unsigned workers, int yielding) {
  fj::System sys = make_system(workers, yielding);
  fj::Counter c(sys);
  c_runs = 0;

  // C jobs counted on a C++ counter, waited with both APIs.
  for (int i = 0; i < 10; i++)
    CHECK_OK(fj_run(sys.get(), c_leaf, (void *)(intptr_t)1, FJ_PRIORITY_NORMAL, c.get()));
  CHECK_OK(fj_wait(sys.get(), c.get()));
  CHECK_EQ(c_runs.load(), 10);
  for (int i = 0; i < 10; i++)
    CHECK_OK(fj_run(sys.get(), c_leaf, (void *)(intptr_t)1, FJ_PRIORITY_NORMAL, c.get()));
  c.wait();
  CHECK_EQ(c_runs.load(), 20);

  // A C job spawning lambdas.
  std::atomic<long> sum{0};
  CHECK_OK(fj_run(sys.get(), c_parent, &sum, FJ_PRIORITY_NORMAL, c.get()));
  c.wait();
  CHECK_EQ(sum.load(), 110);

  // A lambda spawning C jobs on a C++ counter and on a C counter.
  fj_counter *raw = test_counter(sys.get());
  sys.run(c, [raw](fj::Ctx &ctx) {
    fj::Counter kids(ctx);
    fj_job jobs[3] = {{c_leaf, (void *)(intptr_t)10}, {c_leaf, (void *)(intptr_t)10},
                      {c_leaf, (void *)(intptr_t)10}};
    CHECK_OK(fj_ctx_spawn_jobs(ctx.get(), jobs, 3, FJ_PRIORITY_HIGH, kids.get()));
    CHECK_OK(fj_ctx_spawn(ctx.get(), c_leaf, (void *)(intptr_t)5, FJ_PRIORITY_LOW, raw));
    ctx.wait(kids);
    CHECK_OK(fj_ctx_wait(ctx.get(), raw));
    CHECK(fj_current_ctx() != nullptr);
    CHECK(ctx.system() == fj_ctx_system(ctx.get()));
  });
  c.wait();
  CHECK_EQ(c_runs.load(), 55);
  CHECK_EQ(fj_counter_value(raw), 0);
  fj_counter_destroy(raw);

  // Engine threads submit C and C++ jobs concurrently on their own counters.
  const long per_thread = test_scaled(2000);
  std::vector<std::thread> engine;
  std::atomic<long> lambdas{0};
  c_runs = 0;
  for (int t = 0; t < 3; t++)
    engine.emplace_back([&] {
      fj::Counter mine(sys);
      for (long i = 0; i < per_thread; i++) {
        if (i % 2)
          sys.run(mine, [&lambdas] { lambdas++; });
        else
          CHECK_OK(fj_run(sys.get(), c_leaf, (void *)(intptr_t)1, FJ_PRIORITY_NORMAL, mine.get()));
      }
      mine.wait();
    });
  for (auto &t : engine)
    t.join();
  CHECK_EQ(lambdas.load() + c_runs.load(), 3 * per_thread);

  fj_stats st;
  CHECK_OK(fj_system_stats(sys.get(), &st));
  CHECK(st.jobs_run > 0);
  CHECK_EQ(sys.num_workers(), workers);
}

int main() {
  FOR_EACH_SETUP(mixed);
  std::printf("test_cpp_mixed: ok\n");
  return 0;
}
