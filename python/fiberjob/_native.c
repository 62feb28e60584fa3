/* SPDX-License-Identifier: MIT */
/*
 * _native.c — the Python job trampoline and the native workloads; see
 * _native.h.  Nothing here touches the interpreter except through
 * fjpy_step, which cffi wraps in PyGILState_Ensure/Release.
 */
#include "_native.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

void fjpy_job(fj_ctx *ctx, void *arg) {
  uintptr_t id = (uintptr_t)arg;
  int status = FJ_OK;
  for (;;) {
    fj_counter *wait_on = NULL;
    /* The Python step has fully returned here: no interpreter frame lives on
     * this stack while the fiber is suspended below. */
    int what = fjpy_step(ctx, id, status, &wait_on);
    if (what == FJPY_YIELD)
      status = fj_ctx_yield(ctx);
    else if (what == FJPY_WAIT)
      status = fj_ctx_wait(ctx, wait_on);
    else
      return;
  }
}

int64_t fjn_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void spin(uint64_t ns) {
  if (ns == 0)
    return;
  int64_t end = fjn_now_ns() + (int64_t)ns;
  while (fjn_now_ns() < end)
    ;
}

static void note_error(int *status, int r) {
  int expected = FJ_OK;
  if (r != FJ_OK)
    atomic_compare_exchange_strong((_Atomic int *)status, &expected, r);
}

/* One node of a fork-join tree; children live on the parent's stack, which
 * stays valid because the parent waits for them. */
typedef struct tree_node {
  uint32_t depth, fanout;
  fjn_task *root;
} tree_node;

#define FJN_MAX_FANOUT 64

static void tree_job(fj_ctx *ctx, void *arg) {
  tree_node *n = arg;
  fjn_task *root = n->root;
  atomic_fetch_add_explicit((_Atomic uint64_t *)&root->nodes, 1, memory_order_relaxed);
  if (n->depth == 0)
    return;
  tree_node kids[FJN_MAX_FANOUT];
  fj_job jobs[FJN_MAX_FANOUT];
  for (uint32_t i = 0; i < n->fanout; i++) {
    kids[i] = (tree_node){n->depth - 1, n->fanout, root};
    jobs[i] = (fj_job){tree_job, &kids[i]};
  }
  fj_counter *c;
  int r = fj_counter_create(fj_ctx_system(ctx), &c);
  if (r != FJ_OK) {
    note_error(&root->status, r);
    return;
  }
  r = fj_ctx_spawn_jobs(ctx, jobs, n->fanout, fj_ctx_priority(ctx), c);
  note_error(&root->status, r);
  if (r == FJ_OK)
    note_error(&root->status, fj_ctx_wait(ctx, c));
  fj_counter_destroy(c);
}

void fjn_job(fj_ctx *ctx, void *arg) {
  fjn_task *t = arg;
  t->start_ns = fjn_now_ns();
  t->start_worker = fj_ctx_worker(ctx);
  switch (t->kind) {
  case FJN_SPIN:
    spin(t->spin_ns);
    break;
  case FJN_YIELD:
    for (uint32_t i = 0; i < t->yields; i++) {
      spin(t->spin_ns);
      note_error(&t->status, fj_ctx_yield(ctx));
      if (t->yield_ns)
        t->yield_ns[i] = fjn_now_ns();
      t->yields_done++;
    }
    break;
  case FJN_TREE:
    if (t->fanout == 0 || t->fanout > FJN_MAX_FANOUT) {
      t->status = FJ_EINVAL;
      break;
    }
    {
      tree_node root = {t->depth, t->fanout, t};
      tree_job(ctx, &root);
    }
    break;
  case FJN_WAIT:
    note_error(&t->status, fj_ctx_wait(ctx, t->wait_on));
    t->value_after_wait = fj_counter_value(t->wait_on);
    break;
  default:
    t->status = FJ_EINVAL;
  }
  t->end_worker = fj_ctx_worker(ctx);
  t->end_ns = fjn_now_ns();
  atomic_store_explicit((_Atomic int *)&t->done, 1, memory_order_release);
}
