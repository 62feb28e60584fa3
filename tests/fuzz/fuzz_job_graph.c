/* SPDX-License-Identifier: MIT */
/*
 * fuzz_job_graph.c — a libFuzzer target: decodes its input into a job
 * graph, runs it on a fresh job system, and aborts unless every job ran
 * exactly once and every wait that returned FJ_OK saw the jobs it waited
 * for finished.
 *
 * What the bytes choose: 1 to 33 workers, fibers on or off, how many fibers
 * are pooled, a fiber budget (max_fibers) or none, priority aging or strict
 * priorities, 1 to 3 plain threads, and for each thread and job a short
 * program: spawn one job or a batch (fj_ctx_spawn / fj_ctx_spawn_jobs, or
 * fj_run / fj_run_jobs from inside the job), with the job's own counter,
 * a shared counter or none, at any priority; yield; wait on its own counter
 * (then reuse it), on a shared counter, or on the counter that counts the
 * job itself; plain threads submit and wait with and without timeouts.
 * Sizes are capped (MAX_NODES jobs, MAX_OPS steps each), so every input
 * runs in milliseconds even with 33 workers.
 *
 * The graph cannot deadlock by construction.  Shared counters form levels:
 * a job at depth d counted in a shared counter is in level d, and a job may
 * wait only on levels deeper than its own, so waits follow depth downward.
 * Without fibers (or with a fiber budget, once it is used up) a waiting job
 * runs unrelated jobs nested on its own stack, and one of those waiting on
 * a level that counts a job below it on that stack would never return:
 * there jobs wait only on their own counter (their own children), never on
 * a level.  A job waiting on the counter that counts itself must get
 * FJ_EDEADLK at once, not hang, and carry on.
 *
 * Built by -Dfuzz=true with clang (tests/fuzz/meson.build); replay.c runs
 * the seed corpus through the same function in the ordinary test builds.
 */
#include <fiberjob.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  MAX_WORKERS = 33,
  MAX_THREADS = 3,
  MAX_NODES = 96, /* jobs per input */
  MAX_OPS = 6,    /* steps per job or thread program */
  MAX_DEPTH = 5,  /* roots are depth 0 */
  MAX_BATCH = 4,
};

typedef enum op_kind {
  OP_END,         /* a zero byte (also: input exhausted) ends a program */
  OP_SPAWN,       /* one child (jobs) / one root (threads) */
  OP_SPAWN_BATCH, /* 1..MAX_BATCH of them in one call */
  OP_YIELD,       /* jobs only */
  OP_WAIT_MINE,   /* the job's or thread's own counter; threads: maybe timed */
  OP_WAIT_LEVEL,  /* a shared counter of a deeper level; threads: maybe timed */
  OP_WAIT_SELF,   /* the counter that counts this job: FJ_EDEADLK */
  OP_KINDS
} op_kind;

typedef enum counter_kind { CK_MINE, CK_NONE, CK_LEVEL, CK_KINDS } counter_kind;

typedef struct op {
  uint8_t kind, ck, prio; /* prio: of the jobs spawned (a batch shares one) */
  uint8_t alt_api;  /* spawn via fj_run(_jobs), wait via fj_wait */
  uint8_t level;    /* OP_WAIT_LEVEL */
  uint32_t timeout_us; /* threads' waits: 0 = untimed */
  uint16_t first, count; /* children: nodes[first .. first+count) */
} op;

typedef struct program {
  op ops[MAX_OPS];
  unsigned nops;
} program;

typedef struct node {
  program prog;
  uint8_t prio, depth;
  int8_t level;          /* the shared level counting it, or -1 */
  fj_counter *counted_in; /* set by the spawner before the spawn */
  atomic_int runs, done, spawned;
} node;

typedef struct graph {
  unsigned workers, threads, pooled;
  bool fibers;
  size_t max_fibers; /* 0: no limit */
  uint32_t aging_us; /* 0: strict priorities */
  /* Waits may run unrelated jobs nested on the waiter's stack: always
   * without fibers, and with a fiber budget whenever it is used up. */
  bool nested_waits;
  node nodes[MAX_NODES];
  unsigned nnodes;
  program thread_prog[MAX_THREADS];
  fj_counter *levels[MAX_DEPTH + 1];
  fj_system *sys;
} graph;

static graph g;

static void fuzz_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("fuzz_job_graph: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

static void expect(int rc, int want, const char *what) {
  if (rc != want)
    fuzz_fail("%s returned %d (%s), expected %d", what, rc, fj_strerror(rc), want);
}

/* ---- decoding --------------------------------------------------------- */

typedef struct reader {
  const uint8_t *p, *end;
} reader;

static uint8_t next_byte(reader *r) { return r->p < r->end ? *r->p++ : 0; }

static void decode_program(reader *r, program *prog, int depth);

/* Appends up to n nodes at depth; returns how many fit the budget. */
static uint16_t decode_children(reader *r, unsigned n, int depth, int8_t level, uint8_t prio) {
  uint16_t first = (uint16_t)g.nnodes, made = 0;
  if (depth > MAX_DEPTH)
    return 0;
  for (; made < n && g.nnodes < MAX_NODES; made++) {
    node *nd = &g.nodes[g.nnodes++];
    nd->prio = prio;
    nd->depth = (uint8_t)depth;
    nd->level = level;
  }
  /* Programs after all the batch's nodes exist, so indices stay contiguous. */
  for (uint16_t i = 0; i < made; i++)
    decode_program(r, &g.nodes[first + i].prog, depth);
  return made;
}

/* depth -1 is a plain thread's program. */
static void decode_program(reader *r, program *prog, int depth) {
  prog->nops = 0;
  while (prog->nops < MAX_OPS) {
    uint8_t b = next_byte(r);
    op o = {.kind = (uint8_t)(b % OP_KINDS), .alt_api = (uint8_t)(b >> 7)};
    if (o.kind == OP_END)
      break;
    uint8_t a = next_byte(r);
    o.ck = (uint8_t)(a % CK_KINDS);
    o.prio = (uint8_t)(a / CK_KINDS % FJ_PRIORITY_COUNT);
    if (o.kind == OP_WAIT_MINE || o.kind == OP_WAIT_LEVEL)
      o.timeout_us = depth < 0 && (a & 0x80) ? (uint32_t)(a & 0x0f) * 100 : 0;
    if (o.kind == OP_WAIT_LEVEL) {
      /* Only deeper levels; without fibers jobs never wait on levels. */
      o.level = (uint8_t)(depth + 1 + (a >> 4) % 2);
      if ((depth >= 0 && g.nested_waits) || o.level > MAX_DEPTH)
        o.kind = OP_YIELD;
    }
    if (depth < 0 && (o.kind == OP_YIELD || o.kind == OP_WAIT_SELF))
      continue; /* jobs only */
    if (o.kind == OP_SPAWN || o.kind == OP_SPAWN_BATCH) {
      unsigned n = o.kind == OP_SPAWN ? 1 : 1 + (a >> 6) % MAX_BATCH;
      int8_t level = o.ck == CK_LEVEL ? (int8_t)(depth + 1) : -1;
      o.first = (uint16_t)g.nnodes;
      o.count = decode_children(r, n, depth + 1, level, o.prio);
      if (o.count == 0)
        continue; /* out of budget or depth */
    }
    prog->ops[prog->nops++] = o;
  }
}

/* ---- running ---------------------------------------------------------- */

static void job(fj_ctx *ctx, void *arg);

/* Everything a spawner (job or thread) needs for its own counter. */
typedef struct spawner {
  fj_ctx *ctx; /* NULL on a plain thread */
  int depth;
  fj_counter *mine; /* created on first use, reused after every wait */
  uint16_t mine_first[MAX_OPS], mine_count[MAX_OPS]; /* children in mine */
  unsigned mine_ranges;
} spawner;

static fj_counter *counter_for(spawner *s, uint8_t ck) {
  if (ck == CK_NONE)
    return NULL;
  if (ck == CK_LEVEL)
    return g.levels[s->depth + 1];
  if (!s->mine)
    expect(fj_counter_create(g.sys, &s->mine), FJ_OK, "fj_counter_create");
  return s->mine;
}

static void do_spawn(spawner *s, const op *o) {
  fj_counter *c = counter_for(s, o->ck);
  fj_job jobs[MAX_BATCH];
  for (uint16_t i = 0; i < o->count; i++) {
    node *nd = &g.nodes[o->first + i];
    nd->counted_in = c;
    jobs[i] = (fj_job){job, nd};
  }
  fj_priority prio = (fj_priority)o->prio;
  int rc;
  if (o->kind == OP_SPAWN)
    rc = s->ctx && !o->alt_api ? fj_ctx_spawn(s->ctx, job, jobs[0].arg, prio, c)
                               : fj_run(g.sys, job, jobs[0].arg, prio, c);
  else
    rc = s->ctx && !o->alt_api ? fj_ctx_spawn_jobs(s->ctx, jobs, o->count, prio, c)
                               : fj_run_jobs(g.sys, jobs, o->count, prio, c);
  expect(rc, FJ_OK, "spawn");
  /* release: a waiter that sees spawned knows the counter already counts
   * the job (see snapshot_level). */
  for (uint16_t i = 0; i < o->count; i++)
    atomic_store_explicit(&g.nodes[o->first + i].spawned, 1, memory_order_release);
  if (o->ck == CK_MINE) {
    s->mine_first[s->mine_ranges] = o->first;
    s->mine_count[s->mine_ranges++] = o->count;
  }
}

static void check_done(uint16_t first, uint16_t count, const char *what) {
  for (uint16_t i = first; i < first + count; i++)
    if (!atomic_load(&g.nodes[i].done))
      fuzz_fail("%s returned FJ_OK but job %u has not finished", what, i);
}

static int wait_on(spawner *s, fj_counter *c, const op *o) {
  if (s->ctx)
    return o->alt_api ? fj_wait(g.sys, c) : fj_ctx_wait(s->ctx, c);
  if (o->timeout_us)
    return fj_wait_timeout(g.sys, c, (uint64_t)o->timeout_us * 1000);
  return fj_wait(g.sys, c);
}

static void do_wait_mine(spawner *s, const op *o) {
  if (!s->mine)
    return;
  int rc = wait_on(s, s->mine, o);
  if (rc == FJ_ETIMEDOUT && !s->ctx && o->timeout_us)
    return;
  expect(rc, FJ_OK, "wait on own counter");
  for (unsigned k = 0; k < s->mine_ranges; k++)
    check_done(s->mine_first[k], s->mine_count[k], "wait on own counter");
}

/* The jobs a level's counter surely counts before we wait: spawned ones. */
static unsigned snapshot_level(uint8_t level, uint16_t *out) {
  unsigned n = 0;
  for (unsigned i = 0; i < g.nnodes; i++)
    /* acquire: pairs with the release in do_spawn. */
    if (g.nodes[i].level == level &&
        atomic_load_explicit(&g.nodes[i].spawned, memory_order_acquire))
      out[n++] = (uint16_t)i;
  return n;
}

static void do_wait_level(spawner *s, const op *o) {
  uint16_t before[MAX_NODES];
  unsigned n = snapshot_level(o->level, before);
  int rc = wait_on(s, g.levels[o->level], o);
  if (rc == FJ_ETIMEDOUT && !s->ctx && o->timeout_us)
    return;
  expect(rc, FJ_OK, "wait on a shared counter");
  for (unsigned k = 0; k < n; k++)
    check_done(before[k], 1, "wait on a shared counter");
}

static void run_program(spawner *s, const program *prog, node *self) {
  for (unsigned i = 0; i < prog->nops; i++) {
    const op *o = &prog->ops[i];
    switch ((op_kind)o->kind) {
    case OP_SPAWN:
    case OP_SPAWN_BATCH:
      do_spawn(s, o);
      break;
    case OP_YIELD:
      expect(fj_ctx_yield(s->ctx), FJ_OK, "fj_ctx_yield");
      break;
    case OP_WAIT_MINE:
      do_wait_mine(s, o);
      break;
    case OP_WAIT_LEVEL:
      do_wait_level(s, o);
      break;
    case OP_WAIT_SELF:
      if (self->counted_in)
        expect(o->alt_api ? fj_wait(g.sys, self->counted_in)
                          : fj_ctx_wait(s->ctx, self->counted_in),
               FJ_EDEADLK, "wait on the counter counting the job itself");
      break;
    case OP_END:
    case OP_KINDS:
      break;
    }
  }
  /* Every job and thread waits for its own children before it ends, so
   * its counter can be destroyed. */
  if (s->mine) {
    op final = {.kind = OP_WAIT_MINE};
    do_wait_mine(s, &final);
    fj_counter_destroy(s->mine);
  }
}

static void job(fj_ctx *ctx, void *arg) {
  node *self = arg;
  if (atomic_fetch_add(&self->runs, 1) != 0)
    fuzz_fail("job %u ran twice", (unsigned)(self - g.nodes));
  if (fj_current_ctx() != ctx)
    fuzz_fail("fj_current_ctx is not the job's ctx");
  if (fj_ctx_priority(ctx) != (fj_priority)self->prio)
    fuzz_fail("job %u runs at priority %d, submitted at %d", (unsigned)(self - g.nodes),
              (int)fj_ctx_priority(ctx), self->prio);
  spawner s = {.ctx = ctx, .depth = self->depth};
  run_program(&s, &self->prog, self);
  atomic_store(&self->done, 1);
}

static void *plain_thread(void *arg) {
  spawner s = {.ctx = NULL, .depth = -1};
  run_program(&s, (const program *)arg, NULL);
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  memset(&g, 0, sizeof g);
  reader r = {data, data + size};
  uint8_t b0 = next_byte(&r), b1 = next_byte(&r);
  g.workers = 1 + b0 % MAX_WORKERS;
  g.fibers = !(b1 & 1);
  g.threads = 1 + (b1 >> 1) % MAX_THREADS;
  g.pooled = (b1 >> 3) % 4; /* 0 pooled fibers maps and unmaps every time */
  /* Bits 5-7 zero keep the defaults: no fiber budget, strict priorities. */
  unsigned budget = (b1 >> 5) & 3;
  g.max_fibers = !g.fibers || budget % 3 == 0 ? 0 : g.workers + (budget == 2 ? 8 : 0);
  g.aging_us = (b1 >> 7) ? 200 : 0;
  g.nested_waits = !g.fibers || g.max_fibers;
  for (unsigned t = 0; t < g.threads; t++)
    decode_program(&r, &g.thread_prog[t], -1);

  fj_config cfg;
  fj_config_init(&cfg);
  cfg.num_workers = g.workers;
  cfg.enable_yielding = g.fibers;
  cfg.max_pooled_fibers = g.pooled;
  cfg.max_fibers = g.max_fibers;
  cfg.aging_us = g.aging_us;
  expect(fj_system_create(&cfg, &g.sys), FJ_OK, "fj_system_create");
  for (int l = 0; l <= MAX_DEPTH; l++)
    expect(fj_counter_create(g.sys, &g.levels[l]), FJ_OK, "fj_counter_create");

  pthread_t threads[MAX_THREADS];
  for (unsigned t = 0; t < g.threads; t++)
    if (pthread_create(&threads[t], NULL, plain_thread, &g.thread_prog[t]) != 0)
      fuzz_fail("pthread_create failed");
  for (unsigned t = 0; t < g.threads; t++)
    pthread_join(threads[t], NULL);
  /* Jobs counted nowhere are finished by destroy; the levels must drain. */
  for (int l = 0; l <= MAX_DEPTH; l++)
    expect(fj_wait(g.sys, g.levels[l]), FJ_OK, "final wait on a shared counter");
  fj_system_destroy(g.sys);
  for (int l = 0; l <= MAX_DEPTH; l++) {
    if (fj_counter_value(g.levels[l]) != 0)
      fuzz_fail("shared counter %d not zero after destroy", l);
    fj_counter_destroy(g.levels[l]);
  }
  for (unsigned i = 0; i < g.nnodes; i++) {
    node *nd = &g.nodes[i];
    if (atomic_load(&nd->runs) != 1 || !atomic_load(&nd->done))
      fuzz_fail("job %u ran %d times (of %u jobs, %u workers, fibers %s)", i,
                atomic_load(&nd->runs), g.nnodes, g.workers, g.fibers ? "on" : "off");
  }
  if (getenv("FUZZ_JOB_GRAPH_VERBOSE")) /* for reading a reproducer */
    fprintf(stderr,
            "fuzz_job_graph: %u workers, fibers %s, max_fibers %zu, aging %u us, %u threads, "
            "%u jobs\n",
            g.workers, g.fibers ? "on" : "off", g.max_fibers, (unsigned)g.aging_us, g.threads,
            g.nnodes);
  return 0;
}
