#!/bin/bash
# SPDX-License-Identifier: MIT
# The README's first command: installs the Debian packages (including the
# baselines oneTBB and Boost.Fiber, and matplotlib), builds the library and
# the benchmark programs in release mode, and runs the side-by-side report.
# Results: bench-results/report.md, results.json and *.png.
#   bash tools/bench.sh            full report (5 runs per figure)
#   bash tools/bench.sh --quick    2 runs per figure
set -euo pipefail
cd "$(dirname "$0")/.."
sh tools/install-deps.sh bench
opts=(--buildtype=release -Dbenchmarks=true -Dpython=false -Dtests=false)
if [ -d build-bench/meson-private ]; then
  meson setup --reconfigure build-bench "${opts[@]}" >/dev/null
else
  meson setup build-bench "${opts[@]}" >/dev/null
fi
meson compile -C build-bench >/dev/null
exec /usr/bin/python3 benchmarks/run.py --build build-bench --out bench-results "$@"
