#!/bin/bash
# SPDX-License-Identifier: MIT
# The README's test command: installs the Debian packages, builds, and runs
# every test — the C suite, the Python suite, the C suite again under
# ASan+UBSan and under TSan (fiber annotations compiled in), a valgrind run,
# the C suite cross-built for aarch64 and run under qemu-user, and a minute
# of libFuzzer on job graphs.  Exits nonzero on the first failure.  Safe to
# rerun.
#   bash tools/test.sh            everything
#   bash tools/test.sh quick      normal build only (C and Python suites)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
start=$(date +%s)
step() { printf '\n=== %s (%ds)\n' "$*" $(( $(date +%s) - start )); }

step "dependencies"
sh tools/install-deps.sh

# setup <dir> <meson options...>: configure once, reconfigure when it exists.
setup() {
  local dir=$1; shift
  if [ -d "$dir/meson-private" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
  meson compile -C "$dir" >/dev/null
}

step "normal build: C and Python suites"
setup build -Dtests=true -Dpython=enabled
meson test -C build --print-errorlogs

[ "$mode" = quick ] && { step "done (quick)"; exit 0; }

# Sanitized runs shrink their loops (tests/c/check.h) and skip the install
# check, which needs no second look.  The ASan build also runs the Python
# suite (python/meson.build preloads the sanitizer runtimes for it).
step "ASan + UBSan: C and Python suites"
setup build-asan -Dtests=true -Dpython=enabled -Db_sanitize=address,undefined -Db_lundef=false
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allow_user_segv_handler=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 FJ_TEST_SCALE=4 \
  meson test -C build-asan --print-errorlogs --no-suite install

step "TSan"
setup build-tsan -Dtests=true -Dpython=disabled -Db_sanitize=thread -Db_lundef=false
# TSan's shadow memory needs the classic address layout on kernels with
# high mmap entropy; setarch -R turns ASLR off for the test run only.
# TSan keeps internal state per fiber and per thread that it releases
# lazily, so long runs exhaust the kernel's mapping limit: scale down more.
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 FJ_TEST_SCALE=10 \
  setarch "$(uname -m)" -R meson test -C build-tsan --print-errorlogs --no-suite install

step "valgrind"
meson test -C build --setup valgrind --print-errorlogs --no-suite install --no-suite python

# aarch64: cross-built with Debian's cross gcc, run under qemu-aarch64 (the
# cross file's exe_wrapper).  The install check runs too: it builds the
# README's example and the pkg-config programs with the cross compilers and
# runs them under qemu.  Emulation is several times slower: scale down as
# the sanitizer runs do.  The Python suite is not run under qemu.
step "aarch64 under qemu-user: C suite"
setup build-aarch64 --cross-file tools/cross/aarch64-linux-gnu.ini -Dtests=true -Dpython=disabled
FJ_TEST_SCALE=4 meson test -C build-aarch64 --print-errorlogs

# libFuzzer: a clang build with ASan+UBSan (tests/fuzz/meson.build), the
# job-graph target run for a bounded time from the seed corpus in the repo.
# New inputs go to a scratch corpus in the build directory; a crash, a
# failed check (abort) or a hang past -timeout fails the run and leaves its
# reproducer in build-fuzz/ (replay it: build/tests/fuzz/fuzz_replay FILE).
step "libFuzzer: job graphs (60 s)"
CC=clang setup build-fuzz -Dfuzz=true -Dtests=false -Dpython=disabled \
  -Db_sanitize=address,undefined -Db_lundef=false
mkdir -p build-fuzz/corpus
if ! ASAN_OPTIONS=detect_leaks=1:allow_user_segv_handler=1 \
     UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     build-fuzz/tests/fuzz/fuzz_job_graph build-fuzz/corpus tests/fuzz/corpus \
       -max_total_time=60 -timeout=20 -max_len=512 -print_final_stats=1 \
       -artifact_prefix=build-fuzz/ >build-fuzz/fuzz.log 2>&1; then
  tail -n 80 build-fuzz/fuzz.log
  echo "libFuzzer found a failure (full log: build-fuzz/fuzz.log)"
  exit 1
fi
grep -E '^(Done|stat::(number_of_executed_units|new_units_added|peak_rss_mb))' build-fuzz/fuzz.log

step "all tests passed"
