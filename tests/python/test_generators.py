# SPDX-License-Identifier: MIT
"""Generator jobs: bare `yield` is a fiber yield, `yield counter` a fiber wait."""
import pytest

import fiberjob


def test_bare_yield_lets_other_jobs_run(js1):
    # On one worker two yielding jobs alternate strictly.
    log = []

    def gen(ctx, name):
        for i in range(5):
            log.append((name, i))
            yield

    c = js1.run_many([(gen, ("a",)), (gen, ("b",))])
    c.wait()
    assert len(log) == 10
    names = [n for n, _ in log]
    assert all(names[i] != names[i + 1] for i in range(9)), log


def test_yield_counter_waits_for_children(js):
    log = []

    def child(ctx, i):
        for _ in range(i % 3):
            yield
        log.append(i)

    def parent(ctx):
        c = ctx.counter()
        for i in range(30):
            ctx.spawn(child, i, counter=c)
        yield c
        assert c.value == 0
        log.append("parent")

    js.run(parent).wait()
    assert log[-1] == "parent"
    assert sorted(log[:-1]) == list(range(30))


def test_yield_counter_with_native_children(js):
    def parent(ctx, tasks):
        yield ctx.spawn_many(tasks, counter=ctx.counter())
        return [t.done for t in tasks]

    tasks = [fiberjob.native.yielder(10) for _ in range(8)] + [fiberjob.native.tree(3, 3)]
    js.run(parent, tasks).wait()
    assert all(t.done for t in tasks)
    assert tasks[-1].nodes == fiberjob.native.tree_size(3, 3)


def test_generator_resumes_on_any_worker(js):
    workers = []

    def gen(ctx):
        for _ in range(20):
            c = ctx.counter()
            ctx.spawn(fiberjob.native.spin(2000), counter=c)
            yield c
            workers.append(ctx.worker)
            yield

    js.run_many([(gen, ())] * 8).wait()
    assert len(workers) == 160
    assert set(workers) <= {0, 1}


def test_deep_recursion_in_job_is_fine(js):
    def rec(n):
        return 0 if n == 0 else 1 + rec(n - 1)

    res = []

    def gen(ctx):
        res.append(rec(200))
        yield
        res.append(rec(200))

    js.run(gen).wait()
    assert res == [200, 200]


def test_yield_bad_value_is_type_error(js):
    def gen(ctx):
        try:
            yield 42
        except TypeError as e:
            yield  # the generator may go on
            raise ValueError("saw " + str(e)[:20])

    with pytest.raises(fiberjob.JobError) as ei:
        js.run(gen).wait()
    assert isinstance(ei.value.__cause__, ValueError)


def test_yield_own_counter_refused(js):
    def gen(ctx, box):
        yield box[0]

    box = []
    c = js.counter()
    box.append(c)
    with pytest.raises(fiberjob.JobError) as ei:
        js.run(gen, box, counter=c).wait()
    assert isinstance(ei.value.__cause__, ValueError)


def test_child_error_is_thrown_into_waiting_generator(js):
    caught = []

    def bad(ctx):
        raise KeyError("child")

    def parent(ctx):
        c = ctx.counter()
        ctx.spawn(bad, counter=c)
        try:
            yield c
        except fiberjob.JobError as e:
            caught.append(e.__cause__)

    js.run(parent).wait()   # handled inside the job: nothing left to raise
    assert isinstance(caught[0], KeyError)


def test_generator_return_value_ignored_by_run_kept_by_submit(js):
    steps = []

    def gen(ctx):
        steps.append("before")
        yield
        steps.append("after")
        return 5

    assert js.run(gen).wait() is None    # run() has no result channel
    assert steps == ["before", "after"]   # ... yet the job ran to its return
    assert js.submit(gen).result(timeout=60) == 5
    js.close()                            # a return value is not an error


def _frame_chain():
    import sys
    f = sys._getframe(1)
    names = []
    while f is not None:
        names.append(f.f_code.co_name)
        f = f.f_back
    return names


def test_no_python_frames_below_a_job(js):
    # Each step is called from C with nothing of Python beneath it: a job's
    # frame chain is always [job, fjpy_step], even when a parent waiting on
    # the same C stack (nested run in fj_ctx_wait) is suspended below it.
    chains = []

    def leaf(ctx):
        chains.append(_frame_chain())

    def gen(ctx, depth):
        chains.append(_frame_chain())
        c = ctx.counter()
        if depth:
            ctx.spawn(gen, depth - 1, counter=c)
        ctx.spawn(leaf, counter=c)
        yield
        chains.append(_frame_chain())
        yield c
        chains.append(_frame_chain())

    js.run_many([(gen, (4,))] * 4).wait()
    assert len(chains) == 4 * (5 * 3 + 5)
    for ch in chains:
        assert ch[1:] == ["fjpy_step"], ch
