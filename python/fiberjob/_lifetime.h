/* SPDX-License-Identifier: MIT */
/*
 * _lifetime.h — the life of one fj_system as the Python package sees it.
 *
 * A JobSystem holds an fjpy_sys instead of a bare fj_system *.  The guard
 * makes closing exactly-once and leaves no window for a signal: Python can
 * raise KeyboardInterrupt between any two bytecodes, but never inside one C
 * call, so every decision that must not be torn (claim the close, publish
 * "down", count a caller in or out) is made here, in one call.
 *
 * States: OPEN -> CLOSING -> DOWN, and any state -> FORKED in a child after
 * fork() (the workers exist only in the parent).
 *
 *   - External calls (threads that are not running a job of this system)
 *     enter the guard first: refused once CLOSING starts, counted while
 *     inside, and the closer destroys the system only when none is inside,
 *     so no call ever touches a freed fj_system.
 *   - Calls from inside one of the system's own jobs skip the guard: the
 *     system cannot be destroyed before that job returns (fj_system_destroy
 *     runs every job to completion), and such calls are allowed while it
 *     closes, as in C.
 *   - The close runs on a closer thread of its own, never on a worker (a
 *     JobSystem dropped inside one of its jobs is closed that way), and any
 *     number of threads may wait for DOWN, in slices so Ctrl-C gets through.
 *
 * python/build_ffi.py reads this header as the cffi declarations: keep it to
 * prototypes, typedefs and #defines of one value (no #if, no macros with
 * arguments).
 */
#ifndef FIBERJOB_PY_LIFETIME_H
#define FIBERJOB_PY_LIFETIME_H

#include <stdint.h>
#include "fiberjob.h"

/* Returned instead of an FJ_E... code when the system was inherited through
 * fork(); outside libfiberjob's code range. */
#define FJPY_EFORKED (-1000)

typedef struct fjpy_sys fjpy_sys;

/* fj_system_create; on success *out holds one reference (the caller's). */
int fjpy_sys_create(const fj_config *cfg, fjpy_sys **out);
/* Drops a reference; the guard is freed with the last one.  The closer
 * thread holds one while it runs. */
void fjpy_sys_release(fjpy_sys *g);

/* The fj_system itself, NULL once down or forked.  For tests that must
 * reach libfiberjob directly; the caller keeps the system from closing. */
fj_system *fjpy_sys_raw(fjpy_sys *g);

/* 1 when the calling thread runs a job of this system, else 0. */
int fjpy_sys_in_own_job(fjpy_sys *g);

/* Claims the close and starts the closer thread.  Returns 1 for the caller
 * that claimed it, 0 when it was already claimed (or the system is forked),
 * FJ_ETHREAD when no thread could be started (the system stays OPEN).
 * Never blocks.  Threads: any, including workers. */
int fjpy_sys_close(fjpy_sys *g);
/* Waits up to timeout_ns for DOWN (or FORKED); 1 when reached, 0 when not.
 * Threads: any but the system's own workers. */
int fjpy_sys_wait_down(fjpy_sys *g, uint64_t timeout_ns);
/* 0 OPEN, 1 CLOSING, 2 DOWN, 3 FORKED. */
int fjpy_sys_state(fjpy_sys *g);

/* In a child after fork(): marks the system FORKED and re-creates the lock
 * (another thread may have held it at the fork).  Never touches the
 * inherited fj_system.  Threads: the child's only thread. */
void fjpy_sys_forked(fjpy_sys *g);

/* A guard that is DOWN for ever and never freed (do not release it): what a
 * JobSystem points at once its __del__ handed its own guard on, so a later
 * call through it (another finalizer of the same cycle) gets FJ_ESHUTDOWN
 * instead of reaching freed memory. */
fjpy_sys *fjpy_sys_dropped(void);

/* The fj_system calls, guarded as described above: FJ_ESHUTDOWN once
 * closing (from outside the system's jobs), FJPY_EFORKED after fork().
 * *submitted (may be NULL) is written with the result before returning, so
 * Python learns whether jobs were submitted even if a signal discards the
 * return value. */
int fjpy_sys_run(fjpy_sys *g, fj_job_fn fn, void *arg, fj_priority prio, fj_counter *c,
                 int *submitted);
int fjpy_sys_run_jobs(fjpy_sys *g, const fj_job *jobs, size_t n, fj_priority prio,
                      fj_counter *c, int *submitted);
int fjpy_sys_submit(fjpy_sys *g, const fj_job *jobs, size_t n, const fj_run_opts *opts,
                    int *submitted);
int fjpy_sys_attach(fjpy_sys *g, unsigned *worker_index);
int fjpy_sys_detach(fjpy_sys *g);
int fjpy_sys_counter_create(fjpy_sys *g, fj_counter **out);
int fjpy_sys_wait_timeout(fjpy_sys *g, fj_counter *c, uint64_t timeout_ns);
int fjpy_sys_stats(fjpy_sys *g, fj_stats *out);
/* Negative code when not usable, else the number of workers. */
int fjpy_sys_num_workers(fjpy_sys *g);

/* The debugging calls, guarded like the others.  dump writes
 * fj_system_dump's text into a malloc'ed string (*text, *len; free it with
 * fjpy_free), FJ_ENOMEM if that cannot be made. */
int fjpy_sys_dump(fjpy_sys *g, char **text, size_t *len);
int fjpy_sys_trace_start(fjpy_sys *g, size_t max_events);
int fjpy_sys_trace_stop(fjpy_sys *g, const char *json_path);
void fjpy_free(void *p);

#endif
