#!/bin/sh
# SPDX-License-Identifier: MIT
# The gdb extension's test: runs gdb in batch mode on gdb_fibers, lists the
# suspended fibers, switches to each and checks that its backtrace reaches
# the function it is suspended in and its job, then switches back and checks
# the thread's own backtrace.  Skips (77) only when gdb is not installed.
#   gdb_check.sh <gdb_fibers program> <fiberjob.py>
set -u
prog=$1
ext=$2
command -v gdb >/dev/null 2>&1 || { echo "gdb not installed: skipped"; exit 77; }
# LeakSanitizer cannot run under ptrace: in sanitizer builds, no leak check
# for the program gdb runs (the other tests check leaks).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
out=$(gdb -batch -nx \
  -ex "set debuginfod enabled off" \
  -ex "source $ext" \
  -ex "break gdb_fibers_ready" \
  -ex "run" \
  -ex "info fibers" \
  -ex "echo ==fiber0==\n" -ex "fiber 0" -ex "bt" \
  -ex "echo ==fiber1==\n" -ex "fiber 1" -ex "bt" \
  -ex "echo ==fiber2==\n" -ex "fiber 2" -ex "bt" -ex "info locals" \
  -ex "echo ==back==\n" -ex "fiber" -ex "bt" \
  -ex "continue" \
  --args "$prog" 2>&1)
status=0
fail() { echo "FAIL: $*"; status=1; }
section() { printf '%s\n' "$out" | sed -n "/^==$1==/,/^==/p"; }
printf '%s\n' "$out"
echo "-----"
# info fibers: three fibers, indices 0-2 (in registry order, newest first).
printf '%s\n' "$out" | grep -Eq '^ [0-2] .*job "alpha_job"  parked on counter 0x[0-9a-f]+ \(value 1, 2 waiters\)' || fail "info fibers: alpha_job parked"
printf '%s\n' "$out" | grep -Eq '^ [0-2] .*job "beta_job"  parked on counter 0x[0-9a-f]+ \(value 1, 2 waiters\)' || fail "info fibers: beta_job parked"
printf '%s\n' "$out" | grep -Eq '^ [0-2] .*job "gamma_job"  ready after a yield' || fail "info fibers: gamma_job yielded"
[ "$(printf '%s\n' "$out" | grep -Ec '^ [0-9]+ +fiber 0x')" = 3 ] || fail "info fibers: not exactly three fibers"
# The registry lists newest first; whatever the order, each fiber's
# backtrace must show where it stopped and its job, from this source file.
for f in fiber0 fiber1 fiber2; do
  s=$(section $f)
  printf '%s\n' "$s" | grep -Eq 'parked_in_alpha|parked_in_beta|yield_in_gamma' || fail "$f: no suspension point in bt"
  printf '%s\n' "$s" | grep -Eq '(alpha|beta|gamma)_job .*gdb_fibers\.c:[0-9]+' || fail "$f: no job frame with file:line"
done
all=$(section fiber0; section fiber1; section fiber2)
for fn in parked_in_alpha parked_in_beta yield_in_gamma; do
  printf '%s\n' "$all" | grep -q "$fn" || fail "no fiber shows $fn"
done
back=$(section back)
printf '%s\n' "$back" | grep -q 'gdb_fibers_ready' || fail "after switching back: bt lacks gdb_fibers_ready"
printf '%s\n' "$back" | grep -q 'main' || fail "after switching back: bt lacks main"
printf '%s\n' "$out" | grep -q 'gdb_fibers: done' || fail "the program did not finish after switching back"
exit $status
