# SPDX-License-Identifier: MIT
"""Job errors are never silently lost: every waiter of a failed counter gets
the JobError (it stays with the counter until reuse, like a Future),
close() reports each error nobody retrieved exactly once, errors nobody
ever retrieved are printed at interpreter exit, and a `with` block left by
another exception carries them as __context__."""
import threading

import pytest

import fiberjob

from conftest import blocker, run_script


def boom(ctx, msg="boom"):
    raise RuntimeError(msg)


def _failing_counter_held_open(js, msg):
    """A counter with one failed job and one held open until ev is set."""
    job, started, ev = blocker()
    c = js.counter()
    js.run(job, counter=c)
    js.run(boom, msg, counter=c)
    started.wait()
    return c, ev


def test_every_waiting_thread_gets_the_job_error(js):
    c, ev = _failing_counter_held_open(js, "shared")
    got = []
    ready = threading.Barrier(5)

    def waiter():
        ready.wait()
        try:
            c.wait()
        except fiberjob.JobError as e:
            got.append(str(e.__cause__))
        else:
            got.append(None)

    threads = [threading.Thread(target=waiter) for _ in range(4)]
    for t in threads:
        t.start()
    ready.wait()
    ev.set()
    for t in threads:
        t.join()
    assert got == ["shared"] * 4


def test_generator_and_thread_waiters_both_get_it(js):
    c, ev = _failing_counter_held_open(js, "both")
    seen = []

    def gen_waiter(ctx):
        try:
            yield c
        except fiberjob.JobError as e:
            seen.append(("gen", str(e.__cause__)))

    w = js.run(gen_waiter)
    ev.set()
    with pytest.raises(fiberjob.JobError):
        c.wait()
    w.wait()
    assert seen == [("gen", "both")]


def test_error_stays_until_the_counter_is_reused(js):
    c = js.run(boom, "first")
    for _ in range(3):
        with pytest.raises(fiberjob.JobError):
            c.wait()
    js.run(lambda ctx: None, counter=c)     # reuse after a wait saw it finish
    c.wait()                                # the old error no longer describes it


def test_counter_touching_zero_between_submissions_keeps_its_error(js1):
    c = js1.run(boom, "early")
    while c.value:                          # it reaches zero, but nobody waited
        pass
    js1.run(lambda ctx: None, counter=c)
    with pytest.raises(fiberjob.JobError) as ei:
        c.wait()
    assert str(ei.value.__cause__) == "early"


def test_close_reports_each_unretrieved_error_once(make_system):
    js = make_system()
    waited = js.run(boom, "waited")
    js.run(boom, "unwaited")
    with pytest.raises(fiberjob.JobError):
        waited.wait()
    with pytest.raises(fiberjob.JobError) as ei:
        js.close()
    assert [str(e) for _, e in ei.value.errors] == ["unwaited"]
    js.close()                              # reported already: nothing more


def test_with_block_left_by_another_exception_chains_the_job_error():
    with pytest.raises(KeyError) as ei:
        with fiberjob.JobSystem(workers=1) as js:
            js.run(boom, "hidden?")
            raise KeyError("body")
    ctx = ei.value.__context__
    assert isinstance(ctx, fiberjob.JobError)
    assert str(ctx.__cause__) == "hidden?"


def test_with_block_chain_goes_to_the_end_of_an_existing_context():
    with pytest.raises(KeyError) as ei:
        with fiberjob.JobSystem(workers=1) as js:
            js.run(boom, "job")
            try:
                raise ValueError("first")
            except ValueError:
                raise KeyError("second")
    first = ei.value.__context__
    assert isinstance(first, ValueError)
    assert isinstance(first.__context__, fiberjob.JobError)


NEVER_RETRIEVED = """
    import fiberjob
    def boom(ctx, msg):
        raise RuntimeError(msg)
    js = fiberjob.JobSystem(workers=2)
    js.run(boom, "lost in a system left open")
    c = js.run(boom, "retrieved")
    try:
        c.wait()
    except fiberjob.JobError:
        pass
    dropped = fiberjob.JobSystem(workers=1)
    dropped.run(boom, "lost in a dropped system")
    {between}
    print("end of script", flush=True)
"""


def test_errors_nobody_retrieved_are_printed_at_exit():
    r = run_script(NEVER_RETRIEVED.format(between="del dropped"), timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "end of script"
    assert r.stderr.count("was never retrieved") == 2, r.stderr
    assert "RuntimeError: lost in a system left open" in r.stderr
    assert "RuntimeError: lost in a dropped system" in r.stderr
    assert "retrieved\n" not in r.stderr.replace("never retrieved", "")


def test_error_raised_by_close_is_not_printed_again():
    r = run_script(NEVER_RETRIEVED.format(
        between="""
    for s in (js, dropped):
        try:
            s.close()
        except fiberjob.JobError as e:
            print("close:", e.__cause__, flush=True)
        """), timeout=60)
    assert r.returncode == 0, r.stderr
    assert "never retrieved" not in r.stderr, r.stderr
    assert "close: lost in a system left open" in r.stdout


def test_a_forked_child_does_not_print_the_parents_errors():
    r = run_script("""
        import os, fiberjob
        def boom(ctx):
            raise RuntimeError("parent's")
        js = fiberjob.JobSystem(workers=1)
        js.run(boom)
        js.run(lambda ctx: None).wait()     # the failed job has finished
        pid = os.fork()
        if pid == 0:
            raise SystemExit(0)             # atexit runs in the child too
        os.waitpid(pid, 0)
    """, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("was never retrieved") == 1, r.stderr
