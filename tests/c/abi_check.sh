#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the build into a scratch DESTDIR, then builds a tiny C and a tiny
# C++ program through `pkg-config fiberjob` and runs them; checks the header
# compiles cleanly as strict C and C++, that fiberjob.hpp is installed beside
# it and compiles as strict C++17, that the README's C and C++ examples build
# and run, and that the library exports only fj_ symbols.
#   Usage: abi_check.sh <build dir> <source dir>
#
# Cross builds: tests/meson.build names the target's tools from the cross
# file in FJ_ABI_CC, FJ_ABI_CXX, FJ_ABI_NM, FJ_ABI_OBJDUMP and the emulator
# that runs its programs in FJ_ABI_RUN (e.g. qemu-aarch64).  Natively they
# default to the host's cc, c++, nm, objdump and direct execution.  With
# FJ_ABI_CXX empty (no C++ compiler for the target) the C++ checks are
# skipped, saying so; everything else always runs.
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
CC=${FJ_ABI_CC-cc}
CXX=${FJ_ABI_CXX-c++}
NM=${FJ_ABI_NM:-nm}
OBJDUMP=${FJ_ABI_OBJDUMP:-objdump}
RUN=${FJ_ABI_RUN:-}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "abi_check: $*" >&2; exit 1; }
# run <program>: runs a freshly built program against the installed library,
# through the emulator in cross builds.
run() { LD_LIBRARY_PATH="$libdir" $RUN "$@"; }

meson install -C "$build" --destdir "$scratch/root" --no-rebuild --quiet >/dev/null
pc=$(find "$scratch/root" -name fiberjob.pc | head -n1)
[ -n "$pc" ] || fail "fiberjob.pc was not installed"
lib=$(find "$scratch/root" -name 'libfiberjob.so.*' -type f | head -n1)
[ -n "$lib" ] || fail "libfiberjob.so was not installed"
libdir=$(dirname "$lib")
soname=$($OBJDUMP -p "$lib" | awk '/SONAME/ {print $2}')
case "$soname" in libfiberjob.so.[0-9]*) ;; *) fail "unversioned soname '$soname'" ;; esac

export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$scratch/root"
flags=$(pkg-config --cflags --libs fiberjob) || fail "pkg-config cannot resolve fiberjob"

cat >"$scratch/hello.c" <<'C'
#include <fiberjob.h>
#include <stdio.h>
static void job(fj_ctx *ctx, void *arg) { (void)ctx; *(int *)arg = 42; }
int main(void) {
  fj_system *sys; fj_counter *c; int v = 0;
  if (fj_system_create(NULL, &sys) != FJ_OK) return 1;
  if (fj_counter_create(sys, &c) != FJ_OK) return 1;
  fj_run(sys, job, &v, FJ_PRIORITY_NORMAL, c);
  fj_wait(sys, c);
  fj_counter_destroy(c);
  fj_system_destroy(sys);
  printf("%d\n", v);
  return v == 42 ? 0 : 1;
}
C
$CC -std=c11 -Wall -Wextra -Werror -pedantic "$scratch/hello.c" -o "$scratch/hello_c" $flags
[ "$(run "$scratch/hello_c")" = 42 ] || fail "C program failed"

# The header alone, strict.
echo '#include <fiberjob.h>' >"$scratch/h.c"
$CC -std=c99 -Wall -Wextra -Werror -pedantic -I"$src/include" -c "$scratch/h.c" -o /dev/null

if [ -n "$CXX" ]; then
  cp "$scratch/hello.c" "$scratch/hello.cpp"
  $CXX -std=c++17 -Wall -Wextra -Werror "$scratch/hello.cpp" -o "$scratch/hello_cpp" $flags
  [ "$(run "$scratch/hello_cpp")" = 42 ] || fail "C++ program failed"
  $CXX -std=c++11 -x c++ -Wall -Wextra -Werror -pedantic -I"$src/include" -c "$scratch/h.c" -o /dev/null
  cxx_note="C and C++"
else
  echo "abi_check: no C++ compiler for this target: C++ checks skipped"
  cxx_note="C only"
fi

# The README's C example, as a reader would build it.
awk '/^```c$/ {on=1; next} /^```$/ {on=0} on' "$src/README.md" >"$scratch/readme.c"
[ -s "$scratch/readme.c" ] || fail "no C example in README.md"
$CC -std=c11 -Wall -Wextra "$scratch/readme.c" -o "$scratch/readme" $flags
run "$scratch/readme" | grep -q "fib(25) = 75025" || fail "README example failed"

# The C++ layer: installed beside the C header, compiles alone under strict
# C++17 (natively also with clang++), and the README's C++ example builds
# through pkg-config and runs: fib, and an exception reaching the waiter.
hpp=$(find "$scratch/root" -name fiberjob.hpp | head -n1)
[ -n "$hpp" ] || fail "fiberjob.hpp was not installed"
[ "$(dirname "$hpp")" = "$(dirname "$(find "$scratch/root" -name fiberjob.h | head -n1)")" ] ||
  fail "fiberjob.hpp is not installed beside fiberjob.h"
if [ -n "$CXX" ]; then
  echo '#include <fiberjob.hpp>' >"$scratch/hpp.cpp"
  # check_hpp <compiler command...>
  check_hpp() {
    "$@" -std=c++17 -Wall -Wextra -Werror -pedantic -Wshadow -Wconversion -c "$scratch/hpp.cpp" \
      -o /dev/null $(pkg-config --cflags fiberjob) || fail "fiberjob.hpp does not compile with $*"
  }
  check_hpp $CXX
  if [ -z "$RUN" ] && command -v clang++ >/dev/null; then check_hpp clang++; fi
  awk '/^```cpp$/ {on=1; next} /^```$/ {on=0} on' "$src/README.md" >"$scratch/readme.cpp"
  [ -s "$scratch/readme.cpp" ] || fail "no C++ example in README.md"
  $CXX -std=c++17 -Wall -Wextra -Werror "$scratch/readme.cpp" -o "$scratch/readme_cpp" $flags
  out=$(run "$scratch/readme_cpp")
  echo "$out" | grep -q "fib(25) = 75025" || fail "README C++ example: wrong fib"
  echo "$out" | grep -q "caught: job failed" || fail "README C++ example: the exception did not reach the waiter"
fi

others=$($NM -D --defined-only "$lib" | awk '{print $3}' | grep -v '^fj_' || true)
[ -z "$others" ] || fail "exports other than fj_: $others"
echo "abi_check: ok ($soname; $cxx_note linked through pkg-config${RUN:+, run under $RUN})"
