/* SPDX-License-Identifier: MIT */
/*
 * system.h — creating, destroying and reporting on the job system (the
 * struct is in types.h).
 */
#ifndef FJ_SYSTEM_H
#define FJ_SYSTEM_H

#include "types.h"

/* FJ_OK, FJ_ENOMEM or FJ_ETHREAD; *out untouched on failure. */
int fj__system_create(const fj_config *cfg, fj_system **out);
void fj__system_destroy(fj_system *sys);
void fj__system_stats(const fj_system *sys, fj_stats *out);

#endif
