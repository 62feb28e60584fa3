#!/bin/sh
# Prints MAJOR.MINOR.PATCH from include/fiberjob.h, the single source of the version.
h="$(dirname "$0")/../include/fiberjob.h"
v() { sed -n "s/^#define FJ_VERSION_$1 \([0-9]*\).*/\1/p" "$h"; }
echo "$(v MAJOR).$(v MINOR).$(v PATCH)"
