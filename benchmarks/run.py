#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Runs every benchmark program side by side and writes the report.

Each measurement is one process run of a benchmark program that prints JSON
lines (benchmarks/bench_util.h).  Every (system, workload) gets a warm-up run
and then --runs timed runs; the report gives the median and the min-max.
A wrong result (exit status 3) fails the whole run; a run that exceeds its
timeout is reported as "timeout" and not repeated.

Usage: benchmarks/run.py --build build-bench --out bench-results [--runs 5] [--quick]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

SLICE_US = 50.0  # the fairness workload's yield interval (fiberjob_bench.c)

# (system label, program, extra args, workloads the program is asked for)
PLAN = [
    ("raw-fcontext", "raw_fcontext_bench", [], ["yield", "parked"]),
    ("fiberjob", "fiberjob_bench", [],
     ["yield", "yield64", "empty", "empty_unbatched", "fib", "fib_cutoff", "skynet",
      "parked", "fairness"]),
    ("fiberjob-nofibers", "fiberjob_bench", ["--no-fibers"],
     ["empty", "empty_unbatched", "fib", "fib_cutoff", "skynet"]),
    ("onetbb", "tbb_bench", [], ["empty", "fib", "fib_cutoff", "skynet", "parked"]),
    ("openmp", "omp_bench", [], ["empty", "fib", "fib_cutoff", "skynet"]),
    ("boost-fiber", "boost_fiber_bench", [],
     ["yield", "yield64", "empty", "fib", "fib_cutoff", "skynet", "parked"]),
]

SYSTEMS = ["fiberjob", "fiberjob-nofibers", "raw-fcontext", "onetbb", "openmp", "boost-fiber"]

# Rows of the full table: (workload key, label).
ROWS = [
    ("yield", "yield, 2 fibers on 1 worker (ns per yield; raw: one round trip)"),
    ("yield64", "yield, 64 fibers on 1 worker (ns per yield)"),
    ("empty", "empty jobs, batches of 1,000 (ns per job)"),
    ("empty_unbatched", "empty jobs, one submission each (ns per job)"),
    ("fib", "fib(30), no cutoff (ms)"),
    ("fib_cutoff", "fib(30), serial below 16 (ms)"),
    ("skynet", "skynet, 1,000,000 leaves (ms)"),
    ("parked", "10,000 parked fibers, 64 KiB stacks (KiB resident each)"),
    ("parked_peak_rss", "10,000 parked fibers: peak RSS (MiB)"),
    ("fairness_high_p50", "fairness: HIGH job start latency p50 (µs)"),
    ("fairness_high_p99", "fairness: HIGH job start latency p99 (µs)"),
    ("fairness_normal_p50", "fairness: NORMAL job start latency p50 (µs)"),
    ("fairness_normal_p99", "fairness: NORMAL job start latency p99 (µs)"),
]

# Published figures of peers on this kind of machine, from the issue; not
# measured here.
PEERS = {
    "yield": "raw fcontext 11.4, Argobots 30, Boost.Fiber 27–53; marl, FiberTaskingLib: no yield",
    "empty": "FiberTaskingLib 95, marl 151, Argobots 247, enkiTS 338, OpenMP 356, oneTBB 452",
    "fib": "enkiTS 76, Argobots 92, oneTBB 96, OpenMP 2,200, marl 8,700; FiberTaskingLib hangs, "
           "Boost.Fiber never finishes",
    "skynet": "oneTBB 22, Argobots 30, enkiTS 32, FiberTaskingLib 81, OpenMP 227, marl 796, "
              "Boost.Fiber 10,900",
    "parked": "raw 4.1, Argobots 5.0, marl 6.0, oneTBB 6.2, Boost.Fiber 9.3, FiberTaskingLib 12.3",
}


def run_once(path, args, timeout):
    """One process run: ({workload: value}, units) or "timeout"."""
    try:
        p = subprocess.run([path] + args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", {}
    if p.returncode == 3:
        sys.stderr.write(p.stderr)
        sys.exit("run.py: WRONG RESULT from %s %s — failing the run" % (path, " ".join(args)))
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit("run.py: %s %s exited with %d" % (path, " ".join(args), p.returncode))
    values, units = {}, {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            m = json.loads(line)
            values[m["workload"]] = m["value"]
            units[m["workload"]] = m["unit"]
    return values, units


def measure(build, runs, timeout, log):
    """Returns {system: {workload: {"values": [...], "unit": u} or "timeout"}}."""
    results = {s: {} for s in SYSTEMS}
    for system, prog, extra, workloads in PLAN:
        path = os.path.join(build, "benchmarks", prog)
        if not os.path.exists(path):
            log("  %-18s not built (library not found at configure time): skipped" % system)
            continue
        for w in workloads:
            args = [w] + extra
            first, _ = run_once(path, args, timeout)  # warm-up
            if first == "timeout":
                log("  %-18s %-16s timeout (> %ds)" % (system, w, timeout))
                results[system][w] = "timeout"
                continue
            samples = {}
            for _ in range(runs):
                values, units = run_once(path, args, timeout)
                if values == "timeout":
                    break
                for k, v in values.items():
                    samples.setdefault(k, {"values": [], "unit": units[k]})["values"].append(v)
            for k, s in samples.items():
                results[system][k] = s
                log("  %-18s %-20s median %10.4g %s" % (system, k, statistics.median(s["values"]),
                                                          s["unit"]))
    return results


def median(results, system, workload):
    r = results.get(system, {}).get(workload)
    if not r or r == "timeout":
        return None
    return statistics.median(r["values"])


def cell(results, system, workload):
    r = results.get(system, {}).get(workload)
    if r is None:
        return "n/a"
    if r == "timeout":
        return "timeout"
    v = r["values"]
    return "%s [%s–%s]" % (fmt(statistics.median(v)), fmt(min(v)), fmt(max(v)))


def fmt(x):
    if x is None:
        return "n/a"
    return "%.3g" % x if abs(x) < 100 else "%.0f" % x


def targets(results):
    """The issue's targets, each with its figure: (claim, figure, target, met)."""
    out = []
    m = lambda s, w: median(results, s, w)

    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b

    r = ratio(m("fiberjob", "yield"), m("raw-fcontext", "yield"))
    out.append(("yield ÷ raw fcontext round trip (same run)", fmt(r) + "×", "≤ 2.0×",
                r is not None and r <= 2.0))
    for w, label in (("empty", "batched"), ("empty_unbatched", "unbatched")):
        ours = m("fiberjob", w)
        peers = [m(s, w) for s in ("onetbb", "openmp", "boost-fiber")]
        best = min([p for p in peers if p is not None] + [95.0])
        out.append(("empty jobs, %s: ns per job vs best peer (measured here or published)" % label,
                    "%s ns (best peer %s)" % (fmt(ours), fmt(best)), "below best peer",
                    ours is not None and ours < best))
    for w in ("fib", "skynet"):
        r = ratio(m("fiberjob", w), m("onetbb", w))
        bf = m("boost-fiber", w)
        ahead = m("fiberjob", w) is not None and (bf is None or m("fiberjob", w) < bf)
        out.append(("%s: ÷ oneTBB, and ahead of Boost.Fiber (the suspending peer here)" % w,
                    "%s× oneTBB; %s ms vs Boost.Fiber %s" % (fmt(r), fmt(m("fiberjob", w)),
                                                           cell(results, "boost-fiber", w)),
                    "≤ 1.2× and ahead", r is not None and r <= 1.2 and ahead))
    p = m("fiberjob", "parked")
    out.append(("resident memory per parked fiber, 64 KiB stacks", "%s KiB" % fmt(p), "≤ 6 KiB",
                p is not None and p <= 6.0))
    for w in ("empty", "fib"):
        r = ratio(m("fiberjob", w), m("fiberjob-nofibers", w))
        out.append(("no-fiber tax on %s: fibers on ÷ enable_yielding = 0" % w, fmt(r) + "×",
                    "≤ 1.10×", r is not None and r <= 1.10))
    p99 = m("fiberjob", "fairness_high_p99")
    out.append(("fairness: HIGH job start latency p99 (yield interval %g µs)" % SLICE_US,
                "%s µs = %s intervals" % (fmt(p99), fmt(None if p99 is None else p99 / SLICE_US)),
                "< 2 intervals", p99 is not None and p99 < 2 * SLICE_US))
    return out


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_report(results, out, runs, elapsed):
    lines = ["# libfiberjob benchmark report", "",
             "Machine: %s, %d CPUs, %s. Each figure is the median of %d runs after a warm-up run, "
             "with [min–max]; 2 workers unless stated. Produced by `bash tools/bench.sh` in %.0f s."
             % (platform.platform(), os.cpu_count(), cpu_model(), runs, elapsed),
             "", "## Targets", "", "| claim | figure | target | met |", "|---|---|---|---|"]
    for claim, figure, target, met in targets(results):
        lines.append("| %s | %s | %s | %s |" % (claim, figure, target, "yes" if met else "**MISSED**"))
    lines += ["", "## All measurements", "",
              "| workload | " + " | ".join(SYSTEMS) + " |",
              "|---|" + "---|" * len(SYSTEMS)]
    for key, label in ROWS:
        lines.append("| %s | " % label + " | ".join(cell(results, s, key) for s in SYSTEMS) + " |")
    lines += ["", "n/a: the system has no such operation or the program does not measure it "
              "(see benchmarks/README.md). oneTBB and OpenMP have no batch submission: their two "
              "empty-job rows are the same loop. Boost.Fiber runs one fiber per job.", "",
              "## Published peer figures (not measured here)", ""]
    for k, v in PEERS.items():
        lines.append("- **%s**: %s" % (k, v))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(text)
    return text


def plot(results, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("run.py: matplotlib missing, no plots", file=sys.stderr)
        return
    groups = {
        "yield": (["yield", "yield64"], "ns per yield", False),
        "empty_jobs": (["empty", "empty_unbatched"], "ns per job", True),
        "fork_join": (["fib", "fib_cutoff", "skynet"], "ms", True),
        "parked": (["parked"], "KiB resident per parked fiber", False),
        "fairness": (["fairness_high_p50", "fairness_high_p99", "fairness_normal_p50",
                      "fairness_normal_p99"], "µs from submit to start", False),
    }
    for name, (keys, unit, log) in groups.items():
        fig, ax = plt.subplots(figsize=(9, 4.5))
        width = 0.8 / len(SYSTEMS)
        for i, s in enumerate(SYSTEMS):
            xs, ys, lo, hi = [], [], [], []
            for j, k in enumerate(keys):
                r = results.get(s, {}).get(k)
                if not r or r == "timeout":
                    continue
                v = r["values"]
                med = statistics.median(v)
                xs.append(j + i * width)
                ys.append(med)
                lo.append(med - min(v))
                hi.append(max(v) - med)
            if xs:
                ax.bar(xs, ys, width, yerr=[lo, hi], label=s, capsize=2)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))])
        ax.set_xticklabels(keys)
        ax.set_ylabel(unit)
        if log:
            ax.set_yscale("log")
        ax.set_title(name.replace("_", " ") + " (median, min–max)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, name + ".png"), dpi=110)
        plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--out", default="bench-results")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=int, default=120, help="seconds per program run")
    ap.add_argument("--quick", action="store_true", help="2 runs each (a smoke test)")
    a = ap.parse_args()
    runs = 2 if a.quick else max(a.runs, 5)
    os.makedirs(a.out, exist_ok=True)
    start = time.time()
    print("run.py: %d runs per measurement after a warm-up" % runs)
    results = measure(a.build, runs, a.timeout, print)
    elapsed = time.time() - start
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
                   "runs": runs, "seconds": round(elapsed, 1), "results": results,
                   "targets": [dict(zip(("claim", "figure", "target", "met"), t))
                               for t in targets(results)]}, f, indent=1)
    text = write_report(results, a.out, runs, elapsed)
    plot(results, a.out)
    print()
    print(text)
    print("run.py: report.md, results.json and PNG plots are in %s/" % a.out)


if __name__ == "__main__":
    main()
