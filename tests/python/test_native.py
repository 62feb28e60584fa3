# SPDX-License-Identifier: MIT
"""Native workloads record what they did."""
import pytest

import fiberjob
from fiberjob import native


def test_spin_records_times_and_worker(js):
    t = native.spin(100_000)
    before = native.now_ns()
    js.run(t).wait()
    after = native.now_ns()
    assert t.done and t.status == 0
    assert before <= t.start_ns <= t.end_ns <= after
    assert t.end_ns - t.start_ns >= 100_000   # it spun at least that long (CLOCK_MONOTONIC)
    assert t.start_worker in (0, 1)


def test_yielder_counts_and_times(js1):
    a = native.yielder(50, record=True)
    b = native.yielder(50, record=True)
    js1.run_many([a, b]).wait()
    for t in (a, b):
        assert t.yields_done == 50
        ts = t.yield_times
        assert len(ts) == 50 and ts == sorted(ts)
        assert t.start_ns <= ts[0] and ts[-1] <= t.end_ns
    # one worker, two yielders: they alternate, so their yields interleave
    assert a.yield_times[10] < b.yield_times[11] and b.yield_times[10] < a.yield_times[11]
    # Exact: the system ran only these two tasks, 50 yields each.
    assert js1.stats().yields == 100


@pytest.mark.parametrize("depth,fanout", [(0, 1), (1, 64), (5, 3), (3, 8), (12, 2)])
def test_tree_counts_nodes(js, depth, fanout):
    t = native.tree(depth, fanout)
    js.run(t).wait()
    assert t.status == 0
    assert t.nodes == native.tree_size(depth, fanout)


def test_tree_rejects_bad_fanout():
    with pytest.raises(ValueError):
        native.tree(2, 0)
    with pytest.raises(ValueError):
        native.tree(2, 65)
    with pytest.raises(ValueError):
        native.yielder(-1)


def test_waiters_on_shared_counter(js):
    gate = js.counter()
    gate_jobs = [native.yielder(30, spin_ns=1000) for _ in range(6)]
    waiters = [native.waiter(gate) for _ in range(20)]
    # The gate jobs are submitted first, so the waiters find the counter above zero.
    js.run_many(gate_jobs, counter=gate)
    c = js.run_many(waiters, priority=fiberjob.Priority.HIGH)
    c.wait()
    gate.wait()
    last_gate_end = max(t.end_ns for t in gate_jobs)
    for w in waiters:
        assert w.status == 0
        assert w.value_after_wait == 0
        assert w.end_ns >= last_gate_end


def test_waiter_on_foreign_counter_records_error(make_system):
    a, b = make_system(), make_system()
    w = native.waiter(b.counter())
    a.run(w).wait()
    assert w.status == fiberjob.WrongSystemError.code
    with pytest.raises(fiberjob.WrongSystemError):
        w.check()


def test_task_resubmit_after_done_but_not_while_running(js1):
    from conftest import blocker
    job, started, ev = blocker()
    js1.run(job)
    started.wait()
    t = native.yielder(3)
    c = js1.run(t)
    with pytest.raises(ValueError):
        js1.run(t)
    ev.set()
    c.wait()
    js1.run(t).wait()
    assert t.yields_done == 3


def test_native_spawned_from_python_job(js):
    tasks = [native.yielder(50) for _ in range(4)]

    def job(ctx):
        for t in tasks:
            ctx.spawn(t)   # fire and forget: kept alive by the system

    js.run(job).wait()
    js.close()             # runs them to completion
    assert all(t.done and t.yields_done == 50 for t in tasks)


def test_fork_join_running_during_close(make_system):
    # Jobs still running in close() may create counters and spawn (a
    # regression once: fj_counter_create refused them during shutdown).
    for _ in range(20):
        js = make_system()
        tasks = [native.tree(4, 3) for _ in range(4)]
        js.run(lambda ctx: [ctx.spawn(t) for t in tasks]).wait()
        js.close()
        assert [t.status for t in tasks] == [0] * 4
        assert all(t.nodes == native.tree_size(4, 3) for t in tasks)


def test_counter_created_by_a_job_after_shutdown_began(make_system):
    # The reproducer of that regression, made deterministic: the job creates
    # its counter only once a plain thread sees fj_counter_create refused
    # (FJ_ESHUTDOWN), i.e. once fj_system_destroy has begun.
    import threading
    import time
    from fiberjob._ffi import ffi, lib

    js = make_system()
    sysptr = lib.fjpy_sys_raw(js._g)   # the job below keeps it from closing
    shutting = threading.Event()
    task = native.tree(3, 4)

    def prober():
        out = ffi.new("fj_counter **")
        while True:
            r = lib.fj_counter_create(sysptr, out)
            if r == lib.FJ_ESHUTDOWN:
                shutting.set()
                return
            assert r == lib.FJ_OK
            lib.fj_counter_destroy(out[0])
            time.sleep(0.001)

    def job(ctx):
        while not shutting.is_set():
            yield                       # the system cannot finish closing before this job
        c = ctx.counter()               # a counter made during shutdown
        ctx.spawn(task, counter=c)
        yield c

    js.run(job)
    t = threading.Thread(target=prober)
    t.start()
    js.close()                          # raises JobError if the job failed
    t.join()
    assert shutting.is_set()
    assert task.status == 0 and task.nodes == native.tree_size(3, 4)
