# SPDX-License-Identifier: MIT
"""Per-job cost of fiberjob from Python, next to ThreadPoolExecutor.

    python -m fiberjob.bench [--workers 2] [--jobs 20000] [--repeats 7] [--json]

Every figure is the wall time of a whole batch of trivial jobs divided by the
number of jobs, in ns/job: median over --repeats rounds after one warm-up
round.  The rounds are interleaved (each round runs every case once, in a
rotated order), so a busy machine slows all cases alike.  ``ratio`` is the
case's median over thread_pool_submit's median from the same run (< 1: cheaper
than ThreadPoolExecutor).  All fiberjob cases share one JobSystem of
--workers workers (the FiberExecutor's); the thread pool has as many threads.

  python_job_run        js.run(noop, counter=c) per job, then c.wait()    (counter fast path)
  python_job_run_many   one js.run_many of the batch, then one wait      (counter fast path)
  native_job_run        js.run(native.spin(0)) per job, then one wait
  native_job_run_many   one js.run_many of native tasks, then one wait
  future_submit         js.submit(noop) per job, then every result()      (a Future per job)
  executor_submit       FiberExecutor.submit(f) per job, then every result()
  executor_map          list(FiberExecutor.map(f, range(n)))              (chunksize 1)
  executor_map_chunked  list(FiberExecutor.map(f, range(n), chunksize=64))
  thread_pool_submit    ThreadPoolExecutor.submit(f) per job, then every result()  (baseline)
  thread_pool_map       list(ThreadPoolExecutor.map(f, range(n)))
  python_job_roundtrip  js.run(noop).wait() one at a time (latency; --jobs/10 jobs)
  native_job_roundtrip  js.run(task).wait() one at a time

--json prints one JSON object per line: {"figure", "median_ns", "min_ns",
"max_ns", "jobs", "repeats", "workers", "ratio", "baseline"}.
"""
import argparse
import concurrent.futures
import json
import statistics
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import FiberExecutor, JobSystem, native

BASELINE = "thread_pool_submit"


def _noop(ctx: Any) -> None:
    pass


def _f(x: Any = None) -> None:
    pass


def _per_job(t0: int, n: int) -> float:
    return (time.perf_counter_ns() - t0) / n


def _run(js: JobSystem, make: Callable[[], Any], n: int) -> float:
    jobs = [make() for _ in range(n)]
    c = js.counter()
    t0 = time.perf_counter_ns()
    for j in jobs:
        js.run(j, counter=c)
    c.wait()
    return _per_job(t0, n)


def _run_many(js: JobSystem, make: Callable[[], Any], n: int) -> float:
    jobs = [make() for _ in range(n)]
    items = [j if isinstance(j, native.NativeTask) else (j, ()) for j in jobs]
    t0 = time.perf_counter_ns()
    js.run_many(items).wait()
    return _per_job(t0, n)


def _roundtrip(js: JobSystem, make: Callable[[], Any], n: int) -> float:
    jobs = [make() for _ in range(n)]
    t0 = time.perf_counter_ns()
    for j in jobs:
        js.run(j).wait()
    return _per_job(t0, n)


def _submit_all(submit: Callable[..., concurrent.futures.Future], fn: Callable[..., Any],
                n: int) -> float:
    t0 = time.perf_counter_ns()
    fs = [submit(fn) for _ in range(n)]
    for f in fs:
        f.result()
    return _per_job(t0, n)


def _map_all(ex: concurrent.futures.Executor, n: int, chunksize: int = 1) -> float:
    t0 = time.perf_counter_ns()
    for _ in ex.map(_f, range(n), chunksize=chunksize):
        pass
    return _per_job(t0, n)


def measure(workers: int = 2, jobs: int = 20000,
            repeats: int = 7) -> Dict[str, Dict[str, Any]]:
    """Runs every case; returns {figure: {median_ns, min_ns, max_ns, jobs,
    repeats, workers, ratio, baseline}}."""
    py = lambda: _noop  # noqa: E731
    nat = lambda: native.spin(0)  # noqa: E731
    rt = max(1, jobs // 10)
    with FiberExecutor(workers) as fx, \
            concurrent.futures.ThreadPoolExecutor(workers) as tp:
        js = fx.system
        cases: List[Tuple[str, int, Callable[[], float]]] = [
            ("python_job_run", jobs, lambda: _run(js, py, jobs)),
            ("python_job_run_many", jobs, lambda: _run_many(js, py, jobs)),
            ("native_job_run", jobs, lambda: _run(js, nat, jobs)),
            ("native_job_run_many", jobs, lambda: _run_many(js, nat, jobs)),
            ("future_submit", jobs, lambda: _submit_all(js.submit, _noop, jobs)),
            ("executor_submit", jobs, lambda: _submit_all(fx.submit, _f, jobs)),
            ("executor_map", jobs, lambda: _map_all(fx, jobs)),
            ("executor_map_chunked", jobs, lambda: _map_all(fx, jobs, 64)),
            (BASELINE, jobs, lambda: _submit_all(tp.submit, _f, jobs)),
            ("thread_pool_map", jobs, lambda: _map_all(tp, jobs)),
            ("python_job_roundtrip", rt, lambda: _roundtrip(js, py, rt)),
            ("native_job_roundtrip", rt, lambda: _roundtrip(js, nat, rt)),
        ]
        for _, _, run in cases:
            run()   # warm-up: threads, fibers, counters, allocator
        runs: Dict[str, List[float]] = {name: [] for name, _, _ in cases}
        for r in range(repeats):
            k = r % len(cases)
            for name, _, run in cases[k:] + cases[:k]:
                runs[name].append(run())
    base = statistics.median(runs[BASELINE])
    out = {}
    for name, n, _ in cases:
        med = statistics.median(runs[name])
        out[name] = {"median_ns": med, "min_ns": min(runs[name]), "max_ns": max(runs[name]),
                     "jobs": n, "repeats": repeats, "workers": workers,
                     "ratio": med / base, "baseline": BASELINE}
    return out


def main(argv: Optional[List[str]] = None) -> None:
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
            print("%-22s median %8.0f ns/job  x%.2f of %s  (min %.0f, max %.0f; %d jobs x %d "
                  "rounds, %d workers)" % (name, r["median_ns"], r["ratio"], r["baseline"],
                                           r["min_ns"], r["max_ns"], r["jobs"], r["repeats"],
                                           r["workers"]))


if __name__ == "__main__":
    main()
