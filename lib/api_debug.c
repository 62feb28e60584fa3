/* SPDX-License-Identifier: MIT */
/*
 * api_debug.c — the public entry points of the debugging tools: argument
 * checks, then a call into dump.c or trace.c.  Also the registration of
 * plain threads blocked in fj_wait, which dumps and stall reports list.
 */
#include <stdio.h>

#include "debug_state.h"
#include "dump.h"
#include "types.h"
#include "trace.h"

int fj_system_dump(fj_system *sys, FILE *out) {
  if (!sys || !out)
    return FJ_EINVAL;
  return fj__dump(sys, out);
}

int fj_ctx_set_name(fj_ctx *ctx, const char *name) {
  if (!ctx)
    return FJ_EINVAL;
  ctx->name = name;
  return FJ_OK;
}

const char *fj_ctx_name(const fj_ctx *ctx) { return ctx ? ctx->name : NULL; }

int fj_trace_start(fj_system *sys, size_t max_events) {
  if (!sys || max_events == 0)
    return FJ_EINVAL;
  return fj__trace_start(sys, max_events);
}

int fj_trace_stop(fj_system *sys, const char *json_path) {
  if (!sys)
    return FJ_EINVAL;
  return fj__trace_stop(sys, json_path);
}

void fj__thread_wait_begin(fj__sys_debug *d, fj__thread_wait *node, fj_counter *c) {
  *node = (fj__thread_wait){.counter = c, .since_ns = fj__now_coarse_ns()};
  fj__spin_lock(&d->lock);
  node->next = d->thread_waits;
  if (d->thread_waits)
    d->thread_waits->prev = node;
  d->thread_waits = node;
  fj__spin_unlock(&d->lock);
  fj__fetch_add_seq_cst(&d->threads_waiting, 1);
}

void fj__thread_wait_end(fj__sys_debug *d, fj__thread_wait *node) {
  fj__fetch_sub_seq_cst(&d->threads_waiting, 1);
  fj__spin_lock(&d->lock);
  if (node->prev)
    node->prev->next = node->next;
  else
    d->thread_waits = node->next;
  if (node->next)
    node->next->prev = node->prev;
  fj__spin_unlock(&d->lock);
}
