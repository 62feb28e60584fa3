# SPDX-License-Identifier: MIT
"""Python jobs: the job table, the step callback the C trampoline calls, and
Ctx, the handle a running job gets.

How a Python job runs: every Python job is submitted as the C trampoline
fjpy_job (in _native.c) with a small integer id as its argument.  The
trampoline calls fjpy_step (below) under the GIL; the step runs the function,
or advances its generator by one `yield`, and returns DONE, YIELD or WAIT.
Only after the step has returned (no Python frame left on the fiber's stack,
GIL released) does the C side call fj_ctx_yield / fj_ctx_wait, so a job may
resume on any worker and the interpreter never sees a frame move threads.
"""
import concurrent.futures
import inspect
import itertools
import types
from typing import Any, Callable, Dict, Iterable, Optional

from ._ffi import ffi, lib
from .counter import Counter
from .errors import DeadlockError, NotInJobError, error_for_code
from .futures import deliver, send_outcome
from .priority import Priority, PriorityLike
from .systemlike import SystemInternals, SystemLike

__all__ = ["Ctx"]

_ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
_ASYNC_RESULTS = (types.CoroutineType, types.AsyncGeneratorType)


def is_async(fn: Any) -> bool:
    """True for an `async def` function (or async generator function), also
    behind a bound method, functools.partial or an async __call__: as a job
    it would only create a coroutine that nothing awaits."""
    code = getattr(fn, "__code__", None)
    if code is not None:   # the common case, a plain function: one attribute read
        return bool(code.co_flags & _ASYNC_FLAGS)
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)
    return call is not None and (inspect.iscoroutinefunction(call)
                                 or inspect.isasyncgenfunction(call))

#: id -> Job, for the trampoline.  Entries are added by JobSystem's submit
#: (under the GIL) and removed by the job's last step.
jobs: Dict[int, "Job"] = {}
job_ids = itertools.count(1)
PY_JOB = ffi.addressof(lib, "fjpy_job")


class Job:
    """One submitted Python job: what to call and where it stands."""

    __slots__ = ("fn", "args", "system", "counter", "gen", "ctx", "waiting", "sink", "kwargs",
                 "noctx")

    def __init__(self, fn: Callable[..., Any], args: tuple, system: SystemInternals[Counter],
                 counter: Optional[Counter]) -> None:
        self.fn = fn
        self.args = args
        self.system = system
        self.counter = counter
        self.gen = None
        self.ctx: Optional[Ctx] = None
        self.waiting: Any = None    # the Counter or JobFuture a generator job waits on
        self.sink: Any = None       # where the outcome goes (see fiberjob.futures), or None
        self.kwargs: Optional[dict] = None
        self.noctx = False          # call fn(*args, **kwargs): an Executor-style function

    def describe(self) -> str:
        return getattr(self.fn, "__qualname__", None) or repr(self.fn)


class Ctx:
    """Handed to a running job as its first argument.  Valid only while the
    job runs (for a generator job: until it finishes)."""

    __slots__ = ("_ptr", "_system")

    def __init__(self, ptr: Any, system: SystemInternals[Counter]) -> None:
        self._ptr = ptr
        self._system = system

    def _live(self) -> Any:
        ptr = self._ptr
        if ptr is None or lib.fj_current_ctx() != ptr:
            raise NotInJobError(detail="this ctx belongs to a job that is not running here")
        return ptr

    @property
    def name(self) -> Optional[str]:
        """The job's name: ``name=`` from its submission, else its function's
        qualified name."""
        cname = lib.fj_ctx_name(self._live())
        return None if cname == ffi.NULL else ffi.string(cname).decode("utf-8", "replace")

    @property
    def worker(self) -> int:
        """Index of the worker running the job now (may change after a yield)."""
        return lib.fj_ctx_worker(self._live())

    @property
    def priority(self) -> Priority:
        """The priority the job was submitted with."""
        return Priority(lib.fj_ctx_priority(self._live()))

    @property
    def system(self) -> SystemLike[Counter]:
        """The JobSystem running the job."""
        self._live()
        return self._system

    def spawn(self, fn: Callable[..., Any], *args: Any, priority: PriorityLike = Priority.NORMAL,
              counter: Optional[Counter] = None, stack: Optional[str] = None,
              worker: Optional[int] = None, name: Optional[str] = None) -> Optional[Counter]:
        """Spawns fn(ctx, *args) (or a NativeTask) on this worker's queue.
        counter=None: fire and forget (errors surface at close()).
        stack, worker and name as for JobSystem.run (a pinned job goes to
        its worker's queue instead)."""
        ptr = self._live()
        return self._system._submit(ptr, [(fn, args)], priority, counter, True, True,
                                    opts=(stack, worker, name))

    def spawn_many(self, jobs: Iterable[Any], priority: PriorityLike = Priority.NORMAL,
                   counter: Optional[Counter] = None, stack: Optional[str] = None,
                   worker: Optional[int] = None, name: Optional[str] = None) -> Optional[Counter]:
        """As spawn for a list of (fn, args) pairs or NativeTasks."""
        ptr = self._live()
        return self._system._submit(ptr, jobs, priority, counter, True, False,
                                    opts=(stack, worker, name))

    def submit(self, fn: Callable[..., Any], *args: Any, priority: PriorityLike = Priority.NORMAL,
               counter: Optional[Counter] = None) -> concurrent.futures.Future:
        """Spawns fn(ctx, *args) on this worker's queue and returns the Future
        of its result.  A generator job waits for it as a fiber with
        ``value = yield fut`` (which raises the job's exception instead, if
        it failed)."""
        ptr = self._live()
        return self._system._submit_future(ptr, True, fn, args, priority, counter)

    def counter(self) -> Counter:
        """A new counter at zero on this job's system."""
        self._live()
        return self._system.counter()


def _finish(job_id: int, job: Job, result: Any, exc: Optional[BaseException]) -> int:
    del jobs[job_id]
    if job.ctx is not None:
        job.ctx._ptr = None
    sink = job.sink
    if sink is not None:
        # The sink reports the outcome; the counter only tracks completion.
        job.system._pending.sinks.pop(job_id, None)
        try:
            deliver(sink, result, exc)
        except BaseException:  # noqa: B902 - not the job's error; never re-enter the step
            import traceback
            traceback.print_exc()
    elif exc is not None:
        job.system._record_error(job, exc)
    return lib.FJPY_DONE


def _skip_cancelled(job_id: int, job: Job) -> int:
    del jobs[job_id]
    job.system._pending.sinks.pop(job_id, None)
    return lib.FJPY_DONE


def _step_failed(exctype, value, tb) -> None:
    # Only a bug in the step itself gets here; the job ends (returns DONE).
    import traceback
    traceback.print_exception(exctype, value, tb)


#: job name -> its C string, for fj_ctx_set_name and fj_run_opts.name.
#: Kept for the life of the process: the library keeps the pointer (dumps,
#: traces), and there is one entry per distinct job function or name= (use
#: a few fixed names, not one per job).
_names: Dict[str, Any] = {}


def c_name(name: str) -> Any:
    """name as a C string that lives as long as the process."""
    c = _names.get(name)
    if c is None:
        c = _names.setdefault(name, ffi.new("char[]", name.encode("utf-8", "replace")))
    return c


def job_name(fn: Callable[..., Any]) -> Any:
    """The C string dumps and traces show for a job running fn."""
    return c_name(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn))


@ffi.def_extern(onerror=_step_failed)
def fjpy_step(ctx_ptr, job_id, status, wait_out):
    job = jobs[job_id]
    gen = job.gen
    try:
        if gen is None:
            if lib.fj_ctx_name(ctx_ptr) == ffi.NULL:  # keep a name= given at submission
                lib.fj_ctx_set_name(ctx_ptr, job_name(job.fn))
            sink = job.sink
            if sink is not None and not sink.set_running_or_notify_cancel():
                return _skip_cancelled(job_id, job)
            if job.noctx:
                # Executor semantics: whatever fn returns is the result,
                # a generator object included.
                return _finish(job_id, job, job.fn(*job.args, **(job.kwargs or {})), None)
            ctx = job.ctx = Ctx(ctx_ptr, job.system)
            if job.kwargs is None:
                r = job.fn(ctx, *job.args)
            else:
                r = job.fn(ctx, *job.args, **job.kwargs)
            if type(r) is not types.GeneratorType:
                if r is not None and isinstance(r, _ASYNC_RESULTS):
                    # An async callable the submission check could not see.
                    if type(r) is types.CoroutineType:
                        r.close()   # no "never awaited" warning on top of the error
                    raise TypeError("job %s returned %s: async jobs are not supported, the "
                                    "coroutine was never awaited" % (job.describe(), type(r).__name__))
                return _finish(job_id, job, r, None)
            gen = job.gen = r
            item = gen.send(None)
        else:
            job.ctx._ptr = ctx_ptr   # the same job, possibly on another worker
            waited, job.waiting = job.waiting, None
            if status != lib.FJ_OK:
                item = gen.throw(error_for_code(status))
            elif waited is None:
                item = gen.send(None)
            elif type(waited) is Counter:
                waited._waited = True
                err = job.system._retrieve(waited) if waited._errors else None
                item = gen.send(None) if err is None else gen.throw(err)
            else:
                # A JobFuture: its counter reached zero, so its job set it.
                item = send_outcome(gen, waited)
        while True:
            if item is None:
                return lib.FJPY_YIELD
            if isinstance(item, Counter):
                counter = item
            elif isinstance(item, concurrent.futures.Future):
                if item.done():
                    item = send_outcome(gen, item)
                    continue
                counter = getattr(item, "_fj_counter", None)
                if counter is None:
                    item = gen.throw(TypeError(
                        "a job can wait only for a Future made by fiberjob (JobSystem.submit, "
                        "Ctx.submit, FiberExecutor); this one is still pending: %r" % (item,)))
                    continue
            else:
                item = gen.throw(TypeError(
                    "a job may yield None (a fiber yield), a fiberjob.Counter or a Future from "
                    "submit(), not %r" % (item,)))
                continue
            if counter is job.counter:
                what = ("yield of the counter" if item is counter
                        else "a Future tracked by the counter")
                item = gen.throw(DeadlockError(
                    detail=what + " that tracks this job; it would never reach zero"))
                continue
            job.waiting = item
            wait_out[0] = counter._ptr
            return lib.FJPY_WAIT
    except StopIteration as e:
        if job.gen is None:   # raised by a plain function: an error, not an end
            return _finish(job_id, job, None, e)
        return _finish(job_id, job, e.value, None)
    except BaseException as e:  # noqa: B902 - every job exception must surface
        return _finish(job_id, job, None, e)
