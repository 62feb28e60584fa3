# SPDX-License-Identifier: MIT
"""cffi build script for fiberjob._ffi (API mode).

Meson runs it as `build_ffi.py OUT.c` to write the generated C source, which
it then compiles together with fiberjob/_native.c and links to libfiberjob.
The cdef is kept small: opaque handles, and `...` wherever the compiler can
supply a value or a layout from include/fiberjob.h so the two cannot drift.
The lifetime guard's declarations are read from fiberjob/_lifetime.h itself.
"""
import os
import re
import sys

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))

CDEF = r"""
typedef struct fj_system fj_system;
typedef struct fj_counter fj_counter;
typedef struct fj_ctx fj_ctx;
typedef void (*fj_job_fn)(fj_ctx *ctx, void *arg);
typedef struct fj_job { fj_job_fn fn; void *arg; } fj_job;
typedef enum fj_priority { FJ_PRIORITY_HIGH, FJ_PRIORITY_NORMAL, FJ_PRIORITY_LOW, ... } fj_priority;

typedef struct fj_config {
  size_t struct_size; unsigned num_workers; size_t stack_size;
  unsigned max_pooled_fibers; int enable_yielding;
  size_t large_stack_size; unsigned attach_slots; size_t max_fibers; uint32_t aging_us;
  uint32_t stall_report_ms; int dump_signal; ...;
} fj_config;
typedef struct fj_stats {
  uint64_t jobs_run, jobs_stolen, yields, waits_suspended, fibers_created,
           fibers_live, fibers_pooled, stack_high_water, stack_high_water_large;
  uint64_t fibers_large_created, fibers_large_live, fibers_large_pooled, fibers_peak,
           fiber_unavailable, aged_picks, pinned_run; ...;
} fj_stats;
typedef enum fj_stack_class { FJ_STACK_SMALL, FJ_STACK_LARGE, ... } fj_stack_class;
typedef struct fj_run_opts {
  size_t struct_size; fj_priority priority; fj_counter *counter; fj_stack_class stack;
  int worker; const char *name; ...;
} fj_run_opts;

#define FJ_OK ...
#define FJ_EINVAL ...
#define FJ_EPRIORITY ...
#define FJ_ECONFIG ...
#define FJ_ENOMEM ...
#define FJ_ESHUTDOWN ...
#define FJ_ETIMEDOUT ...
#define FJ_EOVERFLOW ...
#define FJ_EWRONGSYSTEM ...
#define FJ_EINJOB ...
#define FJ_ETHREAD ...
#define FJ_ENOTINJOB ...
#define FJ_EDEADLK ...
#define FJ_ESTATE ...
#define FJ_EIO ...
#define FJ_EBUSY ...
#define FJ_EWORKER ...
#define FJ_ENOTATTACHED ...
#define FJ_ANY_WORKER ...
#define FJ_VERSION_MAJOR ...
#define FJ_VERSION_MINOR ...
#define FJ_VERSION_PATCH ...
#define FJ_MAX_WORKERS ...
#define FJ_MIN_STACK_SIZE ...
#define FJ_MAX_STACK_SIZE ...
#define FJ_DEFAULT_STACK_SIZE ...

const char *fj_strerror(int err);
void fj_config_init(fj_config *cfg);
int fj_system_create(const fj_config *cfg, fj_system **out);
void fj_system_destroy(fj_system *sys);
unsigned fj_system_num_workers(const fj_system *sys);
int fj_system_stats(const fj_system *sys, fj_stats *out);
int fj_counter_create(fj_system *sys, fj_counter **out);
void fj_counter_destroy(fj_counter *c);
size_t fj_counter_value(const fj_counter *c);
int fj_run(fj_system *sys, fj_job_fn fn, void *arg, fj_priority prio, fj_counter *c);
int fj_run_jobs(fj_system *sys, const fj_job *jobs, size_t n, fj_priority prio, fj_counter *c);
int fj_wait(fj_system *sys, fj_counter *c);
int fj_wait_timeout(fj_system *sys, fj_counter *c, uint64_t timeout_ns);
int fj_ctx_spawn(fj_ctx *ctx, fj_job_fn fn, void *arg, fj_priority prio, fj_counter *c);
int fj_ctx_spawn_jobs(fj_ctx *ctx, const fj_job *jobs, size_t n, fj_priority prio, fj_counter *c);
unsigned fj_ctx_worker(const fj_ctx *ctx);
fj_priority fj_ctx_priority(const fj_ctx *ctx);
fj_system *fj_ctx_system(const fj_ctx *ctx);
fj_ctx *fj_current_ctx(void);
int fj_ctx_set_name(fj_ctx *ctx, const char *name);
void fj_run_opts_init(fj_run_opts *opts);
int fj_ctx_submit(fj_ctx *ctx, const fj_job *jobs, size_t n, const fj_run_opts *opts);
const char *fj_ctx_name(const fj_ctx *ctx);
int fj_trace_start(fj_system *sys, size_t max_events);
int fj_trace_stop(fj_system *sys, const char *json_path);

/* _native.h */
#define FJPY_DONE ...
#define FJPY_YIELD ...
#define FJPY_WAIT ...
extern "Python+C" int fjpy_step(fj_ctx *ctx, uintptr_t job_id, int status, fj_counter **wait_on);
void fjpy_job(fj_ctx *ctx, void *arg);

#define FJN_SPIN ...
#define FJN_YIELD ...
#define FJN_TREE ...
#define FJN_WAIT ...
typedef struct fjn_task {
  int kind; uint64_t spin_ns; uint32_t yields; uint32_t depth; uint32_t fanout;
  fj_counter *wait_on; int64_t *yield_ns;
  int64_t start_ns, end_ns; uint32_t start_worker, end_worker; uint32_t yields_done;
  uint64_t nodes; uint64_t value_after_wait; int status; int done; ...;
} fjn_task;
void fjn_job(fj_ctx *ctx, void *arg);
int64_t fjn_now_ns(void);
"""


def header_cdef(path):
    """The declarations of one of the package's own C headers as cdef text.

    Comments, the include guard and #include lines are dropped, and every
    #define with a value becomes `#define NAME ...` so the compiler supplies
    it.  Any other preprocessor line is refused: cffi cannot read it.
    """
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    lines = []
    for line in text.splitlines():
        word = line.split()[:3]
        if not word or not word[0].startswith("#"):
            lines.append(line)
        elif word[0] == "#define" and len(word) == 3 and word[1].isidentifier():
            lines.append("#define %s ..." % word[1])
        elif word[0] == "#define" and len(word) == 2:
            continue  # the include guard
        elif word[0] in ("#ifndef", "#endif", "#include"):
            continue
        else:
            raise ValueError("%s: cannot pass %r to cffi" % (path, line.strip()))
    return "\n".join(lines)


def make_ffi():
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    ffi.cdef(header_cdef(os.path.join(HERE, "fiberjob", "_lifetime.h")))
    ffi.set_source("fiberjob._ffi",
                   '#include "fiberjob.h"\n#include "_lifetime.h"\n#include "_native.h"\n')
    return ffi


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build_ffi.py OUTPUT.c")
    make_ffi().emit_c_code(sys.argv[1])
