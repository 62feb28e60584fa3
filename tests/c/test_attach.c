/* SPDX-License-Identifier: MIT */
/* Pinned jobs and attached threads: a pinned job starts on its worker and
 * resumes there after every yield and wait, under load from unpinned work
 * that is stolen around it; an attached thread runs its pinned jobs (and
 * other work) inside fj_wait / fj_wait_timeout; jobs pinned to an empty
 * slot wait for a thread to attach, or for fj_system_destroy, which runs
 * them on the destroying thread; destroying while another thread is
 * attached aborts with a message naming fj_thread_detach. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "check.h"

static atomic_long sum;
static atomic_long mismatches;

static void add_one(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  atomic_fetch_add(&sum, 1);
}

/* Unpinned background load: yields and waits, so fibers move around. */
static void load_job(fj_ctx *ctx, void *arg) {
  (void)arg;
  fj_counter *c = NULL;
  CHECK_OK(fj_counter_create(fj_ctx_system(ctx), &c));
  for (int i = 0; i < 4; i++) {
    CHECK_OK(fj_ctx_spawn(ctx, add_one, NULL, FJ_PRIORITY_NORMAL, c));
    CHECK_OK(fj_ctx_yield(ctx));
  }
  CHECK_OK(fj_ctx_wait(ctx, c));
  fj_counter_destroy(c);
}

typedef struct pinned_arg {
  int index;         /* the worker it is pinned to */
  long rounds;
  pthread_t want;    /* when set: the thread it must run on */
  int check_thread;
} pinned_arg;

/* A pinned job: spawns children, waits for them, yields, over and over;
 * its thread and worker index must never change. */
static void pinned_job(fj_ctx *ctx, void *argp) {
  pinned_arg *a = argp;
  pthread_t self = pthread_self();
  if (a->check_thread && !pthread_equal(self, a->want))
    atomic_fetch_add(&mismatches, 1);
  if ((int)fj_ctx_worker(ctx) != a->index)
    atomic_fetch_add(&mismatches, 1);
  fj_counter *c = NULL;
  CHECK_OK(fj_counter_create(fj_ctx_system(ctx), &c));
  for (long r = 0; r < a->rounds; r++) {
    fj_job kids[3] = {{add_one, NULL}, {load_job, NULL}, {add_one, NULL}};
    CHECK_OK(fj_ctx_spawn_jobs(ctx, kids, 3, FJ_PRIORITY_NORMAL, c));
    if (r % 2)
      CHECK_OK(fj_ctx_yield(ctx));
    CHECK_OK(fj_ctx_wait(ctx, c));
    CHECK_OK(fj_ctx_yield(ctx));
    if (!pthread_equal(pthread_self(), self))
      atomic_fetch_add(&mismatches, 1);
    if ((int)fj_ctx_worker(ctx) != a->index)
      atomic_fetch_add(&mismatches, 1);
  }
  fj_counter_destroy(c);
  atomic_fetch_add(&sum, 1000000);
}

/* Jobs pinned to each worker thread, under unpinned load. */
static void test_pinned_workers(unsigned workers, int yielding) {
  fj_system *sys = test_system(workers, yielding);
  fj_counter *c = test_counter(sys);
  atomic_store(&sum, 0);
  atomic_store(&mismatches, 0);
  enum { PER_WORKER = 3 };
  pinned_arg args[4 * PER_WORKER];
  long rounds = test_scaled(1000);
  for (unsigned w = 0; w < workers; w++) {
    for (int k = 0; k < PER_WORKER; k++) {
      pinned_arg *a = &args[w * PER_WORKER + k];
      *a = (pinned_arg){.index = (int)w, .rounds = rounds};
      fj_run_opts o;
      fj_run_opts_init(&o);
      o.worker = (int)w;
      o.counter = c;
      o.name = "pinned";
      fj_job j = {pinned_job, a};
      CHECK_OK(fj_submit(sys, &j, 1, &o));
    }
  }
  for (int i = 0; i < 200; i++)
    CHECK_OK(fj_run(sys, load_job, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(atomic_load(&mismatches), 0);
  long pinned = (long)workers * PER_WORKER;
  CHECK_EQ(atomic_load(&sum), pinned * 1000000 + pinned * rounds * 6 + 200 * 4);
  fj_stats st;
  CHECK_OK(fj_system_stats(sys, &st));
  CHECK(st.pinned_run >= (uint64_t)pinned);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* The main thread attached: its pinned jobs run on it, inside fj_wait. */
static void test_attached_main(unsigned workers, int yielding) {
  fj_system *sys = test_system_slots(workers, yielding, 2);
  unsigned me = 0;
  CHECK_OK(fj_thread_attach(sys, &me));
  CHECK(me >= workers && me < workers + 2);
  fj_counter *c = test_counter(sys);
  atomic_store(&sum, 0);
  atomic_store(&mismatches, 0);
  long rounds = test_scaled(1000);
  pinned_arg args[4];
  for (int k = 0; k < 4; k++) {
    args[k] = (pinned_arg){.index = (int)me, .rounds = rounds, .want = pthread_self(),
                           .check_thread = 1};
    fj_run_opts o;
    fj_run_opts_init(&o);
    o.worker = (int)me;
    o.counter = c;
    fj_job j = {pinned_job, &args[k]};
    CHECK_OK(fj_submit(sys, &j, 1, &o));
  }
  for (int i = 0; i < 100; i++)
    CHECK_OK(fj_run(sys, load_job, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_wait(sys, c));
  CHECK_EQ(atomic_load(&mismatches), 0);
  CHECK_EQ(atomic_load(&sum), 4 * 1000000 + 4 * rounds * 6 + 100 * 4);
  CHECK_OK(fj_thread_detach(sys));
  fj_counter_destroy(c);
  fj_system_destroy(sys);
}

/* The engine shape from the header: a render job pinned to the main thread
 * waits on simulation jobs, then "draws" on the main thread. */
typedef struct frame {
  int sim_done[8];
  int drawn;
  pthread_t main;
} frame;

static void simulate(fj_ctx *ctx, void *arg) {
  (void)ctx;
  *(int *)arg = 1;
}

static void render(fj_ctx *ctx, void *arg) {
  frame *f = arg;
  fj_counter *sim = NULL;
  CHECK_OK(fj_counter_create(fj_ctx_system(ctx), &sim));
  fj_job jobs[8];
  for (int i = 0; i < 8; i++)
    jobs[i] = (fj_job){simulate, &f->sim_done[i]};
  fj_run_opts o;
  fj_run_opts_init(&o);
  o.counter = sim;
  o.name = "simulate";
  CHECK_OK(fj_ctx_submit(ctx, jobs, 8, &o));
  CHECK_OK(fj_ctx_wait(ctx, sim));
  for (int i = 0; i < 8; i++)
    CHECK_EQ(f->sim_done[i], 1);
  CHECK(pthread_equal(pthread_self(), f->main));
  f->drawn++;
  fj_counter_destroy(sim);
}

static void test_engine_frame(void) {
  fj_system *sys = test_system_slots(2, 1, 1);
  unsigned me;
  CHECK_OK(fj_thread_attach(sys, &me));
  fj_counter *frame_done = test_counter(sys);
  frame f;
  memset(&f, 0, sizeof f);
  f.main = pthread_self();
  for (int n = 0; n < 50; n++) {
    memset(f.sim_done, 0, sizeof f.sim_done);
    fj_run_opts o;
    fj_run_opts_init(&o);
    o.worker = (int)me;
    o.name = "render";
    o.counter = frame_done;
    fj_job job = {render, &f};
    CHECK_OK(fj_submit(sys, &job, 1, &o));
    CHECK_OK(fj_wait(sys, frame_done));
    CHECK_EQ(f.drawn, n + 1);
  }
  CHECK_OK(fj_thread_detach(sys));
  fj_counter_destroy(frame_done);
  fj_system_destroy(sys);
}

/* A job pinned to a slot with no thread waits there: after every other job
 * is done it still has not run; a thread that attaches and waits runs it.
 * Then fj_wait_timeout on an attached thread times out while the counter
 * is held, and fj_system_destroy runs jobs pinned to the empty slot (one
 * that waits, too) on the destroying thread. */
static atomic_int flag;
static pthread_t ran_on;

static void record_thread(fj_ctx *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  ran_on = pthread_self();
  atomic_fetch_add(&flag, 1);
}

static void hold_until(fj_ctx *ctx, void *arg) {
  (void)ctx;
  while (!atomic_load((atomic_int *)arg))
    usleep(100);
}

static void pinned_waiter(fj_ctx *ctx, void *arg) {
  fj_counter *c = NULL;
  CHECK_OK(fj_counter_create(fj_ctx_system(ctx), &c));
  pthread_t before = pthread_self();
  CHECK_OK(fj_ctx_spawn(ctx, add_one, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_ctx_spawn(ctx, load_job, NULL, FJ_PRIORITY_NORMAL, c));
  CHECK_OK(fj_ctx_wait(ctx, c));
  CHECK_OK(fj_ctx_yield(ctx));
  CHECK(pthread_equal(before, pthread_self()));
  fj_counter_destroy(c);
  record_thread(ctx, arg);
}

static void test_empty_slot(int yielding) {
  fj_system *sys = test_system_slots(2, yielding, 1);
  fj_counter *pinned_c = test_counter(sys), *other = test_counter(sys);
  atomic_store(&flag, 0);
  fj_run_opts o;
  fj_run_opts_init(&o);
  o.worker = 2; /* the slot */
  o.counter = pinned_c;
  fj_job j = {record_thread, NULL};
  CHECK_OK(fj_submit(sys, &j, 1, &o));
  for (int i = 0; i < 100; i++)
    CHECK_OK(fj_run(sys, add_one, NULL, FJ_PRIORITY_LOW, other));
  CHECK_OK(fj_wait(sys, other));
  CHECK_EQ(fj_counter_value(pinned_c), 1);
  CHECK_EQ(atomic_load(&flag), 0);
  unsigned me;
  CHECK_OK(fj_thread_attach(sys, &me));
  CHECK_EQ(me, 2);
  CHECK_OK(fj_wait(sys, pinned_c));
  CHECK_EQ(atomic_load(&flag), 1);
  CHECK(pthread_equal(ran_on, pthread_self()));

  /* fj_wait_timeout while attached: the counter is held by a job (pinned
   * to worker 0, so this thread cannot pick it up itself) that waits for
   * `open`, so the wait must time out. */
  atomic_int open = 0;
  fj_run_opts hold_o;
  fj_run_opts_init(&hold_o);
  hold_o.worker = 0;
  hold_o.counter = other;
  fj_job hold = {hold_until, &open};
  CHECK_OK(fj_submit(sys, &hold, 1, &hold_o));
  CHECK_EQ(fj_wait_timeout(sys, other, 2 * 1000 * 1000), FJ_ETIMEDOUT);
  atomic_store(&open, 1);
  CHECK_OK(fj_wait_timeout(sys, other, UINT64_MAX));
  CHECK_OK(fj_thread_detach(sys));

  /* Left for destroy: pinned to the now empty slot. */
  atomic_store(&flag, 0);
  j.fn = yielding ? pinned_waiter : record_thread;
  CHECK_OK(fj_submit(sys, &j, 1, &o));
  CHECK_OK(fj_submit(sys, &j, 1, &o));
  fj_system_destroy(sys);
  CHECK_EQ(atomic_load(&flag), 2);
  CHECK(pthread_equal(ran_on, pthread_self()));
  fj_counter_destroy(pinned_c);
  fj_counter_destroy(other);
}

/* Destroy while another thread is attached: abort naming fj_thread_detach. */
static fj_system *shared_sys;
static atomic_int attached, release_thread;

static void *attach_and_hold(void *arg) {
  (void)arg;
  unsigned me;
  CHECK_OK(fj_thread_attach(shared_sys, &me));
  atomic_store(&attached, 1);
  while (!atomic_load(&release_thread))
    usleep(1000);
  return NULL;
}

static void destroy_while_attached_child(void) {
  shared_sys = test_system_slots(1, 1, 1);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, attach_and_hold, NULL) == 0);
  while (!atomic_load(&attached))
    usleep(1000);
  fj_system_destroy(shared_sys); /* must abort */
}

static void test_destroy_while_attached(void) {
  char err[2048];
  int status = test_run_child(destroy_while_attached_child, err, sizeof err);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
  CHECK(strstr(err, "fj_thread_detach") != NULL);
}

/* The destroying thread itself may be attached: it is detached for it. */
static void test_destroy_attached_self(void) {
  fj_system *sys = test_system_slots(1, 1, 1);
  unsigned me;
  CHECK_OK(fj_thread_attach(sys, &me));
  atomic_store(&flag, 0);
  fj_run_opts o;
  fj_run_opts_init(&o);
  o.worker = (int)me;
  fj_job j = {record_thread, NULL};
  CHECK_OK(fj_submit(sys, &j, 1, &o));
  fj_system_destroy(sys);
  CHECK_EQ(atomic_load(&flag), 1);
  CHECK(pthread_equal(ran_on, pthread_self()));
  /* The thread is free again: it can attach to a new system. */
  sys = test_system_slots(1, 1, 1);
  CHECK_OK(fj_thread_attach(sys, &me));
  CHECK_OK(fj_thread_detach(sys));
  fj_system_destroy(sys);
}

int main(void) {
  FOR_EACH_SETUP(test_pinned_workers);
  FOR_EACH_SETUP(test_attached_main);
  test_engine_frame();
  test_empty_slot(1);
  test_empty_slot(0);
  test_destroy_while_attached();
  test_destroy_attached_self();
  puts("test_attach: ok");
  return 0;
}
