# SPDX-License-Identifier: MIT
"""Shutdown that cannot be torn: close() is idempotent, thread-safe and
survives Ctrl-C; an interrupted submission submitted all its jobs or none;
a system dropped inside its own job is closed off its workers.  Cases that
could hang or corrupt the heap run in a subprocess."""
import threading
import time

import pytest

import fiberjob
from fiberjob import lifetime
from fiberjob._ffi import lib

from conftest import blocker, run_script


def test_close_is_idempotent(make_system):
    js = make_system()
    js.run(lambda ctx: None).wait()
    js.close()
    js.close()
    assert js.closed
    with pytest.raises(fiberjob.ShutdownError):
        js.run(lambda ctx: None)


def test_concurrent_close_callers_all_return_once_down():
    r = run_script("""
        import threading, fiberjob
        js = fiberjob.JobSystem(workers=1)
        ev, started = threading.Event(), threading.Event()
        ran = []
        js.run(lambda ctx: (started.set(), ev.wait(), ran.append(1)))
        started.wait()
        seen = []
        def closer():
            js.close()
            seen.append((js.closed, len(ran)))   # down: the job has run
        threads = [threading.Thread(target=closer) for _ in range(8)]
        for t in threads:
            t.start()
        ev.set()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads), "a close() caller hung"
        assert seen == [(True, 1)] * 8, seen
        print("ok")
    """, timeout=90)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


CTRL_C_DURING_CLOSE = """
    import os, signal, threading, time, fiberjob
    js = fiberjob.JobSystem(workers=1)
    done = []
    def slow(ctx):
        time.sleep(0.4)
        done.append(1)
    js.run(slow)
    threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        {close}
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    # Consistent: closed, or still closing and closable again.
    assert js.closed or not done
    {again}
"""


@pytest.mark.parametrize("close", ["js.close()", "with js: pass"])
@pytest.mark.parametrize("again", ["js.close(); assert js.closed and done == [1]; print('closed')",
                                   "print('left to exit')"])
def test_ctrl_c_during_close_never_destroys_twice(close, again):
    r = run_script(CTRL_C_DURING_CLOSE.format(close=close, again=again), timeout=60)
    assert r.returncode == 0, r.stderr
    assert "interrupted" in r.stdout
    assert "double free" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_ctrl_c_during_submission_submits_all_or_none():
    # SIGALRM at random moments raises KeyboardInterrupt inside run_many and
    # run; each call either submitted everything (all its jobs ran) or
    # nothing (none ran), and the step never meets an unknown job.
    r = run_script("""
        import random, signal, fiberjob
        armed = [False]
        def interrupt(signum, frame):
            # Python runs a handler at its next check, which can come after
            # the timer was cancelled (in the next call): only a signal
            # handled while the submission is under way interrupts it.
            if armed[0]:
                raise KeyboardInterrupt
        signal.signal(signal.SIGALRM, interrupt)
        js = fiberjob.JobSystem(workers=2)
        rng = random.Random(8)
        outcomes = {"returned": 0, "interrupted_all": 0, "interrupted_none": 0}
        for it in range(1500):
            ran = []
            c = js.counter()
            n = rng.choice([1, 40])
            returned = False
            try:
                armed[0] = True
                signal.setitimer(signal.ITIMER_REAL, rng.uniform(1e-6, 2e-4))
                try:
                    if n == 1:
                        js.run(lambda ctx: ran.append(1), counter=c)
                    else:
                        js.run_many([(lambda ctx: ran.append(1), ())] * n, counter=c)
                    returned = True
                finally:
                    armed[0] = False
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except KeyboardInterrupt:
                pass
            c.wait()
            assert len(ran) in (0, n), (it, n, len(ran))
            if returned:
                assert len(ran) == n
                outcomes["returned"] += 1
            else:
                outcomes["interrupted_all" if ran else "interrupted_none"] += 1
        js.close()
        print(outcomes)
        assert outcomes["interrupted_all"] + outcomes["interrupted_none"] > 0
    """, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "KeyError" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_system_dropped_inside_its_own_job_is_closed_off_its_workers():
    # `JobSystem().run(f)` keeps no reference: the last one goes when the
    # job ends, on a worker.  No "Exception ignored", and every worker
    # thread is joined (the thread count returns to where it was).
    r = run_script("""
        import os, time, fiberjob
        def threads():
            return len(os.listdir("/proc/self/task"))
        before = threads()
        for _ in range(5):
            fiberjob.JobSystem(workers=2).run(lambda ctx: time.sleep(0.05))
        end = time.monotonic() + 60
        while threads() > before and time.monotonic() < end:
            time.sleep(0.01)
        print("threads", before, threads(), flush=True)
        assert threads() == before
    """, timeout=90)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Exception ignored" not in r.stderr and "InJobError" not in r.stderr, r.stderr


def test_system_dropped_while_busy_finishes_its_jobs_before_exit():
    r = run_script("""
        import atexit, time
        out = []
        # Registered before fiberjob's hook, so it runs after it.
        atexit.register(lambda: print(out, flush=True))
        import fiberjob
        def job(ctx):
            time.sleep(0.2)
            out.append("ran")
        fiberjob.JobSystem(workers=1).run(job)   # never closed by the program
    """, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['ran']"


def test_submissions_racing_close_from_other_threads(make_system):
    # Every run() from another thread while close() runs is refused with
    # ShutdownError, or accepted and then run before close() returns; none
    # touches a freed system.
    js = make_system(workers=2)
    job, started, ev = blocker()
    js.run(job)
    started.wait()
    ran, accepted, refused = [], [], []

    def submitter():
        while True:
            try:
                js.run(lambda ctx: ran.append(1))
            except fiberjob.ShutdownError:
                refused.append(1)
                return
            accepted.append(1)

    threads = [threading.Thread(target=submitter) for _ in range(3)]
    for t in threads:
        t.start()
    while len(accepted) < 20 and all(t.is_alive() for t in threads):
        time.sleep(0.001)
    ev.set()
    js.close()
    for t in threads:
        t.join()
    assert js.closed and len(refused) == 3
    assert len(ran) == len(accepted)


def test_close_from_inside_own_job_is_refused(js):
    def job(ctx):
        js.close()

    with pytest.raises(fiberjob.JobError) as ei:
        js.run(job).wait()
    assert isinstance(ei.value.__cause__, fiberjob.InJobError)
    assert not js.closed


def test_system_in_a_cycle_outlives_whatever_it_references():
    # The cyclic GC finalizes a JobSystem in a reference cycle together with
    # everything only it references, in any order.  Play the worst order by
    # hand: every object the JobSystem holds that owns memory (ffi.gc / ffi.new
    # handles; ffi.release refuses the others) is finalized before its
    # __del__ runs.  __del__ and the exit hook must find the guard alive
    # (a handle owning it here freed it first: a use-after-free under ASan).
    r = run_script("""
        import gc, fiberjob
        from fiberjob._ffi import ffi
        for close_first in (True, False):
            js = fiberjob.JobSystem(workers=1)
            js.run(lambda ctx: None)
            if close_first:
                js.close()
            for v in list(vars(js).values()):
                if isinstance(v, ffi.CData):
                    try:
                        ffi.release(v)
                    except (ValueError, TypeError):
                        pass        # a plain pointer: owns nothing
            js.__del__()            # as the cyclic GC would, before dealloc
            assert js.closed or not close_first
        js2 = fiberjob.JobSystem(workers=1)   # releases the closed orphans
        js2.run(lambda ctx: None).wait()
        js2.close()
        print("ok")
    """, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_workers_leave_asynchronous_signals_to_pythons_threads(js):
    # A SIGINT/SIGALRM a worker took would only flag Python's handler, and
    # the main thread would raise KeyboardInterrupt later, outside the call
    # the signal interrupted.  Workers block them; faults stay deliverable.
    import signal
    masks = []
    c = js.counter()
    for _ in range(js.workers * 4):
        js.run(lambda ctx: masks.append(signal.pthread_sigmask(signal.SIG_BLOCK, [])),
               counter=c)
    c.wait()
    assert masks
    for m in masks:
        assert {signal.SIGINT, signal.SIGALRM, signal.SIGTERM, signal.SIGUSR1} <= m, m
        assert not {signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL} & m, m
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
