/* SPDX-License-Identifier: MIT */
/*
 * trace.c — see trace.h.
 *
 * Recording protocol (who may touch a worker's buffer): only its worker
 * appends, between setting its `trace_busy` and clearing it.  fj__trace_stop clears
 * sys->dbg.tracing, then waits until no buffer is busy; a worker sets busy
 * and re-reads tracing, both seq_cst, so either it sees tracing off and
 * leaves, or the stopper sees it busy and waits (a Dekker pair).  After
 * that the stopper owns every buffer.
 *
 * The JSON holds, per worker, a track named "worker N" (thread_name
 * metadata), one complete ("X") slice per run of a job, named after the
 * job, a flow arrow ("s" at the end of the run that suspended, "f" at the
 * start of the run that resumed it; the pair's id is the job and the
 * number of the suspension), and instants ("i") for steals, parks and
 * wake-ups with the counter.  Timestamps are microseconds since the start.
 */
#include "trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "sys/backtrace.h"

enum fj__trace_kind { FJ__EV_BEGIN, FJ__EV_END, FJ__EV_STEAL, FJ__EV_WAKE };

typedef struct fj__trace_event {
  uint64_t ts;
  uint64_t job;         /* job id (FJ__EV_BEGIN/END/WAKE) */
  const void *fn;       /* the job's function, named at write time */
  const char *name;     /* fj_ctx_set_name's name, or NULL */
  const void *counter;  /* PARKED end, WAKE */
  uint32_t seq;         /* suspensions of the job before this event */
  uint16_t arg;         /* END: fj__trace_end; BEGIN: resumed; STEAL: victim */
  uint8_t kind;
} fj__trace_event;

typedef struct fj__trace_buf {
  _Alignas(64) size_t n, cap;
  uint64_t dropped;
  uint64_t next_job; /* job ids this worker hands out */
  fj__trace_event *ev;
} fj__trace_buf;

struct fj__trace {
  uint64_t t0;
  unsigned nbufs;
  fj__trace_buf bufs[];
};

/* Returns the slot to fill, or NULL (tracing stopped, or buffer full).
 * On non-NULL the caller must call fj__trace_commit. */
static fj__trace_event *fj__trace_slot(fj__worker *w, fj__trace_buf **out) {
  fj_system *sys = w->sys;
  /* seq_cst store then seq_cst load: pairs with the stopper's store of
   * tracing = 0 and its loads of busy (see the file comment). */
  fj__store_seq_cst(&w->trace_busy, 1);
  if (!fj__load_seq_cst(&sys->dbg.tracing)) {
    fj__store_release(&w->trace_busy, 0);
    return NULL;
  }
  /* Stable from here until busy is cleared: the stopper frees it only
   * after seeing busy == 0. */
  fj__trace_buf *b = &sys->dbg.trace->bufs[w->index];
  if (b->n == b->cap) {
    b->dropped++;
    fj__store_release(&w->trace_busy, 0);
    return NULL;
  }
  *out = b;
  return &b->ev[b->n];
}

static void fj__trace_commit(fj__worker *w, fj__trace_buf *b, fj__trace_event *e) {
  e->ts = fj__now_ns();
  b->n++;
  /* release: the stopper reads the event after seeing busy == 0. */
  fj__store_release(&w->trace_busy, 0);
}

__attribute__((noinline, cold)) void fj__trace_run_begin(fj__worker *w, fj_ctx *ctx,
                                                         bool resumed) {
  fj__trace_buf *b;
  fj__trace_event *e = fj__trace_slot(w, &b);
  if (!e)
    return;
  if (!ctx->trace_id) /* first run seen by this trace */
    ctx->trace_id = (++b->next_job << 8) | (w->index & 0xff);
  *e = (fj__trace_event){.kind = FJ__EV_BEGIN, .job = ctx->trace_id, .fn = (const void *)ctx->fn,
                         .name = ctx->name, .seq = ctx->trace_seq, .arg = resumed};
  fj__trace_commit(w, b, e);
}

__attribute__((noinline, cold)) void fj__trace_run_end(fj__worker *w, fj_ctx *ctx,
                                                       enum fj__trace_end why,
                                                       const fj_counter *c) {
  fj__trace_buf *b;
  fj__trace_event *e = fj__trace_slot(w, &b);
  if (!e)
    return;
  if (!ctx->trace_id)
    ctx->trace_id = (++b->next_job << 8) | (w->index & 0xff);
  *e = (fj__trace_event){.kind = FJ__EV_END, .job = ctx->trace_id, .fn = (const void *)ctx->fn,
                         .name = ctx->name, .seq = ctx->trace_seq, .arg = (uint16_t)why,
                         .counter = c};
  if (why != FJ__TRACE_FINISHED)
    ctx->trace_seq++;
  fj__trace_commit(w, b, e);
}

__attribute__((noinline, cold)) void fj__trace_steal(fj__worker *w, unsigned victim) {
  fj__trace_buf *b;
  fj__trace_event *e = fj__trace_slot(w, &b);
  if (!e)
    return;
  *e = (fj__trace_event){.kind = FJ__EV_STEAL, .arg = (uint16_t)victim};
  fj__trace_commit(w, b, e);
}

__attribute__((noinline, cold)) void fj__trace_wake(fj__worker *w, const fj__fiber *f,
                                                    const fj_counter *c) {
  fj__trace_buf *b;
  fj__trace_event *e = fj__trace_slot(w, &b);
  if (!e)
    return;
  const fj_ctx *ctx = f->job_ctx;
  *e = (fj__trace_event){.kind = FJ__EV_WAKE, .counter = c};
  if (ctx)
    *e = (fj__trace_event){.kind = FJ__EV_WAKE, .counter = c, .job = ctx->trace_id,
                           .fn = (const void *)ctx->fn, .name = ctx->name};
  fj__trace_commit(w, b, e);
}

int fj__trace_start(fj_system *sys, size_t max_events) {
  unsigned n = sys->num_workers;
  if (max_events > SIZE_MAX / sizeof(fj__trace_event))
    return FJ_ENOMEM;
  fj__spin_lock(&sys->dbg.trace_lock);
  if (sys->dbg.trace) {
    fj__spin_unlock(&sys->dbg.trace_lock);
    return FJ_ESTATE;
  }
  struct fj__trace *t = calloc(1, sizeof *t + n * sizeof(fj__trace_buf));
  bool ok = t != NULL;
  for (unsigned i = 0; ok && i < n; i++) {
    t->bufs[i].cap = max_events;
    t->bufs[i].ev = malloc(max_events * sizeof(fj__trace_event));
    ok = t->bufs[i].ev != NULL;
  }
  if (!ok) {
    for (unsigned i = 0; t && i < n; i++)
      free(t->bufs[i].ev);
    free(t);
    fj__spin_unlock(&sys->dbg.trace_lock);
    return FJ_ENOMEM;
  }
  t->nbufs = n;
  t->t0 = fj__now_ns();
  sys->dbg.trace = t;
  /* seq_cst: workers that see tracing == 1 (in fj__trace_slot) see the
   * buffers; the per-worker flags only make them look. */
  fj__store_seq_cst(&sys->dbg.tracing, 1);
  for (unsigned i = 0; i < n; i++) {
    fj__store_relaxed(&sys->workers[i].trace_on, true);
    fj__store_relaxed(&sys->workers[i].yield_gate, 1); /* a hint, like trace_on */
  }
  fj__spin_unlock(&sys->dbg.trace_lock);
  return FJ_OK;
}

/* ---- writing ------------------------------------------------------------ */

static void fj__json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      fprintf(out, "\\%c", ch);
    else if (ch < 0x20)
      fprintf(out, "\\u%04x", ch);
    else
      fputc(ch, out);
  }
  fputc('"', out);
}

static double fj__us(const struct fj__trace *t, uint64_t ts) {
  return ts >= t->t0 ? (double)(ts - t->t0) / 1000.0 : 0.0;
}

static void fj__event_name(fj__bt_session *bt, const fj__trace_event *e, char *buf,
                           size_t size) {
  if (e->name)
    snprintf(buf, size, "%s", e->name);
  else if (e->fn)
    fj__bt_function_name(bt, (uintptr_t)e->fn, buf, size);
  else
    snprintf(buf, size, "job");
}

static const char *const fj__end_words[] = {"finished", "yielded", "parked"};

/* One worker's events: a stack of open runs turns BEGIN/END pairs into
 * complete slices (runs nest when a waiting job runs others inline). */
static void fj__write_worker(FILE *out, const struct fj__trace *t, unsigned w,
                             fj__bt_session *bt, bool *first) {
  const fj__trace_buf *b = &t->bufs[w];
  size_t open[64];
  int depth = 0;
  char name[160];
  fprintf(out, "%s{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%u,"
               "\"args\":{\"name\":\"worker %u\"}}",
          *first ? "" : ",\n", w, w);
  *first = false;
  for (size_t i = 0; i < b->n; i++) {
    const fj__trace_event *e = &b->ev[i];
    double ts = fj__us(t, e->ts);
    switch (e->kind) {
    case FJ__EV_BEGIN:
      if (depth < 64)
        open[depth] = i;
      depth++;
      if (e->arg) /* resumed: the arrow from the run that suspended */
        fprintf(out, ",\n{\"ph\":\"f\",\"bp\":\"e\",\"name\":\"resume\",\"cat\":\"job\","
                     "\"id\":\"%" PRIx64 ".%u\",\"pid\":1,\"tid\":%u,\"ts\":%.3f}",
                e->job, e->seq - 1, w, ts);
      break;
    case FJ__EV_END: {
      if (depth == 0)
        break; /* began before the trace did */
      depth--;
      if (depth >= 64)
        break;
      const fj__trace_event *s = &b->ev[open[depth]];
      /* The end's name and function: a job may name itself after it
       * started, and a job with run options starts in a trampoline. */
      fj__event_name(bt, e, name, sizeof name);
      fputs(",\n{\"ph\":\"X\",\"cat\":\"job\",\"name\":", out);
      fj__json_string(out, name);
      fprintf(out, ",\"pid\":1,\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"job\":\"%" PRIx64
                   "\",\"end\":\"%s\"}}",
              w, fj__us(t, s->ts), ts - fj__us(t, s->ts), e->job, fj__end_words[e->arg]);
      if (e->arg != FJ__TRACE_FINISHED) {
        /* The arrow starts inside this slice, just before its end. */
        fprintf(out, ",\n{\"ph\":\"s\",\"name\":\"resume\",\"cat\":\"job\",\"id\":\"%" PRIx64
                     ".%u\",\"pid\":1,\"tid\":%u,\"ts\":%.3f}",
                e->job, e->seq, w, ts > fj__us(t, s->ts) ? ts - 0.001 : ts);
      }
      if (e->arg == FJ__TRACE_PARKED) {
        fputs(",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"wait\",\"name\":\"park\"", out);
        fprintf(out, ",\"pid\":1,\"tid\":%u,\"ts\":%.3f,\"args\":{\"counter\":\"%p\",\"job\":",
                w, ts, e->counter);
        fj__json_string(out, name);
        fputs("}}", out);
      }
      break;
    }
    case FJ__EV_STEAL:
      fprintf(out, ",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"steal\",\"name\":\"steal\","
                   "\"pid\":1,\"tid\":%u,\"ts\":%.3f,\"args\":{\"from\":\"worker %u\"}}",
              w, ts, (unsigned)e->arg);
      break;
    case FJ__EV_WAKE:
      fj__event_name(bt, e, name, sizeof name);
      fprintf(out, ",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"wait\",\"name\":\"wake\","
                   "\"pid\":1,\"tid\":%u,\"ts\":%.3f,\"args\":{\"counter\":\"%p\",\"job\":",
              w, ts, e->counter);
      fj__json_string(out, name);
      fputs("}}", out);
      break;
    }
  }
}

static int fj__trace_write(const struct fj__trace *t, const char *path) {
  FILE *out = fopen(path, "w");
  if (!out)
    return FJ_EIO;
  fj__bt_session *bt = fj__bt_begin();
  uint64_t dropped = 0;
  for (unsigned w = 0; w < t->nbufs; w++)
    dropped += t->bufs[w].dropped;
  fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"libfiberjob\",", out);
  fprintf(out, "\"dropped_events\":%" PRIu64 "},\n\"traceEvents\":[\n", dropped);
  fputs("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":{\"name\":\"fiberjob\"}}",
        out);
  bool first = false;
  for (unsigned w = 0; w < t->nbufs; w++)
    fj__write_worker(out, t, w, bt, &first);
  fputs("\n]}\n", out);
  fj__bt_end(bt);
  bool failed = ferror(out) != 0;
  failed |= fclose(out) != 0;
  return failed ? FJ_EIO : FJ_OK;
}

int fj__trace_stop(fj_system *sys, const char *json_path) {
  fj__spin_lock(&sys->dbg.trace_lock);
  struct fj__trace *t = sys->dbg.trace;
  if (!t) {
    fj__spin_unlock(&sys->dbg.trace_lock);
    return FJ_ESTATE;
  }
  /* seq_cst: pairs with the busy/tracing pair in fj__trace_slot. */
  fj__store_seq_cst(&sys->dbg.tracing, 0);
  for (unsigned i = 0; i < t->nbufs; i++) {
    fj__store_relaxed(&sys->workers[i].trace_on, false);
    fj__store_relaxed(&sys->workers[i].yield_gate, (uint8_t)sys->workers[i].aging_on);
  }
  for (unsigned i = 0; i < t->nbufs; i++)
    while (fj__load_seq_cst(&sys->workers[i].trace_busy))
      fj__cpu_relax();
  sys->dbg.trace = NULL;
  fj__spin_unlock(&sys->dbg.trace_lock);
  int r = json_path ? fj__trace_write(t, json_path) : FJ_OK;
  for (unsigned i = 0; i < t->nbufs; i++)
    free(t->bufs[i].ev);
  free(t);
  return r;
}
