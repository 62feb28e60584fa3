/* SPDX-License-Identifier: MIT */
/*
 * api.c — the public entry points: argument checks only, then a call into
 * the module that does the work.  Every rejected input returns an FJ_E code
 * before anything changes.
 */
#include "api_check.h"
#include "attach.h"
#include "config.h"
#include "counter.h"
#include "fiberjob.h"
#include "internal.h"
#include "submit.h"
#include "sys/sys.h"
#include "system.h"
#include "types.h"
#include "wait.h"


int fj_system_create(const fj_config *cfg, fj_system **out) {
  if (!out)
    return FJ_EINVAL;
  *out = NULL;
  fj_config norm;
  int r = fj__config_load(cfg, &norm);
  if (r != FJ_OK)
    return r;
  return fj__system_create(&norm, out);
}

void fj_system_destroy(fj_system *sys) {
  if (!sys)
    return;
  if (fj__ctx_of(sys))
    fj__fatal("fj_system_destroy called from inside one of its own jobs; "
              "it would wait for itself forever");
  fj__system_destroy(sys);
}

unsigned fj_system_num_workers(const fj_system *sys) { return sys ? sys->num_workers : 0; }

int fj_system_stats(const fj_system *sys, fj_stats *out) {
  if (!sys || !out)
    return FJ_EINVAL;
  fj__system_stats(sys, out);
  return FJ_OK;
}

int fj_counter_create(fj_system *sys, fj_counter **out) {
  if (!out)
    return FJ_EINVAL;
  *out = NULL;
  if (!sys)
    return FJ_EINVAL;
  /* relaxed: a courtesy check for plain threads.  Jobs still running
   * during shutdown (it finishes them) may create counters as usual. */
  if (fj__load_relaxed(&sys->stopping) && !fj__ctx_of(sys))
    return FJ_ESHUTDOWN;
  /* fj__this_worker: this function does not switch fibers, but it is
   * called from jobs, so read the thread's worker the safe way. */
  fj__worker *w = fj__this_worker();
  fj_counter *c = fj__counter_alloc(w ? &w->counters : NULL);
  if (!c)
    return FJ_ENOMEM;
  fj__counter_init(c, sys);
  *out = c;
  return FJ_OK;
}

void fj_counter_destroy(fj_counter *c) {
  if (!c)
    return;
  fj__counter_check_idle_for_destroy(c);
  fj__worker *w = fj__this_worker();
  fj__counter_free(w ? &w->counters : NULL, c);
}

size_t fj_counter_value(const fj_counter *c) { return c ? fj__counter_pending(c) : 0; }

/* The checks of a submission to sys, whoever submits: the jobs, the
 * priority, then the counter's system. */
static int fj__check_submission(const fj_system *sys, const fj_job *jobs, size_t n,
                                fj_priority prio, const fj_counter *c) {
  int r = fj__check_jobs(jobs, n);
  if (r != FJ_OK)
    return r;
  if (!fj__priority_valid(prio))
    return FJ_EPRIORITY;
  if (c && c->sys != sys)
    return FJ_EWRONGSYSTEM;
  return FJ_OK;
}

static int fj__submit(fj_system *sys, const fj_job *jobs, size_t n, fj_priority prio,
                      fj_counter *c) {
  if (!sys)
    return FJ_EINVAL;
  int r = fj__check_submission(sys, jobs, n, prio, c);
  if (r != FJ_OK || n == 0)
    return r;
  fj_ctx *ctx = fj__ctx_of(sys);
  if (ctx)
    return fj__spawn(ctx, jobs, n, (unsigned)prio, c);
  return fj__submit_external(sys, jobs, n, (unsigned)prio, c);
}

/* fj__submit for one job: the path every unbatched submission takes, with
 * the same checks (inlined for n = 1) and a plain thread's job written
 * straight into its ring cell. */
int fj_run(fj_system *sys, fj_job_fn fn, void *arg, fj_priority prio, fj_counter *c) {
  if (!sys)
    return FJ_EINVAL;
  int r = fj__check_submission(sys, &(fj_job){fn, arg}, 1, prio, c);
  if (r != FJ_OK)
    return r;
  /* The inlined thread-local read is safe here: nothing in fj_run can
   * switch fibers before it (see fj__current_ctx). */
  fj__worker *w = fj__this_worker_before_switch();
  fj_ctx *ctx = w ? w->cur_ctx : NULL;
  if (ctx && ctx->sys == sys)
    return fj__spawn(ctx, &(fj_job){fn, arg}, 1, (unsigned)prio, c);
  return fj__submit_external_one(sys, fn, arg, (unsigned)prio, c);
}

int fj_run_jobs(fj_system *sys, const fj_job *jobs, size_t n, fj_priority prio,
                fj_counter *c) {
  return fj__submit(sys, jobs, n, prio, c);
}

/* A plain thread's blocking wait, listed for dumps and stall reports
 * while it blocks. */
static int fj__wait_thread(fj_system *sys, fj_counter *c, int64_t timeout_ns) {
  if (fj__counter_pending(c) == 0)
    return FJ_OK;
  fj__thread_wait node;
  fj__thread_wait_begin(&sys->dbg, &node, c);
  int r = fj__counter_wait_thread(c, timeout_ns);
  fj__thread_wait_end(&sys->dbg, &node);
  return r;
}

int fj_wait(fj_system *sys, fj_counter *c) {
  if (!sys || !c)
    return FJ_EINVAL;
  if (c->sys != sys)
    return FJ_EWRONGSYSTEM;
  fj_ctx *ctx = fj__ctx_of(sys);
  if (ctx)
    return fj__wait(ctx, c);
  fj__worker *slot = fj__attached_slot(sys);
  if (slot)
    return fj__slot_wait(slot, c, -1);
  return fj__wait_thread(sys, c, -1);
}

int fj_wait_timeout(fj_system *sys, fj_counter *c, uint64_t timeout_ns) {
  if (!sys || !c)
    return FJ_EINVAL;
  if (c->sys != sys)
    return FJ_EWRONGSYSTEM;
  if (fj__current_ctx())
    return FJ_EINJOB;
  if (timeout_ns > (uint64_t)INT64_MAX)
    timeout_ns = (uint64_t)INT64_MAX;
  fj__worker *slot = fj__attached_slot(sys);
  if (slot)
    return fj__slot_wait(slot, c, (int64_t)timeout_ns);
  return fj__wait_thread(sys, c, (int64_t)timeout_ns);
}

int fj_ctx_spawn(fj_ctx *ctx, fj_job_fn fn, void *arg, fj_priority prio, fj_counter *c) {
  fj_job job = {fn, arg};
  return fj_ctx_spawn_jobs(ctx, &job, 1, prio, c);
}

int fj_ctx_spawn_jobs(fj_ctx *ctx, const fj_job *jobs, size_t n, fj_priority prio,
                      fj_counter *c) {
  if (!fj__ctx_valid(ctx))
    return FJ_EINVAL;
  int r = fj__check_submission(ctx->sys, jobs, n, prio, c);
  if (r != FJ_OK || n == 0)
    return r;
  return fj__spawn(ctx, jobs, n, (unsigned)prio, c);
}

int fj_ctx_yield(fj_ctx *ctx) {
  if (!fj__ctx_valid(ctx))
    return FJ_EINVAL;
  return fj__yield(ctx);
}

int fj_ctx_wait(fj_ctx *ctx, fj_counter *c) {
  if (!fj__ctx_valid(ctx) || !c)
    return FJ_EINVAL;
  if (c->sys != ctx->sys)
    return FJ_EWRONGSYSTEM;
  return fj__wait(ctx, c);
}

unsigned fj_ctx_worker(const fj_ctx *ctx) { return ctx ? ctx->worker->index : 0; }

fj_priority fj_ctx_priority(const fj_ctx *ctx) {
  return ctx ? (fj_priority)ctx->prio : FJ_PRIORITY_NORMAL;
}

fj_system *fj_ctx_system(const fj_ctx *ctx) { return ctx ? ctx->sys : NULL; }

fj_ctx *fj_current_ctx(void) { return fj__current_ctx(); }
