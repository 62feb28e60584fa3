#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages the project needs on a fresh machine.
#   tools/install-deps.sh          build + test dependencies
#   tools/install-deps.sh bench    also the benchmark baselines and plotting
# Skips apt entirely when everything is already installed, so reruns are fast.
#
# The aarch64 run (tools/test.sh) cross-builds with Debian's cross gcc and
# runs under qemu-user; the target's glibc and Boost.Context come from the
# arm64 multiarch packages (`:arm64`), which need the architecture enabled.
set -eu
pkgs="meson ninja-build gcc g++ pkg-config libboost-context-dev python3-cffi python3-pytest python3-mesonpy python3-venv python3-dev patchelf valgrind libdw-dev gdb"
# libdw-dev: call stacks in dumps (lib/sys/backtrace_libdw.c); gdb: the gdb
# extension's test.  clang and its runtimes: the libFuzzer target (tools/test.sh, tests/fuzz).
pkgs="$pkgs clang libclang-rt-14-dev"
arm64_pkgs="qemu-user gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross libc6:arm64 libboost-context1.74-dev:arm64"
# libdw-dev:arm64: call stacks in the aarch64 build's dumps (found through
# the cross file's pkg-config setting; installs beside libdw-dev, same version).
arm64_pkgs="$arm64_pkgs libdw-dev:arm64"
# gdb-multiarch: the gdb extension's test in the aarch64 build (qemu's stub).
arm64_pkgs="$arm64_pkgs gdb-multiarch"
if [ "${1:-}" = bench ]; then
  pkgs="$pkgs libtbb-dev libboost-fiber-dev python3-matplotlib"
fi
missing=""
for p in $pkgs $arm64_pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing"
# Adding an architecture twice is harmless; it must precede the update so
# the :arm64 package lists are fetched.
dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
