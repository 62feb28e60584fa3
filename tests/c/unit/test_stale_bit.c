/* SPDX-License-Identifier: MIT */
/*
 * A shared queue that holds a job while its inject_maybe bit is still
 * clear, as when the submitting thread is preempted between its push and
 * setting the bit: the worker loop's pick skips such a queue, so the idle
 * path, which reads the queues themselves, must set the bit for it.  Each
 * round pushes one job into the LOW queue without touching the bit, wakes
 * the worker as the submitter would, and waits (bounded, so a regression
 * fails instead of hanging: without the idle path's fix the worker spins
 * between its pick and its idle check forever).
 */
#include <stdint.h>

#include "counter.h"
#include "idle.h"
#include "inject_queue.h"
#include "types.h"
#include "unit.h"

static atomic_int ran;
static void job(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&ran, 1);
}

int main(void) {
  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = 1;
  fj_system *sys;
  CHECK_OK(fj_system_create(&cfg, &sys));
  fj_counter *c;
  CHECK_OK(fj_counter_create(sys, &c));
  const unsigned low = FJ_PRIORITY_LOW;
  long rounds = test_scaled(200);
  for (long r = 1; r <= rounds; r++) {
    /* Nothing else uses LOW here: the bit starts clear and stays clear. */
    CHECK_EQ(atomic_load(&sys->inject_maybe) & (1u << low), 0);
    CHECK_OK(fj__counter_add(c, 1));
    fj__ring_cell *cell = fj__inject_claim_single(&sys->inject[low]);
    CHECK(cell != NULL);
    fj__ring_publish(cell, &(fj__item){job, NULL, c});
    fj__wake(sys, 1); /* the submitter's wake, with the bit still clear */
    CHECK_OK(fj_wait_timeout(sys, c, 60ull * 1000 * 1000 * 1000));
    CHECK_EQ(atomic_load(&ran), r);
    /* The worker set the bit; clear it again the way a yield does. */
    fj__inject_clear_if_empty(&sys->inject_maybe, &sys->inject[low], low);
  }
  fj_counter_destroy(c);
  fj_system_destroy(sys);
  printf("stale_bit: %ld jobs behind a clear bit all ran\n", rounds);
  return 0;
}
