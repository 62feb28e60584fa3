# SPDX-License-Identifier: MIT
"""fork() with systems alive: in the child every inherited system is dead
(any use raises ForkedSystemError at once, no exit hang), a new system
works, and the parent's jobs are unaffected.  Each case forks inside a
subprocess with a timeout, so a hang fails instead of stalling the suite."""
from conftest import run_script

FORK_WHILE_JOBS_RUN = """
    import os, sys, time, fiberjob
    from fiberjob import native
    js = fiberjob.JobSystem(workers=2)
    spin = native.spin(300_000_000)            # runs through the fork
    c = js.run(spin)
    py_done = []
    pc = js.run(lambda ctx: (time.sleep(0.2), py_done.append(1)))
    time.sleep(0.05)
    pid = os.fork()
    if pid == 0:
        failures = []
        def expect_forked(what, call):
            try:
                call()
            except fiberjob.ForkedSystemError as e:
                assert isinstance(e, fiberjob.ShutdownError) and "fork" in str(e), e
            else:
                failures.append(what)
        expect_forked("run", lambda: js.run(lambda ctx: None))
        expect_forked("run_many", lambda: js.run_many([(lambda ctx: None, ())]))
        expect_forked("counter", js.counter)
        expect_forked("stats", js.stats)
        expect_forked("workers", lambda: js.workers)
        expect_forked("wait", c.wait)
        expect_forked("wait timeout", lambda: pc.wait(timeout=5))
        assert js.closed
        {child_close}
        with fiberjob.JobSystem(workers=2) as js2:     # a new system works
            out = []
            js2.run_many([(lambda ctx, i: out.append(i), (i,)) for i in range(100)]).wait()
            assert sorted(out) == list(range(100))
        print("child", failures or "ok", flush=True)
        {child_exit}
    c.wait()
    pc.wait()
    assert spin.done and py_done == [1]
    js.close()
    _, status = os.waitpid(pid, 0)
    print("parent ok", os.waitstatus_to_exitcode(status), flush=True)
"""


def _fork_case(child_close, child_exit):
    r = run_script(FORK_WHILE_JOBS_RUN.format(child_close=child_close, child_exit=child_exit),
                   timeout=90)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split("\n")[:2] == ["child ok", "parent ok 0"], r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr


def test_child_exits_normally_and_its_atexit_skips_inherited_systems():
    # sys.exit runs the atexit hook: it must not wait for the parent's jobs.
    _fork_case("", "sys.exit(0)")


def test_child_closing_an_inherited_system_is_a_no_op():
    _fork_case("js.close(); js.close()", "sys.exit(0)")


def test_child_os_exit():
    _fork_case("", "os._exit(0)")


def test_fork_while_a_system_is_closing_and_one_was_dropped():
    r = run_script("""
        import os, threading, time, fiberjob
        a = fiberjob.JobSystem(workers=1)
        a.run(lambda ctx: time.sleep(0.3))
        t = threading.Thread(target=a.close)
        t.start()                                 # closing in the parent
        fiberjob.JobSystem(workers=1).run(lambda ctx: time.sleep(0.3))   # dropped
        time.sleep(0.05)
        pid = os.fork()
        if pid == 0:
            try:
                a.run(lambda ctx: None)
            except fiberjob.ShutdownError:
                pass
            with fiberjob.JobSystem(workers=1) as b:
                b.run(lambda ctx: None).wait()
            print("child ok", flush=True)
            raise SystemExit(0)
        t.join()
        _, status = os.waitpid(pid, 0)
        print("parent ok", os.waitstatus_to_exitcode(status), flush=True)
    """, timeout=90)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split("\n")[:2] == ["child ok", "parent ok 0"], r.stdout + r.stderr
