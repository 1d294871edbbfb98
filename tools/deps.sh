#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/deps.sh - install everything kgc needs to build and test, unattended,
# on Debian 12 (bookworm). Safe to run again: when every package is already
# installed it only asks dpkg and returns (well under a second).
#
# Run as root, through sudo, or as a user with sudo rights (it re-runs
# itself with sudo when it is not root and something is missing).
#
# Usage: tools/deps.sh [--list]     (--list: print the package list and exit)

set -euo pipefail

packages=(
	# Kernels: the stock Debian kernel we boot in QEMU and the headers kgc.ko
	# is built against; the source for the debug kernel, checkpatch.pl and
	# the kselftest harness header (see tools/ksrc.sh).
	linux-image-amd64
	linux-headers-amd64
	linux-source-6.1
	# Toolchain and kernel build requirements.
	build-essential
	g++			# the uapi header must compile as C++
	bc
	bison
	flex
	libelf-dev		# objtool (ORC unwinder) in the debug kernel
	libssl-dev
	dwarves			# pahole
	perl			# kernel build scripts, checkpatch.pl
	python3
	pkg-config		# libkgc ships kgc.pc
	xz-utils		# the linux-source tarball
	# Static checks.
	sparse
	shellcheck		# the harness scripts themselves
	# The VM harness: QEMU (TCG), busybox initramfs.
	qemu-system-x86
	busybox-static
	cpio
	gzip
	kmod			# modinfo, depmod
	rsync
	util-linux		# flock
	coreutils		# timeout
	# Packaging test (tools/test-install.sh): dkms build in a private tree.
	dkms
	# go tool pprof reads the heap profiles (tools/test-pprof.sh). The
	# benchmark peers (Boehm GC, jemalloc, tcmalloc, mimalloc) are installed
	# by tools/bench.sh, not here: make check does not need them.
	golang-go
)

if [ "${1:-}" = --list ]; then
	printf '%s\n' "${packages[@]}"
	exit 0
fi

# Which packages are not fully installed? One dpkg-query call for all of
# them; packages dpkg has never heard of are not printed at all.
missing=()
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null |
	awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }') || true
for p in "${packages[@]}"; do
	if ! grep -qxF "$p" <<<"$installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps.sh: all ${#packages[@]} packages installed"
	exit 0
fi

echo "deps.sh: installing ${#missing[@]} missing package(s): ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null ||
		{ echo "deps.sh: not root and no sudo; run as root" >&2; exit 1; }
	exec sudo -- "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps.sh: done"
