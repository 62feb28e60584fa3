/* SPDX-License-Identifier: MIT */
/*
 * thread_yield_bench.c — the alternation fiber yield replaces, done by OS
 * threads: N parties take turns (0, 1, ..., N-1, 0, ...) and each turn is
 * one handoff, the counterpart of one fiber yield with direct hand-over.
 *   thread_yield_bench sched_yield|condvar|futex <parties> [--pin]
 *     sched_yield  the waiting parties spin on the turn calling sched_yield()
 *     condvar      one mutex, one condition variable per party
 *     futex        one futex word per party: FUTEX_WAIT until it is your
 *                  turn, FUTEX_WAKE the next party
 *     --pin        every party on CPU 0 (like fibers on one worker); without
 *                  it the kernel places the parties on both CPUs
 * Runs about 0.2 s after a warm-up and prints ns per handoff.  Threads: the
 * parties, plus the main thread that sleeps while they run.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "bench_util.h"

enum { MAX_PARTIES = 64, MEASURE_US = 200000 };
enum mech { M_SCHED_YIELD, M_CONDVAR, M_FUTEX };

static enum mech mech;
static int parties;
/* turn: handoffs so far; party turn % parties runs.  Written only by the
 * party whose turn it is; read by the others and by main. */
static _Alignas(64) atomic_long turn;
static _Alignas(64) atomic_int stop;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond[MAX_PARTIES];
static struct { _Alignas(64) atomic_int word; } fx[MAX_PARTIES]; /* 1 = your turn */

static long futex(atomic_int *addr, int op, int val) {
  return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

/* Every party ends on its own turn after seeing stop, so each exits once
 * and passes the turn on first: the last pass reaches all of them.  A
 * party that sees stop got the turn (acquire) from one that saw it too. */
static void *party(void *p) {
  int me = (int)(long)p, next = (me + 1) % parties;
  for (;;) {
    switch (mech) {
    case M_SCHED_YIELD:
      while (atomic_load_explicit(&turn, memory_order_acquire) % parties != me)
        sched_yield();
      break;
    case M_CONDVAR:
      pthread_mutex_lock(&lock);
      while (atomic_load_explicit(&turn, memory_order_relaxed) % parties != me)
        pthread_cond_wait(&cond[me], &lock);
      break;
    case M_FUTEX:
      while (atomic_load_explicit(&fx[me].word, memory_order_acquire) == 0)
        futex(&fx[me].word, FUTEX_WAIT_PRIVATE, 0);
      atomic_store_explicit(&fx[me].word, 0, memory_order_relaxed);
      break;
    }
    int last = atomic_load_explicit(&stop, memory_order_relaxed);
    /* release: hands the turn over; pairs with the acquire loads above */
    atomic_fetch_add_explicit(&turn, 1, memory_order_release);
    switch (mech) {
    case M_SCHED_YIELD:
      break;
    case M_CONDVAR:
      pthread_cond_signal(&cond[next]);
      pthread_mutex_unlock(&lock);
      break;
    case M_FUTEX:
      atomic_store_explicit(&fx[next].word, 1, memory_order_release);
      futex(&fx[next].word, FUTEX_WAKE_PRIVATE, 1);
      break;
    }
    if (last)
      return NULL;
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s sched_yield|condvar|futex <parties> [--pin]\n", argv[0]);
    return 2;
  }
  const char *m = argv[1];
  if (!strcmp(m, "sched_yield"))
    mech = M_SCHED_YIELD;
  else if (!strcmp(m, "condvar"))
    mech = M_CONDVAR;
  else if (!strcmp(m, "futex"))
    mech = M_FUTEX;
  else
    return 2;
  parties = atoi(argv[2]);
  if (parties < 2 || parties > MAX_PARTIES)
    return 2;
  int pin = bench_has_flag(argc, argv, "--pin");
  for (int i = 0; i < parties; i++)
    pthread_cond_init(&cond[i], NULL);
  atomic_store(&fx[0].word, 1);
  pthread_t t[MAX_PARTIES];
  for (int i = 0; i < parties; i++) {
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, BENCH_STACK);
    if (pin) {
      cpu_set_t cpus;
      CPU_ZERO(&cpus);
      CPU_SET(0, &cpus);
      pthread_attr_setaffinity_np(&a, sizeof cpus, &cpus);
    }
    if (pthread_create(&t[i], &a, party, (void *)(long)i) != 0)
      return 2;
    pthread_attr_destroy(&a);
  }
  while (atomic_load(&turn) < 20L * parties) /* warm-up: every party has run */
    usleep(1000);
  long n0 = atomic_load(&turn);
  uint64_t t0 = bench_now_ns();
  usleep(MEASURE_US);
  long n1 = atomic_load(&turn);
  uint64_t t1 = bench_now_ns();
  atomic_store(&stop, 1);
  for (int i = 0; i < parties; i++)
    pthread_join(t[i], NULL);
  bench_verify(n1 > n0, "thread handoffs", n1 - n0, 1);
  char key[64];
  snprintf(key, sizeof key, "%s%d%s", m, parties, pin ? "_pinned" : "");
  bench_report("threads", key, (double)(t1 - t0) / (double)(n1 - n0), "ns/handoff");
  return 0;
}
