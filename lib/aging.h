/* SPDX-License-Identifier: MIT */
/*
 * aging.h — priority aging (fj_config.aging_us): one clock per priority
 * level, shared by all workers.  A level is "due" when nobody has served
 * it by aging for a whole period; the first worker to claim a due level
 * takes one of its items ahead of higher-priority work (the oldest it can
 * find) and restarts the level's clock.  So each level below HIGH gets at
 * least one job per period while higher work streams in, and a lone LOW
 * job starts within about one period (two at worst, when the claim races
 * with its submission) plus the length of the job the worker was running.
 * With no work at a due level the claim just restarts its clock, so the
 * clock measures how long the level's work has been waiting.
 */
#ifndef FJ_AGING_H
#define FJ_AGING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "fiberjob.h"

typedef struct fj__aging {
  uint64_t period_ns;                          /* immutable; 0 = off */
  _Alignas(64) _Atomic uint64_t last[FJ_PRIORITY_COUNT]; /* ns of the last claim */
} fj__aging;

void fj__aging_init(fj__aging *a, uint32_t aging_us);

/* True when level p is due at time now and the caller won the claim; the
 * caller then takes one item of level p if there is one. */
bool fj__aging_claim(fj__aging *a, unsigned p, uint64_t now);

#endif
