#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Interleaved A/B run of two builds of a benchmark program.

usage: ab_compare.py OLD_BENCH NEW_BENCH [workload ...] [--rounds N]

Runs OLD and NEW alternately, N rounds per workload (default 7), so both
see the same machine state, and prints each side's median and the ratio
NEW/OLD (below 1 = NEW is faster).  The programs are two builds of
benchmarks/fiberjob_bench, or of any program of benchmarks/ that prints
one figure per run (fiberjob_cpp_bench fib_paired prints the C++ ÷ C
ratio, so its medians are ratios).
"""
import json
import statistics
import subprocess
import sys


def run(bench, workload):
    out = subprocess.run([bench, workload], check=True, capture_output=True, text=True).stdout
    recs = [json.loads(line) for line in out.splitlines()]
    for rec in recs:
        if rec.get("workload") == workload:
            return rec["value"], rec["unit"]
    if len(recs) == 1:  # a figure named otherwise (fib_paired: fib_cpp_over_c)
        return recs[0]["value"], recs[0]["unit"]
    raise SystemExit(f"{bench} {workload}: no figure in {out!r}")


def main():
    args = sys.argv[1:]
    rounds = 7
    if "--rounds" in args:
        i = args.index("--rounds")
        rounds = int(args[i + 1])
        del args[i : i + 2]
    old, new, *workloads = args
    workloads = workloads or ["empty", "empty_unbatched", "yield", "yield64", "fib"]
    for w in workloads:
        a, b = [], []
        unit = ""
        for _ in range(rounds):
            v, unit = run(old, w)
            a.append(v)
            v, unit = run(new, w)
            b.append(v)
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{w:16s} old {ma:9.2f} new {mb:9.2f} {unit:8s} new/old {mb / ma:.3f}")


if __name__ == "__main__":
    main()
