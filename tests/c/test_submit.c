/* SPDX-License-Identifier: MIT */
/* External submission: several threads submitting singles and batches at
 * once lose nothing, and one thread's submissions run in FIFO order across
 * the lock-free rings and the locked queue behind them (singles only: the
 * fast ring, then the overflow ring; with batches between: the locked
 * queue too). */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"

enum { PRODUCERS = 4 };
static fj_system *sys;
static long per_producer;
static atomic_long tally[PRODUCERS];

static void inc(fj_ctx *ctx, void *arg) {
  (void)ctx;
  atomic_fetch_add((atomic_long *)arg, 1);
}

static long expected_jobs(void) { return per_producer + (per_producer / 100) * 6; }

static void *producer(void *arg) {
  long i = (long)arg;
  fj_counter *c = i % 2 ? NULL : test_counter(sys);
  fj_job batch[7];
  for (int k = 0; k < 7; k++)
    batch[k] = (fj_job){inc, &tally[i]};
  for (long k = 0; k < per_producer; k++) {
    if (k % 100 == 0)
      CHECK_OK(fj_run_jobs(sys, batch, 7, (fj_priority)(k % 3), c));
    else
      CHECK_OK(fj_run(sys, inc, &tally[i], (fj_priority)(k % 3), c));
  }
  if (c) {
    CHECK_OK(fj_wait(sys, c));
    CHECK_EQ(atomic_load(&tally[i]), expected_jobs());
    fj_counter_destroy(c);
  }
  return NULL;
}

static void many_producers(unsigned workers, int yielding) {
  sys = test_system(workers, yielding);
  per_producer = test_scaled(20000);
  for (int i = 0; i < PRODUCERS; i++)
    atomic_store(&tally[i], 0);
  pthread_t t[PRODUCERS];
  for (long i = 0; i < PRODUCERS; i++)
    CHECK(pthread_create(&t[i], NULL, producer, (void *)i) == 0);
  for (int i = 0; i < PRODUCERS; i++)
    pthread_join(t[i], NULL);
  fj_system_destroy(sys); /* runs the fire-and-forget producers' jobs */
  for (int i = 0; i < PRODUCERS; i++)
    CHECK_EQ(atomic_load(&tally[i]), expected_jobs());
}

enum { ORDERED = 5000 };
static int order[ORDERED];
static atomic_int pos, gate, holding;

static void record(fj_ctx *ctx, void *arg) {
  (void)ctx;
  order[atomic_fetch_add(&pos, 1)] = (int)(long)arg;
}

static void hold(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_store(&holding, 1);
  while (!atomic_load(&gate))
    usleep(50);
}

static void fifo_one_thread(int yielding, int with_batches) {
  sys = test_system(1, yielding);
  fj_counter *c = test_counter(sys);
  atomic_store(&pos, 0);
  atomic_store(&gate, 0);
  atomic_store(&holding, 0);
  CHECK_OK(fj_run(sys, hold, NULL, FJ_PRIORITY_NORMAL, c));
  while (!atomic_load(&holding))
    usleep(50);
  /* More singles than the lock-free ring holds, with batches between. */
  int next = 0;
  for (int k = 0; next < ORDERED - 3; k++) {
    if (with_batches && k % 50 == 7) {
      fj_job b[3];
      for (int j = 0; j < 3; j++)
        b[j] = (fj_job){record, (void *)(long)next++};
      CHECK_OK(fj_run_jobs(sys, b, 3, FJ_PRIORITY_NORMAL, c));
    } else {
      CHECK_OK(fj_run(sys, record, (void *)(long)next++, FJ_PRIORITY_NORMAL, c));
    }
  }
  atomic_store(&gate, 1);
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(atomic_load(&pos), next);
  for (int i = 0; i < next; i++)
    CHECK_EQ(order[i], i);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

int main(void) {
  FOR_EACH_SETUP(many_producers);
  for (int batches = 0; batches < 2; batches++) {
    fifo_one_thread(1, batches);
    fifo_one_thread(0, batches);
  }
  puts("test_submit: ok");
  return 0;
}
