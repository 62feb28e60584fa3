# SPDX-License-Identifier: MIT
"""FiberExecutor: a concurrent.futures.Executor running its calls as jobs of
its own JobSystem.

It is a drop-in for ThreadPoolExecutor: ``fn(*args, **kwargs)`` is called
as with any executor.  A function whose first parameter is named ``ctx`` is
a job function instead: it gets the job's fiberjob.Ctx first and, if it is a
generator function, runs as a generator job (it may ``yield`` to suspend as
a fiber).
"""
import concurrent.futures
import functools
import inspect
import threading
import time
from typing import Any, Callable, Iterable, Iterator, List, Optional

from .errors import ShutdownError, WaitTimeoutError
from .priority import Priority
from .system import JobSystem

__all__ = ["FiberExecutor", "takes_ctx"]


@functools.lru_cache(maxsize=1024)
def _code_takes_ctx(code: Any, skip: int) -> bool:
    names = code.co_varnames[:code.co_argcount]
    return len(names) > skip and names[skip] == "ctx"


def takes_ctx(fn: Callable[..., Any]) -> bool:
    """True when fn's first positional parameter is named ``ctx`` (after
    ``self`` for a bound method): FiberExecutor then passes it the Ctx."""
    if inspect.ismethod(fn):
        code = getattr(fn.__func__, "__code__", None)
        if code is not None:
            return _code_takes_ctx(code, 1)
    else:
        code = getattr(fn, "__code__", None)
        if code is not None:
            return _code_takes_ctx(code, 0)
    try:   # partials, callable objects, builtins
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    for p in params:
        return p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name == "ctx"
    return False


def _run_chunk(fn: Callable[..., Any], chunk: List[tuple]) -> list:
    return [fn(*args) for args in chunk]


def _run_chunk_ctx(ctx: Any, fn: Callable[..., Any], chunk: List[tuple]) -> Any:
    # A generator job: a job function in the chunk that is itself a
    # generator runs to its return inside this one (its yields suspend us).
    out = []
    for args in chunk:
        r = fn(ctx, *args)
        if inspect.isgenerator(r):
            r = yield from r
        out.append(r)
    return out


class _MapSlot:
    """The result sink of one map chunk: far cheaper than a Future (no lock,
    no condition).  Written once by the worker that ran the chunk, under
    the GIL, before the batch counter counts the chunk finished; read by the
    consumer under the GIL."""

    __slots__ = ("batch", "done", "value", "exc")

    def __init__(self, batch: "_MapBatch") -> None:
        self.batch = batch
        self.done = False
        self.value: Any = None
        self.exc: Optional[BaseException] = None

    def set_running_or_notify_cancel(self) -> bool:
        return not self.batch.cancelled

    def set_result(self, value: Any) -> None:
        self.value = value
        self.done = True

    def set_exception(self, exc: BaseException) -> None:
        self.exc = exc
        self.done = True

    def cancel(self) -> bool:
        """shutdown(cancel_futures=True): chunks not started are skipped."""
        self.batch.cancelled = True
        return not self.done


class _MapBatch:
    """One map() call: its chunks' slots and the counter tracking them all.
    The consumer takes results in order; when the next one is not ready it
    waits on the counter (a blocking wait without polling), so a map costs
    one counter and one wait, not one Future per chunk."""

    __slots__ = ("counter", "slots", "cancelled")

    def __init__(self, counter: Any, n: int) -> None:
        self.counter = counter
        self.cancelled = False   # set: chunks not yet started are skipped
        self.slots = [_MapSlot(self) for _ in range(n)]

    def results(self, end: Optional[float]) -> Iterator[Any]:
        try:
            for slot in self.slots:
                if not slot.done:
                    if end is None:
                        self.counter.wait()
                    else:
                        left = end - time.monotonic()
                        try:
                            if left <= 0:
                                raise WaitTimeoutError()
                            self.counter.wait(left)
                        except WaitTimeoutError:
                            raise concurrent.futures.TimeoutError() from None
                if not slot.done:   # skipped: shutdown(cancel_futures=True)
                    raise concurrent.futures.CancelledError()
                if slot.exc is not None:
                    raise slot.exc
                yield from slot.value
        finally:
            # As Executor.map: leaving early cancels the calls not started.
            self.cancelled = True


class FiberExecutor(concurrent.futures.Executor):
    """A concurrent.futures.Executor whose calls run as fiberjob jobs.

    ``workers`` (None: one per CPU) and ``**config`` (stack_size,
    max_pooled_fibers, enable_yielding) are JobSystem's arguments.  Swap it
    in for ThreadPoolExecutor: submit, map (chunksize batches items into one
    job each and submits all chunks in one call), shutdown and the
    context-manager protocol behave the same.  A call not yet started can be
    cancelled.  Callbacks added to a Future run on the worker that finished
    it.  The underlying JobSystem is ``executor.system``."""

    def __init__(self, workers: Optional[int] = None, **config: Any) -> None:
        self._system = JobSystem(workers=workers, **config)
        self._lock = threading.Lock()   # orders submissions against shutdown
        self._shut = False
        self._closer: Optional[threading.Thread] = None

    @property
    def system(self) -> JobSystem:
        """The JobSystem the calls run on."""
        return self._system

    def _check_open(self) -> None:
        if self._shut:
            raise ShutdownError(detail="cannot schedule new futures after shutdown")

    def submit(self, fn: Callable[..., Any], /, *args: Any,
               **kwargs: Any) -> concurrent.futures.Future:
        """Schedules fn(*args, **kwargs) (fn(ctx, *args, **kwargs) for a job
        function) and returns its Future.  After shutdown() raises
        ShutdownError, a RuntimeError as ThreadPoolExecutor raises."""
        noctx = not takes_ctx(fn)
        with self._lock:
            self._check_open()
            js = self._system
            return js._submit_future(js._g, False, fn, args, Priority.NORMAL, None,
                                     kwargs or None, noctx)

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any],
            timeout: Optional[float] = None, chunksize: int = 1) -> Iterator[Any]:
        """As Executor.map: results in the order of the inputs; an exception
        raised by a call is raised when its result is reached.  The inputs
        are split into chunks of ``chunksize`` items, each chunk one job,
        all chunks submitted in one run_many.  ``timeout`` (seconds) bounds
        the whole iteration from the call on.  Iterate from a plain thread:
        inside a job, waiting for a result not ready yet raises InJobError
        (a job uses Ctx.submit and ``yield``)."""
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        end = None if timeout is None else timeout + time.monotonic()
        items = list(zip(*iterables))
        chunks = [items[i:i + chunksize] for i in range(0, len(items), chunksize)]
        runner = _run_chunk_ctx if takes_ctx(fn) else _run_chunk
        with self._lock:
            self._check_open()
            js = self._system
            batch = _MapBatch(js.counter(), len(chunks))
            js._submit(js._g, [(runner, (fn, c)) for c in chunks],
                       Priority.NORMAL, batch.counter, False, False, sinks=batch.slots,
                       noctx=runner is _run_chunk)
        return batch.results(end)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new calls are accepted.  cancel_futures=True cancels the calls
        not yet started.  wait=True returns once every started call has
        finished and the workers have stopped; wait=False returns at once
        and a helper thread stops the workers when the calls are done.
        Calling it again is harmless."""
        with self._lock:
            self._shut = True
        if cancel_futures:
            for sink in list(self._system._pending.sinks.values()):
                cancel = getattr(sink, "cancel", None)   # Futures and map slots
                if cancel is not None:
                    cancel()   # no effect on a call already started
        if wait:
            closer = self._closer
            if closer is not None:
                closer.join()
            self._system._close(raise_errors=False)
        elif self._closer is None and not self._system.closed:
            self._closer = threading.Thread(target=self._system._close, args=(False,),
                                            name="FiberExecutor-shutdown")
            # Not a daemon: the interpreter joins it before atexit handlers
            # run, so the atexit close never races this one.
            self._closer.start()

    def __repr__(self) -> str:
        state = "shut down" if self._shut else "%d workers" % self._system.workers
        return "<fiberjob.FiberExecutor %s>" % state
