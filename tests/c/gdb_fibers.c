/* SPDX-License-Identifier: MIT */
/*
 * gdb_fibers: a program for the gdb extension's test (tests/c/gdb_check.sh).
 * On one worker it parks two jobs in parked_in_alpha and parked_in_beta
 * and leaves a third, yielded in yield_in_gamma, while a fourth job blocks
 * the worker; then main calls gdb_fibers_ready, where gdb stops and looks
 * at the three suspended fibers.  Run alone, it just finishes.
 */
#include <semaphore.h>
#include <stdatomic.h>

#include "check.h"

static fj_counter *gate;
static sem_t blocker_running, release_blocker, all_queued;

/* sem_wait, again when a signal interrupts it. */
static void wait_for(sem_t *s) {
  while (sem_wait(s) != 0)
    ;
}
static atomic_int returned;

__attribute__((noinline)) static void parked_in_alpha(fj_ctx *ctx) {
  CHECK_OK(fj_ctx_wait(ctx, gate));
  atomic_fetch_add(&returned, 1);
}

__attribute__((noinline)) static void parked_in_beta(fj_ctx *ctx) {
  CHECK_OK(fj_ctx_wait(ctx, gate));
  atomic_fetch_add(&returned, 1);
}

__attribute__((noinline)) static void yield_in_gamma(fj_ctx *ctx) {
  CHECK_OK(fj_ctx_yield(ctx));
  atomic_fetch_add(&returned, 1);
}

static void alpha_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  parked_in_alpha(ctx);
  atomic_fetch_add(&returned, 1); /* not a tail call: this frame stays */
}

static void beta_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  parked_in_beta(ctx);
  atomic_fetch_add(&returned, 1); /* not a tail call: this frame stays */
}

static void gamma_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  yield_in_gamma(ctx);
  atomic_fetch_add(&returned, 1); /* not a tail call: this frame stays */
}

/* Holds the only worker until main has queued the others: alpha must not
 * run before the blocker counts on the gate, or its wait finds the gate at
 * zero and returns instead of parking. */
static void holder_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  wait_for(&all_queued);
}

/* Holds the gate and the only worker until main has been looked at. */
static void blocker_job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  sem_post(&blocker_running);
  wait_for(&release_blocker);
}

/* gdb's breakpoint: every fiber is suspended where it will stay. */
__attribute__((noinline)) void gdb_fibers_ready(void) { __asm__ volatile("" ::: "memory"); }

int main(void) {
  sem_init(&blocker_running, 0, 0);
  sem_init(&release_blocker, 0, 0);
  sem_init(&all_queued, 0, 0);
  fj_system *sys = test_system(1, 1);
  gate = test_counter(sys);
  fj_counter *done = test_counter(sys);
  /* One worker takes them in this order: the holder waits until all are
   * queued, alpha and beta park on the gate, gamma yields to the blocker,
   * which then holds the worker. */
  CHECK_OK(fj_run(sys, holder_job, NULL, FJ_PRIORITY_NORMAL, done));
  CHECK_OK(fj_run(sys, alpha_job, NULL, FJ_PRIORITY_NORMAL, done));
  CHECK_OK(fj_run(sys, beta_job, NULL, FJ_PRIORITY_NORMAL, done));
  CHECK_OK(fj_run(sys, gamma_job, NULL, FJ_PRIORITY_NORMAL, done));
  CHECK_OK(fj_run(sys, blocker_job, NULL, FJ_PRIORITY_NORMAL, gate));
  sem_post(&all_queued);
  wait_for(&blocker_running);
  gdb_fibers_ready();
  sem_post(&release_blocker);
  CHECK_OK(fj_wait(sys, done));
  CHECK_EQ(atomic_load(&returned), 6);
  fj_system_destroy(sys);
  fj_counter_destroy(gate);
  fj_counter_destroy(done);
  puts("gdb_fibers: done");
  return 0;
}
