# SPDX-License-Identifier: MIT
"""fiberjob — Python binding of libfiberjob, a fiber-based job system.

    import fiberjob
    with fiberjob.JobSystem(workers=2) as js:
        c = js.run(fn, 1, 2)          # fn(ctx, 1, 2) on a worker
        c.wait()

See python/README.md for the whole API.  Modules: errors, priority,
counter, jobs (Ctx and the job trampoline), system (JobSystem), native.
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
    ConfigError,
    CounterOverflowError,
    FiberJobError,
    InJobError,
    InvalidArgumentError,
    JobError,
    NotInJobError,
    OutOfMemoryError,
    PriorityError,
    ShutdownError,
    ThreadStartError,
    WaitTimeoutError,
    WrongSystemError,
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
    "ConfigError", "Counter", "CounterOverflowError", "Ctx", "FiberExecutor", "FiberJobError",
    "InJobError", "InvalidArgumentError", "JobError", "JobFuture", "JobSystem", "NotInJobError",
    "OutOfMemoryError", "Priority", "PriorityError", "ShutdownError", "Stats",
    "ThreadStartError", "WaitTimeoutError", "WrongSystemError", "error_for_code",
    "library_version", "native",
]
