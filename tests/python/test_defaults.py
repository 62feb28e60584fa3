# SPDX-License-Identifier: MIT
"""Python-shaped defaults: async functions are refused at submission, the
default fiber stack lets recursion through C-level calls end in
RecursionError as on a thread, and a ctx is dead once its job ended."""
import functools

import pytest

import fiberjob
from fiberjob.system import DEFAULT_STACK_SIZE

from conftest import run_script


async def coro_job(ctx):
    return 1


async def agen_job(ctx):
    yield 1


class AsyncCallable:
    async def __call__(self, ctx):
        return 1


class Methods:
    async def method(self, ctx):
        return 1


ASYNC_JOBS = [coro_job, agen_job, AsyncCallable(), Methods().method,
              functools.partial(coro_job), lambda: None]
ASYNC_IDS = ["async def", "async generator", "async __call__", "async method", "partial",
             "control"]


@pytest.mark.parametrize("fn", ASYNC_JOBS, ids=ASYNC_IDS)
def test_async_job_rejected_at_submission(js, fn):
    if ASYNC_JOBS.index(fn) == len(ASYNC_JOBS) - 1:
        # the control: a plain callable is accepted by the same check
        assert not fiberjob.jobs.is_async(fn)
        return
    c = js.counter()
    with pytest.raises(TypeError, match="async"):
        js.run(fn, counter=c)
    with pytest.raises(TypeError, match="async"):
        js.run_many([(lambda ctx: None, ()), (fn, ())], counter=c)
    assert c.value == 0
    c.wait()                                   # nothing was submitted, nothing failed


def test_async_job_rejected_in_spawn(js):
    def parent(ctx):
        ctx.spawn(coro_job)

    with pytest.raises(fiberjob.JobError) as ei:
        js.run(parent).wait()
    assert isinstance(ei.value.__cause__, TypeError)


def test_callable_returning_a_coroutine_fails_its_job(js):
    # Invisible to the submission check: the job fails instead of
    # reporting success for a coroutine nobody awaits.
    def sneaky(ctx):
        return coro_job(ctx)

    with pytest.raises(fiberjob.JobError) as ei:
        js.run(sneaky).wait()
    assert isinstance(ei.value.__cause__, TypeError)
    assert "never awaited" in str(ei.value.__cause__)


def test_default_stack_is_at_least_512_kib(js):
    assert DEFAULT_STACK_SIZE >= 512 * 1024
    assert js.stack_size == DEFAULT_STACK_SIZE


def test_recursion_through_c_calls_is_recursion_error_at_the_default_stack():
    # Each level goes through C (lru_cache's wrapper, a property getter,
    # json's encoder), using more C stack per level than plain Python.  At
    # the old 256 KiB default the first aborted the process near depth 600.
    r = run_script("""
        import functools, json, fiberjob

        @functools.lru_cache(maxsize=None)
        def cached(n):
            return 0 if n == 0 else cached(n - 1) + 1

        class Chain:
            def __init__(self, n):
                self.n = n
            @property
            def depth(self):
                return 0 if self.n == 0 else Chain(self.n - 1).depth + 1

        deep = []
        for _ in range(100_000):
            deep = [deep]

        cases = {"lru_cache": lambda: cached(100_000), "property": lambda: Chain(100_000).depth,
                 "json": lambda: json.dumps(deep)}
        with fiberjob.JobSystem(workers=1) as js:
            for name, call in cases.items():
                try:
                    js.run(lambda ctx: call()).wait()
                except fiberjob.JobError as e:
                    print(name, type(e.__cause__).__name__, flush=True)
    """, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["lru_cache", "RecursionError", "property", "RecursionError",
                                "json", "RecursionError"], r.stdout + r.stderr


@pytest.mark.parametrize("use", ["system", "counter", "spawn", "worker", "priority",
                                 "submit"])
def test_ctx_is_dead_once_its_job_ended(js, use):
    kept = []

    def plain(ctx):
        kept.append(ctx)

    def gen(ctx):
        kept.append(ctx)
        yield

    js.run(plain).wait()
    js.run(gen).wait()
    for ctx in kept:
        with pytest.raises(fiberjob.NotInJobError):
            if use == "system":
                ctx.system
            elif use == "counter":
                ctx.counter()
            elif use == "spawn":
                ctx.spawn(lambda ctx: None)
            elif use == "worker":
                ctx.worker
            elif use == "priority":
                ctx.priority
            else:
                ctx.submit(lambda ctx: None)
