# SPDX-License-Identifier: MIT
"""SystemLike: what the modules below system.py use of their JobSystem.

counter, jobs and aio keep the JobSystem that made their objects and call a
few of its methods, but system.py imports them, so naming the JobSystem
class there would close an import circle (even one only type checkers
follow).  They name this Protocol instead; JobSystem satisfies it by its
shape.  Parameters typed Any are Counters, Jobs and result sinks: naming
those classes here would close the same circle one level down.
"""
from typing import TYPE_CHECKING, Any, Optional, Protocol, Sequence, Tuple

from .errors import JobError

if TYPE_CHECKING:  # only for annotations
    import asyncio

__all__ = ["SystemLike"]


class SystemLike(Protocol):
    """The JobSystem members counters, jobs and the asyncio glue rely on."""

    #: the system's guard pointer (an fjpy_sys*), passed to the C calls
    _g: Any
    #: the unresolved result sinks by job id (a fiberjob.futures.PendingTable)
    _pending: Any

    def counter(self) -> Any:
        """A new Counter at zero on this system."""

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
