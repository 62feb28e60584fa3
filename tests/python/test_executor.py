# SPDX-License-Identifier: MIT
"""FiberExecutor is a concurrent.futures.Executor: the standard behaviours
run with the same test code against ThreadPoolExecutor and FiberExecutor."""
import concurrent.futures as cf
import threading
import time

import pytest

import fiberjob

T = 60   # bound for waits that end at once when correct


@pytest.fixture(params=["ThreadPoolExecutor", "FiberExecutor"])
def make_executor(request):
    made = []

    def make(workers):
        cls = cf.ThreadPoolExecutor if request.param == "ThreadPoolExecutor" \
            else fiberjob.FiberExecutor
        ex = cls(workers)
        made.append(ex)
        return ex

    yield make
    for ex in made:
        ex.shutdown(wait=True, cancel_futures=True)


def hold(ex):
    """Occupies one worker of ex until the returned event is set."""
    started, release = threading.Event(), threading.Event()
    f = ex.submit(lambda: (started.set(), release.wait(T))[1])
    assert started.wait(T)
    return f, release


def square(x):
    return x * x


def fail_on(x, bad):
    if x == bad:
        raise ValueError("bad %d" % x)
    return x


def test_is_an_executor(make_executor):
    assert isinstance(make_executor(2), cf.Executor)


def test_submit_result_and_kwargs(make_executor):
    ex = make_executor(2)
    assert ex.submit(pow, 2, 10).result(T) == 1024
    assert ex.submit(sorted, [3, 1, 2], reverse=True).result(T) == [3, 2, 1]
    assert ex.submit(lambda: threading.current_thread() is not threading.main_thread()).result(T)


def test_submit_exception(make_executor):
    f = make_executor(2).submit(fail_on, 3, 3)
    assert isinstance(f.exception(T), ValueError)
    with pytest.raises(ValueError, match="bad 3"):
        f.result()


@pytest.mark.parametrize("chunksize", [1, 3, 1000])
def test_map_keeps_input_order(make_executor, chunksize):
    ex = make_executor(3)

    def slow_square(x):
        time.sleep(0.0005 * ((7 * x) % 5))   # finish out of order
        return x * x

    assert list(ex.map(slow_square, range(40), chunksize=chunksize)) == \
        [x * x for x in range(40)]
    assert list(ex.map(pow, [2, 3, 4], [5, 2])) == [32, 9]   # shortest iterable wins
    assert list(ex.map(square, [])) == []


def test_map_raises_at_the_failing_item(make_executor):
    it = make_executor(2).map(fail_on, range(10), [5] * 10)
    got = [next(it) for _ in range(5)]
    assert got == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="bad 5"):
        next(it)


def test_map_timeout(make_executor):
    ex = make_executor(1)
    f, release = hold(ex)
    it = ex.map(square, [1, 2], timeout=0.01)
    with pytest.raises(cf.TimeoutError):
        list(it)
    release.set()


def test_cancel_not_yet_started(make_executor):
    ex = make_executor(1)
    running, release = hold(ex)
    ran = []
    queued = [ex.submit(ran.append, i) for i in range(5)]
    assert not running.cancel()                       # started: too late
    assert all(f.cancel() for f in queued[1:])        # queued: cancelled
    assert all(f.cancelled() for f in queued[1:])
    release.set()
    assert queued[0].result(T) is None
    ex.shutdown(wait=True)
    assert ran == [0]
    with pytest.raises(cf.CancelledError):
        queued[1].result()


def test_wait_and_as_completed(make_executor):
    ex = make_executor(2)
    fs = [ex.submit(square, i) for i in range(20)]
    done, pending = cf.wait(fs, timeout=T, return_when=cf.ALL_COMPLETED)
    assert len(done) == 20 and not pending
    assert sorted(f.result() for f in cf.as_completed(fs, timeout=T)) == \
        [i * i for i in range(20)]
    bad = [ex.submit(fail_on, i, 0) for i in range(3)]
    done, _ = cf.wait(bad, timeout=T, return_when=cf.FIRST_EXCEPTION)
    assert any(f.exception() is not None for f in done)


def test_submit_after_shutdown_raises_runtime_error(make_executor):
    ex = make_executor(2)
    ex.shutdown()
    with pytest.raises(RuntimeError):
        ex.submit(square, 2)
    with pytest.raises(RuntimeError):
        ex.map(square, [2])
    ex.shutdown()   # again: harmless


def test_shutdown_wait_finishes_started_and_queued_work(make_executor):
    ex = make_executor(1)
    running, release = hold(ex)
    queued = [ex.submit(square, i) for i in range(10)]
    threading.Timer(0.02, release.set).start()
    ex.shutdown(wait=True)
    assert running.done()
    assert [f.result(timeout=0) for f in queued] == [i * i for i in range(10)]


def test_shutdown_cancel_futures(make_executor):
    ex = make_executor(1)
    running, release = hold(ex)
    queued = [ex.submit(square, i) for i in range(10)]
    ex.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in queued)
    assert not running.cancelled()
    release.set()
    assert running.result(T) is True
    ex.shutdown(wait=True)


def test_shutdown_cancel_futures_cancels_queued_map_items(make_executor):
    ex = make_executor(1)
    running, release = hold(ex)
    ran = []
    it = ex.map(ran.append, range(10))
    ex.shutdown(wait=False, cancel_futures=True)
    release.set()
    with pytest.raises(cf.CancelledError):
        list(it)
    ex.shutdown(wait=True)
    assert ran == []


def test_shutdown_no_wait_returns_before_work_ends(make_executor):
    ex = make_executor(1)
    running, release = hold(ex)
    later = ex.submit(square, 7)
    ex.shutdown(wait=False)
    assert not running.done()         # it is still held, yet shutdown returned
    release.set()
    assert later.result(T) == 49      # queued work still runs


def test_context_manager_shuts_down(make_executor):
    ex = make_executor(2)
    with ex as entered:
        assert entered is ex
        f = ex.submit(square, 9)
    assert f.done() and f.result() == 81
    with pytest.raises(RuntimeError):
        ex.submit(square, 1)


# ---- FiberExecutor only -------------------------------------------------------

def test_job_functions_get_ctx_and_may_yield():
    def job(ctx, x):
        assert isinstance(ctx, fiberjob.Ctx)
        yield                          # a fiber yield inside an executor call
        inner = yield ctx.submit(lambda ctx, y: y + 1, x)
        return inner * 10

    class Obj:
        def method(self, ctx, x):
            return (ctx.worker >= 0, x)

    def plain_gen(x):                  # no ctx: the generator object is the result
        yield x

    with fiberjob.FiberExecutor(2) as ex:
        assert ex.submit(job, 1).result(T) == 20
        assert list(ex.map(job, range(5), chunksize=2)) == [10, 20, 30, 40, 50]
        assert ex.submit(Obj().method, 3).result(T) == (True, 3)
        g = ex.submit(plain_gen, 4).result(T)
        assert list(g) == [4]


def test_map_submits_one_job_per_chunk():
    with fiberjob.FiberExecutor(2) as ex:
        with pytest.raises(ValueError):     # as ProcessPoolExecutor (threads ignore it)
            ex.map(square, [1], chunksize=0)
        js = ex.system
        calls = []
        real_submit = js._submit

        def spy(target, jobs, priority, counter, via_ctx, single, **kw):
            jobs = list(jobs)
            calls.append((single, len(jobs)))
            return real_submit(target, jobs, priority, counter, via_ctx, single, **kw)

        js._submit = spy
        assert list(ex.map(square, range(100), chunksize=8)) == [x * x for x in range(100)]
        assert calls == [(False, 13)]     # ceil(100 / 8) jobs in one fj_run_jobs call


def test_config_goes_to_the_job_system():
    with fiberjob.FiberExecutor(3, stack_size=512 * 1024) as ex:
        assert ex.system.workers == 3 and ex.system.stack_size == 512 * 1024
    with pytest.raises(fiberjob.ConfigError):
        fiberjob.FiberExecutor(-1)


def test_takes_ctx_rule():
    from fiberjob.executor import takes_ctx
    import functools

    def a(ctx, x): pass          # noqa: E704
    def b(x, ctx): pass          # noqa: E704
    assert takes_ctx(a) and not takes_ctx(b)
    assert takes_ctx(functools.partial(a)) and not takes_ctx(print)
    assert not takes_ctx(square)
