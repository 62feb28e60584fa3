# SPDX-License-Identifier: MIT
"""The Pythonic layer over fiberjob._ffi: systems, counters, jobs, errors.

How a Python job runs: every Python job is submitted as the C trampoline
fjpy_job (in _native.c) with a small integer id as its argument.  The
trampoline calls fjpy_step (below) under the GIL; the step runs the function,
or advances its generator by one `yield`, and returns DONE, YIELD or WAIT.
Only after the step has returned (no Python frame left on the fiber's stack,
GIL released) does the C side call fj_ctx_yield / fj_ctx_wait, so a job may
resume on any worker and the interpreter never sees a frame move threads.
"""
import atexit
import enum
import itertools
import operator
import threading
import types
import weakref
from dataclasses import dataclass

from ._ffi import ffi, lib

__version__ = "%d.%d.%d" % (lib.FJ_VERSION_MAJOR, lib.FJ_VERSION_MINOR, lib.FJ_VERSION_PATCH)

#: Default fiber stack for JobSystem: larger than the C default (64 KiB)
#: because every Python step runs the interpreter on the fiber's stack.
#: Stacks are reserved, not committed, so this costs address space only.
DEFAULT_STACK_SIZE = 256 * 1024

_WAIT_SLICE_NS = 50_000_000  # blocking waits wake this often to let Ctrl-C through


# ---- errors -----------------------------------------------------------------

class FiberJobError(Exception):
    """A libfiberjob call failed.  ``code`` is the FJ_E... value; the message
    starts with the library's fj_strerror() text."""

    code = None

    def __init__(self, code=None, detail=None):
        if code is None:
            code = type(self).code
        self.code = code
        self.strerror = ffi.string(lib.fj_strerror(code)).decode()
        msg = self.strerror if not detail else "%s (%s)" % (self.strerror, detail)
        super().__init__(msg)


def _err(name, code, *bases, doc):
    return type(name, (FiberJobError,) + bases, {"code": code, "__doc__": doc})


InvalidArgumentError = _err("InvalidArgumentError", lib.FJ_EINVAL, ValueError, doc="FJ_EINVAL")
PriorityError = _err("PriorityError", lib.FJ_EPRIORITY, ValueError, doc="FJ_EPRIORITY")
ConfigError = _err("ConfigError", lib.FJ_ECONFIG, ValueError, doc="FJ_ECONFIG")
OutOfMemoryError = _err("OutOfMemoryError", lib.FJ_ENOMEM, MemoryError, doc="FJ_ENOMEM")
ShutdownError = _err("ShutdownError", lib.FJ_ESHUTDOWN, RuntimeError, doc="FJ_ESHUTDOWN")
WaitTimeoutError = _err("WaitTimeoutError", lib.FJ_ETIMEDOUT, TimeoutError, doc="FJ_ETIMEDOUT")
CounterOverflowError = _err("CounterOverflowError", lib.FJ_EOVERFLOW, OverflowError,
                            doc="FJ_EOVERFLOW")
WrongSystemError = _err("WrongSystemError", lib.FJ_EWRONGSYSTEM, ValueError,
                        doc="FJ_EWRONGSYSTEM")
InJobError = _err("InJobError", lib.FJ_EINJOB, RuntimeError, doc="FJ_EINJOB")
ThreadStartError = _err("ThreadStartError", lib.FJ_ETHREAD, RuntimeError, doc="FJ_ETHREAD")
NotInJobError = _err("NotInJobError", lib.FJ_ENOTINJOB, RuntimeError, doc="FJ_ENOTINJOB")

_ERRORS = {cls.code: cls for cls in (
    InvalidArgumentError, PriorityError, ConfigError, OutOfMemoryError, ShutdownError,
    WaitTimeoutError, CounterOverflowError, WrongSystemError, InJobError,
    ThreadStartError, NotInJobError)}


def error_for_code(code, detail=None):
    """The exception instance for a negative FJ_E... code."""
    return _ERRORS.get(code, FiberJobError)(code, detail)


def _check(r, detail=None):
    if r < 0:
        raise error_for_code(r, detail)


class JobError(Exception):
    """A job raised.  ``__cause__`` is the job's exception; ``errors`` lists
    every (job, exception) reported together, first one first."""

    def __init__(self, errors):
        self.errors = errors
        what, exc = errors[0]
        more = "" if len(errors) == 1 else " (and %d more failed jobs)" % (len(errors) - 1)
        super().__init__("job %s raised %s: %s%s" % (what, type(exc).__name__, exc, more))
        self.__cause__ = exc


# ---- priorities, stats ------------------------------------------------------

class Priority(enum.IntEnum):
    HIGH = lib.FJ_PRIORITY_HIGH
    NORMAL = lib.FJ_PRIORITY_NORMAL
    LOW = lib.FJ_PRIORITY_LOW


_VALID_PRIORITIES = frozenset(int(p) for p in Priority)


def _prio(p):
    try:
        v = operator.index(p)
    except TypeError:
        raise PriorityError(detail="got %r" % (p,)) from None
    if v not in _VALID_PRIORITIES or isinstance(p, bool):
        raise PriorityError(detail="got %r" % (p,))
    return v


@dataclass(frozen=True)
class Stats:
    """fj_stats: running totals since the system started (fibers_live and
    fibers_pooled are 'now')."""
    jobs_run: int
    jobs_stolen: int
    yields: int
    waits_suspended: int
    fibers_created: int
    fibers_live: int
    fibers_pooled: int


def library_version():
    return __version__


# ---- counters ---------------------------------------------------------------

# Counters dropped by Python while jobs still used them: destroying one then
# would abort the process, so they wait here until they read zero.
_graveyard = []
# Reentrant: a Counter finalizer can run from a GC pass on a thread that
# already holds it.
_graveyard_lock = threading.RLock()


def _bury_ready():
    with _graveyard_lock:
        items = list(_graveyard)
        _graveyard.clear()
    keep = []
    for ptr, refs in items:
        if lib.fj_counter_value(ptr) == 0:
            lib.fj_counter_destroy(ptr)
        else:
            keep.append((ptr, refs))
    if keep:
        with _graveyard_lock:
            _graveyard.extend(keep)


class Counter:
    """Tracks unfinished jobs; ``wait()`` blocks until it is zero.  Made by
    ``JobSystem.counter()`` or returned by ``run``/``run_many``.  In a
    generator job, ``yield counter`` suspends the job until it is zero."""

    __slots__ = ("_ptr", "_system", "_errors", "_keep", "__weakref__")

    def __init__(self, system, ptr):
        self._ptr = ptr
        self._system = system
        self._errors = []   # (what, exc) of failed jobs that counted on it
        self._keep = []     # native tasks in flight with it

    def __del__(self):
        ptr, self._ptr = self._ptr, None
        if ptr is None:
            return
        if lib.fj_counter_value(ptr) == 0:
            lib.fj_counter_destroy(ptr)
        else:
            with _graveyard_lock:
                _graveyard.append((ptr, self._keep))

    @property
    def value(self):
        """Jobs submitted with this counter that have not finished yet."""
        return lib.fj_counter_value(self._ptr)

    @property
    def system(self):
        return self._system

    def wait(self, timeout=None):
        """Blocks the calling thread until the counter is zero, then re-raises
        (as JobError) an exception raised by a job it tracked.  ``timeout`` in
        seconds; on expiry raises WaitTimeoutError (a TimeoutError).  Inside a
        job raises InJobError: a generator job uses ``yield counter``."""
        if lib.fj_current_ctx() != ffi.NULL:
            raise InJobError(detail="a blocking wait() inside a job would block its worker; "
                                    "make the job a generator and `yield counter`")
        sysptr = self._system._ptr
        if sysptr is not None:
            if timeout is None:
                left = None
            else:
                if timeout < 0:
                    raise ValueError("timeout must be >= 0")
                left = int(timeout * 1e9)
            while True:
                step = _WAIT_SLICE_NS if left is None else min(left, _WAIT_SLICE_NS)
                r = lib.fj_wait_timeout(sysptr, self._ptr, step)
                if r == lib.FJ_OK:
                    break
                if r != lib.FJ_ETIMEDOUT:
                    _check(r)
                if left is not None:
                    left -= step
                    if left <= 0:
                        raise WaitTimeoutError(detail="%d jobs unfinished" % self.value)
        self._keep.clear()
        self._system._raise_errors(self)

    def __repr__(self):
        return "<fiberjob.Counter value=%d>" % self.value


# ---- jobs -------------------------------------------------------------------

_jobs = {}          # id -> _Job, for the trampoline
_job_ids = itertools.count(1)
_PY_JOB = ffi.addressof(lib, "fjpy_job")
_NATIVE_JOB = ffi.addressof(lib, "fjn_job")
_NULL = ffi.NULL


class _Job:
    __slots__ = ("fn", "args", "system", "counter", "gen", "ctx", "waiting")

    def __init__(self, fn, args, system, counter):
        self.fn = fn
        self.args = args
        self.system = system
        self.counter = counter
        self.gen = None
        self.ctx = None
        self.waiting = None

    def describe(self):
        return getattr(self.fn, "__qualname__", None) or repr(self.fn)


class Ctx:
    """Handed to a running job as its first argument.  Valid only while the
    job runs (for a generator job: until it finishes)."""

    __slots__ = ("_ptr", "_system")

    def __init__(self, ptr, system):
        self._ptr = ptr
        self._system = system

    def _live(self):
        ptr = self._ptr
        if ptr is None or lib.fj_current_ctx() != ptr:
            raise NotInJobError(detail="this ctx belongs to a job that is not running here")
        return ptr

    @property
    def worker(self):
        """Index of the worker running the job now (may change after a yield)."""
        return lib.fj_ctx_worker(self._live())

    @property
    def priority(self):
        return Priority(lib.fj_ctx_priority(self._live()))

    @property
    def system(self):
        return self._system

    def spawn(self, fn, *args, priority=Priority.NORMAL, counter=None):
        """Spawns fn(ctx, *args) (or a NativeTask) on this worker's queue.
        counter=None: fire and forget (errors surface at close())."""
        ptr = self._live()
        return self._system._submit(lib.fj_ctx_spawn, ptr, [(fn, args)], priority, counter, False)

    def spawn_many(self, jobs, priority=Priority.NORMAL, counter=None):
        """As spawn for a list of (fn, args) pairs or NativeTasks."""
        ptr = self._live()
        return self._system._submit(lib.fj_ctx_spawn_jobs, ptr, jobs, priority, counter, False)

    def counter(self):
        return self._system.counter()


def _finish(job_id, job, exc):
    del _jobs[job_id]
    if job.ctx is not None:
        job.ctx._ptr = None
    if exc is not None:
        job.system._record_error(job, exc)
    return lib.FJPY_DONE


def _step_failed(exctype, value, tb):
    # Only a bug in _step itself gets here; the job ends (returns DONE).
    import traceback
    traceback.print_exception(exctype, value, tb)


@ffi.def_extern(onerror=_step_failed)
def fjpy_step(ctx_ptr, job_id, status, wait_out):
    job = _jobs[job_id]
    gen = job.gen
    throw = None
    try:
        if gen is None:
            ctx = job.ctx = Ctx(ctx_ptr, job.system)
            r = job.fn(ctx, *job.args)
            if type(r) is not types.GeneratorType:
                return _finish(job_id, job, None)
            gen = job.gen = r
            item = gen.send(None)
        else:
            job.ctx._ptr = ctx_ptr   # the same job, possibly on another worker
            waited, job.waiting = job.waiting, None
            if status != lib.FJ_OK:
                throw = error_for_code(status)
            elif waited is not None and waited._errors:
                throw = job.system._take_errors(waited)
            item = gen.send(None) if throw is None else gen.throw(throw)
        while True:
            if item is None:
                return lib.FJPY_YIELD
            if isinstance(item, Counter):
                if item is job.counter:
                    item = gen.throw(ValueError(
                        "a job cannot wait on the counter that tracks it (it would never reach zero)"))
                    continue
                job.waiting = item
                wait_out[0] = item._ptr
                return lib.FJPY_WAIT
            item = gen.throw(TypeError(
                "a job may yield None (a fiber yield) or a fiberjob.Counter, not %r" % (item,)))
    except StopIteration:
        return _finish(job_id, job, None)
    except BaseException as e:  # noqa: B902 - every job exception must surface
        return _finish(job_id, job, e)


# ---- the system -------------------------------------------------------------

_live_systems = weakref.WeakSet()


class JobSystem:
    """A libfiberjob job system: ``workers`` threads (None or 0 = one per CPU)
    running jobs on fibers of ``stack_size`` bytes.  Use as a context manager
    or call close(); close() runs every submitted job to completion, then
    re-raises (as JobError) any job exception no wait() reported."""

    def __init__(self, workers=None, stack_size=None, max_pooled_fibers=None,
                 enable_yielding=True):
        cfg = ffi.new("fj_config *")
        lib.fj_config_init(cfg)
        if stack_size is None:
            stack_size = DEFAULT_STACK_SIZE
        for name, v in (("workers", workers), ("stack_size", stack_size),
                        ("max_pooled_fibers", max_pooled_fibers)):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0
                                  or v >= 2 ** 63):
                raise ConfigError(detail="%s=%r" % (name, v))
        if workers is not None:
            if workers > 0xFFFFFFFF:
                raise ConfigError(detail="workers=%r" % (workers,))
            cfg.num_workers = workers
        cfg.stack_size = stack_size
        if max_pooled_fibers is not None:
            if max_pooled_fibers > 0xFFFFFFFF:
                raise ConfigError(detail="max_pooled_fibers=%r" % (max_pooled_fibers,))
            cfg.max_pooled_fibers = max_pooled_fibers
        cfg.enable_yielding = 1 if enable_yielding else 0
        self.stack_size = stack_size
        out = ffi.new("fj_system **")
        _check(lib.fj_system_create(cfg, out),
               "workers=%r stack_size=%r max_pooled_fibers=%r" % (workers, stack_size,
                                                                 max_pooled_fibers))
        self._ptr = out[0]
        self._closing = False
        self._lock = threading.Lock()
        self._unreported = []   # (what, exc) not yet raised by a wait()
        self._keep = []         # fire-and-forget native tasks
        _live_systems.add(self)

    # -- lifetime --
    def __enter__(self):
        return self

    def __exit__(self, exctype, exc, tb):
        # A job error must not hide the exception already leaving the block.
        self._close(raise_errors=exctype is None)
        return False

    def close(self):
        """Runs all submitted work to completion, stops the workers, then
        raises JobError for job exceptions no wait() has reported.  Calling
        it again does nothing.  Raises InJobError from inside a job."""
        self._close(raise_errors=True)

    def _close(self, raise_errors):
        if self._ptr is None:
            return
        cur = lib.fj_current_ctx()
        if cur != _NULL and lib.fj_ctx_system(cur) == self._ptr:
            raise InJobError(detail="close() from inside one of this system's jobs")
        self._closing = True
        lib.fj_system_destroy(self._ptr)   # GIL released: workers finish the jobs
        self._ptr = None
        self._keep.clear()
        _live_systems.discard(self)
        _bury_ready()
        if raise_errors:
            with self._lock:
                errors, self._unreported = self._unreported, []
            if errors:
                raise JobError(errors)

    def __del__(self):
        if getattr(self, "_ptr", None) is not None:
            self._close(raise_errors=False)

    @property
    def closed(self):
        return self._ptr is None

    def _sysptr(self):
        ptr = self._ptr
        if ptr is None or (self._closing and lib.fj_current_ctx() == _NULL):
            raise ShutdownError(detail="the JobSystem is closed")
        return ptr

    # -- introspection --
    @property
    def workers(self):
        """Number of worker threads."""
        return lib.fj_system_num_workers(self._sysptr())

    def stats(self):
        out = ffi.new("fj_stats *")
        _check(lib.fj_system_stats(self._sysptr(), out))
        return Stats(out.jobs_run, out.jobs_stolen, out.yields, out.waits_suspended,
                     out.fibers_created, out.fibers_live, out.fibers_pooled)

    # -- counters and submission --
    def counter(self):
        """A new counter at zero."""
        out = ffi.new("fj_counter **")
        _check(lib.fj_counter_create(self._sysptr(), out))
        if _graveyard:
            _bury_ready()
        return Counter(self, out[0])

    def run(self, fn, *args, priority=Priority.NORMAL, counter=None):
        """Submits fn(ctx, *args) — or a fiberjob.native task — and returns the
        counter tracking it (a new one when counter is None)."""
        ptr = self._sysptr()
        return self._submit(lib.fj_run, ptr, [(fn, args)], priority,
                            counter if counter is not None else self.counter(), True)

    def run_many(self, jobs, priority=Priority.NORMAL, counter=None):
        """Submits a list of (fn, args) pairs and/or native tasks in one call;
        returns the counter tracking them (a new one when counter is None)."""
        ptr = self._sysptr()
        return self._submit(lib.fj_run_jobs, ptr, jobs, priority,
                            counter if counter is not None else self.counter(), True)

    def _submit(self, submit, target, jobs, priority, counter, external):
        """submit is fj_run / fj_ctx_spawn for one job (jobs has one item),
        fj_run_jobs / fj_ctx_spawn_jobs for a list."""
        p = _prio(priority)
        if counter is not None:
            if type(counter) is not Counter:
                raise TypeError("counter must be a fiberjob.Counter or None, not %r"
                                % (counter,))
            if counter._ptr is None:
                raise InvalidArgumentError(detail="counter already destroyed")
            cptr = counter._ptr
        else:
            cptr = _NULL
        single = submit is lib.fj_run or submit is lib.fj_ctx_spawn
        jobs = list(jobs)
        n = len(jobs)
        arr = None if single else ffi.new("fj_job[]", max(n, 1))
        ids = []
        natives = []
        try:
            for i, item in enumerate(jobs):
                if type(item) in (tuple, list) and len(item) == 2:
                    fn, args = item
                elif isinstance(item, NativeTask):
                    fn, args = item, ()
                else:
                    raise TypeError("jobs must be (fn, args) pairs or native tasks, not %r"
                                    % (item,))
                if isinstance(fn, NativeTask):
                    if args:
                        raise TypeError("a native task takes no arguments")
                    fn._start()
                    natives.append(fn)
                    jfn, jarg = _NATIVE_JOB, fn._ptr
                else:
                    if not callable(fn):
                        raise TypeError("a job must be callable, not %r" % (fn,))
                    jid = next(_job_ids)
                    _jobs[jid] = _Job(fn, tuple(args), self, counter)
                    ids.append(jid)
                    jfn, jarg = _PY_JOB, ffi.cast("void *", jid)
                if single:
                    break
                arr[i].fn = jfn
                arr[i].arg = jarg
            if natives:
                (counter._keep if counter is not None else self._keep).extend(natives)
            if single:
                _check(submit(target, jfn, jarg, p, cptr))
            else:
                _check(submit(target, arr, n, p, cptr))
        except BaseException:
            for jid in ids:
                _jobs.pop(jid, None)
            for t in natives:
                t._cancel()
            raise
        return counter

    # -- job errors --
    def _record_error(self, job, exc):
        entry = (job.describe(), exc)
        with self._lock:
            if job.counter is not None:
                job.counter._errors.append(entry)
            self._unreported.append(entry)

    def _take_errors(self, counter):
        with self._lock:
            errors, counter._errors = counter._errors, []
            ids = {id(e) for e in errors}
            self._unreported = [e for e in self._unreported if id(e) not in ids]
        return JobError(errors) if errors else None

    def _raise_errors(self, counter):
        if counter._errors:
            err = self._take_errors(counter)
            if err is not None:
                raise err

    def __repr__(self):
        state = "closed" if self._ptr is None else "%d workers" % self.workers
        return "<fiberjob.JobSystem %s>" % state


@atexit.register
def _close_all():
    # Workers must not call into Python while the interpreter finalizes.
    for js in list(_live_systems):
        js._close(raise_errors=False)


from .native import NativeTask  # noqa: E402  (native imports Counter from here)
