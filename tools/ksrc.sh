#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/ksrc.sh - print the path of an extracted Debian linux-source-6.1 tree.
#
# The tree is used for scripts/checkpatch.pl, the kselftest harness header
# (tools/testing/selftests/kselftest_harness.h) and the debug kernel build.
# Nothing from it is ever copied into the repository.
#
# The first call extracts /usr/src/linux-source-6.1.tar.xz (package
# linux-source-6.1, installed by tools/deps.sh) into
# ${KGC_CACHE:-/var/cache/kgc}/src/linux-source-6.1. Extraction goes to a
# temporary directory that is renamed into place once complete, and a stamp
# file records the package version, so an interrupted run never leaves a
# half-extracted tree behind and a package upgrade triggers a fresh copy.
# Concurrent callers are serialised with flock.
#
# Usage: tools/ksrc.sh        (prints the path on stdout, progress on stderr)

set -euo pipefail

pkg=linux-source-6.1
tarball=/usr/src/$pkg.tar.xz
srcdir=${KGC_CACHE:-/var/cache/kgc}/src
dest=$srcdir/$pkg
stamp=$dest/.kgc-extracted

die() { echo "ksrc.sh: $*" >&2; exit 1; }

version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) ||
	die "package $pkg is not installed (run tools/deps.sh)"
[ -r "$tarball" ] || die "$tarball is missing (reinstall $pkg)"

# Fast path: already extracted from this package version.
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; then
	echo "$dest"
	exit 0
fi

mkdir -p "$srcdir"
exec 9>"$srcdir/.lock"
flock 9
# Somebody else may have finished the job while we waited for the lock.
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; then
	echo "$dest"
	exit 0
fi

echo "ksrc.sh: extracting $tarball ($version) into $dest ..." >&2
tmp=$(mktemp -d "$srcdir/.extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# xz -T0 decompresses with all cores when the archive has several blocks.
tar -C "$tmp" -I 'xz -T0' -xf "$tarball"
[ -f "$tmp/$pkg/Makefile" ] || die "unexpected layout in $tarball"
echo "$version" >"$tmp/$pkg/.kgc-extracted"

# Swap the new tree in: move any old (stale or unstamped) tree aside first,
# then rename, then delete the old one.
if [ -e "$dest" ]; then
	mv "$dest" "$tmp/old"
fi
mv "$tmp/$pkg" "$dest"
echo "ksrc.sh: done" >&2
echo "$dest"
