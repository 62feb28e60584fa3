/* SPDX-License-Identifier: MIT */
/*
 * backtrace_libdw.c — see backtrace.h.  In sys/ because it reads this
 * process's ELF modules through /proc and elfutils.  With FJ_HAVE_LIBDW, elfutils' libdwfl
 * reports the modules mapped into this process (from /proc/self/maps), and
 * an unwinder "thread" whose initial registers are a suspended fiber's saved
 * ones walks its frames with the modules' CFI.
 */
#include "backtrace.h"

#include <stdio.h>
#include <string.h>

#if FJ_HAVE_LIBDW
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "../internal.h"

/* One session at a time: libdwfl handles are not thread-safe.  A blocking
 * mutex, not a spinlock: a session holds it while it reads /proc and the
 * modules' debug information, far longer than a spin is worth. */
static pthread_mutex_t fj__bt_lock = PTHREAD_MUTEX_INITIALIZER;

/* A failure (EINVAL, EDEADLK) is a corrupted or misused lock: fatal. */
static void fj__bt_lock_take(void) {
  int r = pthread_mutex_lock(&fj__bt_lock);
  if (r != 0)
    fj__fatal("backtrace lock failed: %s", strerror(r));
}

static void fj__bt_lock_release(void) {
  int r = pthread_mutex_unlock(&fj__bt_lock);
  if (r != 0)
    fj__fatal("backtrace unlock failed: %s", strerror(r));
}

/* The stack being walked; read by the memory callback. */
typedef struct fj__bt_walk_state {
  const fj__saved_regs *regs;
  uintptr_t lo, hi;
  uintptr_t last_sp; /* the innermost known frame's stack pointer so far */
  uintptr_t *pcs, *sps;
  int max, n;
  bool given;
} fj__bt_walk_state;

struct fj__bt_session {
  Dwfl *dwfl;
  bool attached;
  fj__bt_walk_state *walk;
  Dwfl_Module *self_module; /* the module of this library */
};

static char *fj__debuginfo_path = NULL;
static const Dwfl_Callbacks fj__bt_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &fj__debuginfo_path,
};

/* The unwinder's view of the fiber: exactly one thread, tid 1. */
static pid_t fj__bt_next_thread(Dwfl *dwfl, void *dwfl_arg, void **thread_argp) {
  (void)dwfl;
  if (*thread_argp)
    return 0;
  *thread_argp = dwfl_arg;
  return 1;
}

static bool fj__bt_get_thread(Dwfl *dwfl, pid_t tid, void *dwfl_arg, void **thread_argp) {
  (void)dwfl;
  *thread_argp = dwfl_arg;
  return tid == 1;
}

/* Reads only inside the fiber's stack: the unwinder needs nothing else
 * (saved registers and return addresses live there; code is read from the
 * ELF files). */
__attribute__((no_sanitize("address", "thread"))) static bool
fj__bt_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *dwfl_arg) {
  (void)dwfl;
  fj__bt_session *s = dwfl_arg;
  fj__bt_walk_state *w = s->walk;
  if (!w || addr < w->lo || addr + sizeof(Dwarf_Word) > w->hi || addr % sizeof(Dwarf_Word))
    return false;
  /* A plain load, not memcpy: sanitizer interceptors would check it. */
  *result = *(const volatile Dwarf_Word *)(uintptr_t)addr;
  return true;
}

/* The saved registers come named by their DWARF numbers (fcontext_regs.h),
 * so this needs no knowledge of the architecture. */
static bool fj__bt_initial_regs(Dwfl_Thread *thread, void *thread_arg) {
  fj__bt_session *s = thread_arg;
  const fj__saved_regs *r = s->walk->regs;
  Dwarf_Word sp = r->sp;
  if (!dwfl_thread_state_registers(thread, FJ__DWARF_SP, 1, &sp))
    return false;
  for (int i = 0; i < r->n; i++) {
    Dwarf_Word v = r->value[i];
    if (!dwfl_thread_state_registers(thread, r->dwarf[i], 1, &v))
      return false;
  }
  dwfl_thread_state_register_pc(thread, r->pc);
  return true;
}

static const Dwfl_Thread_Callbacks fj__bt_thread_callbacks = {
    .next_thread = fj__bt_next_thread,
    .get_thread = fj__bt_get_thread,
    .memory_read = fj__bt_read,
    .set_initial_registers = fj__bt_initial_regs,
};

fj__bt_session *fj__bt_begin(void) {
  fj__bt_session *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  fj__bt_lock_take();
  s->dwfl = dwfl_begin(&fj__bt_callbacks);
  if (!s->dwfl)
    goto fail;
  dwfl_report_begin(s->dwfl);
  int r = dwfl_linux_proc_report(s->dwfl, getpid());
  dwfl_report_end(s->dwfl, NULL, NULL);
  if (r != 0)
    goto fail;
  s->attached = dwfl_attach_state(s->dwfl, NULL, getpid(), &fj__bt_thread_callbacks, s);
  s->self_module = dwfl_addrmodule(s->dwfl, (Dwarf_Addr)(uintptr_t)&fj__bt_begin);
  return s;
fail:
  if (s->dwfl)
    dwfl_end(s->dwfl);
  free(s);
  fj__bt_lock_release();
  return NULL;
}

void fj__bt_end(fj__bt_session *s) {
  if (!s)
    return;
  dwfl_end(s->dwfl);
  free(s);
  fj__bt_lock_release();
}

static int fj__bt_frame(Dwfl_Frame *frame, void *arg) {
  fj__bt_walk_state *w = arg;
  Dwarf_Addr pc;
  if (!dwfl_frame_pc(frame, &pc, NULL) || pc == 0)
    return DWARF_CB_ABORT;
  Dwarf_Word sp = 0;
  if (dwfl_frame_reg(frame, FJ__DWARF_SP, &sp) != 0)
    sp = 0;
  /* Frames lie on the fiber's stack, each at or above the one it called.
   * Past the outermost frame (the context's entry, whose assembly has no
   * CFI) libdw may fall back to guessing from the frame pointer: on
   * aarch64 that yields a frame with a stack pointer near 0, which this
   * ends the walk at. */
  if (sp != 0 && (sp < w->lo || sp > w->hi || (w->n > 0 && sp < w->last_sp)))
    return DWARF_CB_ABORT;
  if (sp != 0)
    w->last_sp = (uintptr_t)sp;
  w->sps[w->n] = (uintptr_t)sp;
  w->pcs[w->n++] = (uintptr_t)pc;
  return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int fj__bt_walk(fj__bt_session *s, const fj__saved_regs *regs, const void *lo,
                const void *hi, uintptr_t *pcs, uintptr_t *sps, int max) {
  if (!s || !s->attached || max <= 0)
    return 0;
  fj__bt_walk_state w = {.regs = regs, .lo = (uintptr_t)lo, .hi = (uintptr_t)hi,
                         .pcs = pcs, .sps = sps, .max = max};
  s->walk = &w;
  /* Returns -1 when the walk ends at a frame it cannot unwind: normal at
   * the bottom of a fiber, whose entry has no caller. */
  (void)dwfl_getthread_frames(s->dwfl, 1, fj__bt_frame, &w);
  s->walk = NULL;
  return w.n;
}

static const char *fj__basename(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

void fj__bt_describe(fj__bt_session *s, uintptr_t pc, bool return_addr, char *buf,
                     size_t size) {
  Dwarf_Addr at = (Dwarf_Addr)pc - (return_addr ? 1 : 0);
  Dwfl_Module *m = s ? dwfl_addrmodule(s->dwfl, at) : NULL;
  if (!m) {
    snprintf(buf, size, "0x%lx", (unsigned long)pc);
    return;
  }
  GElf_Off off = 0;
  GElf_Sym sym;
  const char *name = dwfl_module_addrinfo(m, at, &off, &sym, NULL, NULL, NULL);
  Dwfl_Line *line = dwfl_module_getsrc(m, at);
  int lineno = 0;
  const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
  if (name && file)
    snprintf(buf, size, "%s (%s:%d)", name, fj__basename(file), lineno);
  else if (name)
    snprintf(buf, size, "%s+0x%lx (%s)", name, (unsigned long)off + (return_addr ? 1 : 0),
             fj__basename(dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL)));
  else
    snprintf(buf, size, "0x%lx (%s)", (unsigned long)pc,
             fj__basename(dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL)));
}

bool fj__bt_function_name(fj__bt_session *s, uintptr_t addr, char *buf, size_t size) {
  Dwfl_Module *m = s ? dwfl_addrmodule(s->dwfl, (Dwarf_Addr)addr) : NULL;
  const char *name = m ? dwfl_module_addrname(m, (Dwarf_Addr)addr) : NULL;
  if (!name) {
    snprintf(buf, size, "0x%lx", (unsigned long)addr);
    return false;
  }
  snprintf(buf, size, "%s", name);
  return true;
}

bool fj__bt_in_library(fj__bt_session *s, uintptr_t addr) {
  return s && s->self_module && dwfl_addrmodule(s->dwfl, (Dwarf_Addr)addr) == s->self_module;
}

#else /* no libdw: addresses only */

fj__bt_session *fj__bt_begin(void) { return NULL; }
void fj__bt_end(fj__bt_session *s) { (void)s; }

int fj__bt_walk(fj__bt_session *s, const fj__saved_regs *regs, const void *lo,
                const void *hi, uintptr_t *pcs, uintptr_t *sps, int max) {
  (void)s, (void)regs, (void)lo, (void)hi, (void)pcs, (void)sps, (void)max;
  return 0;
}

void fj__bt_describe(fj__bt_session *s, uintptr_t pc, bool return_addr, char *buf,
                     size_t size) {
  (void)s, (void)return_addr;
  snprintf(buf, size, "0x%lx", (unsigned long)pc);
}

bool fj__bt_function_name(fj__bt_session *s, uintptr_t addr, char *buf, size_t size) {
  (void)s;
  snprintf(buf, size, "0x%lx", (unsigned long)addr);
  return false;
}

bool fj__bt_in_library(fj__bt_session *s, uintptr_t addr) {
  (void)s, (void)addr;
  return false;
}

#endif
