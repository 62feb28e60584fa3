/* SPDX-License-Identifier: MIT */
/*
 * fiber_registry.c — see fiber_registry.h.  One process-wide list rather
 * than one per system: a fiber does not know its system until it first
 * runs a job, and a debugger wants a single place to look.  fiber.c links
 * fibers in and out (fj__fiber_register, fj__fiber_unregister).
 */
#include "fiber_registry.h"

fj__fiber_registry fj__fibers;
