/* SPDX-License-Identifier: MIT */
/*
 * config.h — reading and validating a caller's fj_config.
 */
#ifndef FJ_CONFIG_H
#define FJ_CONFIG_H

#include "fiberjob.h"

/* Copies the caller's config (NULL = defaults) into *out following the
 * struct_size rule in fiberjob.h, fills num_workers = 0 with the CPU count,
 * rounds the stack size to pages, and validates every field.
 * FJ_OK or FJ_ECONFIG. */
int fj__config_load(const fj_config *user, fj_config *out);

#endif
