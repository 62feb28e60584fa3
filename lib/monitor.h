/* SPDX-License-Identifier: MIT */
/*
 * monitor.h — the monitor thread of a system: the stall/deadlock report
 * (fj_config.stall_report_ms) and the dump on a signal
 * (fj_config.dump_signal).  Started only when one of them is set.
 */
#ifndef FJ_MONITOR_H
#define FJ_MONITOR_H

#include "fiberjob.h"

/* FJ_OK (also when nothing is configured) or FJ_ETHREAD / FJ_ECONFIG
 * (the signal cannot be caught). */
int fj__monitor_start(fj_system *sys);
/* Stops and joins it; no-op when it did not start. */
void fj__monitor_stop(fj_system *sys);

#endif
