# SPDX-License-Identifier: MIT
"""Exceptions raised by fiberjob.

Every failed libfiberjob call raises one subclass of FiberJobError, chosen by
the library's FJ_E... code; its message starts with fj_strerror()'s text.
Each class also derives from the built-in exception a Python caller would
expect (ValueError for bad arguments, TimeoutError for an expired wait, ...).
An exception raised by a job itself is reported as JobError, with the job's
exception as ``__cause__``.
"""
from typing import List, Optional, Tuple

from ._ffi import ffi, lib

__all__ = [
    "FiberJobError", "InvalidArgumentError", "PriorityError", "ConfigError",
    "OutOfMemoryError", "ShutdownError", "WaitTimeoutError", "CounterOverflowError",
    "WrongSystemError", "InJobError", "ThreadStartError", "NotInJobError", "DeadlockError",
    "ForkedSystemError", "JobError", "error_for_code",
]


class FiberJobError(Exception):
    """A libfiberjob call failed.  ``code`` is the FJ_E... value; the message
    starts with the library's fj_strerror() text, then ``detail`` if given."""

    code: Optional[int] = None
    strerror: str

    def __init__(self, code: Optional[int] = None, detail: Optional[str] = None) -> None:
        if code is None:
            code = type(self).code
        self.code = code
        self.strerror = ffi.string(lib.fj_strerror(code)).decode()
        msg = self.strerror if not detail else "%s (%s)" % (self.strerror, detail)
        super().__init__(msg)


class InvalidArgumentError(FiberJobError, ValueError):
    """FJ_EINVAL: an argument is invalid (a destroyed counter, a bad job)."""
    code = lib.FJ_EINVAL


class PriorityError(FiberJobError, ValueError):
    """FJ_EPRIORITY: the priority is not one of fiberjob.Priority."""
    code = lib.FJ_EPRIORITY


class ConfigError(FiberJobError, ValueError):
    """FJ_ECONFIG: a JobSystem setting is out of range."""
    code = lib.FJ_ECONFIG


class OutOfMemoryError(FiberJobError, MemoryError):
    """FJ_ENOMEM: the library could not allocate (a fiber stack, a queue)."""
    code = lib.FJ_ENOMEM


class ShutdownError(FiberJobError, RuntimeError):
    """FJ_ESHUTDOWN: the JobSystem is closed or closing; nothing more runs."""
    code = lib.FJ_ESHUTDOWN


class WaitTimeoutError(FiberJobError, TimeoutError):
    """FJ_ETIMEDOUT: a wait's timeout expired before the counter reached zero."""
    code = lib.FJ_ETIMEDOUT


class CounterOverflowError(FiberJobError, OverflowError):
    """FJ_EOVERFLOW: a counter would track more jobs than it can count."""
    code = lib.FJ_EOVERFLOW


class WrongSystemError(FiberJobError, ValueError):
    """FJ_EWRONGSYSTEM: the counter or ctx belongs to another JobSystem."""
    code = lib.FJ_EWRONGSYSTEM


class InJobError(FiberJobError, RuntimeError):
    """FJ_EINJOB: a blocking call made from inside a job (it would block the
    worker); a generator job yields instead."""
    code = lib.FJ_EINJOB


class ThreadStartError(FiberJobError, RuntimeError):
    """FJ_ETHREAD: a worker thread could not be started."""
    code = lib.FJ_ETHREAD


class NotInJobError(FiberJobError, RuntimeError):
    """FJ_ENOTINJOB: a ctx used outside the job it was handed to."""
    code = lib.FJ_ENOTINJOB


class DeadlockError(FiberJobError, ValueError):
    """FJ_EDEADLK: a job waited on the counter that counts the job itself
    (it could never reach zero).  A ValueError, as the same mistake in a
    generator job (``yield`` of its own counter) always was."""
    code = lib.FJ_EDEADLK


class ForkedSystemError(ShutdownError):
    """The JobSystem was inherited through fork(): its worker threads exist
    only in the parent process, so nothing can run on it here.  Create a new
    JobSystem in the child.  ``code`` is the package's own -1000, outside
    libfiberjob's FJ_E... range."""
    code = lib.FJPY_EFORKED

    def __init__(self, code: Optional[int] = None, detail: Optional[str] = None) -> None:
        super().__init__(lib.FJPY_EFORKED, detail)
        self.strerror = ("this JobSystem was inherited through fork(); its workers exist only "
                         "in the parent process (create a new JobSystem in the child)")
        self.args = (self.strerror if not detail else "%s (%s)" % (self.strerror, detail),)


class StateError(FiberJobError, RuntimeError):
    """FJ_ESTATE: the call does not fit the current state (e.g. no trace is running)."""
    code = lib.FJ_ESTATE


class WriteError(FiberJobError, OSError):
    """FJ_EIO: a file could not be written."""
    code = lib.FJ_EIO


class BusyError(FiberJobError, RuntimeError):
    """FJ_EBUSY: no attach slot is free, or this thread is already attached."""
    code = lib.FJ_EBUSY


class WorkerIndexError(FiberJobError, ValueError):
    """FJ_EWORKER: worker= is out of range (at or beyond workers + attach_slots)."""
    code = lib.FJ_EWORKER


class NotAttachedError(FiberJobError, RuntimeError):
    """FJ_ENOTATTACHED: the calling thread is not attached to this JobSystem."""
    code = lib.FJ_ENOTATTACHED


_ERRORS = {cls.code: cls for cls in (
    InvalidArgumentError, PriorityError, ConfigError, OutOfMemoryError, ShutdownError,
    WaitTimeoutError, CounterOverflowError, WrongSystemError, InJobError,
    ThreadStartError, NotInJobError, DeadlockError, ForkedSystemError, StateError,
    WriteError, BusyError, WorkerIndexError, NotAttachedError)}


def error_for_code(code: int, detail: Optional[str] = None) -> FiberJobError:
    """The exception instance for a negative FJ_E... code."""
    return _ERRORS.get(code, FiberJobError)(code, detail)


def check(r: int, detail: Optional[str] = None) -> int:
    """Raises the exception for a negative status; returns r otherwise."""
    if r < 0:
        raise error_for_code(r, detail)
    return r


class JobError(Exception):
    """A job raised.  ``__cause__`` is the job's exception; ``errors`` lists
    every (job, exception) reported together, first one first."""

    errors: List[Tuple[str, BaseException]]

    def __init__(self, errors: List[Tuple[str, BaseException]]) -> None:
        self.errors = errors
        what, exc = errors[0]
        more = "" if len(errors) == 1 else " (and %d more failed jobs)" % (len(errors) - 1)
        super().__init__("job %s raised %s: %s%s" % (what, type(exc).__name__, exc, more))
        self.__cause__ = exc
