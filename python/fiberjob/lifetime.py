# SPDX-License-Identifier: MIT
"""The states of a system's close/fork guard (python/fiberjob/_lifetime.h)
and the interruptible wait for the end of a close."""
from typing import Any

from ._ffi import lib

OPEN, CLOSING, DOWN, FORKED = 0, 1, 2, 3
SLICE_NS = 50_000_000   # blocking waits wake this often to let Ctrl-C through


def wait_down(g: Any, interruptible: bool = True) -> int:
    """Waits until the guard's closer thread is done; returns the final
    state (DOWN, or FORKED in a child).  Wakes every slice so a
    KeyboardInterrupt gets through: the close goes on in its own thread, and
    close() again waits again.  Not interruptible at exit, where leaving
    early would let workers call into a finalizing interpreter."""
    while True:
        try:
            st = lib.fjpy_sys_wait_down(g, SLICE_NS)
            if st != CLOSING:
                return st
        except KeyboardInterrupt:
            if interruptible:
                raise
