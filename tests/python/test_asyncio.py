# SPDX-License-Identifier: MIT
"""asyncio: await js.run_async(...) and await counter.wait_async()."""
import asyncio
import threading

import pytest

import fiberjob
from conftest import blocker

N = 10_000


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def test_run_async_result_and_exception(js):
    async def main():
        assert await js.run_async(lambda ctx, a, b: a + b, 2, 3) == 5

        def gen(ctx):
            yield
            return "gen"
        assert await js.run_async(gen) == "gen"
        with pytest.raises(ZeroDivisionError):
            await js.run_async(lambda ctx: 1 / 0)

    run(main())
    js.close()    # the exception went to the awaiter, nothing left to report


def test_results_are_set_on_the_loop_thread(js):
    async def main():
        loop_thread = threading.get_ident()
        fut = js.run_async(lambda ctx: threading.get_ident())
        seen = []
        fut.add_done_callback(lambda f: seen.append(threading.get_ident()))
        worker_thread = await fut
        assert worker_thread != loop_thread
        await asyncio.sleep(0)
        assert seen == [loop_thread]

    run(main())


def test_ten_thousand_concurrent_awaits(js):
    threads_before = threading.active_count()

    async def main():
        gate = threading.Event()

        def job(ctx, i):
            gate.wait(60)
            return i

        futs = [js.run_async(job, i) for i in range(N)]
        counters = [js.run(job, i) for i in range(N)]
        waits = [c.wait_async() for c in counters]
        assert not any(f.done() for f in futs[:10])
        assert threading.active_count() == threads_before   # no thread per await
        gate.set()
        got = await asyncio.gather(*futs)
        assert got == list(range(N))
        assert await asyncio.gather(*waits) == [None] * N
        assert all(c.value == 0 for c in counters)

    run(main())


def test_wait_async_on_zero_counter_and_errors(js):
    async def main():
        await js.counter().wait_async()           # already zero: resolves at once
        c = js.run(lambda ctx: {}["missing"])
        with pytest.raises(fiberjob.JobError) as ei:
            await c.wait_async()
        assert isinstance(ei.value.__cause__, KeyError)

    run(main())


def test_wait_async_suspends_until_jobs_finish(js1):
    job, started, ev = blocker()

    async def main():
        c = js1.run(job)
        started.wait()
        w = c.wait_async()
        await asyncio.sleep(0.01)
        assert not w.done()          # the job is held: the wait cannot have ended
        ev.set()
        await w
        assert c.value == 0

    run(main())


def test_cancel_before_start_skips_the_job(js1):
    job, started, ev = blocker()
    js1.run(job)
    started.wait()
    ran = []

    async def main():
        f = js1.run_async(lambda ctx: ran.append(1))
        f.cancel()
        ev.set()
        with pytest.raises(asyncio.CancelledError):
            await f

    run(main())
    js1.close()
    assert ran == []


def test_run_async_needs_a_running_loop(js):
    with pytest.raises(RuntimeError):
        js.run_async(lambda ctx: None)


def test_loop_closed_before_the_job_ends(js1):
    job, started, ev = blocker()

    async def main():
        js1.run_async(job)      # never awaited; the loop ends first
        started.wait()

    asyncio.run(main())
    ev.set()
    js1.close()                 # the late result is dropped quietly, not a job error


def test_fiber_executor_with_run_in_executor():
    async def main(ex):
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(loop.run_in_executor(ex, pow, 2, i) for i in range(20)))

    with fiberjob.FiberExecutor(2) as ex:
        assert run(main(ex)) == [2 ** i for i in range(20)]


def test_run_async_refuses_coroutine_functions(js):
    # The decision shared with the robustness work: a job runs on a worker,
    # not on the loop, so an `async def` is refused at submission.
    async def coro_fn(ctx):
        return 1

    async def main():
        with pytest.raises(TypeError):
            js.run_async(coro_fn)
        with pytest.raises(TypeError):
            js.submit(coro_fn)

    run(main())
    with fiberjob.FiberExecutor(1) as ex:
        with pytest.raises(TypeError):
            ex.submit(coro_fn)
