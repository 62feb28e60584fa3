#!/bin/sh
# SPDX-License-Identifier: MIT
# The gdb extension's test: runs gdb in batch mode on gdb_fibers, lists the
# suspended fibers, switches to each and checks that its backtrace reaches
# the function it is suspended in and its job, then switches back and checks
# the thread's own backtrace.  Skips (77) only when gdb (gdb-multiarch for a
# cross build) is not installed.
#   gdb_check.sh <gdb_fibers program> <fiberjob.py>
# Cross builds (FJ_GDB_CROSS=1, tests/meson.build) run the program under the
# exe_wrapper FJ_GDB_QEMU (qemu-aarch64) with its gdb stub on a loopback
# port, and gdb-multiarch attaches to it; then gdb_fibers' own output comes
# from qemu, and is appended.
set -u
prog=$1
ext=$2
# LeakSanitizer cannot run under ptrace: in sanitizer builds, no leak check
# for the program gdb runs (the other tests check leaks).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
# gdb, its options, then the common inspection; the program comes last.
inspect() {
  "$@" \
    -ex "info fibers" \
    -ex "echo ==fiber0==\n" -ex "fiber 0" -ex "bt" \
    -ex "echo ==fiber1==\n" -ex "fiber 1" -ex "bt" \
    -ex "echo ==fiber2==\n" -ex "fiber 2" -ex "bt" -ex "info locals" \
    -ex "echo ==back==\n" -ex "fiber" -ex "bt" \
    -ex "continue" "$prog" 2>&1
}
if [ -z "${FJ_GDB_CROSS:-}" ]; then
  command -v gdb >/dev/null 2>&1 || { echo "gdb not installed: skipped"; exit 77; }
  out=$(inspect gdb -batch -nx -ex "set debuginfod enabled off" -ex "source $ext" \
    -ex "break gdb_fibers_ready" -ex "run")
else
  command -v gdb-multiarch >/dev/null 2>&1 || { echo "gdb-multiarch not installed: skipped"; exit 77; }
  [ -n "${FJ_GDB_QEMU:-}" ] || { echo "cross build without an exe_wrapper: skipped"; exit 77; }
  # A port nothing listens on (ss, where installed, tells); gdb retries
  # connecting while qemu starts (tcp auto-retry, on by default).
  port=$((20000 + $$ % 20000))
  while command -v ss >/dev/null 2>&1 && ss -ltn | grep -q ":$port "; do
    port=$((port + 1))
  done
  qout=$(mktemp)
  "$FJ_GDB_QEMU" -g "$port" "$prog" >"$qout" 2>&1 &
  qemu=$!
  trap 'kill "$qemu" 2>/dev/null; rm -f "$qout"' EXIT
  trap 'exit 1' INT TERM
  out=$(inspect gdb-multiarch -batch -nx -ex "set debuginfod enabled off" -ex "source $ext" \
    -ex "set sysroot /" -ex "target remote 127.0.0.1:$port" \
    -ex "break gdb_fibers_ready" -ex "continue")
  # gdb's last continue returns when the program has exited; a gdb that
  # never got that far may leave qemu waiting for it: end it, and the
  # checks below report the program unfinished.
  i=0
  while kill -0 "$qemu" 2>/dev/null && [ $i -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  kill "$qemu" 2>/dev/null
  wait "$qemu"
  out=$(printf '%s\n%s\n' "$out" "$(cat "$qout")")
fi
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
