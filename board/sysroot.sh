#!/bin/sh
# SPDX-License-Identifier: ISC
# Unpacks the static libraries that cannot be co-installed for several
# architectures (libcdb-dev has no Multi-Arch) into a private sysroot:
#
#   board/sysroot.sh ARCH DIR     -> DIR/usr/lib/<triplet>/libcdb.a
#
# No dpkg state is touched; the .deb comes from the configured archive.
set -eu

arch=$1
dir=$2
case "$arch" in
armhf) a=armhf ;;
aarch64) a=arm64 ;;
mipsel) a=mipsel ;;
*) echo "board/sysroot.sh: unknown arch '$arch'" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download "libcdb-dev:$a" >/dev/null 2>&1) || {
	echo "board/sysroot.sh: cannot download libcdb-dev:$a" >&2
	exit 1
}
mkdir -p "$dir"
dpkg-deb -x "$tmp"/libcdb-dev_*_"$a".deb "$dir"
