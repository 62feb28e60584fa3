# SPDX-License-Identifier: MIT
"""Counter: the handle on an fj_counter, which tracks unfinished jobs.

A counter Python drops while jobs still count on it cannot be destroyed
(destroying a non-zero counter aborts the process), so it waits in a
graveyard until it reads zero; bury_ready() frees the ones that do.
"""
import threading
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from ._ffi import ffi, lib
from .errors import ForkedSystemError, InJobError, WaitTimeoutError, check
from .lifetime import DOWN as _DOWN, FORKED as _FORKED, SLICE_NS as _WAIT_SLICE_NS
from .systemlike import SystemInternals, SystemLike

if TYPE_CHECKING:  # only for annotations
    import asyncio

__all__ = ["Counter"]

# Counters dropped by Python while jobs still used them: destroying one then
# would abort the process, so they wait here until they read zero.
_graveyard: List[Tuple[Any, list]] = []
# Reentrant: a Counter finalizer can run from a GC pass on a thread that
# already holds it.
_graveyard_lock = threading.RLock()


def bury_ready() -> None:
    """Destroys the graveyard's counters that now read zero."""
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


def graveyard_size() -> int:
    return len(_graveyard)


def reinit_after_fork() -> None:
    """In a child after fork(): a thread that no longer exists may have held
    the graveyard's lock."""
    global _graveyard_lock
    _graveyard_lock = threading.RLock()


class Counter:
    """Tracks unfinished jobs; ``wait()`` blocks until it is zero.  Made by
    ``JobSystem.counter()`` or returned by ``run``/``run_many``.  In a
    generator job, ``yield counter`` suspends the job until it is zero; on
    an event loop, ``await counter.wait_async()``."""

    __slots__ = ("_ptr", "_system", "_errors", "_waited", "_keep", "__weakref__")

    def __init__(self, system: "SystemInternals[Counter]", ptr: Any) -> None:
        self._ptr = ptr
        self._system = system
        self._errors: List[Tuple[str, BaseException]] = []  # failed jobs that counted on it
        # A wait saw it reach zero since the last submission: the next
        # submission reuses it and starts with no errors.
        self._waited = False
        self._keep: list = []  # native tasks in flight with it

    def __del__(self) -> None:
        ptr, self._ptr = self._ptr, None
        if ptr is None:
            return
        if lib.fj_counter_value(ptr) == 0:
            lib.fj_counter_destroy(ptr)
        else:
            with _graveyard_lock:
                _graveyard.append((ptr, self._keep))

    @property
    def value(self) -> int:
        """Jobs submitted with this counter that have not finished yet."""
        return lib.fj_counter_value(self._ptr)

    @property
    def system(self) -> "SystemLike[Counter]":
        """The JobSystem this counter belongs to."""
        return self._system

    def wait(self, timeout: Optional[float] = None) -> None:
        """Blocks the calling thread until the counter is zero, then raises
        JobError if a job it tracked raised.  Every waiter gets the JobError,
        and so does every later wait() until the counter is reused (like a
        Future's exception).  ``timeout`` in seconds; on expiry raises
        WaitTimeoutError (a TimeoutError).  Inside a job raises InJobError: a
        generator job uses ``yield counter``.  Raises ForkedSystemError for a
        counter inherited through fork()."""
        if lib.fj_current_ctx() != ffi.NULL:
            raise InJobError(detail="a blocking wait() inside a job would block its worker; "
                                    "make the job a generator and `yield counter`")
        if timeout is None:
            left = None
        else:
            if timeout < 0:
                raise ValueError("timeout must be >= 0")
            left = int(timeout * 1e9)
        g = self._system._g
        while True:
            step = _WAIT_SLICE_NS if left is None else min(left, _WAIT_SLICE_NS)
            r = lib.fjpy_sys_wait_timeout(g, self._ptr, step)
            if r == lib.FJ_OK:
                break
            if r == lib.FJ_ESHUTDOWN:
                # The system is closing or closed: it runs every job to
                # completion before it is down, this counter's included.
                st = lib.fjpy_sys_wait_down(g, step)
                if st == _DOWN:
                    break
                if st == _FORKED:
                    raise ForkedSystemError()
            elif r != lib.FJ_ETIMEDOUT:
                check(r)
            if left is not None:
                left -= step
                if left <= 0:
                    raise WaitTimeoutError(detail="%d jobs unfinished" % self.value)
        self._keep.clear()
        self._waited = True
        self._system._raise_errors(self)

    def wait_async(self) -> "asyncio.Future[None]":
        """``await counter.wait_async()``: waits on the running event loop
        until the counter is zero, then raises JobError as wait() does.  A
        fiber on the counter's system does the waiting and hands the outcome
        to the loop with call_soon_threadsafe: no polling, no thread."""
        # The system lends the asyncio glue (fiberjob.aio, which builds on
        # this module and is imported on first use).
        return self._system._wait_counter_async(self)

    def __repr__(self) -> str:
        return "<fiberjob.Counter value=%d>" % self.value
