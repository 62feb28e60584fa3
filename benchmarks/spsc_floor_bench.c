/* SPDX-License-Identifier: MIT */
/*
 * spsc_floor_bench.c — the floor of handing one job to another core: a bare
 * single-producer/single-consumer ring of {function, argument} pairs and one
 * consumer thread that spins on it and calls each.  No priorities, no
 * counters, no fibers, no sleeping: what any job system's external
 * submission pays at least.  Same loop shape as the empty-job workloads:
 * 1,000,000 empty jobs pushed one at a time from the main thread, then a
 * wait until the consumer has run them all; one untimed pass first, then
 * the fastest of BENCH_EMPTY_PASSES timed ones (bench_util.h).
 *   spsc_floor_bench empty_unbatched [--lamport | --counted | --spin]
 * Threads: the producer (main) and one consumer, 2 in all.
 * A consumer that finds the ring empty pauses (64 `pause` instructions)
 * before it looks again, so it does not keep pulling the producer's lines
 * away while the producer writes them; --spin looks again at once (system
 * "spsc-spin").  On these VMs the pausing consumer gave the lower floor in
 * all but one of our runs, often 12-25 ns where the spinning one measured
 * 35-160 ns (benchmarks/README.md).
 * --counted adds what a job counter costs any job system: the producer
 * adds 1 to a shared count before each push and the consumer subtracts 1
 * after each job, both atomic read-modify-writes of one word (the system is
 * then "spsc-counted").  That is the least a counted fj_run does besides
 * the handoff.
 *
 *   spsc_floor_bench submit_busy
 * The producer's side alone, as fiberjob_bench's submit_busy measures it:
 * BENCH_SUBMIT_BUSY_JOBS pushes into a ring that holds them all while no
 * consumer runs (each push writes its item and release-stores the tail),
 * CPU time, the fastest of BENCH_PASSES passes.  Threads: main only.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "bench_util.h"

typedef void (*job_fn)(void *);
typedef struct { job_fn fn; void *arg; } item;

enum { RING = 1024 }; /* a power of two */

/* head: written by the consumer only; tail: by the producer only.  Each
 * side keeps a private copy of the other's index (see `cached`). */
static struct {
  _Alignas(64) atomic_size_t head;
  _Alignas(64) atomic_size_t tail;
  _Alignas(64) item slots[RING];
  _Alignas(64) atomic_long done; /* jobs run; read by the producer's wait */
  atomic_int stop;
  _Alignas(64) atomic_long pending; /* --counted: pushed and not yet run */
} q;

/* cached = 0: Lamport's ring, each side rereads the other's index on every
 * push and pop (two shared lines per job).  cached = 1: each side rereads it
 * only when the ring looks full/empty — the fastest handoff we know. */
static int cached = 1;
static int with_counter; /* --counted */
static int spin;         /* --spin: no pause before looking again */

enum { EMPTY_PAUSES = 64 };

static void cpu_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

static void push(job_fn fn, void *arg) {
  static size_t tail, head_seen; /* producer-private */
  if (!cached)
    head_seen = atomic_load_explicit(&q.head, memory_order_acquire);
  while (tail - head_seen == RING) {
    /* acquire: the consumer has finished reading the slots before head */
    head_seen = atomic_load_explicit(&q.head, memory_order_acquire);
  }
  /* relaxed: the count only has to be up before the consumer can take the
   * job, which the release store of tail below orders. */
  if (with_counter)
    atomic_fetch_add_explicit(&q.pending, 1, memory_order_relaxed);
  q.slots[tail % RING] = (item){fn, arg};
  tail++;
  /* release: publishes the slot; pairs with the acquire in consumer() */
  atomic_store_explicit(&q.tail, tail, memory_order_release);
}

static void *consumer(void *unused) {
  (void)unused;
  size_t head = 0, tail_seen = 0;
  long done = 0;
  while (!atomic_load_explicit(&q.stop, memory_order_relaxed)) {
    if (!cached || head == tail_seen)
      tail_seen = atomic_load_explicit(&q.tail, memory_order_acquire);
    if (head == tail_seen) {
      for (int i = 0; !spin && i < EMPTY_PAUSES; i++)
        cpu_pause();
      tail_seen = atomic_load_explicit(&q.tail, memory_order_acquire);
      continue;
    }
    item it = q.slots[head % RING];
    head++;
    /* release: the slot may be reused; pairs with the acquire in push() */
    atomic_store_explicit(&q.head, head, memory_order_release);
    it.fn(it.arg);
    /* release: a waiter that sees the count drop sees the job's effects */
    if (with_counter)
      atomic_fetch_sub_explicit(&q.pending, 1, memory_order_release);
    atomic_store_explicit(&q.done, ++done, memory_order_release);
  }
  return NULL;
}

static void empty_job(void *arg) {
  (void)arg;
  __asm__ volatile("" ::: "memory"); /* empty, but not elided */
}

static long counted;
static void counted_job(void *arg) {
  (void)arg;
  counted++; /* consumer thread only */
}

static void wait_done(long want) {
  while (atomic_load_explicit(&q.done, memory_order_acquire) < want) {
  }
}

/* submit_busy: see the top of the file. */
static int bench_submit_busy(void) {
  item *ring = calloc(BENCH_SUBMIT_BUSY_JOBS, sizeof *ring);
  if (!ring)
    return 2;
  static atomic_size_t tail; /* what a consumer would acquire */
  uint64_t best = UINT64_MAX;
  for (int pass = 0; pass < BENCH_PASSES; pass++) {
    atomic_store(&tail, 0);
    uint64_t t0 = bench_cpu_ns();
    for (size_t i = 0; i < BENCH_SUBMIT_BUSY_JOBS; i++) {
      ring[i] = (item){empty_job, NULL};
      /* release: publishes the item, as push() does */
      atomic_store_explicit(&tail, i + 1, memory_order_release);
    }
    uint64_t t1 = bench_cpu_ns();
    if (t1 - t0 < best)
      best = t1 - t0;
  }
  size_t n = atomic_load(&tail);
  bench_verify(n == BENCH_SUBMIT_BUSY_JOBS && ring[n - 1].fn == empty_job, "spsc pushes", (long)n,
               BENCH_SUBMIT_BUSY_JOBS);
  free(ring);
  bench_report("spsc-floor", "submit_busy", (double)best / BENCH_SUBMIT_BUSY_JOBS, "ns/job");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "submit_busy") == 0)
    return bench_submit_busy();
  if (argc < 2 || strcmp(argv[1], "empty_unbatched") != 0) {
    fprintf(stderr, "usage: %s empty_unbatched [--lamport | --counted | --spin] | submit_busy\n",
            argv[0]);
    return 2;
  }
  cached = !bench_has_flag(argc, argv, "--lamport");
  with_counter = bench_has_flag(argc, argv, "--counted");
  spin = bench_has_flag(argc, argv, "--spin");
  pthread_t t;
  if (pthread_create(&t, NULL, consumer, NULL) != 0)
    return 2;
  long total = 0;
  for (int i = 0; i < 1000; i++)
    push(counted_job, NULL);
  total += 1000;
  wait_done(total);
  bench_verify(counted == 1000, "spsc jobs", counted, 1000);
  uint64_t best = UINT64_MAX; /* a warm-up pass, then the fastest of BENCH_EMPTY_PASSES */
  for (int pass = 0; pass <= BENCH_EMPTY_PASSES; pass++) {
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < BENCH_EMPTY_JOBS; i++)
      push(empty_job, NULL);
    total += BENCH_EMPTY_JOBS;
    wait_done(total);
    bench_keep_fastest(&best, pass, bench_now_ns() - t0);
  }
  atomic_store(&q.stop, 1);
  pthread_join(t, NULL);
  bench_verify(atomic_load(&q.done) == total, "spsc jobs", atomic_load(&q.done), total);
  bench_verify(atomic_load(&q.pending) == 0, "spsc counted jobs left", atomic_load(&q.pending), 0);
  const char *name = with_counter ? "spsc-counted"
                     : !cached    ? "spsc-lamport"
                     : spin       ? "spsc-spin"
                                  : "spsc-floor";
  bench_report(name, "empty_unbatched", (double)best / BENCH_EMPTY_JOBS, "ns/job");
  return 0;
}
