/* SPDX-License-Identifier: MIT */
/*
 * fiber_registry.c — see fiber_registry.h.  One process-wide list rather
 * than one per system: a fiber does not know its system until it first
 * runs a job, and a debugger wants a single place to look.
 */
#include "fiber_registry.h"

fj__fiber_registry fj__fibers;

void fj__fiber_registry_add(fj__fiber *f) {
  fj__spin_lock(&fj__fibers.lock);
  f->dbg.reg_prev = NULL;
  f->dbg.reg_next = fj__fibers.head;
  if (fj__fibers.head)
    fj__fibers.head->dbg.reg_prev = f;
  fj__fibers.head = f;
  fj__fibers.count++;
  fj__spin_unlock(&fj__fibers.lock);
}

void fj__fiber_registry_remove(fj__fiber *f) {
  fj__spin_lock(&fj__fibers.lock);
  if (f->dbg.reg_prev)
    f->dbg.reg_prev->dbg.reg_next = f->dbg.reg_next;
  else
    fj__fibers.head = f->dbg.reg_next;
  if (f->dbg.reg_next)
    f->dbg.reg_next->dbg.reg_prev = f->dbg.reg_prev;
  fj__fibers.count--;
  fj__spin_unlock(&fj__fibers.lock);
}
