# SPDX-License-Identifier: MIT
"""Long native jobs that yield regularly on one worker do not starve a job
submitted later: it starts within one yield interval.  Asserted on the order
of recorded CLOCK_MONOTONIC timestamps, never on durations.

The reference point is taken *after* the submission returned, when the late
job is certainly queued.  A clock read before the call would also count the
yields that happen while the submitting thread is preempted inside it, so a
busy machine could fail a correct scheduler.  Preemption of either thread
after that point cannot add yields to the window: on one worker, everything
the worker records is in execution order."""
import time

import pytest

import fiberjob
from fiberjob import native

LONG_JOBS = 3
YIELDS = 3000
SPIN_NS = 20_000   # one yield interval of a long job


def _start_long_jobs(js1):
    longs = [native.yielder(YIELDS, spin_ns=SPIN_NS, record=True) for _ in range(LONG_JOBS)]
    c = js1.run_many(longs)
    # Let every long job get going (poll, no timing assertion).
    while not all(t.yields_done >= 2 for t in longs):
        time.sleep(0.0005)
    return longs, c


def _check_late_start(longs, before_ns, queued_ns, late_start_ns):
    """before_ns: read before the submission; queued_ns: read after it
    returned (the late job was queued by then)."""
    assert before_ns <= late_start_ns
    # No long job got more than one further yield in between the late job
    # being queued and starting.  Had the late job waited for the long ones
    # to finish, each would show all its remaining yields here (about
    # YIELDS - 2, unless the submitter was preempted for their whole run,
    # which leaves nothing to check and nothing to fail).
    for t in longs:
        further = [x for x in t.yield_times if queued_ns < x < late_start_ns]
        assert len(further) <= 1, (len(further), t.yields_done)


@pytest.mark.parametrize("rep", range(3))
def test_late_native_job_not_starved(js1, rep):
    longs, c = _start_long_jobs(js1)
    late = native.spin(0)
    before = native.now_ns()
    lc = js1.run(late)
    queued = native.now_ns()
    lc.wait()
    c.wait()
    assert all(t.yields_done == YIELDS for t in longs)
    _check_late_start(longs, before, queued, late.start_ns)


def test_late_python_job_not_starved(js1):
    longs, c = _start_long_jobs(js1)
    started = []
    before = native.now_ns()
    lc = js1.run(lambda ctx: started.append(native.now_ns()))
    queued = native.now_ns()
    lc.wait()
    c.wait()
    _check_late_start(longs, before, queued, started[0])


def test_late_high_priority_job_not_starved(js1):
    longs, c = _start_long_jobs(js1)
    late = native.spin(0)
    before = native.now_ns()
    lc = js1.run(late, priority=fiberjob.Priority.HIGH)
    queued = native.now_ns()
    lc.wait()
    c.wait()
    _check_late_start(longs, before, queued, late.start_ns)


def test_window_check_catches_a_starved_job():
    """The check above can fail: a late job that started only after the
    long jobs had ended (recorded times made up to show that) is caught."""
    class Fake:
        yields_done = 5
        yield_times = [10, 20, 30, 40, 50]
    with pytest.raises(AssertionError):
        _check_late_start([Fake()], before_ns=5, queued_ns=15, late_start_ns=60)
    _check_late_start([Fake()], before_ns=5, queued_ns=15, late_start_ns=25)
