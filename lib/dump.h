/* SPDX-License-Identifier: MIT */
/*
 * dump.h — the human-readable picture of a system (fj_system_dump) and the
 * stall report built on it: workers, queues, every suspended fiber with its
 * job, counter and call stack, and the wait graph between jobs.
 */
#ifndef FJ_DUMP_H
#define FJ_DUMP_H

#include <stdint.h>
#include <stdio.h>

#include "fiberjob.h"

/* Writes the snapshot.  FJ_OK, FJ_ENOMEM or FJ_EIO.  Threads: any, also
 * while jobs run (what it shows is then a moment's picture). */
int fj__dump(fj_system *sys, FILE *out);

/* The stall report: a headline, the wait graph with any cycle or the
 * reason of the stall, then the snapshot.  quiet_ms: how long nothing
 * progressed.  *threads_shown: how many threads blocked in fj_wait it
 * lists.  Threads: the monitor thread. */
int fj__dump_stall_report(fj_system *sys, FILE *out, uint64_t quiet_ms, size_t *threads_shown);

#endif
