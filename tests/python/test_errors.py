# SPDX-License-Identifier: MIT
"""Job exceptions are never lost; misuse raises a clear exception."""
import os
import subprocess
import sys
import threading

import pytest

import fiberjob
from fiberjob import Priority, lifetime
from fiberjob._ffi import ffi, lib

from conftest import blocker

ALL_CODES = {
    "EINVAL": fiberjob.InvalidArgumentError, "EPRIORITY": fiberjob.PriorityError,
    "ECONFIG": fiberjob.ConfigError, "ENOMEM": fiberjob.OutOfMemoryError,
    "ESHUTDOWN": fiberjob.ShutdownError, "ETIMEDOUT": fiberjob.WaitTimeoutError,
    "EOVERFLOW": fiberjob.CounterOverflowError, "EWRONGSYSTEM": fiberjob.WrongSystemError,
    "EINJOB": fiberjob.InJobError, "ETHREAD": fiberjob.ThreadStartError,
    "ENOTINJOB": fiberjob.NotInJobError,
}


@pytest.mark.parametrize("name", sorted(ALL_CODES))
def test_every_code_maps_to_its_exception(name):
    code = getattr(lib, "FJ_" + name)
    e = fiberjob.error_for_code(code)
    assert type(e) is ALL_CODES[name]
    assert isinstance(e, fiberjob.FiberJobError)
    assert e.code == code
    assert str(e) == ffi.string(lib.fj_strerror(code)).decode()


def test_unknown_code_and_timeout_is_timeouterror():
    e = fiberjob.error_for_code(-999)
    assert type(e) is fiberjob.FiberJobError and str(e)
    assert issubclass(fiberjob.WaitTimeoutError, TimeoutError)


def boom(ctx, msg):
    raise RuntimeError(msg)


def test_exception_reraised_from_wait(js):
    c = js.run(boom, "bad")
    with pytest.raises(fiberjob.JobError) as ei:
        c.wait()
    assert isinstance(ei.value.__cause__, RuntimeError)
    assert str(ei.value.__cause__) == "bad"
    assert "boom" in str(ei.value)
    # The error stays with the counter, as with a Future: every wait gets it.
    with pytest.raises(fiberjob.JobError) as again:
        c.wait()
    assert again.value.__cause__ is ei.value.__cause__
    js.close()   # already reported by the waits: close() does not raise it again


def test_all_errors_of_a_counter_reported_together(js):
    c = js.run_many([(boom, (str(i),)) for i in range(5)] + [(lambda ctx: None, ())])
    with pytest.raises(fiberjob.JobError) as ei:
        c.wait()
    assert sorted(str(e) for _, e in ei.value.errors) == [str(i) for i in range(5)]


def test_generator_exception_after_yield(js):
    ran = []

    def gen(ctx):
        yield
        c = ctx.counter()
        ctx.spawn(lambda ctx: ran.append(1), counter=c)
        yield c
        1 / 0

    with pytest.raises(fiberjob.JobError) as ei:
        js.run(gen).wait()
    assert isinstance(ei.value.__cause__, ZeroDivisionError)
    assert ran == [1]   # the error came after both kinds of yield


def test_unwaited_error_raised_by_close(make_system):
    js = make_system()
    js.run(boom, "never waited")
    with pytest.raises(fiberjob.JobError) as ei:
        js.close()
    assert str(ei.value.__cause__) == "never waited"


def test_fire_and_forget_error_raised_by_with_exit():
    with pytest.raises(fiberjob.JobError) as ei:
        with fiberjob.JobSystem(workers=2) as js:
            js.run(lambda ctx: ctx.spawn(boom, "nested")).wait()
    assert str(ei.value.__cause__) == "nested"


def test_with_exit_does_not_mask_body_exception():
    with pytest.raises(KeyError):
        with fiberjob.JobSystem(workers=1) as js:
            js.run(boom, "x")
            raise KeyError("body")


def test_blocking_wait_inside_plain_job(js):
    def job(ctx):
        js.counter().wait()

    with pytest.raises(fiberjob.JobError) as ei:
        js.run(job).wait()
    assert isinstance(ei.value.__cause__, fiberjob.InJobError)
    assert "yield counter" in str(ei.value.__cause__)


def test_timed_wait_inside_job(js):
    def job(ctx):
        js.counter().wait(timeout=1)

    with pytest.raises(fiberjob.JobError) as ei:
        js.run(job).wait()
    assert isinstance(ei.value.__cause__, fiberjob.InJobError)


def test_close_inside_job(js):
    with pytest.raises(fiberjob.JobError) as ei:
        js.run(lambda ctx: js.close()).wait()
    assert isinstance(ei.value.__cause__, fiberjob.InJobError)
    assert not js.closed


def test_calls_after_close(make_system):
    js = make_system()
    c = js.counter()
    js.close()
    with pytest.raises(fiberjob.ShutdownError) as ei:
        js.run(lambda ctx: None)
    assert str(ei.value).startswith(ffi.string(lib.fj_strerror(lib.FJ_ESHUTDOWN)).decode())
    for call in (lambda: js.run_many([]), js.counter, js.stats, lambda: js.workers):
        with pytest.raises(fiberjob.ShutdownError):
            call()
    c.wait()  # a counter of a closed system is zero


def test_submission_racing_close_is_refused_or_run(make_system):
    js = make_system(workers=1)
    job, started, ev = blocker()
    js.run(job)
    started.wait()
    results = []

    def late():
        try:
            while lib.fjpy_sys_state(js._g) == lifetime.OPEN:
                pass
            js.run(lambda ctx: results.append("ran"))
        except fiberjob.ShutdownError:
            results.append("refused")
        finally:
            ev.set()

    t = threading.Thread(target=late)
    t.start()
    js.close()
    t.join()
    assert results == ["refused"]


@pytest.mark.parametrize("bad", [3, -1, 99, "HIGH", None, 1.5, True])
def test_bad_priority(js, bad):
    with pytest.raises(fiberjob.PriorityError) as ei:
        js.run(lambda ctx: None, priority=bad)
    assert isinstance(ei.value, ValueError)
    assert str(ei.value).startswith(ffi.string(lib.fj_strerror(lib.FJ_EPRIORITY)).decode())
    with pytest.raises(fiberjob.PriorityError):
        js.run_many([(lambda ctx: None, ())], priority=bad)


def test_bad_priority_in_spawn(js):
    def job(ctx):
        ctx.spawn(lambda ctx: None, priority=7)

    with pytest.raises(fiberjob.JobError) as ei:
        js.run(job).wait()
    assert isinstance(ei.value.__cause__, fiberjob.PriorityError)


@pytest.mark.parametrize("kw", [
    {"stack_size": 2 ** 40},            # more than FJ_MAX_STACK_SIZE: cannot be mapped
    {"stack_size": 1024},               # below FJ_MIN_STACK_SIZE
    {"stack_size": -1},
    {"workers": 100000},
    {"workers": -2},
    {"max_pooled_fibers": "many"},
])
def test_bad_config(kw):
    with pytest.raises(fiberjob.ConfigError):
        fiberjob.JobSystem(**kw)


def test_counter_of_another_system(make_system):
    a, b = make_system(), make_system()
    cb = b.counter()
    with pytest.raises(fiberjob.WrongSystemError):
        a.run(lambda ctx: None, counter=cb)

    def gen(ctx):
        yield cb

    with pytest.raises(fiberjob.JobError) as ei:
        a.run(gen).wait()
    assert isinstance(ei.value.__cause__, fiberjob.WrongSystemError)


def test_not_callable_and_bad_items(js):
    with pytest.raises(TypeError):
        js.run(42)
    with pytest.raises(TypeError):
        js.run_many([42])
    with pytest.raises(TypeError):
        js.run(lambda ctx: None, counter="c")
    with pytest.raises(TypeError):
        js.run(fiberjob.native.spin(1), 5)


def test_wait_timeout(js1):
    job, started, ev = blocker()
    c = js1.run(job)
    with pytest.raises(TimeoutError):
        c.wait(timeout=0.01)
    with pytest.raises(fiberjob.WaitTimeoutError):
        c.wait(timeout=0)
    assert c.value == 1
    ev.set()
    c.wait(timeout=60)
    assert c.value == 0


def test_dropped_counter_with_running_jobs_is_safe(js1):
    job, started, ev = blocker()
    js1.run(job)  # the returned counter is dropped at once
    t = fiberjob.native.yielder(5)
    js1.run(t)    # likewise, with a native task in flight
    import gc
    gc.collect()
    ev.set()
    js1.close()
    assert t.done


def test_interpreter_exit_with_running_system():
    code = (
        "import fiberjob\n"
        "js = fiberjob.JobSystem(workers=2)\n"
        "def gen(ctx):\n"
        "    for _ in range(200):\n"
        "        yield\n"
        "for _ in range(50): js.run(gen)\n"
        "js.run(fiberjob.native.yielder(1000))\n"
        "print('exiting')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, env=os.environ)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "exiting"


def test_deep_recursion_with_default_stack_is_recursion_error(js):
    def rec(n):
        return 0 if n == 0 else 1 + rec(n - 1)

    nested = []
    for _ in range(3000):
        nested = [nested]
    for job in (lambda ctx: rec(100000), lambda ctx: repr(nested)):  # Python and C recursion
        with pytest.raises(fiberjob.JobError) as ei:
            js.run(job).wait()
        assert isinstance(ei.value.__cause__, RecursionError)


def _run_script(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=os.environ)


@pytest.mark.skipif("san" in os.environ.get("LD_PRELOAD", ""),
                    reason="sanitizer runtimes need more address space than the limit")
def test_stack_that_cannot_be_mapped_is_memory_error():
    r = _run_script(
        "import resource, fiberjob\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "try:\n"
        "    fiberjob.JobSystem(workers=2, stack_size=1 << 30)\n"
        "except fiberjob.OutOfMemoryError as e:\n"
        "    assert isinstance(e, MemoryError)\n"
        "    print('refused:', e)\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("refused: ")


def test_fiber_stack_overflow_is_reported_then_aborts():
    # Not recoverable (documented): the library prints why and aborts.
    r = _run_script(
        "import fiberjob\n"
        "x = []\n"
        "for _ in range(3000): x = [x]\n"
        "js = fiberjob.JobSystem(workers=1, stack_size=16 * 1024)\n"
        "js.run(lambda ctx: repr(x)).wait()\n")
    assert r.returncode != 0
    assert "fiber stack overflow" in r.stderr
    assert "JobSystem(stack_size=" in r.stderr   # the setting, as a Python caller spells it


def test_ctrl_c_interrupts_a_blocking_wait(js1):
    import _thread
    job, started, ev = blocker()
    c = js1.run(job)
    started.wait()
    threading.Timer(0.01, _thread.interrupt_main).start()
    with pytest.raises(KeyboardInterrupt):
        c.wait()
    ev.set()
    c.wait()
