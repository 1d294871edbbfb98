#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/build-module.sh - build kgc.ko (or a test module) out of the
# source tree, in a private copy, against a given KDIR.
#
# Kbuild writes its objects next to the sources, so building kgc.ko for two
# kernels from the same tree would mix them up. This script copies the
# sources (Kbuild, kmod/, uapi/ - or everything in --src DIR) into DEST with
# rsync (unchanged files keep their timestamps, so rebuilds are incremental;
# build products in the source tree are never copied) and runs
#   make -C KDIR M=DEST W=1 [MAKEARGS...] modules
#
# Usage: tools/vm/build-module.sh --kdir KDIR --dest DIR [--src DIR]
#                                 [--clean] [--log FILE] [-- MAKEARGS...]
#   stdout: path of the built .ko; build output goes to --log (default
#   DEST/build.log) and its tail to stderr on failure.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
kdir='' dest='' src='' clean=0 log=''

die() { echo "build-module.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--kdir) kdir=$2; shift 2 ;;
	--dest) dest=$2; shift 2 ;;
	--src) src=$(cd "$2" && pwd); shift 2 ;;
	--clean) clean=1; shift ;;
	--log) log=$2; shift 2 ;;
	--) shift; break ;;
	*) die "unknown argument: $1" ;;
	esac
done
if [ -z "$kdir" ] || [ -z "$dest" ]; then
	die "usage: $0 --kdir KDIR --dest DIR [--src DIR] [--clean] [--log FILE] [-- MAKEARGS...]"
fi
[ -f "$kdir/Makefile" ] || die "$kdir is not a kernel build directory"
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
[ -n "$log" ] || log=$dest/build.log

# Build products: never copied from the source, and (being excluded) never
# deleted from DEST by --delete.
excludes=(--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c'
	--exclude='.*.cmd' --exclude='*.a' --exclude='*.d' --exclude='modules.order'
	--exclude='Module.symvers' --exclude='.tmp_versions' --exclude='*.symvers'
	--exclude='build.log')
if [ -n "$src" ]; then
	rsync -a --delete "${excludes[@]}" "$src/" "$dest/"
else
	for f in Kbuild kmod uapi; do
		[ -e "$top/$f" ] || die "$top/$f is missing"
	done
	rsync -a --delete "${excludes[@]}" "$top/Kbuild" "$top/kmod" "$top/uapi" "$dest/"
fi

if [ "$clean" = 1 ]; then
	make -C "$kdir" M="$dest" clean >/dev/null 2>&1 || true
fi
if ! make -C "$kdir" M="$dest" W=1 "$@" modules >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	die "module build failed (log: $log)"
fi

mapfile -t kos < <(find "$dest" -name '*.ko' | sort)
if [ -z "$src" ]; then
	kos=("$dest/kmod/kgc.ko")
fi
if [ ${#kos[@]} -ne 1 ] || [ ! -f "${kos[0]}" ]; then
	die "expected exactly one .ko in $dest, found: ${kos[*]:-none}"
fi
echo "${kos[0]}"
