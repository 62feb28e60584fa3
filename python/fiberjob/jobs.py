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
import itertools
import types
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Optional

from ._ffi import ffi, lib
from .counter import Counter
from .errors import NotInJobError, error_for_code
from .priority import Priority, PriorityLike

if TYPE_CHECKING:  # only for annotations: system imports this module
    from .system import JobSystem

__all__ = ["Ctx"]

#: id -> Job, for the trampoline.  Entries are added by JobSystem's submit
#: (under the GIL) and removed by the job's last step.
jobs: Dict[int, "Job"] = {}
job_ids = itertools.count(1)
PY_JOB = ffi.addressof(lib, "fjpy_job")


class Job:
    """One submitted Python job: what to call and where it stands."""

    __slots__ = ("fn", "args", "system", "counter", "gen", "ctx", "waiting")

    def __init__(self, fn: Callable[..., Any], args: tuple, system: "JobSystem",
                 counter: Optional[Counter]) -> None:
        self.fn = fn
        self.args = args
        self.system = system
        self.counter = counter
        self.gen = None
        self.ctx: Optional[Ctx] = None
        self.waiting: Optional[Counter] = None

    def describe(self) -> str:
        return getattr(self.fn, "__qualname__", None) or repr(self.fn)


class Ctx:
    """Handed to a running job as its first argument.  Valid only while the
    job runs (for a generator job: until it finishes)."""

    __slots__ = ("_ptr", "_system")

    def __init__(self, ptr: Any, system: "JobSystem") -> None:
        self._ptr = ptr
        self._system = system

    def _live(self) -> Any:
        ptr = self._ptr
        if ptr is None or lib.fj_current_ctx() != ptr:
            raise NotInJobError(detail="this ctx belongs to a job that is not running here")
        return ptr

    @property
    def worker(self) -> int:
        """Index of the worker running the job now (may change after a yield)."""
        return lib.fj_ctx_worker(self._live())

    @property
    def priority(self) -> Priority:
        """The priority the job was submitted with."""
        return Priority(lib.fj_ctx_priority(self._live()))

    @property
    def system(self) -> "JobSystem":
        """The JobSystem running the job."""
        return self._system

    def spawn(self, fn: Callable[..., Any], *args: Any, priority: PriorityLike = Priority.NORMAL,
              counter: Optional[Counter] = None) -> Optional[Counter]:
        """Spawns fn(ctx, *args) (or a NativeTask) on this worker's queue.
        counter=None: fire and forget (errors surface at close())."""
        ptr = self._live()
        return self._system._submit(lib.fj_ctx_spawn, ptr, [(fn, args)], priority, counter, False)

    def spawn_many(self, jobs: Iterable[Any], priority: PriorityLike = Priority.NORMAL,
                   counter: Optional[Counter] = None) -> Optional[Counter]:
        """As spawn for a list of (fn, args) pairs or NativeTasks."""
        ptr = self._live()
        return self._system._submit(lib.fj_ctx_spawn_jobs, ptr, jobs, priority, counter, False)

    def counter(self) -> Counter:
        """A new counter at zero on this job's system."""
        return self._system.counter()


def _finish(job_id: int, job: Job, exc: Optional[BaseException]) -> int:
    del jobs[job_id]
    if job.ctx is not None:
        job.ctx._ptr = None
    if exc is not None:
        job.system._record_error(job, exc)
    return lib.FJPY_DONE


def _step_failed(exctype, value, tb) -> None:
    # Only a bug in the step itself gets here; the job ends (returns DONE).
    import traceback
    traceback.print_exception(exctype, value, tb)


@ffi.def_extern(onerror=_step_failed)
def fjpy_step(ctx_ptr, job_id, status, wait_out):
    job = jobs[job_id]
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
