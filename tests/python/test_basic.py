# SPDX-License-Identifier: MIT
"""run / run_many / counters / ctx from Python."""
import threading

import fiberjob
from fiberjob import Priority


def test_version_and_names():
    assert fiberjob.library_version() == fiberjob.__version__
    assert fiberjob.__version__.count(".") == 2
    for name in fiberjob.__all__:
        assert hasattr(fiberjob, name), name


def test_run_passes_ctx_and_args(js):
    got = []
    c = js.run(lambda ctx, a, b: got.append((a, b, ctx.worker)), 3, "x")
    assert isinstance(c, fiberjob.Counter)
    c.wait()
    assert c.value == 0
    assert got[0][:2] == (3, "x")
    assert got[0][2] in range(js.workers)


def test_run_uses_given_counter(js):
    c = js.counter()
    assert c.value == 0
    done = []
    for i in range(10):
        assert js.run(lambda ctx, i: done.append(i), i, counter=c) is c
    c.wait()
    assert sorted(done) == list(range(10))


def test_counter_value_counts_unfinished(js1, ):
    job, started, ev = __import__("conftest").blocker()
    c = js1.run(job)
    started.wait()
    js1.run_many([(lambda ctx: None, ())] * 4, counter=c)
    assert c.value == 5
    ev.set()
    c.wait()
    assert c.value == 0


def test_run_many_mixed(js):
    out = []
    t = fiberjob.native.spin(1000)
    c = js.run_many([(lambda ctx, i: out.append(i), (i,)) for i in range(50)] + [t])
    c.wait()
    assert sorted(out) == list(range(50))
    assert t.done and t.end_ns >= t.start_ns


def test_run_many_empty(js):
    c = js.run_many([])
    assert c.value == 0
    c.wait()


def test_nested_spawn_and_priority(js):
    seen = []

    def child(ctx, i):
        seen.append((i, ctx.priority))

    def parent(ctx):
        c = ctx.counter()
        for i in range(20):
            ctx.spawn(child, i, priority=Priority.LOW, counter=c)
        ctx.spawn_many([(child, (100,))], priority=Priority.HIGH, counter=c)
        yield c
        seen.append(("parent", ctx.priority, c.value))

    js.run(parent, priority=Priority.HIGH).wait()
    assert seen[-1] == ("parent", Priority.HIGH, 0)
    assert sorted(i for i, p in seen[:-1]) == list(range(20)) + [100]
    assert {p for i, p in seen[:-1] if i != 100} == {Priority.LOW}


def test_fire_and_forget_spawn_runs_before_close(make_system):
    js = make_system()
    out = []
    js.run(lambda ctx: ctx.spawn(lambda ctx: out.append(1))).wait()
    js.close()
    assert out == [1]


def test_ctx_outside_its_job_raises(js):
    kept = []
    js.run(lambda ctx: kept.append(ctx)).wait()
    try:
        kept[0].worker
    except fiberjob.NotInJobError as e:
        assert e.code == fiberjob.NotInJobError.code
    else:
        raise AssertionError("expected NotInJobError")


def test_stats_and_workers(make_system):
    js = make_system(workers=3)
    assert js.workers == 3
    js.run_many([(lambda ctx: None, ())] * 100).wait()
    s = js.stats()
    # Exact: this system ran nothing else, and each job is counted run
    # before its counter is decremented (so before wait() returns).
    assert s.jobs_run == 100
    assert "3 workers" in repr(js)


def test_close_is_idempotent_and_with_block(make_system):
    with fiberjob.JobSystem(workers=1) as js:
        js.run(lambda ctx: None)
    assert js.closed
    js.close()
    assert "closed" in repr(js)


def test_many_threads_submit(js):
    out = []
    lock = threading.Lock()
    c = js.counter()

    def submitter(k):
        for i in range(200):
            js.run(lambda ctx, v: (lock.acquire(), out.append(v), lock.release()), (k, i),
                   counter=c)

    ts = [threading.Thread(target=submitter, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    c.wait()
    assert sorted(out) == sorted((k, i) for k in range(4) for i in range(200))


def test_counter_wait_from_another_thread(js):
    job, started, ev = __import__("conftest").blocker()
    c = js.run(job)
    res = []
    t = threading.Thread(target=lambda: (c.wait(), res.append(c.value)))
    t.start()
    started.wait()
    ev.set()
    t.join()
    assert res == [0]


def test_disable_yielding_still_runs_generators(make_system):
    js = make_system(workers=2, enable_yielding=False)
    out = []

    def gen(ctx):
        c = ctx.counter()
        ctx.spawn(lambda ctx: out.append("child"), counter=c)
        yield
        yield c
        out.append("parent")

    js.run(gen).wait()
    assert out == ["child", "parent"]
