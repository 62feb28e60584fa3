# SPDX-License-Identifier: MIT
"""SystemLike: a JobSystem as the modules below system.py see it.

counter and jobs hand out the JobSystem that made their objects
(Counter.system, Ctx.system), and counter, jobs and aio call a few of its
private methods, but system.py imports them, so naming the JobSystem class
there would close an import circle (even one only type checkers follow).
They name these Protocols instead; JobSystem satisfies both by its shape.

SystemLike is the public surface, what a job may do with ``ctx.system``.
It is generic in the counter type because Counter, too, lives below
system.py and names this module: ``SystemLike[Counter]`` is a JobSystem.
SystemInternals adds the private members the package itself uses; its
parameters typed Any are Counters, Jobs and result sinks, for the same
reason.
"""
import concurrent.futures
from typing import (TYPE_CHECKING, Any, Callable, ContextManager, Iterable, Optional, Protocol,
                    Sequence, Tuple, TypeVar)

from .errors import JobError
from .priority import Priority, PriorityLike
from .stats import Stats

if TYPE_CHECKING:  # only for annotations
    import asyncio

__all__ = ["SystemLike", "SystemInternals"]

#: the counter type: fiberjob.Counter
C = TypeVar("C")


class SystemLike(Protocol[C]):
    """The public members of a JobSystem (see system.py for what each does)."""

    stack_size: int

    @property
    def closed(self) -> bool:
        """True once close() has finished."""

    @property
    def workers(self) -> int:
        """Number of worker threads."""

    def close(self) -> None:
        """Runs every submitted job to completion and stops the workers."""

    def stats(self) -> Stats:
        """Running totals since the system started."""

    def attach(self) -> ContextManager[int]:
        """Attaches the calling thread for a ``with`` block."""

    def dump(self) -> str:
        """A snapshot of workers, queues and suspended fibers, as text."""

    def trace(self, path: str, max_events: int = 1_000_000) -> ContextManager[None]:
        """Records a trace while a ``with`` block runs."""

    def counter(self) -> C:
        """A new Counter at zero on this system."""

    def run(self, fn: Callable[..., Any], *args: Any, priority: PriorityLike = Priority.NORMAL,
            counter: Optional[C] = None, stack: Optional[str] = None,
            worker: Optional[int] = None, name: Optional[str] = None) -> C:
        """Submits fn(ctx, *args); returns the Counter tracking it."""

    def run_many(self, jobs: Iterable[Any], priority: PriorityLike = Priority.NORMAL,
                 counter: Optional[C] = None, stack: Optional[str] = None,
                 worker: Optional[int] = None, name: Optional[str] = None) -> C:
        """Submits (fn, args) pairs and native tasks; returns their Counter."""

    def submit(self, fn: Callable[..., Any], *args: Any, priority: PriorityLike = Priority.NORMAL,
               counter: Optional[C] = None) -> concurrent.futures.Future:
        """Submits fn(ctx, *args); returns a Future of its result."""

    def run_async(self, fn: Callable[..., Any], *args: Any,
                  priority: PriorityLike = Priority.NORMAL,
                  counter: Optional[C] = None) -> "asyncio.Future[Any]":
        """Submits fn(ctx, *args); returns an asyncio Future of its result."""


class SystemInternals(SystemLike[C], Protocol[C]):
    """The private JobSystem members counters, jobs and the asyncio glue rely on."""

    #: the system's guard pointer (an fjpy_sys*), passed to the C calls
    _g: Any
    #: the unresolved result sinks by job id (a fiberjob.futures.PendingTable)
    _pending: Any

    def _submit(self, target: Any, jobs: Any, priority: Any, counter: Any, via_ctx: bool,
                single: bool, sinks: Optional[Sequence[Any]] = None,
                kwargs: Optional[dict] = None, noctx: bool = False,
                opts: Tuple[Any, Any, Any] = (None, None, None)) -> Any:
        """Submits jobs; see JobSystem._submit."""

    def _submit_future(self, target: Any, via_ctx: bool, fn: Any, args: Any, priority: Any,
                       counter: Any, kwargs: Optional[dict] = None,
                       noctx: bool = False) -> Any:
        """Submits one job and returns its JobFuture."""

    def _record_error(self, job: Any, exc: BaseException) -> None:
        """Files a job's exception with its counter and the unreported list."""

    def _retrieve(self, counter: Any) -> Optional[JobError]:
        """A JobError for the failed jobs counter tracked, or None."""

    def _raise_errors(self, counter: Any) -> None:
        """Raises the JobError of counter's failed jobs, if any."""

    def _wait_counter_async(self, counter: Any) -> "asyncio.Future[None]":
        """The asyncio Future behind Counter.wait_async()."""
