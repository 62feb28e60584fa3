# SPDX-License-Identifier: MIT
"""JobSystem.submit / Ctx.submit: jobs with results, as concurrent.futures.Future."""
import asyncio
import concurrent.futures as cf
import subprocess
import sys
import textwrap
import threading

import pytest

import fiberjob
from conftest import blocker

T = 60   # a generous bound for waits that should end at once; never reached when correct


def test_submit_returns_a_real_future_with_the_result(js):
    f = js.submit(lambda ctx, a, b: a * b, 6, 7)
    assert isinstance(f, cf.Future)
    assert f.result(timeout=T) == 42
    assert f.done() and not f.cancelled() and f.exception() is None


def test_generator_job_result_is_its_return_value(js):
    def gen(ctx, n):
        total = 0
        for i in range(n):
            total += i
            yield
        return total

    assert js.submit(gen, 10).result(timeout=T) == 45


def test_exception_goes_to_the_future_only(js):
    def bad(ctx):
        raise KeyError("k")

    c = js.counter()
    f = js.submit(bad, counter=c)
    assert isinstance(f.exception(timeout=T), KeyError)
    with pytest.raises(KeyError):
        f.result()
    c.wait()        # the counter tracked completion, the error went to the Future
    js.close()      # and close() has nothing to report


def test_stop_iteration_from_a_plain_function_is_an_error(js):
    def plain(ctx):
        raise StopIteration(5)        # not a generator: this is a failure

    assert isinstance(js.submit(plain).exception(timeout=T), StopIteration)
    with pytest.raises(fiberjob.JobError) as ei:
        js.run(plain).wait()
    assert isinstance(ei.value.__cause__, StopIteration)


def test_result_timeout_then_result(js1):
    job, started, ev = blocker()
    js1.run(job)
    started.wait()
    f = js1.submit(lambda ctx: "late")
    with pytest.raises(cf.TimeoutError):
        f.result(timeout=0.01)   # one worker, blocked: the job cannot have run
    assert not f.done()
    ev.set()
    assert f.result(timeout=T) == "late"


def test_done_callbacks_wait_and_as_completed(js):
    seen = []
    all_called = threading.Event()

    def callback(f):
        seen.append(f.result())
        if len(seen) == 50:
            all_called.set()

    fs = [js.submit(lambda ctx, i: i * i, i) for i in range(50)]
    for f in fs:
        f.add_done_callback(callback)   # on the worker, or at once if already done
    done, not_done = cf.wait(fs, timeout=T)
    assert len(done) == 50 and not not_done
    assert sorted(f.result() for f in cf.as_completed(fs, timeout=T)) == [i * i for i in range(50)]
    # A Future reads done just before its callbacks run, so wait for them.
    assert all_called.wait(T)
    assert sorted(seen) == [i * i for i in range(50)]   # each callback ran exactly once


def test_wrap_future_for_asyncio(js):
    f = js.submit(lambda ctx: "x")

    async def main():
        return await asyncio.wrap_future(f)

    assert asyncio.run(main()) == "x"


def test_yield_future_in_a_job_gets_result_or_exception(js):
    def child(ctx, v):
        yield
        if v is None:
            raise LookupError("child failed")
        return v

    def parent(ctx):
        a = yield ctx.submit(child, 1)
        b = yield ctx.submit(child, 2)
        done = ctx.submit(lambda ctx: 3)
        while not done.done():      # a future already done: no suspension needed
            yield
        c = yield done
        try:
            yield ctx.submit(child, None)
        except LookupError as e:
            return a + b + c, str(e)
        return "no exception"

    assert js.submit(parent).result(timeout=T) == (6, "child failed")


def test_yield_future_suspends_as_a_fiber(js1):
    # One worker: if the parent blocked its thread waiting, the child could
    # never run and this would hang (bounded by the timeout below).
    order = []

    def child(ctx):
        order.append("child")
        return 1

    def parent(ctx):
        f = ctx.submit(child)
        order.append("parent waits")
        v = yield f
        order.append("parent resumed")
        return v

    assert js1.submit(parent).result(timeout=T) == 1
    assert order == ["parent waits", "child", "parent resumed"]


def test_yield_future_made_outside_the_job(js):
    gate = threading.Event()
    outer = js.submit(lambda ctx: gate.wait(T) and "outer")

    def waiter(ctx):
        return (yield outer)

    w = js.submit(waiter)
    gate.set()
    assert w.result(timeout=T) == "outer"


def test_yield_foreign_pending_future_is_a_type_error(js):
    foreign = cf.Future()   # never resolved: a job cannot wait for it as a fiber

    def job(ctx):
        try:
            yield foreign
        except TypeError as e:
            return str(e)

    assert "made by fiberjob" in js.submit(job).result(timeout=T)


def test_yield_own_counter_future_is_a_deadlock_error(js1):
    # One worker: the child cannot run before the parent's step returns, so
    # its Future is surely pending at the yield.
    js = js1
    c = js.counter()

    def job(ctx):
        try:
            yield ctx.submit(lambda ctx: 1, counter=c)   # c also tracks this job
        except fiberjob.DeadlockError as e:   # a ValueError
            return str(e)

    f = js.submit(job, counter=c)
    assert "never reach zero" in f.result(timeout=T)
    c.wait()


def test_yield_pending_future_of_another_system(make_system):
    a, b = make_system(), make_system(workers=1)
    job, started, ev = blocker()
    b.run(job)
    started.wait()
    other = b.submit(lambda ctx: "b")       # pending: b's only worker is held

    def waiter(ctx):
        try:
            yield other
        except fiberjob.WrongSystemError:
            return "wrong system"

    assert a.submit(waiter).result(timeout=T) == "wrong system"
    ev.set()
    assert other.result(timeout=T) == "b"


def test_cancel_before_start_skips_the_job(js1):
    job, started, ev = blocker()
    js1.run(job)
    started.wait()
    ran = []
    c = js1.counter()
    f = js1.submit(lambda ctx: ran.append(1), counter=c)
    assert f.cancel() and f.cancelled()
    ev.set()
    c.wait()                 # the job was dequeued and skipped
    assert ran == []
    with pytest.raises(cf.CancelledError):
        f.result()


def test_running_future_cannot_be_cancelled(js1):
    job, started, ev = blocker()
    f = js1.submit(job)
    started.wait()
    assert not f.cancel() and f.running()
    ev.set()
    assert f.result(timeout=T) is None


def test_submit_rejects_native_tasks_and_after_close(make_system):
    js = make_system()
    with pytest.raises(TypeError):
        js.submit(fiberjob.native.spin(0))
    with pytest.raises(TypeError):
        js.submit(42)
    js.close()
    with pytest.raises(fiberjob.ShutdownError):
        js.submit(lambda ctx: None)


def test_future_jobs_finish_during_close(make_system):
    js = make_system(workers=1)
    job, started, ev = blocker()
    js.run(job)
    started.wait()
    fs = [js.submit(lambda ctx, i: i, i) for i in range(100)]
    threading.Timer(0.05, ev.set).start()
    js.close()               # runs every submitted job, so no Future stays pending
    assert [f.result(timeout=0) for f in fs] == list(range(100))


def test_close_fails_a_future_whose_job_never_ran(make_system):
    # Stands in for a job the system lost (none should be): its Future is
    # still in the pending table when close() has run every job.
    js = make_system()
    lost = cf.Future()
    js._pending.sinks[-1] = lost
    js.close()
    assert isinstance(lost.exception(timeout=0), fiberjob.ShutdownError)
    assert "closed before this job ran" in str(lost.exception())


FORK_CHILD = textwrap.dedent("""
    import os, sys, threading
    import fiberjob
    js = fiberjob.JobSystem(workers=1)
    ev, started = threading.Event(), threading.Event()
    js.run(lambda ctx: (started.set(), ev.wait()))
    started.wait()
    f = js.submit(lambda ctx: "parent")       # queued behind the blocked worker
    pid = os.fork()
    if pid == 0:
        # The child has no workers: the Future must fail at once, not hang.
        exc = f.exception(timeout=10)
        ok = isinstance(exc, fiberjob.ForkedSystemError) and "forked" in str(exc)
        print("child", type(exc).__name__, flush=True)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    ev.set()
    print("parent", f.result(timeout=10), os.waitstatus_to_exitcode(status), flush=True)
    js.close()
""")


def test_future_of_a_job_forked_away_fails_in_the_child():
    r = subprocess.run([sys.executable, "-c", FORK_CHILD], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["child ForkedSystemError", "parent parent 0"], r.stdout
