# SPDX-License-Identifier: MIT
"""Debugging tools from Python: js.dump(), traces (JSON structure against
fj_stats), stall/deadlock reports and the dump signal (in subprocesses, whose
stderr is read until the report is complete, then the child is killed)."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

import fiberjob
from fiberjob._ffi import ffi, lib


def test_dump_shows_parked_and_yielded_python_jobs(js1):
    gate, done = js1.counter(), js1.counter()
    started, release, all_queued = threading.Event(), threading.Event(), threading.Event()

    def holder(ctx):
        # parked_gen must not run before the blocker counts on the gate,
        # or its yield finds the gate at zero and it never parks.
        all_queued.wait()

    def parked_gen(ctx, gate):
        yield gate

    def yielding_gen(ctx):
        yield

    def blocker(ctx):
        started.set()
        release.wait()   # holds the only worker (and the gate) meanwhile

    # One worker takes them in order: the holder waits until all are
    # queued, parked_gen parks on the gate, yielding_gen yields to the
    # blocker, which then holds the worker.
    js1.run(holder, counter=done)
    js1.run(parked_gen, gate, counter=done)
    js1.run(yielding_gen, counter=done)
    js1.run(blocker, counter=gate)
    all_queued.set()
    assert started.wait(60)
    try:
        text = js1.dump()
    finally:
        release.set()
    done.wait()
    assert "fiberjob dump: 1 worker, 2 suspended fibers" in text, text
    assert 'worker 0: running job "test_dump_shows_parked_and_yielded_python_jobs.<locals>.blocker"' in text, text
    assert ('job "test_dump_shows_parked_and_yielded_python_jobs.<locals>.parked_gen" '
            '(priority normal), parked on counter') in text, text
    assert "(value 1, 1 waiter)" in text, text
    assert ('job "test_dump_shows_parked_and_yielded_python_jobs.<locals>.yielding_gen" '
            '(priority normal), ready after a yield') in text, text
    # The C trampoline that runs Python jobs is the frame that suspended.
    assert text.count("fjpy_job (_native.c:") == 2, text


def test_dump_of_closed_system_raises(make_system):
    js = make_system()
    js.close()
    with pytest.raises(fiberjob.ShutdownError):
        js.dump()


def _fork_join(js, fanout):
    def leaf(ctx, i):
        yield
        return i

    def parent(ctx):
        c = ctx.counter()
        for i in range(fanout):
            ctx.spawn(leaf, i, counter=c)
        yield c

    js.run(parent).wait()


def test_trace_structure_matches_stats(js, tmp_path):
    path = tmp_path / "trace.json"
    _fork_join(js, 4)   # warm: fibers mapped, nothing left running
    before = js.stats()
    with js.trace(str(path)):
        _fork_join(js, 16)
    after = js.stats()
    doc = json.loads(path.read_text())
    assert doc["otherData"]["dropped_events"] == 0
    events = doc["traceEvents"]
    tracks = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert tracks == {i: "worker %d" % i for i in range(js.workers)}
    runs = [e for e in events if e["ph"] == "X"]
    ends = [e["args"]["end"] for e in runs]
    assert ends.count("finished") == after.jobs_run - before.jobs_run == 17
    assert ends.count("yielded") == after.yields - before.yields
    assert ends.count("parked") == after.waits_suspended - before.waits_suspended
    names = {e["name"] for e in runs}
    assert names == {"_fork_join.<locals>.leaf", "_fork_join.<locals>.parent"}, names
    # Every run ends on a worker track with a non-negative duration, and
    # each suspension's arrow has both ends, leaving after it starts.
    assert all(e["tid"] in tracks and e["dur"] >= 0 for e in runs)
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    finishes = {e["id"]: e for e in events if e["ph"] == "f"}
    assert set(starts) == set(finishes)
    assert len(starts) == ends.count("yielded") + ends.count("parked")
    assert all(finishes[i]["ts"] >= starts[i]["ts"] for i in starts)
    instants = [e for e in events if e["ph"] == "i"]
    assert {e["name"] for e in instants} <= {"steal", "park", "wake"}
    assert sum(e["name"] == "park" for e in instants) == ends.count("parked")
    assert sum(e["name"] == "steal" for e in instants) == after.jobs_stolen - before.jobs_stolen


def test_trace_errors(js, tmp_path):
    assert lib.fjpy_sys_trace_stop(js._g, ffi.NULL) == lib.FJ_ESTATE
    with js.trace(str(tmp_path / "a.json")):
        with pytest.raises(fiberjob.StateError):
            with js.trace(str(tmp_path / "b.json")):
                pass
    assert not (tmp_path / "b.json").exists()
    with pytest.raises(fiberjob.WriteError):
        with js.trace(str(tmp_path / "no-such-dir" / "c.json")):
            pass


def test_timeline_png(js, tmp_path):
    pytest.importorskip("matplotlib")
    from fiberjob import timeline
    path, png = tmp_path / "t.json", tmp_path / "t.png"
    with js.trace(str(path)):
        _fork_join(js, 8)
    assert timeline.main([str(path), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stall_report_ms_is_checked(make_system):
    with pytest.raises(fiberjob.ConfigError):
        make_system(stall_report_ms=-1)
    with pytest.raises(fiberjob.ConfigError):
        make_system(dump_signal=signal.SIGSEGV)


# ---- subprocesses --------------------------------------------------------

# Each job waits until both are counted: job_a running before job_b is
# submitted would find cb at zero and return, and no cycle would form.
_CYCLE = textwrap.dedent("""
    import sys, threading, fiberjob
    js = fiberjob.JobSystem(workers=2{kw})
    ca, cb = js.counter(), js.counter()
    both_counted = threading.Event()
    def job_a(ctx):
        both_counted.wait()
        yield cb
    def job_b(ctx):
        both_counted.wait()
        yield ca
    js.run(job_a, counter=ca)
    js.run(job_b, counter=cb)
    both_counted.set()
    print("started", flush=True)
    ca.wait()   # never returns
""")


def _read_until(proc, marker, limit=1 << 20):
    """stderr of proc up to and including the line holding marker (or EOF)."""
    out = []
    size = 0
    for line in proc.stderr:
        out.append(line)
        size += len(line)
        if marker in line or size > limit:
            break
    return "".join(out)


def _child(code, env=None):
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **(env or {})))


def _kill(proc):
    proc.kill()
    proc.wait(60)
    proc.stdout.close()
    proc.stderr.close()


def _deadlock_reported(report):
    """Whether a stall report shows the whole cycle and the waiting thread."""
    line = next((l for l in report.splitlines() if l.startswith("DEADLOCK")), "")
    return ('job "job_a"' in line and 'job "job_b"' in line
            and "a thread in fj_wait waits on counter" in report)


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_deadlock_report(how):
    # A report can legitimately come before the picture is whole: on a
    # loaded machine 100 ms may pass with job_a parked while job_b has not
    # parked yet, or while the main thread is not yet inside ca.wait() or
    # between two of its 50 ms wait slices.  The monitor reports again after
    # each of those (a park is progress; a thread the last report did not
    # list is a new report), so read reports until one shows everything.
    # The timer only guards against a hang (it kills the child: EOF).
    if how == "argument":
        proc = _child(_CYCLE.format(kw=", stall_report_ms=100"))
    else:
        proc = _child(_CYCLE.format(kw=""), env={"FIBERJOB_STALL_MS": "100"})
    guard = threading.Timer(600, proc.kill)
    guard.start()
    reports = []
    try:
        while True:
            report = _read_until(proc, "end of stall report")
            if "end of stall report" not in report:
                break  # EOF: the child died or the guard killed it
            reports.append(report)
            if _deadlock_reported(report):
                break
    finally:
        guard.cancel()
        _kill(proc)
    text = "".join(reports)
    assert reports, "no stall report"
    for report in reports:
        assert "fiberjob: stall report: no job started, finished or resumed for" in report, text
    assert _deadlock_reported(reports[-1]), text


def test_dump_signal():
    # One worker: parked_here parks on the gate (the next job is not one of
    # the gate's, so it is not run inline), then blocker holds the worker
    # until the parent has read the dump; the gate's job runs after it.
    # holder keeps the worker until all three are queued: otherwise
    # parked_here could run before gate_job is counted on the gate, find it
    # at zero, and return without parking.
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import signal, sys, threading, fiberjob
        js = fiberjob.JobSystem(workers=1, dump_signal=signal.SIGUSR1)
        started, release, queued = threading.Event(), threading.Event(), threading.Event()
        def holder(ctx):
            queued.wait()
        def parked_here(ctx, gate):
            yield gate
        def blocker(ctx):
            started.set()
            release.wait()
        def gate_job(ctx):
            pass
        gate, done = js.counter(), js.counter()
        js.run(holder, counter=done)
        js.run(parked_here, gate, counter=done)
        js.run(blocker, counter=done)
        js.run(gate_job, counter=gate)
        queued.set()
        started.wait()
        print("ready", flush=True)
        sys.stdin.readline()
        release.set()
        js.close()
        print("closed", flush=True)
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGUSR1)
        text = _read_until(proc, "end of dump")
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == "closed\n"
        assert proc.wait(60) == 0
        assert proc.stderr.read() == ""   # nothing else on stderr
    finally:
        if proc.poll() is None:
            _kill(proc)
    assert "fiberjob dump: 1 worker, 1 suspended fiber" in text, text
    assert 'worker 0: running job "blocker"' in text, text
    assert 'job "parked_here" (priority normal), parked on counter' in text, text
    assert "fjpy_job (_native.c:" in text, text
