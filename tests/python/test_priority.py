# SPDX-License-Identifier: MIT
"""Strict priorities, observed from Python on one worker."""
import random

import fiberjob
from fiberjob import Priority, native

from conftest import blocker


def test_priority_order_python_jobs(js1):
    job, started, ev = blocker()
    js1.run(job)
    started.wait()          # the only worker is busy: everything below queues
    order = []
    c = js1.counter()
    rng = random.Random(1)
    submitted = [(rng.choice(list(Priority)), i) for i in range(60)]
    for p, i in submitted:
        js1.run(lambda ctx, p, i: order.append((ctx.priority, i)), p, i, priority=p, counter=c)
    ev.set()
    c.wait()
    assert [p for p, _ in order] == sorted(p for p, _ in submitted)
    # within one priority, submission order (the shared queue is FIFO)
    for p in Priority:
        assert [i for q, i in order if q == p] == [i for q, i in submitted if q == p]


def test_priority_order_native_jobs(js1):
    job, started, ev = blocker()
    js1.run(job)
    started.wait()
    by_prio = {p: [native.spin(0) for _ in range(10)] for p in Priority}
    c = js1.counter()
    for p in (Priority.LOW, Priority.NORMAL, Priority.HIGH):
        js1.run_many(by_prio[p], priority=p, counter=c)
    ev.set()
    c.wait()
    high_end = max(t.end_ns for t in by_prio[Priority.HIGH])
    normal = [t.start_ns for t in by_prio[Priority.NORMAL]]
    assert high_end <= min(normal)
    assert max(t.end_ns for t in by_prio[Priority.NORMAL]) <= min(
        t.start_ns for t in by_prio[Priority.LOW])


def test_yield_goes_to_higher_priority_work(js1):
    log = []

    def low(ctx):
        log.append("low start")
        ctx.spawn(lambda ctx: log.append("high"), priority=Priority.HIGH)
        yield
        log.append("low end")

    js1.run(low, priority=Priority.LOW).wait()
    assert log == ["low start", "high", "low end"]
