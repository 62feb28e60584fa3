# SPDX-License-Identifier: MIT
"""fiberjob — Python binding of libfiberjob, a fiber-based job system.

    import fiberjob
    with fiberjob.JobSystem(workers=2) as js:
        c = js.run(fn, 1, 2)          # fn(ctx, 1, 2) on a worker
        c.wait()

See python/README.md for the whole API.
"""
from ._core import (  # noqa: F401
    ConfigError,
    Counter,
    CounterOverflowError,
    Ctx,
    FiberJobError,
    InJobError,
    InvalidArgumentError,
    JobError,
    JobSystem,
    NotInJobError,
    OutOfMemoryError,
    Priority,
    PriorityError,
    ShutdownError,
    Stats,
    ThreadStartError,
    WaitTimeoutError,
    WrongSystemError,
    error_for_code,
    __version__,
    library_version,
)
from . import native  # noqa: F401

__all__ = [
    "ConfigError", "Counter", "CounterOverflowError", "Ctx", "FiberJobError",
    "InJobError", "InvalidArgumentError", "JobError", "JobSystem", "NotInJobError",
    "OutOfMemoryError", "Priority", "PriorityError", "ShutdownError", "Stats",
    "ThreadStartError", "WaitTimeoutError", "WrongSystemError", "error_for_code",
    "library_version", "native",
]
