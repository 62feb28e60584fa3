# SPDX-License-Identifier: MIT
"""A job waiting on the counter that counts it is an error (DeadlockError /
FJ_EDEADLK), not a hang; and fibers stay bounded from Python: one-yield jobs
need a handful, and gate waiters beyond what fibers allow still finish.
Cases that used to hang run in a subprocess with a timeout."""
import os
import threading

import fiberjob
from fiberjob._ffi import lib

from conftest import run_script


def test_edeadlk_maps_to_deadlock_error():
    e = fiberjob.error_for_code(lib.FJ_EDEADLK)
    assert type(e) is fiberjob.DeadlockError and e.code == lib.FJ_EDEADLK == -12
    assert isinstance(e, fiberjob.FiberJobError) and isinstance(e, ValueError)
    assert "counter that counts the job itself" in str(e)


def test_generator_yielding_its_own_counter_gets_deadlock_error(js):
    c = js.counter()
    seen = []

    def job(ctx):
        try:
            yield c
        except fiberjob.DeadlockError as e:
            seen.append(e)

    js.run(job, counter=c).wait()
    assert len(seen) == 1 and isinstance(seen[0], ValueError)


def test_generator_waiting_for_a_future_on_its_own_counter(js):
    # The child must still be pending at the yield: a Future already done
    # is answered at once whatever tracks it (python/README.md), and a
    # child free to run on the other worker could finish first.
    c = js.counter()
    seen = []
    release = threading.Event()

    def child(ctx):
        release.wait()
        return 1

    def job(ctx):
        fut = ctx.submit(child, counter=c)
        try:
            yield fut
        except fiberjob.DeadlockError:
            seen.append("refused")
        finally:
            release.set()

    js.run(job, counter=c).wait()
    assert seen == ["refused"]

def test_native_job_waiting_on_its_own_counter_fails_at_once():
    # In C: fj_ctx_wait on the job's own counter returns FJ_EDEADLK at once.
    # Before that fix this hung forever, and close() after it: subprocess.
    r = run_script("""
        import fiberjob
        from fiberjob import native
        from fiberjob._ffi import lib
        with fiberjob.JobSystem(workers=1) as js:
            c = js.counter()
            w = native.waiter(c)
            js.run(w, counter=c)
            c.wait(timeout=30)
            print(w.status == lib.FJ_EDEADLK, flush=True)
            try:
                w.check()
            except fiberjob.DeadlockError:
                print("DeadlockError", flush=True)
    """, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "DeadlockError"]


SCALE = max(1, int(os.environ.get("FJ_TEST_SCALE", "1")))


def test_one_yield_generator_jobs_need_a_handful_of_fibers():
    # 40,000 generator jobs that yield once, one worker: a yield resumes
    # older yielded fibers before starting new jobs, so no yield fails for
    # lack of a fiber and few fibers are made (once: one per job, until the
    # kernel's mapping limit, then OutOfMemoryError in the jobs).
    r = run_script("""
        import fiberjob
        n = %d
        done = []
        def once(ctx):
            yield
            done.append(1)
        with fiberjob.JobSystem(workers=1, stack_size=64 * 1024) as js:
            js.run_many([(once, ())] * n).wait()
            s = js.stats()
        print(len(done) == n, s.fibers_created, flush=True)
    """ % (40_000 // SCALE), timeout=300)
    assert r.returncode == 0, r.stderr
    ok, fibers = r.stdout.split()
    assert ok == "True"
    assert int(fibers) <= 300, fibers


def test_gate_waiters_released_by_a_low_priority_job():
    # 40,000 NORMAL generator jobs wait on a gate that one LOW job opens, on
    # one worker: when no more fibers can be made the worker must still run
    # the LOW job, and every waiter finishes.
    r = run_script("""
        import threading, fiberjob
        from fiberjob import Priority, native
        n = %d
        done = []
        with fiberjob.JobSystem(workers=1, stack_size=64 * 1024) as js:
            ev, started = threading.Event(), threading.Event()
            js.run(lambda ctx: (started.set(), ev.wait()))
            started.wait()                       # everything below queues
            gate = js.counter()
            js.run(native.spin(0), priority=Priority.LOW, counter=gate)
            def waiter(ctx):
                yield gate
                done.append(1)
            c = js.run_many([(waiter, ())] * n, priority=Priority.NORMAL)
            ev.set()
            c.wait(timeout=240)
        print(len(done) == n, flush=True)
    """ % (40_000 // SCALE), timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True"]
