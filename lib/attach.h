/* SPDX-License-Identifier: MIT */
/*
 * attach.h — attach slots: plain threads that take a worker index for a
 * while (fj_thread_attach), run pinned and other ready work while they
 * wait, and give it back.  attach.c describes how.
 */
#ifndef FJ_ATTACH_H
#define FJ_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "types.h"

/* FJ_OK (*index set), FJ_EBUSY, FJ_EINJOB or FJ_ESHUTDOWN. */
int fj__thread_attach(fj_system *sys, unsigned *index);
/* FJ_OK, FJ_ENOTATTACHED or FJ_EINJOB. */
int fj__thread_detach(fj_system *sys);

/* The slot the calling thread is attached to in sys, or NULL. */
fj__worker *fj__attached_slot(fj_system *sys);

/* fj_wait / fj_wait_timeout on an attached thread: runs pinned and other
 * ready work until c is zero (timeout_ns < 0: no limit).  FJ_OK or
 * FJ_ETIMEDOUT.  Threads: the thread attached to w. */
int fj__slot_wait(fj__worker *w, fj_counter *c, int64_t timeout_ns);

/* For fj_system_destroy, after `stopping` is set: detaches the calling
 * thread if it is attached; aborts with a message naming fj_thread_detach
 * if another thread still is. */
void fj__slots_check_destroy(fj_system *sys);

/* Destroy's drain: runs what is ready on every empty slot on the calling
 * thread.  True if it ran anything. */
bool fj__slots_drain(fj_system *sys);

#endif
