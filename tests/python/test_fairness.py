# SPDX-License-Identifier: MIT
"""Long native jobs that yield regularly on one worker do not starve a job
submitted later: it starts within one yield interval.  Asserted on the order
of recorded CLOCK_MONOTONIC timestamps, never on durations."""
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


def _check_late_start(longs, submitted_ns, late_start_ns):
    assert submitted_ns <= late_start_ns
    # The late job did not just wait for the long ones to finish ...
    assert late_start_ns < min(t.end_ns for t in longs)
    # ... and no long job got more than one further yield in before it.
    for t in longs:
        further = [x for x in t.yield_times if submitted_ns < x < late_start_ns]
        assert len(further) <= 1, (len(further), t.yields_done)


@pytest.mark.parametrize("rep", range(3))
def test_late_native_job_not_starved(js1, rep):
    longs, c = _start_long_jobs(js1)
    late = native.spin(0)
    submitted = native.now_ns()
    js1.run(late).wait()
    c.wait()
    assert all(t.yields_done == YIELDS for t in longs)
    _check_late_start(longs, submitted, late.start_ns)


def test_late_python_job_not_starved(js1):
    longs, c = _start_long_jobs(js1)
    started = []
    submitted = native.now_ns()
    js1.run(lambda ctx: started.append(native.now_ns())).wait()
    c.wait()
    _check_late_start(longs, submitted, started[0])


def test_late_high_priority_job_not_starved(js1):
    longs, c = _start_long_jobs(js1)
    late = native.spin(0)
    submitted = native.now_ns()
    js1.run(late, priority=fiberjob.Priority.HIGH).wait()
    c.wait()
    _check_late_start(longs, submitted, late.start_ns)
