# SPDX-License-Identifier: MIT
"""JobSystem: the handle on an fj_system, and job submission.

A JobSystem owns its worker threads.  Jobs are Python callables (run through
the trampoline described in fiberjob.jobs) or fiberjob.native tasks (C jobs
that never take the GIL).  Exceptions raised by jobs are recorded here, per
counter and per system, until a wait() or close() reports them.
"""
import _thread
import atexit
import concurrent.futures
import contextlib
import os
import sys
import threading
import traceback
import weakref
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Literal,
                    Optional, Sequence, Tuple)

from ._ffi import ffi, lib
from . import counter as counter_module
from .counter import Counter, bury_ready, graveyard_size
from .errors import (BusyError, ConfigError, InJobError, InvalidArgumentError, JobError,
                     ShutdownError, check)
from .futures import JobFuture, new_table
from .jobs import PY_JOB, Job, c_name, is_async, job_ids, jobs as _jobs
from .lifetime import CLOSING as _CLOSING, DOWN as _DOWN, FORKED as _FORKED, OPEN as _OPEN
from .lifetime import wait_down as _wait_down
from .native import NativeTask
from .priority import Priority, PriorityLike, priority_value
from .stats import Stats

if TYPE_CHECKING:  # only for annotations; importing asyncio is left to run_async
    import asyncio

__all__ = ["JobSystem", "Stats", "DEFAULT_STACK_SIZE"]

#: Default fiber stack for JobSystem: larger than the C default (64 KiB)
#: because every Python step runs the interpreter on the fiber's stack.  At
#: 1 MiB a job recursing through C-level calls reaches Python's
#: RecursionError before the stack runs out, as on a thread (measured at the
#: default recursion limit: lru_cache needs 512 KiB, a property chain more
#: than 512 and less than 768).  Stacks are reserved, not committed: this
#: costs address space, not memory.
DEFAULT_STACK_SIZE = 1024 * 1024

_NATIVE_JOB = ffi.addressof(lib, "fjn_job")
_NULL = ffi.NULL


_STACKS = {"small": lib.FJ_STACK_SMALL, "large": lib.FJ_STACK_LARGE}


def run_opts(priority: int, cptr: Any, stack: Optional[str], worker: Optional[int],
             name: Optional[str]) -> Optional[Any]:
    """An fj_run_opts for the keyword options, or None when none is set."""
    if stack is None and worker is None and name is None:
        return None
    o = ffi.new("fj_run_opts *")
    lib.fj_run_opts_init(o)
    o.priority = priority
    o.counter = cptr
    if stack is not None:
        if stack not in _STACKS:
            raise ValueError("stack must be 'small' or 'large', not %r" % (stack,))
        o.stack = _STACKS[stack]
    if worker is not None:
        if not isinstance(worker, int) or isinstance(worker, bool):
            raise TypeError("worker must be an int or None, not %r" % (worker,))
        if not -(2 ** 31) <= worker < 2 ** 31:
            check(lib.FJ_EWORKER, "worker=%r" % (worker,))
        o.worker = worker
    if name is not None:
        if not isinstance(name, str):
            raise TypeError("name must be a str or None, not %r" % (name,))
        if "\0" in name:
            raise ValueError("name must not contain NUL characters")
        o.name = c_name(name)
    return o


#: Systems not yet closed; the atexit hook closes them.
_live_systems: "weakref.WeakSet[JobSystem]" = weakref.WeakSet()
#: Every system still referenced: at exit, their unretrieved errors are printed.
_all_systems: "weakref.WeakSet[JobSystem]" = weakref.WeakSet()
#: The owning handles (ffi.gc) of the guards of live JobSystems, by id().
#: Kept here, not on the JobSystem: a JobSystem in a reference cycle is
#: finalized by the cyclic GC together with everything only it references,
#: in any order, so a handle it held could release the guard before its
#: __del__ had read it.  __del__ hands the handle on to _orphans.
_owners: Dict[int, Any] = {}
#: Owning handles of guards of dropped systems: their closer threads finish
#: the work, and the atexit hook waits for them.  Released once down, when
#: the next JobSystem is made (not in __del__: other finalizers of the same
#: cycle may still touch the dropped JobSystem).
_orphans: set = set()
#: The guard of every JobSystem whose __del__ has run: DOWN for ever.
_DROPPED = lib.fjpy_sys_dropped()
#: (job, exception) from dropped systems that nobody retrieved.
_never_retrieved: List[Tuple[str, BaseException]] = []
#: The main thread (where KeyboardInterrupt is raised) and its submission
#: status cell; see JobSystem._submit.
_get_ident = _thread.get_ident
_main_ident = [threading.main_thread().ident]
_main_status = ffi.new("int *", 1)


def _chain_context(exc: BaseException, err: BaseException) -> None:
    """Attaches err at the end of exc's __context__ chain, so a traceback of
    exc also shows err."""
    seen = set()
    e = exc
    while e.__context__ is not None and id(e) not in seen:
        seen.add(id(e))
        e = e.__context__
    if e is not err:
        e.__context__ = err


class JobSystem:
    """A libfiberjob job system: ``workers`` threads (None or 0 = one per CPU)
    running jobs on fibers of ``stack_size`` bytes.

    run(fn, *args) / run_many(jobs) submit fn(ctx, *args) and return a
    Counter to wait() on: the fast path, no result.  submit(fn, *args)
    returns a concurrent.futures.Future of the job's return value;
    ``await run_async(fn, *args)`` does the same for asyncio.

    Use as a context manager or call close(); close() runs every submitted
    job to completion, then re-raises (as JobError) any exception of a
    run/run_many job no wait() reported."""

    stack_size: int

    def __init__(self, workers: Optional[int] = None, stack_size: Optional[int] = None,
                 max_pooled_fibers: Optional[int] = None, enable_yielding: bool = True,
                 stall_report_ms: Optional[int] = None, dump_signal: Optional[int] = None,
                 large_stack_size: Optional[int] = None, attach_slots: Optional[int] = None,
                 max_fibers: Optional[int] = None, aging_us: Optional[int] = None) -> None:
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
        # Scheduling controls (see README "Scheduling controls").
        for name, v, limit in (("large_stack_size", large_stack_size, 2 ** 63),
                               ("attach_slots", attach_slots, 2 ** 32),
                               ("max_fibers", max_fibers, 2 ** 63),
                               ("aging_us", aging_us, 2 ** 32)):
            if v is None:
                continue
            if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= limit:
                raise ConfigError(detail="%s=%r" % (name, v))
            setattr(cfg, name, v)
        # Debugging: a stall/deadlock report to stderr after stall_report_ms
        # without progress; the dump to stderr on dump_signal (e.g.
        # signal.SIGQUIT).  See "Debugging fibers" in the README.
        if stall_report_ms is not None:
            if (not isinstance(stall_report_ms, int) or isinstance(stall_report_ms, bool)
                    or not 0 <= stall_report_ms <= 0xFFFFFFFF):
                raise ConfigError(detail="stall_report_ms=%r" % (stall_report_ms,))
            cfg.stall_report_ms = stall_report_ms
        if dump_signal is not None:
            if not isinstance(dump_signal, int) or not 0 <= int(dump_signal) < 65:
                raise ConfigError(detail="dump_signal=%r" % (dump_signal,))
            cfg.dump_signal = int(dump_signal)
        self.stack_size = stack_size
        self._lock = threading.Lock()
        self._attached: set = set()  # idents of threads inside attach(), under _lock
        self._unreported: List[Tuple[str, BaseException]] = []  # not yet raised by a wait()
        self._keep: list = []   # fire-and-forget native tasks
        self._pending = new_table()  # unresolved Futures of submitted jobs
        if _orphans:
            _forget_closed_orphans()
        out = ffi.new("fjpy_sys **")
        check(lib.fjpy_sys_create(cfg, out),
              "workers=%r stack_size=%r max_pooled_fibers=%r" % (workers, stack_size,
                                                                max_pooled_fibers))
        # The guard owns the fj_system; see _lifetime.h for why every call
        # on the system goes through it.
        # self._g is a plain pointer; _owners holds the reference (see there).
        g = out[0]
        _owners[id(self)] = ffi.gc(g, lib.fjpy_sys_release)
        self._g = g
        _live_systems.add(self)
        _all_systems.add(self)

    # -- lifetime --
    def __enter__(self) -> "JobSystem":
        return self

    def __exit__(self, exctype, exc, tb) -> Literal[False]:
        if exc is None:
            self.close()
            return False
        # Leaving by another exception: job errors must not hide it, nor be
        # lost: they become the end of its __context__ chain.
        self._close(raise_errors=False)
        errors = self._take_unreported()
        if errors:
            _chain_context(exc, JobError(errors))
        return False

    def close(self) -> None:
        """Runs all submitted work to completion, stops the workers, then
        raises JobError for job exceptions no wait() has reported.

        Idempotent and thread-safe: the system is destroyed exactly once, and
        every concurrent caller returns once it is down.  Ctrl-C interrupts
        the wait, not the close: the system keeps closing, and close() may be
        called again.  Raises InJobError from inside one of its jobs.  In a
        child process after fork() it does nothing (the system belongs to
        the parent)."""
        self._close(raise_errors=True)

    def _close(self, raise_errors: bool) -> None:
        g = self._g
        if lib.fjpy_sys_in_own_job(g):
            raise InJobError(detail="close() from inside one of this system's jobs")
        # The library aborts if a thread is still attached when the system
        # goes down: detach this thread, refuse while another one is.
        me = threading.get_ident()
        with self._lock:
            mine = me in self._attached
            others = len(self._attached) - mine
        if others:
            raise BusyError(detail="close() while another thread is inside js.attach(); "
                                   "leave that with-block first")
        if mine:
            check(lib.fjpy_sys_detach(g))
            with self._lock:
                self._attached.discard(me)
        check(lib.fjpy_sys_close(g))
        _wait_down(g)
        self._after_down()
        if raise_errors:
            errors = self._take_unreported()
            if errors:
                raise JobError(errors)

    def _after_down(self) -> None:
        # Idempotent: a close() interrupted here is completed by the next.
        self._keep.clear()
        _live_systems.discard(self)
        bury_ready()
        # Destroy ran every submitted job, so this finds nothing unless a job
        # was lost; its Future then fails rather than staying pending.
        self._pending.fail_all(lambda: ShutdownError(
            detail="the JobSystem closed before this job ran"))

    def _take_unreported(self) -> List[Tuple[str, BaseException]]:
        with self._lock:
            errors, self._unreported = self._unreported, []
        return errors

    def __del__(self) -> None:
        # May run on any thread, in the middle of anything, and on one of
        # this system's own workers (the last reference dropped inside a
        # job): never block here.  The guard's closer thread finishes the
        # jobs and joins the workers; the atexit hook waits for it.
        g = getattr(self, "_g", None)
        owner = _owners.get(id(self))
        if g is None or owner is None:
            return          # __init__ failed, or an earlier __del__ ran
        if lib.fjpy_sys_state(g) == _OPEN:
            lib.fjpy_sys_close(g)
        # Hand the reference on (a signal in between leaves it in both), and
        # point this object at a guard that stays DOWN: another finalizer of
        # the same cycle may still call it once the real guard is released.
        _orphans.add(owner)
        del _owners[id(self)]
        self._g = _DROPPED
        if self._unreported:
            _never_retrieved.extend(self._unreported)

    @property
    def closed(self) -> bool:
        """True once close() has finished (or in a child after fork())."""
        return lib.fjpy_sys_state(self._g) >= _DOWN

    # -- introspection --
    @property
    def workers(self) -> int:
        """Number of worker threads."""
        return check(lib.fjpy_sys_num_workers(self._g))

    def stats(self) -> Stats:
        """Running totals (fj_stats) since the system started."""
        out = ffi.new("fj_stats *")
        check(lib.fjpy_sys_stats(self._g, out))
        return Stats(out.jobs_run, out.jobs_stolen, out.yields, out.waits_suspended,
                     out.fibers_created, out.fibers_live, out.fibers_pooled,
                     out.stack_high_water, out.stack_high_water_large,
                     out.fibers_large_created, out.fibers_large_live, out.fibers_large_pooled,
                     out.fibers_peak, out.fiber_unavailable, out.aged_picks, out.pinned_run)

    # -- attached threads --
    @contextlib.contextmanager
    def attach(self) -> Iterator[int]:
        """Attaches the calling thread (one of ``attach_slots``) for the
        ``with`` block and yields its worker index.  Inside the block, waits
        on this thread (Counter.wait) run jobs pinned to that index
        (``run(..., worker=index)``) and other ready work instead of just
        sleeping.  Raises BusyError when no slot is free or the thread is
        already attached.  close() inside the block detaches this thread
        first; close() from another thread while one is attached raises
        BusyError."""
        out = ffi.new("unsigned *")
        me = threading.get_ident()
        check(lib.fjpy_sys_attach(self._g, out))
        with self._lock:
            self._attached.add(me)
        try:
            yield out[0]
        finally:
            with self._lock:
                still = me in self._attached
                self._attached.discard(me)
            if still:  # not already detached by a close() inside the block
                check(lib.fjpy_sys_detach(self._g))

    # -- debugging --
    def dump(self) -> str:
        """fj_system_dump's snapshot as text: workers, queues, and every
        suspended fiber with its job's name, counter and call stack."""
        text = ffi.new("char **")
        size = ffi.new("size_t *")
        r = lib.fjpy_sys_dump(self._g, text, size)
        try:
            check(r)
            return ffi.string(text[0], size[0]).decode("utf-8", "replace")
        finally:
            lib.fjpy_free(text[0])

    @contextlib.contextmanager
    def trace(self, path: str, max_events: int = 1_000_000) -> Iterator[None]:
        """Records a trace while the block runs and writes it to ``path`` as
        Chrome Trace Event JSON (Perfetto, chrome://tracing; ``python -m
        fiberjob.timeline path -o out.png`` draws it).  Each worker keeps
        up to ``max_events`` events (about 56 bytes each)."""
        check(lib.fjpy_sys_trace_start(self._g, max_events))
        try:
            yield
        finally:
            check(lib.fjpy_sys_trace_stop(self._g, os.fsencode(path)), "path=%r" % (path,))

    # -- counters and submission --
    def counter(self) -> Counter:
        """A new counter at zero."""
        out = ffi.new("fj_counter **")
        check(lib.fjpy_sys_counter_create(self._g, out))
        if graveyard_size():
            bury_ready()
        return Counter(self, out[0])

    def run(self, fn: Callable[..., Any], *args: Any, priority: PriorityLike = Priority.NORMAL,
            counter: Optional[Counter] = None, stack: Optional[str] = None,
            worker: Optional[int] = None, name: Optional[str] = None) -> Counter:
        """Submits fn(ctx, *args) — or a fiberjob.native task — and returns the
        counter tracking it (a new one when counter is None).

        ``stack="large"`` runs it on a large_stack_size fiber; ``worker=i``
        pins it to worker index i (it starts and resumes only there; an
        attach slot's jobs run when a thread attached there waits);
        ``name`` labels it in messages, dumps and traces."""
        return self._submit(self._g, [(fn, args)], priority,
                            counter if counter is not None else self.counter(), False, True,
                            opts=(stack, worker, name))

    def run_many(self, jobs: Iterable[Any], priority: PriorityLike = Priority.NORMAL,
                 counter: Optional[Counter] = None, stack: Optional[str] = None,
                 worker: Optional[int] = None, name: Optional[str] = None) -> Counter:
        """Submits a list of (fn, args) pairs and/or native tasks in one call;
        returns the counter tracking them (a new one when counter is None).
        stack, worker and name apply to every job (see run)."""
        return self._submit(self._g, jobs, priority,
                            counter if counter is not None else self.counter(), False, False,
                            opts=(stack, worker, name))

    def submit(self, fn: Callable[..., Any], *args: Any, priority: PriorityLike = Priority.NORMAL,
               counter: Optional[Counter] = None) -> concurrent.futures.Future:
        """Submits fn(ctx, *args) and returns a concurrent.futures.Future of
        what it returns (a generator job: the value of its ``return``), or of
        the exception it raised.  The exception goes to the Future only:
        neither wait() nor close() reports it.  ``counter``, if given, also
        tracks the job (for wait(), or ``yield counter`` in a job).

        The Future works with concurrent.futures.wait/as_completed and
        asyncio.wrap_future; a generator job waits for it with
        ``value = yield fut``.  Its done-callbacks run on the worker that
        finished the job.  Costs more per job than run() (see
        ``python -m fiberjob.bench``); run/run_many stay the fast path."""
        return self._submit_future(self._g, False, fn, args, priority, counter)

    def run_async(self, fn: Callable[..., Any], *args: Any,
                  priority: PriorityLike = Priority.NORMAL,
                  counter: Optional[Counter] = None) -> "asyncio.Future[Any]":
        """Submits fn(ctx, *args) and returns an asyncio Future of its result
        on the running event loop: ``value = await js.run_async(fn, 1)``.
        The worker that finishes the job hands the outcome to the loop with
        loop.call_soon_threadsafe (no polling, no thread per wait).
        Cancelling the awaiting task before the job starts skips the job.
        Call it on the event loop's thread; fn itself is not a coroutine
        function (it runs on a worker, not on the loop)."""
        from .aio import LoopSink
        sink = LoopSink()
        self._submit(self._g, [(fn, args)], priority, counter, False, True, sinks=[sink])
        return sink.future

    def _wait_counter_async(self, counter: Counter) -> "asyncio.Future[None]":
        # Counter.wait_async's body: counter sits below fiberjob.aio (which
        # names Counter), so the system above both makes the call.
        from .aio import wait_counter_async
        return wait_counter_async(counter)

    def _submit_future(self, target, via_ctx, fn, args, priority, counter, kwargs=None,
                       noctx=False) -> JobFuture:
        if counter is None:
            counter = self.counter()
        fut = JobFuture(counter)
        self._submit(target, [(fn, args)], priority, counter, via_ctx, True, sinks=[fut],
                     kwargs=kwargs, noctx=noctx)
        return fut

    def _submit(self, target, jobs, priority, counter, via_ctx, single,
                sinks: Optional[Sequence[Any]] = None, kwargs: Optional[dict] = None,
                noctx: bool = False, opts: Tuple[Any, Any, Any] = (None, None, None)):
        """target is the guard (from run/run_many/submit) or a running job's
        ctx pointer (via_ctx, from ctx.spawn/spawn_many/submit); single: jobs
        has one item, submitted with fj_run / fj_ctx_spawn.  sinks, if given,
        holds one result sink per job (see fiberjob.futures); kwargs and
        noctx apply to every Python job of the call.  opts: (stack, worker,
        name); with any set the jobs go through fj_submit / fj_ctx_submit."""
        p = priority_value(priority)
        if counter is not None:
            if type(counter) is not Counter:
                raise TypeError("counter must be a fiberjob.Counter or None, not %r"
                                % (counter,))
            if counter._ptr is None:
                raise InvalidArgumentError(detail="counter already destroyed")
            cptr = counter._ptr
            if counter._waited:
                # Reused after a wait saw it finish: its old errors no longer
                # describe it.  (A counter that merely touched zero between
                # two submissions keeps them: nobody has seen them yet.)
                counter._waited = False
                if counter._errors:
                    with self._lock:
                        counter._errors = []
        else:
            cptr = _NULL
        ropts = run_opts(p, cptr, *opts)
        if ropts is not None:
            single = False  # fj_submit / fj_ctx_submit take an array
        jobs = list(jobs)
        n = len(jobs)
        arr: Any = None if single else ffi.new("fj_job[]", max(n, 1))
        ids = []
        natives = []
        # The C call writes its result into a cell before returning: Ctrl-C
        # may discard the return value itself, and jobs that were submitted
        # must stay in the job table (they run, and are accounted and
        # waitable).  Python raises KeyboardInterrupt only in the main
        # thread, so only it needs the cell (one, reused: its calls never
        # overlap), and other threads read r.
        if via_ctx or _get_ident() != _main_ident[0]:
            status = _NULL
        else:
            status = _main_status
            status[0] = 1
        r = 1
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
                    if sinks is not None:
                        raise TypeError("a native task has no result: submit it with run()")
                    if args:
                        raise TypeError("a native task takes no arguments")
                    fn._start()
                    natives.append(fn)
                    jfn, jarg = _NATIVE_JOB, fn._ptr
                else:
                    if not callable(fn):
                        raise TypeError("a job must be callable, not %r" % (fn,))
                    if is_async(fn):
                        raise TypeError(
                            "%r is an async function: fiberjob runs plain functions and "
                            "generator functions as jobs, and a coroutine would never be "
                            "awaited" % (fn,))
                    jid = next(job_ids)
                    ids.append(jid)   # first: a signal after it still undoes the entry
                    job = _jobs[jid] = Job(fn, tuple(args), self, counter)
                    if sinks is not None:
                        job.sink = self._pending.sinks[jid] = sinks[i]
                        job.kwargs = kwargs
                        job.noctx = noctx
                    jfn, jarg = PY_JOB, ffi.cast("void *", jid)
                if single:
                    break
                arr[i].fn = jfn
                arr[i].arg = jarg
            if natives:
                (counter._keep if counter is not None else self._keep).extend(natives)
            if ropts is not None:
                r = (lib.fj_ctx_submit(target, arr, n, ropts) if via_ctx
                     else lib.fjpy_sys_submit(target, arr, n, ropts, status))
            elif via_ctx:
                if single:
                    r = lib.fj_ctx_spawn(target, jfn, jarg, p, cptr)
                else:
                    r = lib.fj_ctx_spawn_jobs(target, arr, n, p, cptr)
            elif single:
                r = lib.fjpy_sys_run(target, jfn, jarg, p, cptr, status)
            else:
                r = lib.fjpy_sys_run_jobs(target, arr, n, p, cptr, status)
            check(r)
        except BaseException:
            if (r if status is _NULL else status[0]) != lib.FJ_OK:
                # Nothing reached the workers: undo the bookkeeping.
                for jid in ids:
                    _jobs.pop(jid, None)
                    self._pending.sinks.pop(jid, None)
                for t in natives:
                    t._cancel()
            raise
        return counter

    # -- job errors --
    def _record_error(self, job: Job, exc: BaseException) -> None:
        entry = (job.describe(), exc)
        with self._lock:
            if job.counter is not None:
                job.counter._errors.append(entry)
            self._unreported.append(entry)

    def _retrieve(self, counter: Counter) -> Optional[JobError]:
        """A JobError for the failed jobs counter tracked (each waiter gets
        its own), or None.  The errors stay with the counter until it is
        reused, like a Future's exception; they count as reported, so
        close() does not raise them again."""
        with self._lock:
            errors = list(counter._errors)
            if errors and self._unreported:
                ids = {id(e) for e in errors}
                self._unreported = [e for e in self._unreported if id(e) not in ids]
        return JobError(errors) if errors else None

    def _raise_errors(self, counter: Counter) -> None:
        if counter._errors:
            err = self._retrieve(counter)
            if err is not None:
                raise err

    def __repr__(self) -> str:
        st = lib.fjpy_sys_state(self._g)
        state = {_OPEN: None, _CLOSING: "closing", _DOWN: "closed",
                 _FORKED: "inherited through fork()"}[st]
        return "<fiberjob.JobSystem %s>" % (state or "%d workers" % self.workers)


def _forget_closed_orphans() -> None:
    for g in list(_orphans):
        if lib.fjpy_sys_state(g) in (_DOWN, _FORKED):
            _orphans.discard(g)


def _print_never_retrieved(entries: List[Tuple[str, BaseException]]) -> None:
    for what, exc in entries:
        sys.stderr.write("fiberjob: exception in job %s was never retrieved (no wait() on its "
                         "counter and no close() reported it):\n" % what)
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    if entries:
        sys.stderr.flush()


@atexit.register
def _close_all() -> None:
    # Workers must not call into Python while the interpreter finalizes:
    # every system is down before this returns.  Inherited (forked) systems
    # are skipped: they are not ours to close.
    for js in list(_live_systems):
        g = js._g
        if lib.fjpy_sys_state(g) == _OPEN:
            lib.fjpy_sys_close(g)
        _wait_down(g, interruptible=False)
        js._after_down()
    for g in list(_orphans):
        if lib.fjpy_sys_state(g) == _OPEN:
            lib.fjpy_sys_close(g)
        _wait_down(g, interruptible=False)
    _orphans.clear()
    entries = list(_never_retrieved)
    _never_retrieved.clear()
    for js in list(_all_systems):
        entries.extend(js._take_unreported())
    _print_never_retrieved(entries)


def _after_fork_in_child() -> None:
    # The child has only the forking thread: no worker of any inherited
    # system exists here.  Mark them all dead (any use raises
    # ForkedSystemError), re-create locks a vanished thread may have held,
    # and drop the parent's unretrieved errors: the parent reports them.
    for js in list(_all_systems):
        lib.fjpy_sys_forked(js._g)
        js._lock = threading.Lock()
        js._unreported = []
    for g in _orphans:
        lib.fjpy_sys_forked(g)
    _never_retrieved.clear()
    _main_ident[0] = threading.main_thread().ident   # the forking thread, now
    counter_module.reinit_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
