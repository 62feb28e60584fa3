# SPDX-License-Identifier: MIT
"""JobSystem: the handle on an fj_system, and job submission.

A JobSystem owns its worker threads.  Jobs are Python callables (run through
the trampoline described in fiberjob.jobs) or fiberjob.native tasks (C jobs
that never take the GIL).  Exceptions raised by jobs are recorded here, per
counter and per system, until a wait() or close() reports them.
"""
import atexit
import concurrent.futures
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, List, Optional, Sequence, Tuple

from ._ffi import ffi, lib
from .counter import Counter, bury_ready, graveyard_size
from .errors import (ConfigError, InJobError, InvalidArgumentError, JobError, ShutdownError,
                     check)
from .futures import JobFuture, new_table
from .jobs import PY_JOB, Job, job_ids, jobs as _jobs
from .native import NativeTask
from .priority import Priority, PriorityLike, priority_value

if TYPE_CHECKING:  # only for annotations; importing asyncio is left to run_async
    import asyncio

__all__ = ["JobSystem", "Stats", "DEFAULT_STACK_SIZE"]

#: Default fiber stack for JobSystem: larger than the C default (64 KiB)
#: because every Python step runs the interpreter on the fiber's stack.
#: Stacks are reserved, not committed, so this costs address space only.
DEFAULT_STACK_SIZE = 256 * 1024

_NATIVE_JOB = ffi.addressof(lib, "fjn_job")
_NULL = ffi.NULL


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


_live_systems: "weakref.WeakSet[JobSystem]" = weakref.WeakSet()


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
                 max_pooled_fibers: Optional[int] = None, enable_yielding: bool = True) -> None:
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
        check(lib.fj_system_create(cfg, out),
              "workers=%r stack_size=%r max_pooled_fibers=%r" % (workers, stack_size,
                                                                max_pooled_fibers))
        self._ptr = out[0]
        self._closing = False
        self._lock = threading.Lock()
        self._unreported: List[Tuple[str, BaseException]] = []  # not yet raised by a wait()
        self._keep: list = []   # fire-and-forget native tasks
        self._pending = new_table()  # unresolved Futures of submitted jobs
        _live_systems.add(self)

    # -- lifetime --
    def __enter__(self) -> "JobSystem":
        return self

    def __exit__(self, exctype, exc, tb) -> bool:
        # A job error must not hide the exception already leaving the block.
        self._close(raise_errors=exctype is None)
        return False

    def close(self) -> None:
        """Runs all submitted work to completion, stops the workers, then
        raises JobError for job exceptions no wait() has reported.  Calling
        it again does nothing.  Raises InJobError from inside a job."""
        self._close(raise_errors=True)

    def _close(self, raise_errors: bool) -> None:
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
        bury_ready()
        # Destroy ran every submitted job, so this finds nothing unless a job
        # was lost; its Future then fails rather than staying pending.
        self._pending.fail_all(lambda: ShutdownError(
            detail="the JobSystem closed before this job ran"))
        if raise_errors:
            with self._lock:
                errors, self._unreported = self._unreported, []
            if errors:
                raise JobError(errors)

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) is not None:
            self._close(raise_errors=False)

    @property
    def closed(self) -> bool:
        """True once close() has finished."""
        return self._ptr is None

    def _sysptr(self) -> Any:
        ptr = self._ptr
        if ptr is None or (self._closing and lib.fj_current_ctx() == _NULL):
            raise ShutdownError(detail="the JobSystem is closed")
        return ptr

    # -- introspection --
    @property
    def workers(self) -> int:
        """Number of worker threads."""
        return lib.fj_system_num_workers(self._sysptr())

    def stats(self) -> Stats:
        """Running totals (fj_stats) since the system started."""
        out = ffi.new("fj_stats *")
        check(lib.fj_system_stats(self._sysptr(), out))
        return Stats(out.jobs_run, out.jobs_stolen, out.yields, out.waits_suspended,
                     out.fibers_created, out.fibers_live, out.fibers_pooled)

    # -- counters and submission --
    def counter(self) -> Counter:
        """A new counter at zero."""
        out = ffi.new("fj_counter **")
        check(lib.fj_counter_create(self._sysptr(), out))
        if graveyard_size():
            bury_ready()
        return Counter(self, out[0])

    def run(self, fn: Callable[..., Any], *args: Any, priority: PriorityLike = Priority.NORMAL,
            counter: Optional[Counter] = None) -> Counter:
        """Submits fn(ctx, *args) — or a fiberjob.native task — and returns the
        counter tracking it (a new one when counter is None)."""
        ptr = self._sysptr()
        return self._submit(lib.fj_run, ptr, [(fn, args)], priority,
                            counter if counter is not None else self.counter(), True)

    def run_many(self, jobs: Iterable[Any], priority: PriorityLike = Priority.NORMAL,
                 counter: Optional[Counter] = None) -> Counter:
        """Submits a list of (fn, args) pairs and/or native tasks in one call;
        returns the counter tracking them (a new one when counter is None)."""
        ptr = self._sysptr()
        return self._submit(lib.fj_run_jobs, ptr, jobs, priority,
                            counter if counter is not None else self.counter(), True)

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
        return self._submit_future(lib.fj_run, self._sysptr(), fn, args, priority, counter)

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
        ptr = self._sysptr()
        sink = LoopSink()
        self._submit(lib.fj_run, ptr, [(fn, args)], priority, counter, True, sinks=[sink])
        return sink.future

    def _submit_future(self, submit, target, fn, args, priority, counter, kwargs=None,
                       noctx=False) -> JobFuture:
        if counter is None:
            counter = self.counter()
        fut = JobFuture(counter)
        self._submit(submit, target, [(fn, args)], priority, counter, True, sinks=[fut],
                     kwargs=kwargs, noctx=noctx)
        return fut

    def _submit(self, submit, target, jobs, priority, counter, external,
                sinks: Optional[Sequence[Any]] = None, kwargs: Optional[dict] = None,
                noctx: bool = False):
        """submit is fj_run / fj_ctx_spawn for one job (jobs has one item),
        fj_run_jobs / fj_ctx_spawn_jobs for a list.  sinks, if given, holds
        one result sink per job (see fiberjob.futures); kwargs and noctx
        apply to every Python job of the call."""
        p = priority_value(priority)
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
                    jid = next(job_ids)
                    job = _jobs[jid] = Job(fn, tuple(args), self, counter)
                    ids.append(jid)
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
            if single:
                check(submit(target, jfn, jarg, p, cptr))
            else:
                check(submit(target, arr, n, p, cptr))
        except BaseException:
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

    def _take_errors(self, counter: Counter) -> Optional[JobError]:
        with self._lock:
            errors, counter._errors = counter._errors, []
            ids = {id(e) for e in errors}
            self._unreported = [e for e in self._unreported if id(e) not in ids]
        return JobError(errors) if errors else None

    def _raise_errors(self, counter: Counter) -> None:
        if counter._errors:
            err = self._take_errors(counter)
            if err is not None:
                raise err

    def __repr__(self) -> str:
        state = "closed" if self._ptr is None else "%d workers" % self.workers
        return "<fiberjob.JobSystem %s>" % state


@atexit.register
def _close_all() -> None:
    # Workers must not call into Python while the interpreter finalizes.
    for js in list(_live_systems):
        js._close(raise_errors=False)
