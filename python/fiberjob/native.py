# SPDX-License-Identifier: MIT
"""Native workloads: jobs written in C (python/fiberjob/_native.c) that run
on the workers without the GIL, for stress tests, fairness checks and
benchmarks.  Each task records what it did; read the results after a wait()
on the counter it was submitted with.

    t = fiberjob.native.yielder(100, spin_ns=20_000, record=True)
    js.run(t).wait()
    t.yields_done, t.yield_times, t.start_worker

A task object is submitted like a function (js.run(t), js.run_many([t, ...]),
ctx.spawn(t)) and takes no arguments.  It may be submitted again once it is
done; submitting it while it runs raises ValueError.
"""
from typing import List, Optional

from .counter import Counter
from .errors import error_for_code
from ._ffi import ffi, lib

__all__ = ["NativeTask", "spin", "yielder", "tree", "waiter", "now_ns", "tree_size"]

def now_ns() -> int:
    """CLOCK_MONOTONIC in nanoseconds, the clock the tasks record with."""
    return lib.fjn_now_ns()

def tree_size(depth: int, fanout: int) -> int:
    """Nodes in a full tree: 1 + fanout + ... + fanout**depth."""
    return sum(fanout ** i for i in range(depth + 1))

class NativeTask:
    """One native job and its results."""

    __slots__ = ("_ptr", "_times", "_counter", "_running", "kind")

    def __init__(self, kind: str, spin_ns: int = 0, yields: int = 0, depth: int = 0,
                 fanout: int = 0, counter: Optional[Counter] = None,
                 record: bool = False) -> None:
        for name, v in (("spin_ns", spin_ns), ("yields", yields), ("depth", depth),
                        ("fanout", fanout)):
            if not isinstance(v, int) or v < 0:
                raise ValueError("%s must be a non-negative int, not %r" % (name, v))
        self._ptr = ffi.new("fjn_task *")
        self.kind = kind
        self._ptr.kind = {"spin": lib.FJN_SPIN, "yield": lib.FJN_YIELD, "tree": lib.FJN_TREE,
                          "wait": lib.FJN_WAIT}[kind]
        self._ptr.spin_ns = spin_ns
        self._ptr.yields = yields
        self._ptr.depth = depth
        self._ptr.fanout = fanout
        self._counter = counter
        if counter is not None:
            self._ptr.wait_on = counter._ptr
        self._times = ffi.new("int64_t[]", yields) if record and yields else None
        if self._times is not None:
            self._ptr.yield_ns = self._times
        self._running = False

    # -- submission bookkeeping (called by JobSystem._submit) --
    def _start(self):
        if self._running and not self._ptr.done:
            raise ValueError("this native task is already submitted and not done")
        if self._counter is not None and self._counter._ptr is None:
            raise ValueError("the counter this task waits on is gone")
        p = self._ptr
        p.start_ns = p.end_ns = 0
        p.start_worker = p.end_worker = 0
        p.yields_done = 0
        p.nodes = 0
        p.value_after_wait = 0
        p.status = 0
        p.done = 0
        self._running = True

    def _cancel(self):
        self._running = False

    # -- results --
    @property
    def done(self) -> bool:
        return bool(self._ptr.done)

    @property
    def start_ns(self) -> int:
        """CLOCK_MONOTONIC ns at the start."""
        return self._ptr.start_ns

    @property
    def end_ns(self) -> int:
        """CLOCK_MONOTONIC ns at the end."""
        return self._ptr.end_ns

    @property
    def start_worker(self) -> int:
        """Worker that started the task."""
        return self._ptr.start_worker

    @property
    def end_worker(self) -> int:
        """Worker that finished the task."""
        return self._ptr.end_worker

    @property
    def yields_done(self) -> int:
        return self._ptr.yields_done

    @property
    def nodes(self) -> int:
        """Tree nodes run, root included."""
        return self._ptr.nodes

    @property
    def value_after_wait(self) -> int:
        """A waiter's counter value right after its wait returned."""
        return self._ptr.value_after_wait

    @property
    def status(self) -> int:
        """First FJ_E... code met, or 0."""
        return self._ptr.status

    @property
    def yield_times(self) -> List[int]:
        """CLOCK_MONOTONIC ns right after each yield returned (record=True)."""
        if self._times is None:
            return []
        return list(self._times[0:self._ptr.yields_done])

    def check(self) -> None:
        """Raises the FiberJobError for a non-zero status."""
        if self._ptr.status:
            raise error_for_code(self._ptr.status)

    def __repr__(self) -> str:
        return "<fiberjob.native %s task done=%s>" % (self.kind, self.done)

def spin(ns: int) -> NativeTask:
    """Busy-waits ns nanoseconds, no yield."""
    return NativeTask("spin", spin_ns=ns)

def yielder(yields: int, spin_ns: int = 0, record: bool = False) -> NativeTask:
    """`yields` times: spin spin_ns, then fj_ctx_yield.  record=True keeps the
    time after each yield (yield_times)."""
    return NativeTask("yield", spin_ns=spin_ns, yields=yields, record=record)

def tree(depth: int, fanout: int) -> NativeTask:
    """A fork-join tree: each inner node spawns `fanout` children (1..64) on a
    fresh counter and fj_ctx_wait()s for them.  `nodes` counts nodes run."""
    if not 1 <= fanout <= 64:
        raise ValueError("fanout must be 1..64")
    return NativeTask("tree", depth=depth, fanout=fanout)

def waiter(counter: Counter) -> NativeTask:
    """fj_ctx_wait()s on `counter` (a fiberjob.Counter of the same system),
    then records value_after_wait (0 when the wait was correct)."""
    if not isinstance(counter, Counter):
        raise TypeError("waiter needs a fiberjob.Counter")
    return NativeTask("wait", counter=counter)
