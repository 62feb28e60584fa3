/* SPDX-License-Identifier: MIT */
/*
 * config.c — fj_config defaults and validation.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "stack.h"
#include "sys/sys.h"
#include "versioned.h"

/* The size of the first published fj_config: the smallest struct we accept. */
#define FJ__CONFIG_V1_SIZE (offsetof(fj_config, enable_yielding) + sizeof(int))

void fj_config_init(fj_config *cfg) {
  if (!cfg)
    return;
  memset(cfg, 0, sizeof *cfg);
  cfg->struct_size = sizeof *cfg;
  cfg->num_workers = 0;
  cfg->stack_size = FJ_DEFAULT_STACK_SIZE;
  cfg->max_pooled_fibers = FJ_DEFAULT_MAX_POOLED_FIBERS;
  cfg->enable_yielding = 1;
  cfg->large_stack_size = FJ_DEFAULT_LARGE_STACK_SIZE;
}

int fj__config_load(const fj_config *user, fj_config *out) {
  fj_config_init(out);
  if (user) {
    size_t size = user->struct_size;
    /* Too small: not initialised with fj_config_init?  Too big: a newer
     * caller that set a field we do not know. */
    if (!fj__copy_versioned(user, size, out, sizeof *out, FJ__CONFIG_V1_SIZE))
      return FJ_ECONFIG;
    /* An older caller's struct ends before large_stack_size: keep the
     * default fj_config_init gave it, not a zero. */
    if (size < offsetof(fj_config, large_stack_size) + sizeof(size_t))
      out->large_stack_size = FJ_DEFAULT_LARGE_STACK_SIZE;
    out->struct_size = sizeof *out;
  }
  /* Any program can turn stall reports on without recompiling. */
  const char *stall = getenv("FIBERJOB_STALL_MS");
  if (stall && *stall) {
    char *end;
    unsigned long ms = strtoul(stall, &end, 10);
    if (*end == '\0' && ms <= UINT32_MAX)
      out->stall_report_ms = (uint32_t)ms;
  }
  if (out->num_workers == 0)
    out->num_workers = fj__cpu_count();
  if (out->num_workers > FJ_MAX_WORKERS)
    return FJ_ECONFIG;
  if (out->stack_size < FJ_MIN_STACK_SIZE || out->stack_size > FJ_MAX_STACK_SIZE)
    return FJ_ECONFIG;
  out->stack_size = fj__stack_round(out->stack_size);
  if (out->max_pooled_fibers > FJ__MAX_POOLED_LIMIT)
    return FJ_ECONFIG;
  out->enable_yielding = out->enable_yielding != 0;
  if (out->large_stack_size < FJ_MIN_STACK_SIZE || out->large_stack_size > FJ_MAX_STACK_SIZE)
    return FJ_ECONFIG;
  out->large_stack_size = fj__stack_round(out->large_stack_size);
  if (out->attach_slots > FJ_MAX_WORKERS)
    return FJ_ECONFIG;
  if (out->max_fibers != 0 && out->max_fibers < out->num_workers)
    return FJ_ECONFIG; /* every worker needs its loop fiber */
  if (out->aging_us > FJ_MAX_AGING_US)
    return FJ_ECONFIG;
  return FJ_OK;
}
