# SPDX-License-Identifier: MIT
"""The benchmark report's "no worse than before" rule (benchmarks/run.py):
worse means a median above 1.1x AND slower in every round; a figure that
was faster in some round is listed as noisy, not counted."""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_runner():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def results(after, before):
    """{workload: per-round values} for both systems."""
    def side(d):
        return {w: {"values": v, "unit": "ns"} for w, v in d.items()}
    return {"fiberjob": side(after), "fiberjob-before": side(before)}


def test_consistent_slowdown_counts_noisy_one_does_not():
    run = load_runner()
    before = {"steady": [10.0] * 7, "noisy": [10.0] * 7, "same": [10.0] * 7,
              "sweep_100_yield": [10.0] * 7, "parked_peak_rss": [10.0] * 7}
    after = {
        "steady": [11.5, 12.0, 11.2, 13.0, 11.6, 12.2, 11.9],  # slower in every round
        "noisy": [9.0, 15.0, 16.0, 14.0, 13.0, 8.0, 12.0],     # median 1.3x, faster twice
        "same": [10.5, 9.8, 10.9, 10.2, 9.9, 10.4, 10.6],      # within the band
        "sweep_100_yield": [20.0] * 7,                          # a throughput ratio: skipped
        "parked_peak_rss": [20.0] * 7,                          # not a per-unit cost: skipped
    }
    worse, noisy = run.worse_than_before(results(after, before))
    assert [w.split()[0] for w in worse] == ["steady"]
    assert [w.split()[0] for w in noisy] == ["noisy"]
    assert worse[0].startswith("steady 1.19×")


def test_target_row_fails_only_on_a_consistent_slowdown():
    run = load_runner()
    before = {"fib": [100.0] * 5}
    row = [r for r in run.targets(results({"fib": [120.0, 115, 130, 111, 125]}, before))
           if r[0].startswith("every fiberjob figure")][0]
    assert row[3] is False and "fib 1.2×" in row[1]
    row = [r for r in run.targets(results({"fib": [120.0, 95, 130, 111, 125]}, before))
           if r[0].startswith("every fiberjob figure")][0]
    assert row[3] is True and "not counted: fib" in row[1]
