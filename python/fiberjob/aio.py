# SPDX-License-Identifier: MIT
"""asyncio interop: job outcomes delivered to an event loop.

A LoopSink is the result sink (see fiberjob.futures) of a job awaited from
asyncio.  The worker that finishes the job calls loop.call_soon_threadsafe,
which queues the assignment on the loop's thread and wakes the loop through
its self-pipe; the asyncio Future is only ever touched on its loop's thread.
Nothing polls and no thread is started per wait.

This module is imported on first use, so ``import fiberjob`` does not
import asyncio.
"""
import asyncio
from typing import TYPE_CHECKING, Any

from .priority import Priority

if TYPE_CHECKING:  # only for annotations
    from .counter import Counter

__all__ = ["LoopSink", "wait_counter_async"]


def _set_result(fut: "asyncio.Future[Any]", value: Any) -> None:
    if not fut.done():   # cancelled by its awaiter meanwhile
        fut.set_result(value)


def _set_exception(fut: "asyncio.Future[Any]", exc: BaseException) -> None:
    if not fut.done():
        if isinstance(exc, StopIteration):
            # asyncio refuses StopIteration (it would end the awaiting coroutine)
            new = RuntimeError("job raised StopIteration")
            new.__cause__ = exc
            exc = new
        fut.set_exception(exc)


class LoopSink:
    """Hands a job's outcome to an asyncio Future on the running loop.  Made
    on the loop's thread; its set_* methods run on a worker."""

    __slots__ = ("loop", "future")

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.future: "asyncio.Future[Any]" = self.loop.create_future()

    def set_running_or_notify_cancel(self) -> bool:
        # A read of the future's state from a worker: a cancel() racing with
        # it at worst lets the job run; its result is then dropped on the loop.
        return not self.future.cancelled()

    def set_result(self, value: Any) -> None:
        self._post(_set_result, value)

    def set_exception(self, exc: BaseException) -> None:
        self._post(_set_exception, exc)

    def _post(self, fn: Any, arg: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(fn, self.future, arg)
        except RuntimeError:
            pass   # the loop is closed: nobody can await the future any more


def _wait_job(ctx: Any, counter: "Counter") -> Any:
    # A fiber, not a thread, waits; a failed job of counter raises JobError here.
    yield counter


def wait_counter_async(counter: "Counter") -> "asyncio.Future[None]":
    """The asyncio Future behind Counter.wait_async()."""
    sink = LoopSink()
    system = counter._system
    if counter.value == 0:
        try:
            system._raise_errors(counter)
        except BaseException as e:  # noqa: B902 - the awaiter gets it
            sink.future.set_exception(e)
        else:
            sink.future.set_result(None)
        return sink.future
    system._submit(system._g, [(_wait_job, (counter,))], Priority.HIGH, None, False, True,
                   sinks=[sink])
    return sink.future
