/* SPDX-License-Identifier: MIT */
/*
 * fiberjob.h — the whole public API of libfiberjob.
 *
 * A job system for engines: jobs are submitted with a priority and an
 * optional counter; a counter reaches zero when its jobs are done and any
 * number of threads or fibers may wait on it.  Jobs run on stackful fibers,
 * so a job may yield or wait in the middle of its body; a job that does
 * neither runs as a plain function call and never switches stacks.
 *
 * Conventions used by every function below:
 *   - Fallible calls return FJ_OK (0) or a negative FJ_E... code;
 *     fj_strerror() explains each.  Handles come back via out-parameters.
 *   - "Threads:" says who may call the function.  "Suspends:" says whether
 *     the call may suspend the calling fiber (the job then resumes later,
 *     possibly on another worker thread — see "Thread-local variables").
 *   - "Owns:" says who frees what.
 *
 * Thread-local variables: a job that yields or waits may resume on another
 * worker thread.  Re-read any thread-local variable after fj_ctx_yield() or
 * fj_ctx_wait() / fj_wait(), never keep a pointer into thread-local storage
 * across them, and do not hold a mutex across them (the unlock would happen
 * on another thread).  Compilers may cache the address of a thread-local
 * across a call; read it through a non-inlined function if that matters.
 *
 * C++ exception state: the C++ runtime's per-thread record of exceptions
 * being handled and being thrown travels with the fiber across a wait
 * (fj_ctx_wait, fj_wait, and a wait that runs jobs on an attached thread),
 * so C++ code may wait inside a catch block or in a destructor run during
 * unwinding, and rethrow afterwards.  fj_ctx_yield does not carry it (its
 * fast path stays a few instructions): yield inside a catch block with
 * fj::Ctx::yield (fiberjob.hpp), which does.  The library finds the runtime
 * (libstdc++ or libc++abi, Itanium ABI) through a weak reference; Boost.
 * Context, which it links, already loads libstdc++.  Exceptions must still
 * not leave a job (that terminates; fiberjob.hpp catches them at the job
 * boundary).
 */
#ifndef FIBERJOB_H
#define FIBERJOB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FJ_VERSION_MAJOR 0
#define FJ_VERSION_MINOR 1
#define FJ_VERSION_PATCH 0
/* The version packed into one number, (major << 16) | (minor << 8) | patch,
 * so versions compare with < and >. */
#define FJ_VERSION ((FJ_VERSION_MAJOR << 16) | (FJ_VERSION_MINOR << 8) | FJ_VERSION_PATCH)

#if defined(FJ_BUILDING_LIBRARY)
#define FJ_API __attribute__((visibility("default")))
#else
#define FJ_API
#endif

/* ---- errors ------------------------------------------------------------ */

/* One list generates the enum and fj_strerror's table, so they cannot drift. */
#define FJ_ERRNO_MAP(X)                                                        \
  X(EINVAL, -1, "invalid argument (NULL handle, NULL function or NULL jobs array)") \
  X(EPRIORITY, -2, "unknown priority (use FJ_PRIORITY_HIGH, _NORMAL or _LOW)") \
  X(ECONFIG, -3, "invalid configuration (see fj_config field limits)")        \
  X(ENOMEM, -4, "out of memory: a fiber stack or queue could not be allocated") \
  X(ESHUTDOWN, -5, "the job system is shutting down; no new external work")   \
  X(ETIMEDOUT, -6, "timed out before the counter reached zero")              \
  X(EOVERFLOW, -7, "counter overflow: more than 2^32-1 unfinished jobs")     \
  X(EWRONGSYSTEM, -8, "the counter belongs to another job system")           \
  X(EINJOB, -9, "not allowed from inside a job (it would block a worker)")   \
  X(ETHREAD, -10, "a worker thread could not be started")                    \
  X(ENOTINJOB, -11, "only allowed from inside a running job")               \
  X(EDEADLK, -12, "a job may not wait on the counter that counts the job itself") \
  X(EBUSY, -13, "no attach slot is free, or this thread is already attached") \
  X(EWORKER, -14, "worker index out of range (at or beyond num_workers + attach_slots)") \
  X(ENOTATTACHED, -15, "the calling thread is not attached to this job system") \
  X(ESTATE, -16, "the call does not fit the current state (e.g. no trace is running)") \
  X(EIO, -17, "a file could not be written")

enum {
  FJ_OK = 0,
#define FJ__ERRNO_ENUM(name, value, text) FJ_##name = value,
  FJ_ERRNO_MAP(FJ__ERRNO_ENUM)
#undef FJ__ERRNO_ENUM
};

/* Never NULL: unknown codes get a generic text.  Threads: any. */
FJ_API const char *fj_strerror(int err);

/* The code's name, e.g. "FJ_EINVAL" for FJ_EINVAL and "FJ_OK" for 0: stable
 * across versions, for logs and tests.  Never NULL: unknown codes give
 * "FJ_UNKNOWN".  The string is static.  Threads: any. */
FJ_API const char *fj_err_name(int err);

/* ---- version ----------------------------------------------------------- */

/* The version of the library loaded at run time, packed as FJ_VERSION is
 * (compare it with FJ_VERSION to detect a mismatch with the header a
 * program was compiled against).  Threads: any. */
FJ_API unsigned fj_version(void);

/* The same as "MAJOR.MINOR.PATCH", e.g. "0.1.0".  Static string, never NULL.
 * Threads: any. */
FJ_API const char *fj_version_string(void);

/* ---- types ------------------------------------------------------------- */

typedef struct fj_system fj_system;   /* opaque */
typedef struct fj_counter fj_counter; /* opaque */
typedef struct fj_ctx fj_ctx;         /* opaque, handed to a running job */

typedef void (*fj_job_fn)(fj_ctx *ctx, void *arg);
typedef struct fj_job {
  fj_job_fn fn;
  void *arg;
} fj_job;

/*
 * Priorities: whenever a worker picks work it takes ready HIGH work before
 * NORMAL and NORMAL before LOW, looking at its own queues and the shared
 * submission queues first and stealing only when it has none.  By default
 * (fj_config.aging_us = 0) this order is strict: a steady stream of HIGH
 * work keeps LOW work waiting.  With aging_us = A, a priority level whose
 * work has not been served for A microseconds gets one job picked ahead of
 * higher-priority work, so a LOW job under an endless HIGH stream starts
 * within about 2*A plus one job's length.
 *
 * Jobs a worker takes from the shared submission queues stay in its private
 * share, which it runs without publishing them for other workers to steal
 * (cheaper per job); an idle worker takes the later half of another
 * worker's share once it has seen it hold work for 50 microseconds.  So a
 * free worker may wait that long for jobs a busy worker took, but never
 * longer, even if that worker's job blocks or never returns.  (Not with
 * aging on, nor where the kernel lacks membarrier(2): workers then put
 * what they take on their deques, where others steal it at once.)
 */
typedef enum fj_priority {
  FJ_PRIORITY_HIGH,
  FJ_PRIORITY_NORMAL,
  FJ_PRIORITY_LOW
} fj_priority;
#define FJ_PRIORITY_COUNT 3

/*
 * Configuration.  Append-only: fields are only ever added at the end.
 * fj_config_init() sets struct_size, so a program compiled against an older,
 * smaller fj_config keeps working with a newer library; a newer, larger
 * struct is accepted by an older library only if the fields it does not
 * know are zero.
 */
typedef struct fj_config {
  size_t struct_size;         /* set by fj_config_init */
  unsigned num_workers;       /* worker threads; 0 = one per online CPU; max FJ_MAX_WORKERS */
  size_t stack_size;          /* usable bytes per fiber stack; default 64 KiB;
                                 FJ_MIN_STACK_SIZE..FJ_MAX_STACK_SIZE, rounded up to pages */
  unsigned max_pooled_fibers; /* idle fibers kept for reuse per worker; default 32 */
  int enable_yielding;        /* default 1; 0 = plain thread pool, no fibers */
  /* Scheduling controls (see fj_run_opts). */
  size_t large_stack_size;    /* usable bytes of an FJ_STACK_LARGE fiber; default 512 KiB;
                                 same limits as stack_size */
  unsigned attach_slots;      /* worker indices num_workers .. num_workers+attach_slots-1,
                                 reserved for threads that call fj_thread_attach;
                                 default 0, max FJ_MAX_WORKERS */
  size_t max_fibers;          /* live fibers (running, parked, pooled) across the system;
                                 0 = no limit (default); otherwise at least
                                 num_workers (FJ_ECONFIG below).  When no fiber may be made, a waiting
                                 job runs other work inline or waits on its own stack
                                 (fj_stats.fiber_unavailable counts it); nothing fails */
  uint32_t aging_us;          /* 0 = strict priorities (default); otherwise no ready job waits
                                 longer than about this before it is picked ahead of newer
                                 work of higher priority (max FJ_MAX_AGING_US) */
  /* Debugging (see fj_system_dump). */
  uint32_t stall_report_ms;   /* 0 = off (default); env FIBERJOB_STALL_MS overrides;
                                 see fj_system_dump */
  int dump_signal;            /* 0 = none (default); e.g. SIGQUIT: dump to stderr on it;
                                 not SIGSEGV or SIGBUS (FJ_ECONFIG) */
  /* more fields may follow */
} fj_config;

#define FJ_MAX_WORKERS 256u
#define FJ_MIN_STACK_SIZE ((size_t)16 * 1024)
#define FJ_MAX_STACK_SIZE ((size_t)1024 * 1024 * 1024)
#define FJ_DEFAULT_STACK_SIZE ((size_t)64 * 1024)
#define FJ_DEFAULT_MAX_POOLED_FIBERS 32u
#define FJ_DEFAULT_LARGE_STACK_SIZE ((size_t)512 * 1024)
#define FJ_MAX_AGING_US 60000000u /* one minute */

/* Fills the defaults.  NULL is a no-op.  Threads: any. */
FJ_API void fj_config_init(fj_config *cfg);

/* ---- the system -------------------------------------------------------- */

/*
 * Starts the worker threads.  cfg NULL = defaults.  On success *out owns
 * the system; free it with fj_system_destroy().  On failure *out is set to
 * NULL and nothing is leaked.
 * Errors: FJ_EINVAL (out NULL), FJ_ECONFIG, FJ_ENOMEM, FJ_ETHREAD.
 * Threads: any.  Suspends: no.
 * Also installs (once per process) a SIGSEGV handler that reports fiber
 * stack overflows; faults outside fiber guard pages go to the handler the
 * program had before.
 */
FJ_API int fj_system_create(const fj_config *cfg, fj_system **out);

/*
 * Runs every job submitted before and during the call to completion
 * (including jobs that yield or wait and jobs they spawn), then stops and
 * joins the workers and frees everything the system owns.  External
 * submissions that race with it get FJ_ESHUTDOWN.  NULL is a no-op.
 * Counters are owned by the caller and stay valid (destroy them after).
 * Threads: any thread that is not one of this system's workers; calling it
 * from inside a job aborts the process with a message (it would deadlock).
 * Attached threads: jobs (and suspended jobs) pinned to an attach slot with
 * no thread attached run on the calling thread during the drain.  Calling
 * it while another thread is still attached aborts with a message naming
 * fj_thread_detach; the calling thread itself, if attached, is detached.
 */
FJ_API void fj_system_destroy(fj_system *sys);

/* Number of worker threads (0 for NULL).  Threads: any. */
FJ_API unsigned fj_system_num_workers(const fj_system *sys);

/* A snapshot of the system's activity; every field is a running total
 * since creation unless it says "now".  For tests, tuning and debugging. */
typedef struct fj_stats {
  uint64_t jobs_run;          /* jobs that returned */
  uint64_t jobs_stolen;       /* jobs and fibers taken from another worker's queue (a take
                                 from another worker's stalled private share counts once) */
  uint64_t yields;            /* fj_ctx_yield calls that switched to other work */
  uint64_t waits_suspended;   /* waits that parked a fiber */
  uint64_t fibers_created;    /* fiber stacks mapped */
  uint64_t fibers_live;       /* now: fiber stacks mapped (running, parked or pooled) */
  uint64_t fibers_pooled;     /* now: idle fibers kept for reuse */
  /* Running out of fibers (fiber stacks could not be mapped): */
  uint64_t yields_inline;     /* yields that found new work but no fiber for it, and resumed
                                 a yielded fiber or carried on instead (never an error) */
  uint64_t waits_inline;      /* waits that found no fiber to switch to, and ran other jobs on
                                 their own stack until the counter reached zero */
  /* Deepest use of a fiber stack seen, in bytes, at page granularity: the
   * pages of a stack the kernel has backed (a page once touched stays), so
   * these are sampled when a stack is unmapped and by this call, never per
   * job; this call samples only the stacks that ran since its last call, so
   * it stays cheap with thousands of parked fibers.  Compare with
   * fj_config.stack_size / large_stack_size. */
  uint64_t stack_high_water;       /* fibers of stack_size */
  uint64_t stack_high_water_large; /* fibers of large_stack_size */
  /* Scheduling controls (appended; the fields above count both stack
   * classes, the large_ fields count the FJ_STACK_LARGE part of them). */
  uint64_t fibers_large_created; /* FJ_STACK_LARGE stacks mapped */
  uint64_t fibers_large_live;    /* now: FJ_STACK_LARGE stacks mapped */
  uint64_t fibers_large_pooled;  /* now: idle FJ_STACK_LARGE fibers kept for reuse */
  uint64_t fibers_peak;          /* most fibers live at once (never above max_fibers) */
  uint64_t fiber_unavailable;    /* times a fiber was needed and none could be had
                                    (max_fibers reached, or the stack mapping failed):
                                    the worker carried on without parking */
  uint64_t aged_picks;           /* jobs picked ahead of higher priorities by aging */
  uint64_t pinned_run;           /* jobs and resumes taken from a worker's pinned queue */
} fj_stats;

/* Errors: FJ_EINVAL.  Threads: any, jobs included; does not suspend.  The
 * figures are read without locking, so under load they are approximate; when
 * the system is idle they are exact.  Cost: a pass over the live fibers and
 * a system call for each stack that ran since the previous call. */
FJ_API int fj_system_stats(const fj_system *sys, fj_stats *out);

/* ---- counters ---------------------------------------------------------- */

/*
 * A counter tracks unfinished jobs: it goes up by n when n jobs are
 * submitted with it and down by one as each returns.  It may be reused once
 * it is back at zero.  Owns: the caller; free with fj_counter_destroy()
 * after its jobs finished and nobody waits on it (the system may already be
 * destroyed).  Errors: FJ_EINVAL, FJ_ENOMEM, FJ_ESHUTDOWN.  Threads: any.
 */
FJ_API int fj_counter_create(fj_system *sys, fj_counter **out);

/*
 * NULL is a no-op.  Destroying a counter that still has unfinished jobs or
 * waiters is a program bug that would otherwise corrupt memory later: it
 * aborts the process with a message naming the number of unfinished jobs.
 * "Finished" means the counter reached zero (a wait on it returned, or
 * fj_counter_value read 0), not that a job's body was seen to end.
 * Threads: any.
 */
FJ_API void fj_counter_destroy(fj_counter *c);

/* Jobs submitted with c that are not yet counted as finished (0 for NULL).
 * A worker that runs several jobs of c back to back counts them finished
 * together, so the value may include jobs that returned moments ago; it is
 * 0 exactly when every job has returned.  Threads: any.  The value may be
 * stale by the time it is used. */
FJ_API size_t fj_counter_value(const fj_counter *c);

/* ---- submitting work --------------------------------------------------- */

/*
 * Submits one job (fj_run) or n jobs (fj_run_jobs; the array is copied, the
 * caller keeps it).  c may be NULL (fire and forget).  From a plain thread
 * the jobs go to the shared submission queue that every worker takes from;
 * from inside a job of this system they behave as fj_ctx_spawn().
 * Errors: FJ_EINVAL, FJ_EPRIORITY, FJ_EWRONGSYSTEM, FJ_EOVERFLOW,
 * FJ_ENOMEM, FJ_ESHUTDOWN (external submission after destroy began).
 * Nothing is submitted when an error is returned.
 * Threads: any.  Suspends: no.
 */
FJ_API int fj_run(fj_system *sys, fj_job_fn fn, void *arg, fj_priority prio,
                  fj_counter *c);
FJ_API int fj_run_jobs(fj_system *sys, const fj_job *jobs, size_t n,
                       fj_priority prio, fj_counter *c);

/*
 * Waits until c reaches zero.  From a plain thread it blocks the thread
 * without spinning; from inside a job of this system it is fj_ctx_wait()
 * (so FJ_EDEADLK and FJ_ENOMEM as documented there); from an attached
 * thread (fj_thread_attach) it runs pinned and other ready work on the
 * thread meanwhile and sleeps only when there is none.
 * A NULL counter is FJ_EINVAL.  Returns at once if c is already zero.
 * Threads: any.  Suspends: yes, when called from a job.
 */
FJ_API int fj_wait(fj_system *sys, fj_counter *c);

/*
 * As fj_wait from a plain thread, giving up after timeout_ns nanoseconds
 * with FJ_ETIMEDOUT.  From inside a job it returns FJ_EINJOB (a fiber
 * wait cannot time out; use fj_ctx_wait).  On an attached thread it runs
 * work meanwhile, as fj_wait does; a job it started is finished (or
 * suspended) before the timeout is checked again.  Threads: plain threads.
 */
FJ_API int fj_wait_timeout(fj_system *sys, fj_counter *c, uint64_t timeout_ns);

/* ---- per-job options -------------------------------------------------- */

/*
 * Options for fj_submit / fj_ctx_submit.  Fill with fj_run_opts_init() and
 * change only the fields you need; the struct is append-only like fj_config
 * (struct_size lets a program built against an older header keep working).
 *
 * Jobs submitted without options (fj_run, fj_ctx_spawn, or fj_submit with
 * only priority and counter set) pay nothing for the options below.  A job
 * with a name, a LARGE stack or a worker costs one small allocation, freed
 * when it starts.
 *
 * Example, an engine frame: a render job pinned to the main thread (an
 * attached thread, see fj_thread_attach) waits on the simulation jobs it
 * spawns, then submits draw calls, always on the main thread:
 *
 *   static void render(fj_ctx *ctx, void *frame) {
 *     fj_counter *sim;
 *     fj_counter_create(fj_ctx_system(ctx), &sim);
 *     fj_run_opts o;
 *     fj_run_opts_init(&o);
 *     o.counter = sim;
 *     o.name = "simulate";
 *     fj_ctx_submit(ctx, sim_jobs, n_sim, &o);  // any worker
 *     fj_ctx_wait(ctx, sim);                    // resumes on the main thread
 *     draw(frame);                              // GL context is current here
 *     fj_counter_destroy(sim);
 *   }
 *
 *   // main thread, each frame (cfg.attach_slots = 1):
 *   unsigned me;
 *   fj_thread_attach(sys, &me);
 *   fj_run_opts o;
 *   fj_run_opts_init(&o);
 *   o.worker = (int)me;
 *   o.name = "render";
 *   o.counter = frame_done;
 *   fj_job job = {render, &frame};
 *   fj_submit(sys, &job, 1, &o);
 *   fj_wait(sys, frame_done);   // runs render (and other work) right here
 *   fj_thread_detach(sys);      // before fj_system_destroy
 */
typedef enum fj_stack_class {
  FJ_STACK_SMALL = 0, /* fj_config.stack_size (default 64 KiB) */
  FJ_STACK_LARGE = 1  /* fj_config.large_stack_size (default 512 KiB) */
} fj_stack_class;
#define FJ_STACK_CLASS_COUNT 2

#define FJ_ANY_WORKER (-1)

typedef struct fj_run_opts {
  size_t struct_size;     /* set by fj_run_opts_init; append-only like fj_config */
  fj_priority priority;   /* default FJ_PRIORITY_NORMAL */
  fj_counter *counter;    /* default NULL */
  fj_stack_class stack;   /* default FJ_STACK_SMALL (cfg.stack_size); LARGE = cfg.large_stack_size.
                             Each class has its own fiber pools; a LARGE job always runs
                             on a LARGE stack, a SMALL one on whichever stack is at hand */
  int worker;             /* default FJ_ANY_WORKER; otherwise the job starts on that worker
                             and every resume after a yield or wait happens there too.
                             0..num_workers-1 are the worker threads, num_workers + k the
                             k-th attach slot; a slot with no thread attached keeps its
                             jobs until one attaches and waits, or fj_system_destroy.
                             A worker runs its pinned work before any other work, FIFO,
                             whatever the priority; pinned work is never stolen */
  const char *name;       /* static string or NULL (not copied: it must outlive the job);
                             shown in messages (stack overflow), dumps and traces */
} fj_run_opts;

/* Fills the defaults.  NULL is a no-op.  Threads: any. */
FJ_API void fj_run_opts_init(fj_run_opts *opts);

/*
 * Submits n jobs with options (opts NULL = defaults, as fj_run_jobs with
 * FJ_PRIORITY_NORMAL and no counter).  From inside a job of sys it behaves
 * as fj_ctx_submit.  The jobs array is copied; opts is read during the call.
 * Errors: those of fj_run_jobs, and FJ_EINVAL (opts->struct_size smaller
 * than the first fj_run_opts, or unknown fields of a newer struct not zero;
 * unknown stack class), FJ_EWORKER (worker neither FJ_ANY_WORKER nor below
 * num_workers + attach_slots).  Nothing is submitted when an error is
 * returned.  Threads: any.  Suspends: no.
 */
FJ_API int fj_submit(fj_system *sys, const fj_job *jobs, size_t n, const fj_run_opts *opts);

/* As fj_submit from inside a job: unpinned jobs go to the calling worker's
 * own queue like fj_ctx_spawn.  Threads: the job owning ctx.  Suspends: no. */
FJ_API int fj_ctx_submit(fj_ctx *ctx, const fj_job *jobs, size_t n, const fj_run_opts *opts);

/* ---- attached threads -------------------------------------------------- */

/*
 * Makes the calling plain thread (typically the main thread) the worker with
 * index num_workers + k for a free attach slot k, stored in *worker_index.
 * While attached, fj_wait and fj_wait_timeout on this thread do not sleep
 * while there is work: they run the jobs pinned to this index first, then
 * any other ready work, on this thread (a job run here may yield and wait
 * like any other; a job pinned here resumes only here).  They sleep only
 * when nothing is ready, and wake for new pinned work.
 * Errors: FJ_EINVAL (sys or worker_index NULL), FJ_EINJOB (called from a
 * job), FJ_EBUSY (no slot free, or this thread is already attached to this
 * or another system), FJ_ESHUTDOWN (destroy began).
 * Owns: nothing to free; call fj_thread_detach before the thread exits and
 * before fj_system_destroy.  Threads: plain threads.  Suspends: no.
 */
FJ_API int fj_thread_attach(fj_system *sys, unsigned *worker_index);

/*
 * Gives the calling thread's slot back.  Jobs pinned to the slot stay
 * queued there for the next thread to attach (or for fj_system_destroy).
 * Errors: FJ_EINVAL (sys NULL), FJ_ENOTATTACHED (this thread is not
 * attached to sys), FJ_EINJOB (called from a job).
 * Threads: the attached thread.  Suspends: no.
 */
FJ_API int fj_thread_detach(fj_system *sys);

/* ---- inside a job ------------------------------------------------------ */
/* ctx is valid only inside the job it was handed to, on whichever worker
 * runs the job at the time; do not keep it after the job returns. */

/* Nested spawns go to the calling worker's own queue (it runs the newest
 * first; idle workers steal the oldest).  Errors as fj_run.
 * Threads: the job owning ctx.  Suspends: no. */
FJ_API int fj_ctx_spawn(fj_ctx *ctx, fj_job_fn fn, void *arg, fj_priority prio,
                        fj_counter *c);
FJ_API int fj_ctx_spawn_jobs(fj_ctx *ctx, const fj_job *jobs, size_t n,
                             fj_priority prio, fj_counter *c);

/*
 * Suspends the job and puts it at the back of its worker's ready work of the
 * job's priority; the worker runs other ready work of the same or higher
 * priority, and the job resumes later exactly where it stopped.  Returns at
 * once when no such work is ready.  On one worker two jobs that yield in turn
 * alternate strictly, and yielded jobs alternate with new jobs (as the
 * worker's own loop does), so jobs that yield need a handful of fibers, not
 * one each.  A yield never fails for lack of memory: when new work would
 * need a fiber that cannot be mapped, it resumes an older yielded job or
 * returns at once (counted in fj_stats.yields_inline).  With
 * enable_yielding = 0 it yields the OS thread.  From C++ code inside a catch
 * block, yield with fj::Ctx::yield instead: this call does not carry the C++
 * exception state (see the top of this file).
 * Errors: FJ_EINVAL (NULL ctx).  Threads: the job owning ctx.  Suspends: yes.
 */
FJ_API int fj_ctx_yield(fj_ctx *ctx);

/*
 * Suspends the job until c reaches zero: the fiber is parked on the counter
 * (no polling) and the worker runs other work meanwhile.  Works on a single
 * worker, for example for a job waiting on its own children.  With
 * enable_yielding = 0, or when no fiber can be mapped for the worker to
 * switch to, the job's own stack runs other ready jobs until c is zero
 * (counted in fj_stats.waits_inline); it then takes them from every
 * priority in turn, so the job that will release the waiters runs whatever
 * its priority.
 * Errors: FJ_EINVAL, FJ_EWRONGSYSTEM; FJ_EDEADLK at once when c is the
 * counter the calling job was submitted with (it would wait for itself;
 * longer wait cycles are not detected); FJ_ENOMEM only when no progress is
 * possible at all: no fiber can be mapped, this stack has no room to run
 * another job, every worker is in the same state and work is queued.
 * Threads: the job owning ctx.  Suspends: yes.
 */
FJ_API int fj_ctx_wait(fj_ctx *ctx, fj_counter *c);

/* Index of the worker running the job now (0..num_workers-1, or
 * num_workers + k on an attached thread); it may change after a yield or
 * wait unless the job is pinned (fj_run_opts.worker).  Returns 0 for NULL.
 * Threads: the job owning ctx. */
FJ_API unsigned fj_ctx_worker(const fj_ctx *ctx);

/* The priority the job was submitted with (FJ_PRIORITY_NORMAL for NULL). */
FJ_API fj_priority fj_ctx_priority(const fj_ctx *ctx);

/* The job's name (fj_run_opts.name, or set by fj_ctx_set_name), or NULL.
 * Threads: the job owning ctx. */
FJ_API const char *fj_ctx_name(const fj_ctx *ctx);

/* The system running the job (NULL for NULL). */
FJ_API fj_system *fj_ctx_system(const fj_ctx *ctx);

/* The ctx of the job running on the calling thread, or NULL when the caller
 * is not inside a job.  Threads: any. */
FJ_API fj_ctx *fj_current_ctx(void);

/*
 * Names the job for dumps, stall reports and traces (otherwise they show
 * the symbol of its function, or its address).  Not copied: name must stay
 * valid until the job returns and, while a trace runs, until fj_trace_stop.
 * Errors: FJ_EINVAL (NULL ctx).  Threads: the job owning ctx.  Suspends: no.
 */
FJ_API int fj_ctx_set_name(fj_ctx *ctx, const char *name);

/* ---- debugging --------------------------------------------------------- */

/*
 * Writes a human-readable snapshot to out: every worker (the job it runs,
 * or idle, or asleep; its queued work per priority), threads blocked in
 * fj_wait, and every suspended fiber: its job's name, the counter it is
 * parked on (address, value, waiters) and for how long, or that it is
 * ready after a yield; its stack use; and its call stack at the point it
 * suspended, with file:line where the code has debug information (call
 * stacks need elfutils' libdw at build time, on x86-64 or aarch64).  Jobs keep
 * running meanwhile, so it is a moment's picture; a fiber that resumed
 * while it was read is read again, a few times at most, and shown from its
 * last read marked "[resumed while being read]" if it kept running through
 * every read or was running at the re-read.  Owns: nothing; out stays the caller's.
 * Errors: FJ_EINVAL (NULL sys or out), FJ_EIO (writing failed).
 * Threads: any, also from inside a job.  Suspends: no.
 *
 * Stall reports (fj_config.stall_report_ms = T, or the environment
 * variable FIBERJOB_STALL_MS): when for T ms no job started, finished or
 * resumed while a fiber is parked or a thread blocks in fj_wait, one report
 * goes to stderr: the wait graph (each waiting job, its counter and the
 * jobs still holding that counter), any cycle among them ("DEADLOCK: job A
 * waits on counter c1, held by job B, which waits on counter c2, held by
 * job A") or else the reason of the stall, then the snapshot.  The next
 * report comes only after work progressed and stalled again, or when more
 * threads block in fj_wait than the last report listed (a thread that was
 * between two timed waits, or not yet inside its wait, when it was taken).
 * fj_config.dump_signal = a signal number (e.g. SIGQUIT): on that signal
 * the snapshot goes to stderr, written by a monitor thread (not in the
 * handler); the program's previous handler comes back at destroy.  The
 * library writes nothing else to stderr.
 */
FJ_API int fj_system_dump(fj_system *sys, FILE *out);

/*
 * Starts recording a trace: each worker records up to max_events events
 * (runs of jobs, steals, parks, wake-ups) into its own buffer, without
 * locks; later events are counted as dropped.  About 56 bytes per event
 * and worker are allocated now.  Errors: FJ_EINVAL (NULL sys, max_events
 * 0), FJ_ESTATE (a trace is already running), FJ_ENOMEM.
 * Threads: any.  Suspends: no.
 */
FJ_API int fj_trace_start(fj_system *sys, size_t max_events);

/*
 * Stops the trace and writes it to json_path as Chrome Trace Event JSON
 * (opens in Perfetto's UI and chrome://tracing): one track per worker, a
 * slice per run of a job named after the job, flow arrows from a run that
 * yielded or waited to the run that resumed it, and instants for steals,
 * parks and wake-ups with the counter.  json_path NULL discards the
 * recording.  The recording is freed in every case.
 * Errors: FJ_EINVAL (NULL sys), FJ_ESTATE (no trace running), FJ_EIO (the
 * file could not be written).  Threads: any.  Suspends: no.
 */
FJ_API int fj_trace_stop(fj_system *sys, const char *json_path);

#ifdef __cplusplus
}
#endif

#endif /* FIBERJOB_H */
