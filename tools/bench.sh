#!/bin/bash
# SPDX-License-Identifier: MIT
# The README's first command: installs the Debian packages (including the
# baselines oneTBB and Boost.Fiber, and matplotlib), builds the library and
# the benchmark programs in release mode, and runs the side-by-side report.
# Results: bench-results/report.md, results.json and *.png.  Every program
# runs once per round, interleaved with the others; a missed target is a FAIL
# line in the report (exit status 0 unless --strict).
#   bash tools/bench.sh            full report (warm-up + 5 rounds)
#   bash tools/bench.sh --quick    warm-up + 2 rounds
#   bash tools/bench.sh --strict   exit 1 when a target is missed
#   bash tools/bench.sh --baseline DIR   also run against the libfiberjob.so
#                                  in DIR, with after ÷ before ratios
set -euo pipefail
cd "$(dirname "$0")/.."
sh tools/install-deps.sh bench
opts=(--buildtype=release -Dbenchmarks=true -Dpython=enabled -Dtests=false)
if [ -d build-bench/meson-private ]; then
  meson setup --reconfigure build-bench "${opts[@]}" >/dev/null
else
  meson setup build-bench "${opts[@]}" >/dev/null
fi
meson compile -C build-bench >/dev/null
exec /usr/bin/python3 benchmarks/run.py --build build-bench --out bench-results "$@"
