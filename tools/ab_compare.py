#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Interleaved A/B run of two builds of benchmarks/fiberjob_bench.

usage: ab_compare.py OLD_BENCH NEW_BENCH [workload ...] [--rounds N]

Runs OLD and NEW alternately, N rounds per workload (default 7), so both
see the same machine state, and prints each side's median and the ratio
NEW/OLD (below 1 = NEW is faster).
"""
import json
import statistics
import subprocess
import sys


def run(bench, workload):
    out = subprocess.run([bench, workload], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        rec = json.loads(line)
        if rec.get("workload") == workload:
            return rec["value"], rec["unit"]
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
