# SPDX-License-Identifier: MIT
"""Scheduling controls from Python: JobSystem(large_stack_size=, attach_slots=,
max_fibers=, aging_us=), run/run_many/ctx.spawn with stack=, worker=, name=,
and js.attach() as a context manager."""
import threading

import pytest

import fiberjob


def test_config_fields_and_stats(make_system):
    js = make_system(workers=2, large_stack_size=1 << 20, attach_slots=1, max_fibers=16,
                     aging_us=500)
    c = js.run_many([(lambda ctx: None, ()) for _ in range(100)], stack="large")
    c.wait()
    st = js.stats()
    assert st.fibers_peak <= 16
    assert st.fibers_live <= 16
    assert st.jobs_run == 100


@pytest.mark.parametrize("kw", [dict(attach_slots=-1), dict(max_fibers=1), dict(aging_us=2**32),
                                dict(large_stack_size=1), dict(aging_us=True)])
def test_bad_config(kw):
    with pytest.raises(fiberjob.ConfigError):
        fiberjob.JobSystem(workers=2, **kw)


def test_name_reaches_the_job(js):
    seen = []
    js.run(lambda ctx: seen.append(ctx.name), name="physics").wait()
    js.run(lambda ctx: seen.append(ctx.name)).wait()
    assert seen == ["physics", "test_name_reaches_the_job.<locals>.<lambda>"]


def test_large_stack_runs_deep_python(js):
    def deep(ctx, n):
        return 0 if n == 0 else 1 + deep(ctx, n - 1)

    out = []
    js.run(lambda ctx: out.append(deep(ctx, 400)), stack="large", name="deep").wait()
    assert out == [400]
    assert js.stats().fibers_large_created >= 1


def test_pinned_job_stays_on_its_worker(make_system):
    js = make_system(workers=2)
    seen = []

    def pinned(ctx, kids):
        where = {(threading.get_ident(), ctx.worker)}
        for _ in range(20):
            c = ctx.counter()
            ctx.spawn_many([(lambda k: None, ()) for _ in range(kids)], counter=c)
            yield c
            yield
            where.add((threading.get_ident(), ctx.worker))
        seen.append(where)

    c = js.counter()
    for w in (0, 1):
        js.run(pinned, 3, worker=w, counter=c)
    c.wait()
    assert len(seen) == 2
    assert sorted(next(iter(s))[1] for s in seen) == [0, 1]
    assert all(len(s) == 1 for s in seen)


def test_attach_runs_pinned_jobs_on_this_thread(make_system):
    js = make_system(workers=2, attach_slots=1)
    main = threading.get_ident()
    ran = []

    def sim(ctx, i):
        return i

    def render(ctx):
        c = ctx.counter()
        ctx.spawn_many([(sim, (i,)) for i in range(8)], counter=c, name="simulate")
        yield c
        ran.append(threading.get_ident())

    with js.attach() as me:
        assert me == 2
        for _ in range(5):
            js.run(render, worker=me, name="render").wait()
    assert ran == [main] * 5


def test_attach_errors(make_system):
    js = make_system(workers=1, attach_slots=1)
    with js.attach():
        with pytest.raises(fiberjob.BusyError):
            with js.attach():
                pass
    js0 = make_system(workers=1)
    with pytest.raises(fiberjob.BusyError):
        with js0.attach():
            pass


def test_bad_options(js):
    with pytest.raises(ValueError):
        js.run(lambda ctx: None, stack="huge")
    with pytest.raises(fiberjob.WorkerIndexError):
        js.run(lambda ctx: None, worker=2)
    with pytest.raises(fiberjob.WorkerIndexError):
        js.run(lambda ctx: None, worker=-5)
    with pytest.raises(fiberjob.WorkerIndexError):
        js.run(lambda ctx: None, worker=2 ** 40)
    with pytest.raises(TypeError):
        js.run(lambda ctx: None, worker="0")
    with pytest.raises(TypeError):
        js.run(lambda ctx: None, name=5)
    # Nothing was left behind by the failed calls.
    js.run(lambda ctx: None).wait()
    assert js.stats().jobs_run == 1


def test_aging_lets_low_start_under_high_stream(make_system):
    js = make_system(workers=1, aging_us=2000)
    state = {"low": False, "high": 0}

    def high(ctx):
        state["high"] += 1
        if not state["low"] and state["high"] < 200000:
            ctx.spawn(high, priority=fiberjob.Priority.HIGH)

    def low(ctx):
        state["low"] = True

    c = js.counter()
    js.run(low, priority=fiberjob.Priority.LOW, counter=c)
    js.run(high, priority=fiberjob.Priority.HIGH, counter=c)
    c.wait()
    js.close()
    assert state["low"]
    assert state["high"] < 200000


def test_close_while_attached(make_system):
    js = make_system(workers=1, attach_slots=1)
    done = []
    with js.attach() as me:
        js.run(lambda ctx: done.append(1), worker=me)
        js.close()                      # detaches this thread, runs the pinned job here
    assert done == [1]

    js2 = make_system(workers=1, attach_slots=1)
    inside, leave = threading.Event(), threading.Event()

    def attached():
        with js2.attach():
            inside.set()
            leave.wait(30)

    t = threading.Thread(target=attached)
    t.start()
    assert inside.wait(30)
    with pytest.raises(fiberjob.BusyError):
        js2.close()
    leave.set()
    t.join(30)
    js2.close()
