// SPDX-License-Identifier: MIT
/*
 * fiberjob.hpp — a header-only C++17 layer over the C API in fiberjob.h:
 * lambda jobs, RAII counters, and exceptions that reach the waiter.
 *
 *   fj::System sys;                       // workers start; the destructor drains and joins
 *   fj::Counter done(sys);
 *   sys.run(done, [&](fj::Ctx &ctx) { ... ctx.spawn(...); ctx.wait(...); });
 *   done.wait();                          // rethrows what a job counted on `done` threw
 *
 * Jobs.  Any callable taking (fj::Ctx &) — or () — is a job; run_many and
 * spawn_many take (fj::Ctx &, std::size_t i).  The callable is moved (or
 * copied, for an lvalue) into a box that lives until the job returned; its
 * captures, move-only ones included, are destroyed on the worker right after
 * the job body ends, on every path (normal return, exception), and before the
 * job is counted finished — so once a wait on its counter returned, every
 * capture of every job counted on it is gone.  If submission fails the box is
 * destroyed at once and fj::Error is thrown; nothing is submitted.
 * Boxes come from a per-thread cache of fixed 128-byte blocks: a job whose
 * callable is at most 120 bytes (any lambda with a few captures), and a
 * run_many/spawn_many of up to about ten jobs with a small callable, do not
 * touch the heap once the cache is warm.  run_many/spawn_many keep ONE
 * callable shared by all n jobs and call it concurrently, as const.
 *
 * Exceptions.  An exception leaving a job body is caught at the job boundary
 * (no exception ever unwinds into C or fiber-switch frames) and stored with
 * the fj::Counter the job was counted on.  Counter::wait, Counter::wait_for
 * and Ctx::wait rethrow the FIRST stored exception once the counter reached
 * zero and clear it, so the counter can be reused.  A second and later
 * exception thrown while one is already stored is DROPPED (destroyed) and
 * counted: Counter::dropped_exceptions() returns how many were dropped over
 * the counter's life.  The other jobs keep running either way.  A stored
 * exception nobody waited for is destroyed with the counter.  A job body's
 * callable destructor must not throw (that terminates, as for any noexcept
 * destructor).
 *
 * Suspending with exceptions in flight.  libstdc++ and libc++abi keep the
 * "current exception" bookkeeping per thread, but a fiber may resume on
 * another thread.  Ctx::yield, Ctx::wait and Counter::wait carry the calling
 * fiber's bookkeeping across the switch, so yielding or waiting inside a
 * catch block, or in a destructor run during unwinding, is safe.  Calling the
 * C functions fj_ctx_yield / fj_ctx_wait / fj_wait directly from C++ code in
 * such a spot is not (use the members here).
 *
 * Threads.  fj::System and fj::Counter members may be called from any thread
 * (plain threads and jobs) unless a member says otherwise; fj::Ctx members
 * only from the job the Ctx was handed to.  See fiberjob.h on thread-local
 * variables across a yield or wait.
 *
 * Mixing with C.  System::get(), Counter::get() and Ctx::get() give the C
 * handles; a C job can wrap its fj_ctx * in fj::Ctx to spawn lambdas.  Jobs
 * submitted through the C API with a C++ counter's get() are counted as usual
 * (they cannot throw, so nothing is stored for them).
 */
#ifndef FIBERJOB_HPP
#define FIBERJOB_HPP

#include <fiberjob.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#if defined(__GLIBCXX__) || defined(_LIBCPPABI_VERSION) || defined(_LIBCPP_VERSION)
#include <cxxabi.h>
#define FJ__CXX_EH_GLOBALS 1
#endif

namespace fj {

enum class Priority { High = FJ_PRIORITY_HIGH, Normal = FJ_PRIORITY_NORMAL, Low = FJ_PRIORITY_LOW };

// Thrown for every FJ_E... the C API returns; code() is that value, what()
// names the call and carries fj_strerror's text.
class Error : public std::runtime_error {
 public:
  explicit Error(int code, const char *call = "fiberjob")
      : std::runtime_error(std::string(call) + ": " + fj_strerror(code)), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

class System;
class Counter;
class Ctx;

namespace detail {

[[noreturn]] inline void fatal(const char *msg) noexcept {
  std::fprintf(stderr, "fiberjob.hpp: %s\n", msg);
  std::abort();
}

inline void check(int r, const char *call) {
  if (r != FJ_OK)
    throw Error(r, call);
}

// ---- exceptions stored with a counter ------------------------------------

// The first exception thrown by a job counted on a counter, and how many
// later ones were dropped.  Jobs store concurrently; waiters take.  A tiny
// spinlock guards the exception_ptr: it is held for a pointer copy only, and
// only on the exceptional path (has_ keeps waits without exceptions lock-free).
class ExceptionSlot {
 public:
  ExceptionSlot() noexcept = default;
  ExceptionSlot(const ExceptionSlot &) = delete;
  ExceptionSlot &operator=(const ExceptionSlot &) = delete;

  // Called by a job's catch block.  Never throws, never allocates.
  void store(std::exception_ptr e) noexcept {
    lock();
    if (!first_) {
      first_ = std::move(e);
      // relaxed: first_ itself is published by unlock()'s release.
      has_.store(true, std::memory_order_relaxed);
    } else {
      dropped_++;
    }
    unlock();
  }

  // After the counter reached zero: rethrows the stored exception, if any,
  // leaving the slot empty.  The job stored it before it was counted
  // finished, and the counter's zero-crossing orders that store before a
  // wait's return; has_ is read relaxed on that basis, and the lock's
  // acquire then orders first_ itself.
  void rethrow_if_any() {
    if (!has_.load(std::memory_order_relaxed))
      return;
    std::exception_ptr e = take();
    if (e)
      std::rethrow_exception(std::move(e));
  }

  std::exception_ptr take() noexcept {
    lock();
    std::exception_ptr e = std::move(first_);
    first_ = nullptr;
    has_.store(false, std::memory_order_relaxed);
    unlock();
    return e;
  }

  // Moves the contents of other into this (both idle).
  void take_from(ExceptionSlot &other) noexcept {
    std::exception_ptr e = other.take();
    other.lock();
    std::size_t d = std::exchange(other.dropped_, 0);
    other.unlock();
    std::exception_ptr old = take(); // destroyed outside the lock
    lock();
    first_ = std::move(e);
    has_.store(first_ != nullptr, std::memory_order_relaxed);
    dropped_ = d;
    unlock();
  }

  std::size_t dropped() const noexcept {
    lock();
    std::size_t d = dropped_;
    unlock();
    return d;
  }

 private:
  void lock() const noexcept {
    // acquire: pairs with the release in unlock(); orders first_ and dropped_.
    while (busy_.exchange(true, std::memory_order_acquire))
      while (busy_.load(std::memory_order_relaxed))
        ;
  }
  void unlock() const noexcept { busy_.store(false, std::memory_order_release); }

  mutable std::atomic<bool> busy_{false};
  std::atomic<bool> has_{false}; // first_ is set; a hint for the lock-free fast path
  std::exception_ptr first_;     // guarded by busy_
  std::size_t dropped_ = 0;      // guarded by busy_
};

// ---- the exception bookkeeping of a fiber across a switch -----------------

// The Itanium C++ ABI's per-thread exception state (caught-exception stack,
// uncaught count).  A fiber that suspends while it holds some takes it along:
// stash() moves it off the thread before the switch, restore() puts it on
// whichever thread resumed the fiber.  Both are out of line on purpose:
// __cxa_get_globals is declared const, and compilers may also cache a
// thread-local address across a call, so the two reads must be in separate,
// opaque functions.
struct EhState {
  void *caught = nullptr;
  unsigned int uncaught = 0;
};

#if defined(FJ__CXX_EH_GLOBALS)
struct EhGlobalsLayout { // as the Itanium ABI lays out __cxa_eh_globals
  void *caught;
  unsigned int uncaught;
};

[[gnu::noinline]] inline EhState eh_stash() noexcept {
  auto *g = reinterpret_cast<EhGlobalsLayout *>(abi::__cxa_get_globals());
  asm volatile("" ::: "memory");
  EhState s{g->caught, g->uncaught};
  g->caught = nullptr;
  g->uncaught = 0;
  return s;
}

[[gnu::noinline]] inline void eh_restore(EhState s) noexcept {
  auto *g = reinterpret_cast<EhGlobalsLayout *>(abi::__cxa_get_globals());
  asm volatile("" ::: "memory");
  // The worker loop runs C code only, so the thread holds no state of its own.
  if (g->caught || g->uncaught)
    fatal("a fiber resumed on a thread holding exception state of another job "
          "(did C++ code suspend through the C API inside a catch block?)");
  g->caught = s.caught;
  g->uncaught = s.uncaught;
}
#else
inline EhState eh_stash() noexcept { return {}; }
inline void eh_restore(EhState) noexcept {}
#endif

// Runs a call that may switch fibers with the exception state carried along.
// call must not throw (it only calls the C API).
template <class Call> int suspending(Call &&call) noexcept {
  EhState s = eh_stash();
  int r = call();
  eh_restore(s);
  return r;
}

// ---- job boxes -----------------------------------------------------------

// Fixed blocks for job boxes.  Each thread keeps a free list; a thread that
// frees more than it allocates (a worker running externally submitted jobs)
// hands batches to a shared depot, where a thread that allocates more than it
// frees (the submitting thread) picks them up.  Blocks migrate between
// threads only through job submission, which orders them (fj_run publishes the
// job with release semantics; the worker takes it with acquire).
constexpr std::size_t kBoxBytes = 128;
constexpr std::size_t kBoxAlign = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
// A thread keeps at most kBoxThreadMax - 1 blocks; past that it hands the
// older kBoxBatch on.  So the blocks that exist, once warm, stay bounded by
// about (threads + depot batches) * kBoxThreadMax, whatever the job count.
constexpr unsigned kBoxBatch = 32;                // blocks moved to/from the depot at once
constexpr unsigned kBoxThreadMax = 2 * kBoxBatch; // per-thread cache limit
constexpr unsigned kBoxDepotMaxBatches = 128;

struct FreeBlock {
  FreeBlock *next;       // within a thread list or a batch
  FreeBlock *next_batch; // valid in a batch's first block while in the depot
};
static_assert(sizeof(FreeBlock) <= kBoxBytes, "box blocks hold a free-list link");

class BoxDepot {
 public:
  ~BoxDepot() {
    while (batches_) {
      FreeBlock *b = batches_;
      batches_ = b->next_batch;
      release_chain(b);
    }
  }
  // Takes ownership of a chain of kBoxBatch blocks.
  void put(FreeBlock *chain) noexcept {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (count_ < kBoxDepotMaxBatches) {
        chain->next_batch = batches_;
        batches_ = chain;
        count_++;
        return;
      }
    }
    release_chain(chain);
  }
  // A chain of kBoxBatch blocks, or nullptr.
  FreeBlock *get() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    FreeBlock *b = batches_;
    if (b) {
      batches_ = b->next_batch;
      count_--;
    }
    return b;
  }
  static void release_chain(FreeBlock *b) noexcept {
    while (b) {
      FreeBlock *n = b->next;
      ::operator delete(b);
      b = n;
    }
  }

 private:
  std::mutex mu_;
  FreeBlock *batches_ = nullptr;
  unsigned count_ = 0;
};

inline BoxDepot &box_depot() noexcept {
  static BoxDepot depot; // destroyed at exit, after the main thread's cache
  return depot;
}

struct BoxCache {
  FreeBlock *head = nullptr;
  unsigned count = 0;
  ~BoxCache() { BoxDepot::release_chain(head); }
};

// Out of line and opaque: a fiber may resume on another thread between two
// calls in one function, and each call must find the thread it runs on now.
[[gnu::noinline]] inline BoxCache *box_cache() noexcept {
  static thread_local BoxCache cache;
  BoxCache *c = &cache;
  asm volatile("" : "+r"(c)::"memory");
  return c;
}

inline void *box_alloc() {
  BoxCache *c = box_cache();
  if (!c->head) {
    c->head = box_depot().get();
    c->count = c->head ? kBoxBatch : 0;
    if (!c->head)
      return ::operator new(kBoxBytes);
  }
  FreeBlock *b = c->head;
  c->head = b->next;
  c->count--;
  return b;
}

inline void box_free(void *p) noexcept {
  BoxCache *c = box_cache();
  auto *b = static_cast<FreeBlock *>(p);
  b->next = c->head;
  c->head = b;
  if (++c->count < kBoxThreadMax)
    return;
  // Keep the newest kBoxBatch (warm in cache); hand the older ones on.
  FreeBlock *last = c->head;
  for (unsigned i = 1; i < kBoxBatch; i++)
    last = last->next;
  FreeBlock *chain = last->next;
  last->next = nullptr;
  c->count = kBoxBatch;
  box_depot().put(chain);
}

template <class T> constexpr bool fits_box() {
  return sizeof(T) <= kBoxBytes && alignof(T) <= kBoxAlign;
}

// Storage for a T: a cached block when it fits, the heap otherwise.
template <class T> void *storage_alloc(std::size_t bytes) {
  if (bytes <= kBoxBytes && alignof(T) <= kBoxAlign)
    return box_alloc();
  return ::operator new(bytes, std::align_val_t(alignof(T)));
}

template <class T> void storage_free(void *p, std::size_t bytes) noexcept {
  if (bytes <= kBoxBytes && alignof(T) <= kBoxAlign)
    box_free(p);
  else
    ::operator delete(p, std::align_val_t(alignof(T)));
}

template <class Fn> constexpr bool is_job_v = std::is_invocable_v<Fn &, Ctx &> || std::is_invocable_v<Fn &>;
template <class Fn>
constexpr bool is_many_job_v = std::is_invocable_v<const Fn &, Ctx &, std::size_t>;

template <class Fn> void invoke_job(Fn &fn, Ctx &ctx) {
  if constexpr (std::is_invocable_v<Fn &, Ctx &>)
    fn(ctx);
  else
    fn();
}

// One job: the callable and where its exception goes.
template <class Fn> struct OneBox {
  template <class F>
  OneBox(F &&f, ExceptionSlot *s) : fn(std::forward<F>(f)), slot(s) {}
  Fn fn;
  ExceptionSlot *slot;

  template <class F> static OneBox *make(F &&f, ExceptionSlot *s) {
    void *mem = storage_alloc<OneBox>(sizeof(OneBox));
    try {
      return ::new (mem) OneBox(std::forward<F>(f), s);
    } catch (...) {
      storage_free<OneBox>(mem, sizeof(OneBox));
      throw;
    }
  }
  static void destroy(OneBox *b) noexcept {
    b->~OneBox();
    storage_free<OneBox>(b, sizeof(OneBox));
  }
  static void entry(fj_ctx *c, void *arg) noexcept;
};

// n jobs sharing one callable; followed in the same block by n back-pointers
// (each job's argument is its own back-pointer, so the index is its offset).
template <class Fn> struct ManyBox {
  template <class F>
  ManyBox(F &&f, ExceptionSlot *s, std::size_t count)
      : fn(std::forward<F>(f)), slot(s), n(count), refs(count) {}
  Fn fn;
  ExceptionSlot *slot;
  std::size_t n;
  std::atomic<std::size_t> refs; // jobs that have not finished with fn yet

  static std::size_t bytes(std::size_t n) { return offset() + n * sizeof(ManyBox *); }
  static constexpr std::size_t offset() {
    return (sizeof(ManyBox) + alignof(ManyBox *) - 1) / alignof(ManyBox *) * alignof(ManyBox *);
  }
  ManyBox **backs() noexcept {
    return reinterpret_cast<ManyBox **>(reinterpret_cast<char *>(this) + offset());
  }
  template <class F> static ManyBox *make(F &&f, ExceptionSlot *s, std::size_t n) {
    if (n > (SIZE_MAX - offset()) / sizeof(ManyBox *))
      throw Error(FJ_ENOMEM, "run_many");
    std::size_t sz = bytes(n);
    void *mem = storage_alloc<ManyBox>(sz);
    ManyBox *b;
    try {
      b = ::new (mem) ManyBox(std::forward<F>(f), s, n);
    } catch (...) {
      storage_free<ManyBox>(mem, sz);
      throw;
    }
    ManyBox **back = b->backs();
    for (std::size_t i = 0; i < n; i++)
      back[i] = b;
    return b;
  }
  static void destroy(ManyBox *b) noexcept {
    std::size_t sz = bytes(b->n);
    b->~ManyBox();
    storage_free<ManyBox>(b, sz);
  }
  static void entry(fj_ctx *c, void *arg) noexcept;
};

// Builds the C job array for n jobs of one ManyBox and hands it to submit.
template <class Fn, class Submit> int submit_many(ManyBox<Fn> *b, std::size_t n, Submit &&submit) {
  constexpr std::size_t kOnStack = 16;
  fj_job on_stack[kOnStack];
  std::unique_ptr<fj_job[]> on_heap;
  fj_job *jobs = on_stack;
  if (n > kOnStack) {
    on_heap.reset(new (std::nothrow) fj_job[n]);
    if (!on_heap)
      return FJ_ENOMEM;
    jobs = on_heap.get();
  }
  ManyBox<Fn> **back = b->backs();
  for (std::size_t i = 0; i < n; i++)
    jobs[i] = fj_job{&ManyBox<Fn>::entry, &back[i]};
  return submit(jobs, n);
}

template <class F> void check_job() {
  static_assert(is_job_v<std::decay_t<F>>,
                "a job is a callable taking (fj::Ctx &) or ()");
  static_assert(std::is_constructible_v<std::decay_t<F>, F &&>,
                "the job's callable must be movable (or copyable, for an lvalue)");
}

template <class F> void check_many_job() {
  static_assert(is_many_job_v<std::decay_t<F>>,
                "run_many/spawn_many call one shared callable as const from several threads at "
                "once: it must be callable as (fj::Ctx &, std::size_t) on a const object");
  static_assert(std::is_constructible_v<std::decay_t<F>, F &&>,
                "the job's callable must be movable (or copyable, for an lvalue)");
}

} // namespace detail

// ---- fj::System ------------------------------------------------------------

// Owns an fj_system.  Not copyable, movable.  The destructor runs
// fj_system_destroy: it runs every submitted job to completion, then joins the
// workers; it must not run inside one of this system's jobs (that aborts).
class System {
 public:
  // Starts `workers` worker threads (0 = one per online CPU).  Throws Error.
  explicit System(unsigned workers = 0) {
    fj_config cfg;
    fj_config_init(&cfg);
    cfg.num_workers = workers;
    detail::check(fj_system_create(&cfg, &sys_), "fj_system_create");
  }
  // Starts a system from a filled fj_config (fj_config_init first).  Throws
  // Error (FJ_ECONFIG, FJ_ENOMEM, FJ_ETHREAD).
  explicit System(const fj_config &cfg) {
    detail::check(fj_system_create(&cfg, &sys_), "fj_system_create");
  }
  ~System() { fj_system_destroy(sys_); }
  System(const System &) = delete;
  System &operator=(const System &) = delete;
  System(System &&o) noexcept : sys_(std::exchange(o.sys_, nullptr)) {}
  System &operator=(System &&o) noexcept {
    if (this != &o) {
      fj_system_destroy(sys_);
      sys_ = std::exchange(o.sys_, nullptr);
    }
    return *this;
  }

  // The C handle, for mixing with the C API; still owned by this object
  // (nullptr after a move).  Threads: any.
  fj_system *get() const noexcept { return sys_; }
  unsigned num_workers() const noexcept { return fj_system_num_workers(sys_); }

  // Submits one job f(fj::Ctx &) counted on c.  From a plain thread it goes
  // to the shared queue; from inside a job of this system it is a spawn.
  // Throws Error (FJ_EPRIORITY, FJ_EWRONGSYSTEM, FJ_ESHUTDOWN, FJ_EINVAL for
  // a moved-from counter, ...); then nothing was submitted.
  // Threads: any.  Suspends: no.
  template <class F> void run(Counter &c, F &&f, Priority p = Priority::Normal);

  // Submits n jobs f(fj::Ctx &, i), i = 0..n-1, sharing one callable (called
  // concurrently, as const), counted on c.  n == 0 submits nothing.  Errors,
  // threads and suspension as run(); on error none of the n was submitted.
  template <class F>
  void run_many(Counter &c, std::size_t n, F &&f, Priority p = Priority::Normal);

 private:
  fj_system *sys_ = nullptr;
};

// ---- fj::Counter -----------------------------------------------------------

// Owns an fj_counter and the first exception of the jobs counted on it.
// Not copyable; movable while no job is counted on it (moving one with
// unfinished jobs aborts with a message: the jobs hold its address).
// The destructor first waits for jobs still counted on it (so leaving a scope
// early, by return or exception, never leaves a job behind that refers to the
// scope's locals), drops an exception nobody waited for, then frees the
// counter.  The counter may outlive its System.
class Counter {
 public:
  // A counter of s.  Throws Error (FJ_EINVAL for a moved-from System,
  // FJ_ENOMEM, FJ_ESHUTDOWN).  Threads: any.
  explicit Counter(System &s) : sys_(s.get()) {
    detail::check(fj_counter_create(sys_, &c_), "fj_counter_create");
  }
  // A counter of the system the calling job runs on.  Threads: the job owning ctx.
  explicit Counter(Ctx &ctx);

  ~Counter() {
    if (!c_)
      return;
    // During unwinding a rethrow would terminate: wait, ignore the exception.
    if (fj_counter_value(c_) != 0)
      detail::suspending([&] { return fj_wait(sys_, c_); });
    fj_counter_destroy(c_); // aborts with a message if jobs are still counted
  }

  Counter(const Counter &) = delete;
  Counter &operator=(const Counter &) = delete;
  Counter(Counter &&o) noexcept : c_(o.c_), sys_(o.sys_) {
    o.require_idle();
    o.c_ = nullptr;
    slot_.take_from(o.slot_);
  }
  Counter &operator=(Counter &&o) noexcept {
    if (this == &o)
      return *this;
    o.require_idle();
    require_idle();
    fj_counter_destroy(c_);
    c_ = std::exchange(o.c_, nullptr);
    sys_ = o.sys_;
    slot_.take_from(o.slot_);
    return *this;
  }

  // Blocks until the counter is zero (from inside a job: suspends the job,
  // like Ctx::wait), then rethrows the first exception a job counted on it
  // threw, clearing it.  Throws Error for FJ_E... codes (FJ_EINVAL for a
  // moved-from counter).  Threads: any.  Suspends: yes, when called from a job.
  void wait() {
    fj_counter *h = handle("fj::Counter::wait");
    detail::check(detail::suspending([&] { return fj_wait(sys_, h); }), "fj_wait");
    slot_.rethrow_if_any();
  }

  // As wait() from a plain thread, giving up after timeout (negative = 0):
  // false on timeout (a stored exception stays stored), true once zero (after
  // rethrowing like wait()).  From inside a job: throws Error(FJ_EINJOB).
  // Threads: plain threads.  Suspends: no.
  bool wait_for(std::chrono::nanoseconds timeout) {
    std::uint64_t ns = timeout.count() > 0 ? static_cast<std::uint64_t>(timeout.count()) : 0;
    int r = fj_wait_timeout(sys_, handle("fj::Counter::wait_for"), ns);
    if (r == FJ_ETIMEDOUT)
      return false;
    detail::check(r, "fj_wait_timeout");
    slot_.rethrow_if_any();
    return true;
  }

  // Jobs counted on it that are not finished (0 after a move).  May be stale
  // by the time it is used.  Threads: any.
  std::size_t value() const noexcept { return fj_counter_value(c_); }

  // Exceptions dropped because one was already stored (see the top of this
  // file), over the counter's life.  Threads: any.
  std::size_t dropped_exceptions() const noexcept { return slot_.dropped(); }

  // The C handle (owned by this object; nullptr after a move), e.g. to count
  // C jobs on it or wait with fj_wait.  Threads: any.
  fj_counter *get() const noexcept { return c_; }

 private:
  friend class System;
  friend class Ctx;

  fj_counter *handle(const char *call) const {
    if (!c_)
      throw Error(FJ_EINVAL, (std::string(call) + " (moved-from fj::Counter)").c_str());
    return c_;
  }
  void require_idle() const noexcept {
    if (c_ && fj_counter_value(c_) != 0)
      detail::fatal("an fj::Counter with unfinished jobs was moved or assigned to "
                    "(its jobs hold its address)");
  }

  fj_counter *c_ = nullptr;
  fj_system *sys_ = nullptr;
  detail::ExceptionSlot slot_;
};

// ---- fj::Ctx ---------------------------------------------------------------

// What a running job gets: wraps the job's fj_ctx.  Valid only inside that
// job; every member may be called only from it.
class Ctx {
 public:
  // Wraps the ctx a C job was handed, to use the C++ layer from a C job.
  explicit Ctx(fj_ctx *c) noexcept : c_(c) {}
  Ctx(const Ctx &) = delete;
  Ctx &operator=(const Ctx &) = delete;

  // As System::run, from inside a job: the jobs go to this worker's own
  // queue.  Throws Error.  Suspends: no.
  template <class F> void spawn(Counter &c, F &&f, Priority p = Priority::Normal);
  template <class F>
  void spawn_many(Counter &c, std::size_t n, F &&f, Priority p = Priority::Normal);

  // Suspends this job until c is zero (the worker runs other work), then
  // rethrows the first stored exception like Counter::wait.  Waiting on the
  // counter this very job is counted on throws Error(FJ_EDEADLK).
  // Suspends: yes; the job may resume on another worker.
  void wait(Counter &c) {
    if (own_ && own_ == &c.slot_)
      throw Error(FJ_EDEADLK, "fj::Ctx::wait");
    fj_counter *h = c.handle("fj::Ctx::wait");
    detail::check(detail::suspending([&] { return fj_ctx_wait(c_, h); }), "fj_ctx_wait");
    c.slot_.rethrow_if_any();
  }

  // Lets other ready work of the same or higher priority run (fj_ctx_yield).
  // Suspends: yes; the job may resume on another worker.
  void yield() {
    detail::check(detail::suspending([&] { return fj_ctx_yield(c_); }), "fj_ctx_yield");
  }

  // The worker running the job now; may change after yield() or wait().
  unsigned worker() const noexcept { return fj_ctx_worker(c_); }
  Priority priority() const noexcept { return static_cast<Priority>(fj_ctx_priority(c_)); }
  // The C handles (not owned), for mixing with the C API.
  fj_ctx *get() const noexcept { return c_; }
  fj_system *system() const noexcept { return fj_ctx_system(c_); }

 private:
  template <class Fn> friend struct detail::OneBox;
  template <class Fn> friend struct detail::ManyBox;
  Ctx(fj_ctx *c, const detail::ExceptionSlot *own) noexcept : c_(c), own_(own) {}

  fj_ctx *c_;
  const detail::ExceptionSlot *own_ = nullptr; // the counter counting this job
};

// ---- out-of-line definitions ------------------------------------------------

inline Counter::Counter(Ctx &ctx) : sys_(ctx.system()) {
  detail::check(fj_counter_create(sys_, &c_), "fj_counter_create");
}

namespace detail {

template <class Fn> void OneBox<Fn>::entry(fj_ctx *c, void *arg) noexcept {
  auto *b = static_cast<OneBox *>(arg);
  {
    Ctx ctx(c, b->slot);
    try {
      invoke_job(b->fn, ctx);
    } catch (...) {
      b->slot->store(std::current_exception());
    }
  }
  destroy(b); // before returning: the job counts as finished only after this
}

template <class Fn> void ManyBox<Fn>::entry(fj_ctx *c, void *arg) noexcept {
  auto **back = static_cast<ManyBox **>(arg);
  ManyBox *b = *back;
  std::size_t i = static_cast<std::size_t>(back - b->backs());
  {
    Ctx ctx(c, b->slot);
    try {
      const Fn &fn = b->fn;
      fn(ctx, i);
    } catch (...) {
      b->slot->store(std::current_exception());
    }
  }
  // acq_rel: the last job sees every other job's use of fn before destroying it.
  if (b->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
    destroy(b); // before returning, as in OneBox::entry
}

// Boxes f, hands the C job(s) to submit(jobs, n) and throws what it returns;
// on error the box is destroyed (nothing was submitted).
template <class F, class Submit>
void submit_one(ExceptionSlot *slot, F &&f, Submit &&submit, const char *call) {
  using Box = OneBox<std::decay_t<F>>;
  Box *b = Box::make(std::forward<F>(f), slot);
  int r = submit(&Box::entry, static_cast<void *>(b));
  if (r != FJ_OK) {
    Box::destroy(b);
    throw Error(r, call);
  }
}

template <class F, class Submit>
void submit_many_jobs(std::size_t n, ExceptionSlot *slot, F &&f, Submit &&submit,
                      const char *call) {
  if (n == 0)
    return;
  using Box = ManyBox<std::decay_t<F>>;
  Box *b = Box::make(std::forward<F>(f), slot, n);
  int r = submit_many(b, n, submit);
  if (r != FJ_OK) {
    Box::destroy(b);
    throw Error(r, call);
  }
}

} // namespace detail

template <class F> void System::run(Counter &c, F &&f, Priority p) {
  detail::check_job<F>();
  fj_counter *h = c.handle("fj::System::run");
  detail::submit_one(&c.slot_, std::forward<F>(f),
                     [&](fj_job_fn fn, void *arg) {
                       return fj_run(sys_, fn, arg, static_cast<fj_priority>(p), h);
                     },
                     "fj_run");
}

template <class F> void System::run_many(Counter &c, std::size_t n, F &&f, Priority p) {
  detail::check_many_job<F>();
  fj_counter *h = c.handle("fj::System::run_many");
  detail::submit_many_jobs(n, &c.slot_, std::forward<F>(f),
                           [&](const fj_job *jobs, std::size_t k) {
                             return fj_run_jobs(sys_, jobs, k, static_cast<fj_priority>(p), h);
                           },
                           "fj_run_jobs");
}

template <class F> void Ctx::spawn(Counter &c, F &&f, Priority p) {
  detail::check_job<F>();
  fj_counter *h = c.handle("fj::Ctx::spawn");
  detail::submit_one(&c.slot_, std::forward<F>(f),
                     [&](fj_job_fn fn, void *arg) {
                       return fj_ctx_spawn(c_, fn, arg, static_cast<fj_priority>(p), h);
                     },
                     "fj_ctx_spawn");
}

template <class F> void Ctx::spawn_many(Counter &c, std::size_t n, F &&f, Priority p) {
  detail::check_many_job<F>();
  fj_counter *h = c.handle("fj::Ctx::spawn_many");
  detail::submit_many_jobs(n, &c.slot_, std::forward<F>(f),
                           [&](const fj_job *jobs, std::size_t k) {
                             return fj_ctx_spawn_jobs(c_, jobs, k, static_cast<fj_priority>(p), h);
                           },
                           "fj_ctx_spawn_jobs");
}
} // namespace fj

#endif // FIBERJOB_HPP
