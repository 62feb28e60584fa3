# SPDX-License-Identifier: MIT
"""Where a job's result goes: JobFuture (a concurrent.futures.Future a
generator job can ``yield``) and the bookkeeping that fails the Futures of
jobs that can never run.

A job submitted with a *sink* (JobSystem.submit, Ctx.submit, FiberExecutor,
run_async) hands its return value or exception to the sink instead of to the
counter's and close()'s error lists.  A sink has the three methods of
concurrent.futures.Future the job path calls:

    set_running_or_notify_cancel()  when the job starts; False = cancelled,
                                    the job is skipped
    set_result(value) / set_exception(exc)
                                    when it ends, on the worker (GIL held)

Every sink not yet resolved is listed in its system's pending table, so a
system that goes away with jobs unrun (the process forked) can fail them
with a clear exception instead of leaving them pending for ever.
"""
import concurrent.futures
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from .errors import ForkedSystemError

if TYPE_CHECKING:  # only for annotations
    from .counter import Counter

__all__ = ["JobFuture"]


class JobFuture(concurrent.futures.Future):
    """The concurrent.futures.Future of one job (from JobSystem.submit,
    Ctx.submit or FiberExecutor).  Besides everything a Future does, a
    generator job can wait for it as a fiber: ``value = yield fut``.
    Callbacks added with add_done_callback run on the worker that finished
    the job (inside it: a blocking wait() there raises InJobError)."""

    # The counter that tracks the job: a waiting generator job suspends on it.
    # It reaches zero only after the result is set (the step sets it, then
    # the trampoline returns and the C side counts the job finished).
    _fj_counter: "Counter"

    def __init__(self, counter: "Counter") -> None:
        super().__init__()
        self._fj_counter = counter


def deliver(sink: Any, result: Any, exc: Optional[BaseException]) -> None:
    """Resolves sink with the job's outcome."""
    if exc is None:
        sink.set_result(result)
    else:
        sink.set_exception(exc)


def send_outcome(gen: Any, fut: concurrent.futures.Future) -> Any:
    """Resumes generator gen with done future fut's result (or throws its
    exception, CancelledError when cancelled); returns what gen yields next."""
    if fut.cancelled():
        return gen.throw(concurrent.futures.CancelledError())
    exc = fut.exception()
    if exc is not None:
        return gen.throw(exc)
    return gen.send(fut.result())


# ---- pending sinks per system ---------------------------------------------

class PendingTable:
    """The unresolved sinks of one system, by job id.  Added to at
    submission, removed when the job ends; both under the GIL, and dict
    operations are atomic under it, so no lock is needed."""

    __slots__ = ("sinks", "__weakref__")

    def __init__(self) -> None:
        self.sinks: Dict[int, Any] = {}

    def fail_all(self, make_exc: Callable[[], BaseException]) -> int:
        """Resolves every pending sink with make_exc(); returns how many."""
        sinks, self.sinks = self.sinks, {}
        n = 0
        for sink in sinks.values():
            try:
                sink.set_exception(make_exc())
                n += 1
            except concurrent.futures.InvalidStateError:
                pass   # resolved or cancelled meanwhile
        return n


_tables: "weakref.WeakSet[PendingTable]" = weakref.WeakSet()
_tables_lock = threading.Lock()


def new_table() -> PendingTable:
    t = PendingTable()
    with _tables_lock:
        _tables.add(t)
    return t


def _after_fork_in_child() -> None:
    # The parent's workers do not exist here: none of these jobs can run.
    for t in list(_tables):
        t.fail_all(lambda: ForkedSystemError(
            detail="the process forked; this job belonged to a JobSystem of the parent "
                   "and never runs in the child"))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
