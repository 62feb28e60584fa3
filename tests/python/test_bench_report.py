# SPDX-License-Identifier: MIT
"""The benchmark report's rules (benchmarks/run.py).  "No worse than before":
worse means a median above 1.1x AND slower in every round; a figure that
was faster in some round is listed as noisy, not counted.  The C++ layer's
row takes the ratio measured in one process when there is one.  The
unbatched row also gives the ratio in the round where the floor ran fastest."""
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


def test_cpp_layer_row_uses_the_paired_ratio_when_measured():
    """The C++ layer's target row: the in-process paired ratio when present
    (the separate processes' ratio printed beside it), else that ratio."""
    run = load_runner()
    data = {
        "fiberjob": {"fib": {"values": [100.0, 100.0, 100.0], "unit": "ms"}},
        "fiberjob-cpp": {"fib": {"values": [80.0, 150.0, 90.0], "unit": "ms"}},
    }

    def row():
        return [r for r in run.targets(data) if r[0].startswith("C++ layer on fib")][0]

    r = row()  # no paired figure: separate processes, median 0.9x
    assert r[3] is True and "alternating" not in r[0] and r[1].startswith("0.9×")
    data["fiberjob-cpp"]["fib_cpp_over_c"] = {"values": [1.17, 1.2, 1.18], "unit": "ratio"}
    r = row()
    assert r[3] is False and "alternating in one process" in r[0]
    assert r[1].startswith("1.18× [1.17–1.2]") and "separate processes: 0.9×" in r[1]
    data["fiberjob-cpp"]["fib_cpp_over_c"]["values"] = [1.1, 1.12, 1.16]
    assert row()[3] is True


def test_unbatched_row_shows_the_round_with_the_fastest_floor():
    """The verdict is on the median of the per-round ratios; beside it, the
    round where the floor ran fastest (not the fastest of each side)."""
    run = load_runner()
    data = {
        "fiberjob": {"empty_unbatched": {"values": [30.0, 25.0, 28.0], "unit": "ns/job"}},
        "spsc-floor": {"empty_unbatched": {"values": [60.0, 12.5, None], "unit": "ns/job"}},
    }
    row = [r for r in run.targets(data) if r[0].startswith("unbatched submission")][0]
    # rounds with both: 30/60 = 0.5 and 25/12.5 = 2; median 1.25
    assert row[3] is True and row[1].startswith("1.25× [0.5–2]")
    assert "in the round where the floor ran fastest (12.5 ns): 2×" in row[1]
    data["spsc-floor"]["empty_unbatched"]["values"] = [None, None, None]
    row = [r for r in run.targets(data) if r[0].startswith("unbatched submission")][0]
    assert row[3] is None and "fastest" not in row[1]
