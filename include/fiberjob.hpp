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
 * spawn_many take (fj::Ctx &, std::size_t i) and keep ONE callable shared by
 * all n jobs, called concurrently, as const.  The callable is moved (or
 * copied, for an lvalue) into a box; its captures, move-only ones included,
 * are destroyed after the job body ended, on every path (normal return,
 * exception):
 *   - in general on the worker, right after the body, before the job is
 *     counted finished (for run_many/spawn_many: after the last of the n),
 *     so once a wait on the counter returned they are gone;
 *   - for jobs a job spawns on a counter it created itself (Counter(Ctx &),
 *     the fork-join case) the counter owns the boxes and destroys them when
 *     that job's own next wait on it returns (Ctx::wait or Counter::wait),
 *     or when the counter is destroyed or moved.  A wait by anyone else does
 *     not destroy them (the creating job may be spawning at that moment).
 * If submission fails the box is destroyed at once and fj::Error is thrown;
 * nothing is submitted.  Where boxes live: a counter created in a job keeps
 * its own jobs' boxes in a 160-byte arena inside the fj::Counter (two
 * children with small captures, or a spawn_many of about ten); otherwise a
 * box comes from a per-thread cache of fixed 128-byte blocks (a callable of
 * up to 96 bytes, or a *_many of up to 127 jobs with a small
 * callable); bigger ones from the heap.  So small jobs do not touch the heap
 * once the cache is warm.
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
 * another thread, and other jobs run on this one meanwhile.  The library
 * carries a fiber's bookkeeping across every wait (fiberjob.h, "C++
 * exception state"), and Ctx::yield carries it across a yield, so yielding
 * or waiting inside a catch block, or in a destructor run during unwinding,
 * is safe.  The one call that does not carry it is the C function
 * fj_ctx_yield (its fast path stays a few instructions): in such a spot,
 * yield with Ctx::yield.
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

// Out of line and cold: the message building stays out of the callers'
// hot paths (and their register allocation).
[[noreturn, gnu::noinline, gnu::cold]] inline void throw_error(int r, const char *call) {
  throw Error(r, call);
}

inline void check(int r, const char *call) {
  if (r != FJ_OK)
    throw_error(r, call);
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

// ---- per-thread state ---------------------------------------------------

// Job boxes are fixed blocks.  Each thread keeps a free list; a thread that
// frees more than it allocates (a worker running externally submitted jobs)
// hands batches to a shared depot, where a thread that allocates more than it
// frees (the submitting thread) picks them up.  Blocks migrate between
// threads only through job submission, which orders them (fj_run publishes the
// job with release semantics; the worker takes it with acquire).
constexpr std::size_t kBoxBytes = 128;
// Blocks are aligned to their size: a small box starts a cache line, and a
// small ManyBox's n job arguments can be addresses inside its block (see
// ManyBox), with no per-job storage at all.
constexpr std::size_t kBoxAlign = kBoxBytes;
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

enum class Reaper : unsigned char { None, Registered, Done };

// What the layer keeps per thread.  Constant-initialized and trivially
// destructible, so reaching it is one TLS access without an init guard; a
// ThreadReaper, registered the first time the cache holds blocks, frees them
// at thread exit.  Touched only by its own thread.
struct ThreadState {
  FreeBlock *head;     // the box cache
  unsigned count;      // blocks in it
  Reaper reaper;
  void *eh_globals;    // this thread's __cxa_eh_globals, looked up once
};

// Only ever called from the out-of-line functions below (box_alloc,
// box_free, eh_stash, eh_restore), none of which suspends: a fiber may
// resume on another thread between two calls in one function, and a
// compiler may reuse a thread-local address within a function (see
// fiberjob.h), so each access must sit in its own opaque call.
inline ThreadState *thread_state() noexcept {
  static thread_local ThreadState state{nullptr, 0, Reaper::None, nullptr};
  return &state;
}

inline void *block_new() { return ::operator new(kBoxBytes, std::align_val_t(kBoxAlign)); }
inline void block_delete(void *p) noexcept { ::operator delete(p, std::align_val_t(kBoxAlign)); }

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
      block_delete(b);
      b = n;
    }
  }

 private:
  std::mutex mu_;
  FreeBlock *batches_ = nullptr;
  unsigned count_ = 0;
};

inline BoxDepot &box_depot() noexcept {
  static BoxDepot depot; // destroyed at exit, after the main thread's reaper ran
  return depot;
}

struct ThreadReaper {
  ~ThreadReaper() {
    ThreadState *t = thread_state();
    BoxDepot::release_chain(t->head);
    t->head = nullptr;
    t->count = 0;
    t->reaper = Reaper::Done; // later frees on this thread go to the heap
  }
};

// The cache's slow path: registers the reaper once.  False once it ran.
inline bool cache_usable(ThreadState *t) noexcept {
  if (t->reaper == Reaper::None) {
    static thread_local ThreadReaper reaper;
    (void)reaper;
    t->reaper = Reaper::Registered;
  }
  return t->reaper == Reaper::Registered;
}

[[gnu::noinline]] inline void *box_alloc() {
  ThreadState *t = thread_state();
  if (!t->head) {
    if (cache_usable(t))
      t->head = box_depot().get();
    t->count = t->head ? kBoxBatch : 0;
    if (!t->head)
      return block_new();
  }
  FreeBlock *b = t->head;
  t->head = b->next;
  t->count--;
  return b;
}

[[gnu::noinline]] inline void box_free(void *p) noexcept {
  ThreadState *t = thread_state();
  if (t->reaper != Reaper::Registered && !cache_usable(t)) {
    block_delete(p);
    return;
  }
  auto *b = static_cast<FreeBlock *>(p);
  b->next = t->head;
  t->head = b;
  if (++t->count < kBoxThreadMax)
    return;
  // Keep the newest kBoxBatch (warm in cache); hand the older ones on.
  FreeBlock *last = t->head;
  for (unsigned i = 1; i < kBoxBatch; i++)
    last = last->next;
  FreeBlock *chain = last->next;
  last->next = nullptr;
  t->count = kBoxBatch;
  box_depot().put(chain);
}

// ---- the exception bookkeeping of a fiber across a yield -------------------

// The Itanium C++ ABI's per-thread exception state (caught-exception stack,
// uncaught count).  The library carries it across waits, but not across
// fj_ctx_yield's fast path (fiberjob.h), so Ctx::yield takes it along itself:
// eh_stash() moves it off the thread before the switch, eh_restore() puts it
// on whichever thread resumed the fiber.  Both are out of line on purpose:
// __cxa_get_globals is declared const, so within one function a compiler may
// reuse its result across the switch.
struct EhState {
  void *caught = nullptr;
  unsigned int uncaught = 0;
  bool empty() const noexcept { return !caught && !uncaught; }
};

#if defined(FJ__CXX_EH_GLOBALS)
struct EhGlobalsLayout { // as the Itanium ABI lays out __cxa_eh_globals
  void *caught;
  unsigned int uncaught;
};

inline EhGlobalsLayout *eh_globals() noexcept {
  ThreadState *t = thread_state();
  if (!t->eh_globals)
    t->eh_globals = abi::__cxa_get_globals();
  return static_cast<EhGlobalsLayout *>(t->eh_globals);
}

[[gnu::noinline]] inline EhState eh_stash() noexcept {
  EhGlobalsLayout *g = eh_globals();
  EhState s{g->caught, g->uncaught};
  g->caught = nullptr;
  g->uncaught = 0;
  return s;
}

[[gnu::noinline]] inline void eh_restore(EhState s) noexcept {
  EhGlobalsLayout *g = eh_globals();
  // The worker loop runs C code only, so the thread holds no state of its own.
  if (g->caught || g->uncaught)
    fatal("a fiber resumed on a thread holding exception state of another job "
          "(did C++ code call fj_ctx_yield directly inside a catch block?)");
  g->caught = s.caught;
  g->uncaught = s.uncaught;
}
#else
inline EhState eh_stash() noexcept { return {}; }
inline void eh_restore(EhState) noexcept {}
#endif

// Runs a yield with the exception state carried along.
// call must not throw (it only calls the C API).  A fiber without exception
// state resumes on a thread without any (every fiber leaves none behind), so
// only a non-empty state needs restoring.
template <class Call> int suspending(Call &&call) noexcept {
  EhState s = eh_stash();
  int r = call();
  if (!s.empty())
    eh_restore(s);
  return r;
}

// ---- job boxes -----------------------------------------------------------

template <class Fn> constexpr bool is_job_v = std::is_invocable_v<Fn &, Ctx &> || std::is_invocable_v<Fn &>;
template <class Fn>
constexpr bool is_many_job_v = std::is_invocable_v<const Fn &, Ctx &, std::size_t>;

template <class Fn> void invoke_job(Fn &fn, Ctx &ctx) {
  if constexpr (std::is_invocable_v<Fn &, Ctx &>)
    fn(ctx);
  else
    fn();
}

// Where a box's memory came from.
enum class Storage : unsigned char { Cache, Heap, Arena };

// A box a counter may own.  Boxes of jobs spawned through the Ctx of the job
// that created the counter (Counter(Ctx &): the fork-join case) are owned by
// the counter: they live in its arena when they fit, the jobs never free
// them, and the counter destroys them all when that job's next wait on it
// returns, or when the counter is moved or destroyed (both require it idle).
// Every owned box's jobs were counted before that wait began, so all have
// returned by then; the wait's acquire orders their accesses before the
// destruction.  Other boxes free themselves: a OneBox when its job ends, a
// shared ManyBox when the last of its jobs ends — before the job returns,
// i.e. before it is counted finished.
struct OwnedBase {
  void (*owned_destroy)(OwnedBase *) noexcept = nullptr; // set while owned
  OwnedBase *next_owned = nullptr;                         // in the counter's list
};

constexpr std::size_t kArenaBytes = 160; // fib's two children, skynet's ten

// The owned boxes of one counter.  Touched only by the job that created the
// counter (one thread at a time), and by moves and the destructor, which
// require the counter idle.
class OwnedBoxes {
 public:
  OwnedBoxes() noexcept = default;
  OwnedBoxes(const OwnedBoxes &) = delete;
  OwnedBoxes &operator=(const OwnedBoxes &) = delete;
  ~OwnedBoxes() { drain(); }

  // bytes of arena for an object of alignment align, or nullptr.
  void *take(std::size_t bytes, std::size_t align) noexcept {
    std::size_t at = (used_ + align - 1) / align * align;
    if (align > alignof(std::max_align_t) || at + bytes > kArenaBytes)
      return nullptr;
    used_ = at + bytes;
    return arena_ + at;
  }
  // Takes a box whose jobs were submitted (its owned_destroy is set).  A box
  // in the arena with nothing to destroy needs no list entry: resetting the
  // arena frees it.
  void adopt(OwnedBase *b, bool needs_destroy) noexcept {
    if (!needs_destroy)
      return;
    b->next_owned = list_;
    list_ = b;
  }
  void drain() noexcept {
    while (list_) {
      OwnedBase *b = list_;
      list_ = b->next_owned;
      b->owned_destroy(b);
    }
    used_ = 0;
  }

 private:
  alignas(std::max_align_t) unsigned char arena_[kArenaBytes];
  std::size_t used_ = 0;
  OwnedBase *list_ = nullptr;
};

// Memory for a box of type T: the owner's arena, a cached block, or the heap.
template <class T> void *box_storage(std::size_t bytes, OwnedBoxes *owner, Storage &where) {
  if (owner)
    if (void *p = owner->take(bytes, alignof(T))) {
      where = Storage::Arena;
      return p;
    }
  if (bytes <= kBoxBytes && alignof(T) <= kBoxAlign) {
    where = Storage::Cache;
    return box_alloc();
  }
  where = Storage::Heap;
  return ::operator new(bytes, std::align_val_t(alignof(T)));
}

template <class T> void box_release(void *p, Storage where) noexcept {
  if (where == Storage::Cache)
    box_free(p);
  else if (where == Storage::Heap)
    ::operator delete(p, std::align_val_t(alignof(T)));
  // Arena: the owner resets it after destroying every box in it.
}

// One job: the callable and where its exception goes.
template <class Fn> struct OneBox : OwnedBase {
  template <class F>
  OneBox(F &&f, ExceptionSlot *s, Storage w) : fn(std::forward<F>(f)), slot(s), where(w) {}
  Fn fn;
  ExceptionSlot *slot;
  Storage where;

  template <class F> static OneBox *make(F &&f, ExceptionSlot *s, OwnedBoxes *owner) {
    Storage w;
    void *mem = box_storage<OneBox>(sizeof(OneBox), owner, w);
    try {
      return ::new (mem) OneBox(std::forward<F>(f), s, w);
    } catch (...) {
      box_release<OneBox>(mem, w);
      throw;
    }
  }
  static void destroy(OneBox *b) noexcept {
    Storage w = b->where;
    b->~OneBox();
    box_release<OneBox>(b, w);
  }
  static void destroy_owned(OwnedBase *b) noexcept { destroy(static_cast<OneBox *>(b)); }
  static void entry(fj_ctx *c, void *arg) noexcept;
};

// n jobs sharing one callable.  Each job's argument tells the box and the
// job's index: for n below the box's alignment A (16 in an arena, 128 in a
// cached block) it is the box's address plus i, decoded by masking — no
// per-job storage; otherwise the box is followed by n back-pointers and the
// argument is the job's own.
template <class Fn> struct ManyBox : OwnedBase {
  enum class Index : unsigned char { Tag16, Tag128, Backs };

  template <class F>
  ManyBox(F &&f, ExceptionSlot *s, std::size_t count, Storage w, Index ix)
      : fn(std::forward<F>(f)), slot(s), refs(static_cast<std::uint32_t>(count)), where(w),
        index(ix) {}
  Fn fn;
  ExceptionSlot *slot;
  std::atomic<std::uint32_t> refs; // shared: jobs that have not finished with fn yet
  Storage where;
  Index index;

  static constexpr std::size_t backs_offset() {
    return (sizeof(ManyBox) + alignof(ManyBox *) - 1) / alignof(ManyBox *) * alignof(ManyBox *);
  }
  ManyBox **backs() noexcept {
    return reinterpret_cast<ManyBox **>(reinterpret_cast<char *>(this) + backs_offset());
  }

  template <class F> static ManyBox *make(F &&f, ExceptionSlot *s, std::size_t n, OwnedBoxes *owner) {
    // The C counter holds at most 2^32 - 1 unfinished jobs anyway.
    if (n > UINT32_MAX)
      throw_error(FJ_EOVERFLOW, "run_many");
    void *mem = nullptr;
    Storage w = Storage::Arena;
    Index ix = Index::Backs;
    if (owner) {
      if (n < 16 && alignof(ManyBox) <= 16 && (mem = owner->take(sizeof(ManyBox), 16)))
        ix = Index::Tag16;
      else
        mem = owner->take(backs_offset() + n * sizeof(ManyBox *), alignof(ManyBox));
    }
    if (!mem) {
      if (n < kBoxAlign && sizeof(ManyBox) <= kBoxBytes && alignof(ManyBox) <= kBoxAlign) {
        mem = box_alloc();
        w = Storage::Cache;
        ix = Index::Tag128;
      } else {
        mem = box_storage<ManyBox>(backs_offset() + n * sizeof(ManyBox *), nullptr, w);
      }
    }
    ManyBox *b;
    try {
      b = ::new (mem) ManyBox(std::forward<F>(f), s, n, w, ix);
    } catch (...) {
      box_release<ManyBox>(mem, w);
      throw;
    }
    if (ix == Index::Backs) {
      ManyBox **back = b->backs();
      for (std::size_t i = 0; i < n; i++)
        back[i] = b;
    }
    return b;
  }
  static void destroy(ManyBox *b) noexcept {
    Storage w = b->where;
    b->~ManyBox();
    box_release<ManyBox>(b, w);
  }
  static void destroy_owned(OwnedBase *b) noexcept { destroy(static_cast<ManyBox *>(b)); }

  // The C jobs of indices 0..n-1.  Tagged arguments are never dereferenced.
  void jobs(fj_job *out, std::size_t n) noexcept {
    if (index == Index::Backs) {
      ManyBox **back = backs();
      for (std::size_t i = 0; i < n; i++)
        out[i] = fj_job{&entry_backs, &back[i]};
      return;
    }
    fj_job_fn fn_ = index == Index::Tag16 ? &entry_tagged<16> : &entry_tagged<kBoxAlign>;
    auto base = reinterpret_cast<std::uintptr_t>(this);
    for (std::size_t i = 0; i < n; i++)
      out[i] = fj_job{fn_, reinterpret_cast<void *>(base + i)};
  }
  template <std::size_t A> static void entry_tagged(fj_ctx *c, void *arg) noexcept {
    auto a = reinterpret_cast<std::uintptr_t>(arg);
    auto *b = reinterpret_cast<ManyBox *>(a & ~std::uintptr_t(A - 1));
    // Tag16 boxes live in a counter's arena, so they are owned (make): no
    // look at owned_destroy after the body, which the fork-join case pays
    // on every job otherwise.
    if constexpr (A == 16)
      b->call(c, a & (A - 1));
    else
      b->run(c, a & (A - 1));
  }
  static void entry_backs(fj_ctx *c, void *arg) noexcept {
    auto **back = static_cast<ManyBox **>(arg);
    ManyBox *b = *back;
    b->run(c, static_cast<std::size_t>(back - b->backs()));
  }
  // Inlined into each entry even at -O2 (-O3 does it anyway): a tail jump
  // and an argument shuffle fewer per job, 5 of the layer's ~74 on fib.
  // run: call, then frees the box when it is shared and this was its last
  // job; call: the body alone, its exception stored.
  [[gnu::always_inline]] inline void run(fj_ctx *c, std::size_t i) noexcept;
  [[gnu::always_inline]] inline void call(fj_ctx *c, std::size_t i) noexcept;
};

// Builds the C job array for the n jobs of b and hands it to submit.
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
  b->jobs(jobs, n);
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
    // A settled counter is known to be zero without asking (see settled_).
    if (!settled() && fj_counter_value(c_) != 0)
      fj_wait(sys_, c_);
    fj_counter_destroy(c_); // aborts with a message if jobs are still counted
    // owned_'s destructor destroys the boxes it still holds.
  }

  Counter(const Counter &) = delete;
  Counter &operator=(const Counter &) = delete;
  Counter(Counter &&o) noexcept
      : c_(o.c_), sys_(o.sys_), owner_(o.owner_),
        shared_(o.shared_.load(std::memory_order_relaxed)) {
    o.require_idle();
    o.owned_.drain(); // idle: their jobs have all returned
    o.c_ = nullptr;
    slot_.take_from(o.slot_);
  }
  Counter &operator=(Counter &&o) noexcept {
    if (this == &o)
      return *this;
    o.require_idle();
    require_idle();
    fj_counter_destroy(c_);
    owned_.drain();
    o.owned_.drain();
    c_ = std::exchange(o.c_, nullptr);
    sys_ = o.sys_;
    owner_ = o.owner_;
    settled_ = false;
    shared_.store(o.shared_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    slot_.take_from(o.slot_);
    return *this;
  }

  // Blocks until the counter is zero (from inside a job: suspends the job,
  // like Ctx::wait), then rethrows the first exception a job counted on it
  // threw, clearing it.  Throws Error for FJ_E... codes (FJ_EINVAL for a
  // moved-from counter).  Threads: any.  Suspends: yes, when called from a job.
  void wait() {
    fj_counter *h = handle("fj::Counter::wait");
    detail::check(fj_wait(sys_, h), "fj_wait");
    if (owner_ && fj_current_ctx() == owner_)
      owner_waited();
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
  fj_counter *get() const noexcept {
    mark_shared(); // C code may count jobs on it behind the settled_ hint
    return c_;
  }

 private:
  friend class System;
  friend class Ctx;

  fj_counter *handle(const char *call) const {
    if (!c_)
      moved_from(call);
    return c_;
  }
  [[noreturn, gnu::noinline, gnu::cold]] static void moved_from(const char *call) {
    throw Error(FJ_EINVAL, (std::string(call) + " (moved-from fj::Counter)").c_str());
  }
  void require_idle() const noexcept {
    if (c_ && fj_counter_value(c_) != 0)
      detail::fatal("an fj::Counter with unfinished jobs was moved or assigned to "
                    "(its jobs hold its address)");
  }

  // Before a submission through ctx: the owned boxes when ctx is the job
  // that created the counter, else nullptr (and the counter is shared).
  detail::OwnedBoxes *owned_by(fj_ctx *ctx) noexcept {
    if (ctx == owner_) {
      settled_ = false;
      return &owned_;
    }
    mark_shared();
    return nullptr;
  }
  // Before a submission by anyone but the owner, or handing out the C handle.
  // Sticky and only ever set to true, so a destructor that is ordered after
  // the submission (as it must be: the submission uses the counter) sees it
  // whatever other thread stored it.  Load first: no write once set.
  void mark_shared() const noexcept {
    if (!shared_.load(std::memory_order_relaxed))
      shared_.store(true, std::memory_order_relaxed);
  }
  // The owner's own wait on it returned: its jobs have all finished.
  void owner_waited() noexcept {
    owned_.drain();
    settled_ = true;
  }
  // Zero for sure: only the owner ever submitted on it (no mark_shared) and
  // its last wait returned after its last spawn.
  bool settled() const noexcept { return settled_ && !shared_.load(std::memory_order_relaxed); }

  detail::OwnedBoxes owned_;
  fj_counter *c_ = nullptr;
  fj_system *sys_ = nullptr;
  // The job that created the counter (Counter(Ctx &)), or nullptr; the
  // boxes of the jobs it spawns on the counter are owned_ (see OwnedBase).
  fj_ctx *owner_ = nullptr;
  // A hint that lets the destructor skip asking the library for the value
  // (the common fork-join shape: spawn, wait, leave the scope).  Touched by
  // the owner job only (set by its waits, cleared by its spawns; moves and
  // the destructor are ordered after its last use).
  bool settled_ = false;
  // Someone other than the owner submitted on it, or its C handle was handed
  // out (see mark_shared): settled_ says nothing then.
  mutable std::atomic<bool> shared_{false};
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
    fj_counter *h = c.handle("fj::Ctx::wait");
    detail::check(fj_ctx_wait(c_, h), "fj_ctx_wait");
    if (c.owner_ == c_)
      c.owner_waited();
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

  fj_ctx *c_;
};

// ---- out-of-line definitions ------------------------------------------------

inline Counter::Counter(Ctx &ctx) : sys_(ctx.system()), owner_(ctx.get()) {
  detail::check(fj_counter_create(sys_, &c_), "fj_counter_create");
}

namespace detail {

template <class Fn> void OneBox<Fn>::entry(fj_ctx *c, void *arg) noexcept {
  auto *b = static_cast<OneBox *>(arg);
  {
    Ctx ctx(c);
    try {
      invoke_job(b->fn, ctx);
    } catch (...) {
      b->slot->store(std::current_exception());
    }
  }
  // Not owned: free it before returning (the job is counted finished after).
  // owned_destroy is fixed before submission, and the box outlives the body
  // either way (an owned one until the owner's wait, which needs this job
  // to return); reading it only now keeps no register across the body.
  if (!b->owned_destroy)
    destroy(b);
}

template <class Fn> void ManyBox<Fn>::call(fj_ctx *c, std::size_t i) noexcept {
  Ctx ctx(c);
  try {
    const Fn &f = fn;
    f(ctx, i);
  } catch (...) {
    slot->store(std::current_exception());
  }
}

template <class Fn> void ManyBox<Fn>::run(fj_ctx *c, std::size_t i) noexcept {
  call(c, i);
  // Owned: the counter frees the box.  Shared, acq_rel: the last job sees
  // every other job's use of fn before destroying it, and does so before
  // returning, as in OneBox::entry (which says why owned_destroy is read
  // only now; this job's reference keeps the box alive until the fetch_sub).
  if (!owned_destroy && refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
    destroy(this);
}

// Boxes f, hands the C job to submit(fn, arg) and throws what it returns;
// on error the box is destroyed (nothing was submitted).  owner: the
// counter's owned boxes when the calling job created the counter, else
// nullptr (see OwnedBase).
template <class F, class Submit>
void submit_one(ExceptionSlot *slot, OwnedBoxes *owner, F &&f, Submit &&submit,
                const char *call) {
  using Box = OneBox<std::decay_t<F>>;
  Box *b = Box::make(std::forward<F>(f), slot, owner);
  if (owner)
    b->owned_destroy = &Box::destroy_owned; // before any job can read it
  int r = submit(&Box::entry, static_cast<void *>(b));
  if (r != FJ_OK) {
    Box::destroy(b);
    throw_error(r, call);
  }
  if (owner)
    owner->adopt(b, b->where != Storage::Arena || !std::is_trivially_destructible_v<Box>);
}

// As submit_one, for n jobs sharing one ManyBox.
template <class F, class Submit>
void submit_many_jobs(std::size_t n, ExceptionSlot *slot, OwnedBoxes *owner, F &&f,
                      Submit &&submit, const char *call) {
  if (n == 0)
    return;
  using Box = ManyBox<std::decay_t<F>>;
  Box *b = Box::make(std::forward<F>(f), slot, n, owner);
  if (owner)
    b->owned_destroy = &Box::destroy_owned; // before any job can read it
  int r = submit_many(b, n, submit);
  if (r != FJ_OK) {
    Box::destroy(b);
    throw_error(r, call);
  }
  if (owner)
    owner->adopt(b, b->where != Storage::Arena || !std::is_trivially_destructible_v<Box>);
}

} // namespace detail

template <class F> void System::run(Counter &c, F &&f, Priority p) {
  detail::check_job<F>();
  fj_counter *h = c.handle("fj::System::run");
  c.mark_shared();
  detail::submit_one(&c.slot_, nullptr, std::forward<F>(f),
                     [&](fj_job_fn fn, void *arg) {
                       return fj_run(sys_, fn, arg, static_cast<fj_priority>(p), h);
                     },
                     "fj_run");
}

template <class F> void System::run_many(Counter &c, std::size_t n, F &&f, Priority p) {
  detail::check_many_job<F>();
  fj_counter *h = c.handle("fj::System::run_many");
  c.mark_shared();
  detail::submit_many_jobs(n, &c.slot_, nullptr, std::forward<F>(f),
                           [&](const fj_job *jobs, std::size_t k) {
                             return fj_run_jobs(sys_, jobs, k, static_cast<fj_priority>(p), h);
                           },
                           "fj_run_jobs");
}

template <class F> void Ctx::spawn(Counter &c, F &&f, Priority p) {
  detail::check_job<F>();
  fj_counter *h = c.handle("fj::Ctx::spawn");
  detail::submit_one(&c.slot_, c.owned_by(c_), std::forward<F>(f),
                     [&](fj_job_fn fn, void *arg) {
                       return fj_ctx_spawn(c_, fn, arg, static_cast<fj_priority>(p), h);
                     },
                     "fj_ctx_spawn");
}

template <class F> void Ctx::spawn_many(Counter &c, std::size_t n, F &&f, Priority p) {
  detail::check_many_job<F>();
  fj_counter *h = c.handle("fj::Ctx::spawn_many");
  detail::submit_many_jobs(n, &c.slot_, c.owned_by(c_), std::forward<F>(f),
                           [&](const fj_job *jobs, std::size_t k) {
                             return fj_ctx_spawn_jobs(c_, jobs, k, static_cast<fj_priority>(p), h);
                           },
                           "fj_ctx_spawn_jobs");
}
} // namespace fj

#endif // FIBERJOB_HPP
