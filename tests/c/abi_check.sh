#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the build into a scratch DESTDIR, then builds a tiny C and a tiny
# C++ program through `pkg-config fiberjob` and runs them; checks the header
# compiles cleanly as strict C and C++, that the README's example builds and
# runs, and that the library exports only fj_ symbols.  Usage: abi_check.sh <build dir> <source dir>
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "abi_check: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$scratch/root" --no-rebuild --quiet >/dev/null
pc=$(find "$scratch/root" -name fiberjob.pc | head -n1)
[ -n "$pc" ] || fail "fiberjob.pc was not installed"
lib=$(find "$scratch/root" -name 'libfiberjob.so.*' -type f | head -n1)
[ -n "$lib" ] || fail "libfiberjob.so was not installed"
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
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
cp "$scratch/hello.c" "$scratch/hello.cpp"
libdir=$(dirname "$lib")
cc -std=c11 -Wall -Wextra -Werror -pedantic "$scratch/hello.c" -o "$scratch/hello_c" $flags
c++ -std=c++17 -Wall -Wextra -Werror "$scratch/hello.cpp" -o "$scratch/hello_cpp" $flags
[ "$(LD_LIBRARY_PATH="$libdir" "$scratch/hello_c")" = 42 ] || fail "C program failed"
[ "$(LD_LIBRARY_PATH="$libdir" "$scratch/hello_cpp")" = 42 ] || fail "C++ program failed"

# The header alone, strict, both languages.
echo '#include <fiberjob.h>' >"$scratch/h.c"
cc -std=c99 -Wall -Wextra -Werror -pedantic -I"$src/include" -c "$scratch/h.c" -o /dev/null
c++ -std=c++11 -x c++ -Wall -Wextra -Werror -pedantic -I"$src/include" -c "$scratch/h.c" -o /dev/null

# The README's C example, as a reader would build it.
awk '/^```c$/ {on=1; next} /^```$/ {on=0} on' "$src/README.md" >"$scratch/readme.c"
[ -s "$scratch/readme.c" ] || fail "no C example in README.md"
cc -std=c11 -Wall -Wextra "$scratch/readme.c" -o "$scratch/readme" $flags
LD_LIBRARY_PATH="$libdir" "$scratch/readme" | grep -q "fib(25) = 75025" || fail "README example failed"

others=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^fj_' || true)
[ -z "$others" ] || fail "exports other than fj_: $others"
echo "abi_check: ok ($soname; C and C++ linked through pkg-config)"
