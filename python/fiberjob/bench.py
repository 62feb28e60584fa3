# SPDX-License-Identifier: MIT
"""Per-job cost of fiberjob from Python.

    python -m fiberjob.bench [--workers 2] [--jobs 20000] [--repeats 7] [--json]

Figures (median over --repeats runs, after one warm-up run), each the wall
time of a whole batch divided by its number of jobs:
  python_job_run        js.run(noop) per job, then one wait: submit + run a Python job
  python_job_run_many   one js.run_many of the batch, then one wait
  native_job_run        js.run(native.spin(0)) per job, then one wait
  native_job_run_many   one js.run_many of native tasks, then one wait
  python_job_roundtrip  js.run(noop).wait() one at a time (latency, not throughput)
  native_job_roundtrip  js.run(task).wait() one at a time
"""
import argparse
import json
import statistics
import time

from . import JobSystem, native


def _noop(ctx):
    pass


def _batch_run(js, make, n):
    jobs = [make() for _ in range(n)]
    c = js.counter()
    t0 = time.perf_counter_ns()
    for j in jobs:
        js.run(j, counter=c)
    c.wait()
    return (time.perf_counter_ns() - t0) / n


def _batch_run_many(js, make, n):
    jobs = [make() for _ in range(n)]
    items = [j if isinstance(j, native.NativeTask) else (j, ()) for j in jobs]
    t0 = time.perf_counter_ns()
    js.run_many(items).wait()
    return (time.perf_counter_ns() - t0) / n


def _roundtrip(js, make, n):
    jobs = [make() for _ in range(n)]
    t0 = time.perf_counter_ns()
    for j in jobs:
        js.run(j).wait()
    return (time.perf_counter_ns() - t0) / n


def measure(workers=2, jobs=20000, repeats=7):
    py = lambda: _noop  # noqa: E731
    nat = lambda: native.spin(0)  # noqa: E731
    cases = [
        ("python_job_run", _batch_run, py, jobs),
        ("python_job_run_many", _batch_run_many, py, jobs),
        ("native_job_run", _batch_run, nat, jobs),
        ("native_job_run_many", _batch_run_many, nat, jobs),
        ("python_job_roundtrip", _roundtrip, py, max(1, jobs // 10)),
        ("native_job_roundtrip", _roundtrip, nat, max(1, jobs // 10)),
    ]
    out = {}
    with JobSystem(workers=workers) as js:
        for name, fn, make, n in cases:
            fn(js, make, n)  # warm-up: fibers, counters, allocator
            runs = [fn(js, make, n) for _ in range(repeats)]
            out[name] = {"median_ns": statistics.median(runs), "min_ns": min(runs),
                         "max_ns": max(runs), "jobs": n, "repeats": repeats,
                         "workers": workers}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m fiberjob.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="one JSON line per figure")
    a = ap.parse_args(argv)
    res = measure(a.workers, a.jobs, a.repeats)
    for name, r in res.items():
        if a.json:
            print(json.dumps({"figure": name, **r}))
        else:
            print("%-22s median %8.0f ns/job  (min %.0f, max %.0f; %d jobs x %d runs, %d workers)"
                  % (name, r["median_ns"], r["min_ns"], r["max_ns"], r["jobs"], r["repeats"],
                     r["workers"]))


if __name__ == "__main__":
    main()
