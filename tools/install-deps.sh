#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages the project needs on a fresh machine.
#   tools/install-deps.sh          build + test dependencies
#   tools/install-deps.sh bench    also the benchmark baselines and plotting
# Skips apt entirely when everything is already installed, so reruns are fast.
set -eu
pkgs="meson ninja-build gcc g++ pkg-config libboost-context-dev python3-cffi python3-pytest python3-mesonpy python3-venv python3-dev patchelf valgrind"
if [ "${1:-}" = bench ]; then
  pkgs="$pkgs libtbb-dev libboost-fiber-dev python3-matplotlib"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
