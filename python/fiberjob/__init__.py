# SPDX-License-Identifier: MIT
"""fiberjob — Python binding of libfiberjob, a fiber-based job system.

Jobs run on the library's worker threads; a generator job is a fiber that
suspends with ``yield`` (let others run), ``yield counter`` (until a
counter's jobs are done) or ``value = yield future`` (until another job's
result is ready).

    import fiberjob

    def square(ctx, x):                     # a job gets its Ctx first
        return x * x

    with fiberjob.JobSystem(workers=2) as js:
        c = js.run(square, 3)               # fast path: a Counter, no result
        c.wait()
        fut = js.submit(square, 4)          # a concurrent.futures.Future
        assert fut.result() == 16

The one-line switch from ThreadPoolExecutor (functions without ctx work
as with any executor):

    with fiberjob.FiberExecutor(2) as ex:   # was ThreadPoolExecutor(2)
        results = list(ex.map(abs, range(-5, 5), chunksize=4))

From asyncio, on the event loop's thread:

    value = await js.run_async(square, 5)
    await js.run(square, 6).wait_async()

Names: JobSystem (run, run_many, submit, run_async, counter, close),
Counter (wait, wait_async, value), Ctx (spawn, spawn_many, submit,
counter), FiberExecutor, JobFuture, Priority, Stats, the exceptions
(FiberJobError and one subclass per FJ_E... code; JobError for a job's
own exception) and fiberjob.native (C workloads).  Modules by concern:
errors, priority, stats, systemlike, counter, jobs, futures, system, executor,
aio, native.
python/README.md has the whole API and the threading rules.
"""
import ctypes as _ctypes
import glob as _glob
import os as _os

# A wheel built by meson-python 0.12 bundles libfiberjob in
# site-packages/.fiberjob.mesonpy.libs/ but without its soname symlink
# (libfiberjob.so.0.1), which the extension names as its dependency.  Loading
# the bundled file first satisfies that: the dynamic loader matches an
# already-loaded library by its SONAME.  In the build tree and in a `meson
# install` the rpath finds the library and this directory does not exist.
for _lib in sorted(_glob.glob(_os.path.join(
        _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))),
        ".fiberjob.mesonpy.libs", "libfiberjob.so*"))):
    _ctypes.CDLL(_lib, mode=_ctypes.RTLD_GLOBAL)
    break

from .errors import (  # noqa: F401
    BusyError,
    ConfigError,
    CounterOverflowError,
    DeadlockError,
    FiberJobError,
    ForkedSystemError,
    InJobError,
    InvalidArgumentError,
    JobError,
    NotAttachedError,
    NotInJobError,
    OutOfMemoryError,
    PriorityError,
    ShutdownError,
    StateError,
    ThreadStartError,
    WaitTimeoutError,
    WorkerIndexError,
    WrongSystemError,
    WriteError,
    error_for_code,
)
from .version import __version__, library_version  # noqa: F401
from .priority import Priority  # noqa: F401
from .counter import Counter  # noqa: F401
from .jobs import Ctx  # noqa: F401
from .system import JobSystem, Stats  # noqa: F401
from .futures import JobFuture  # noqa: F401
from .executor import FiberExecutor  # noqa: F401
from . import native  # noqa: F401

__all__ = [
    "BusyError", "NotAttachedError", "WorkerIndexError",
    "ConfigError", "Counter", "CounterOverflowError", "Ctx", "DeadlockError", "FiberExecutor",
    "FiberJobError", "ForkedSystemError", "InJobError", "InvalidArgumentError", "JobError",
    "JobFuture", "JobSystem", "NotInJobError",
    "OutOfMemoryError", "Priority", "PriorityError", "ShutdownError", "StateError", "Stats",
    "ThreadStartError", "WaitTimeoutError", "WriteError", "WrongSystemError", "error_for_code",
    "library_version", "native",
]
