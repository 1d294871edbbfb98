#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/build-kernel.sh - build (once) the debug/KUnit test kernel.
#
# Builds Debian's linux-source-6.1 out of tree (make O=...) with
#   make tinyconfig
#   scripts/kconfig/merge_config.sh -m .config tools/vm/debug-kernel.config
#   make olddefconfig
# then checks that every option of the fragment really ended up in .config
# (Kconfig silently drops options whose dependencies are not met), and runs
# 'make all' (vmlinux, bzImage, modules, modules_prepare), so the output
# directory is both the kernel to boot (arch/x86/boot/bzImage) and a KDIR
# for out-of-tree modules (make -C KDIR M=...).
#
# The result is cached in ${KGC_CACHE:-/var/cache/kgc}/kernel-<key>/ where
# key is a hash of the config fragment, this script, the linux-source
# package version and the compiler version; it is rebuilt only when one of
# them changes. The build happens in a temporary directory that is renamed
# into place when complete, so an interrupted build is never used.
#
# Usage: tools/vm/build-kernel.sh [-j N]
#   stdout: the KDIR path (and nothing else)
#   stderr: progress; the full build log is kept next to the tree
#           (kernel-<key>.log) and its tail is shown on failure.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self=$here/$(basename "${BASH_SOURCE[0]}")
frag=$here/debug-kernel.config
cache=${KGC_CACHE:-/var/cache/kgc}
jobs=$(nproc)

die() { echo "build-kernel.sh: $*" >&2; exit 1; }
say() { echo "build-kernel.sh: $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=$2; shift 2 ;;
	-j*) jobs=${1#-j}; shift ;;
	*) die "unknown argument: $1" ;;
	esac
done

src=$("$here/../ksrc.sh")
pkgver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
ccver=$(gcc --version | head -n1)

# Cache key: everything that changes the resulting tree.
key=$({
	cat "$frag" "$self"
	echo "linux-source-6.1 $pkgver"
	echo "$ccver"
} | sha256sum | cut -c1-16)
out=$cache/kernel-$key
log=$cache/kernel-$key.log

if [ -f "$out/.kgc-complete" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.kernel-$key.lock"
flock 9
if [ -f "$out/.kgc-complete" ]; then	# built by a concurrent caller
	echo "$out"
	exit 0
fi

tmp=$(mktemp -d "$cache/.kernel-$key.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"	# mktemp makes it private; other users may build against it
: >"$log"

# Run a build step with its output in the log; on failure show the tail.
step() {
	say "$*"
	if ! "$@" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "failed: $* (full log: $log)"
	fi
}

# Check the merged .config against the fragment, option by option.
verify_config() {
	local config=$1 bad=0 line opt val
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
			opt=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			opt=${BASH_REMATCH[1]} val=n
		else
			continue
		fi
		if [ "$val" = n ]; then
			if grep -Eq "^$opt=" "$config"; then
				say "option $opt should be off but is: $(grep -E "^$opt=" "$config")"
				bad=1
			fi
		elif ! grep -Fxq "$opt=$val" "$config"; then
			say "option $opt=$val requested but .config has: $(grep -E "^(# )?${opt}[= ]" "$config" || echo 'nothing (dependency missing?)')"
			bad=1
		fi
	done <"$frag"
	[ "$bad" = 0 ] || die "the debug kernel config is missing requested options (see above)"
}

start=$(date +%s)
say "building debug kernel $key from $src in $tmp (log: $log)"
step make -C "$src" O="$tmp" tinyconfig
step "$src/scripts/kconfig/merge_config.sh" -m -O "$tmp" "$tmp/.config" "$frag"
step make -C "$src" O="$tmp" olddefconfig
verify_config "$tmp/.config"
say "config verified: all $(grep -Ec '^(CONFIG_|# CONFIG_.* is not set)' "$frag") options of $(basename "$frag") are as requested"
# 'all' = vmlinux + bzImage + modules (+ Module.symvers); modules_prepare
# makes sure everything an M= build needs is in place.
step make -C "$src" O="$tmp" -j"$jobs" all
step make -C "$src" O="$tmp" modules_prepare
[ -f "$tmp/arch/x86/boot/bzImage" ] || die "no bzImage after build"
[ -f "$tmp/Module.symvers" ] || die "no Module.symvers after build"

{
	echo "key=$key"
	echo "linux-source-6.1=$pkgver"
	echo "cc=$ccver"
	echo "built=$(date -u +%FT%TZ) seconds=$(($(date +%s) - start))"
} >"$tmp/.kgc-complete"
cp "$frag" "$tmp/.kgc-fragment"
mv "$tmp" "$out"
touch "$out"	# newest first for the pruning below
trap - EXIT
say "done in $(($(date +%s) - start)) s: $out"

# Keep the cache bounded: each tree is ~300 MB. Keep this one and the
# previous one (another checkout may still use it), remove older ones.
find "$cache" -maxdepth 1 -type d -name 'kernel-*' -printf '%T@ %p\n' |
	sort -rn | tail -n +3 | cut -d' ' -f2- | while IFS= read -r old; do
	say "removing old debug kernel $old"
	rm -rf "$old" "$old.log" "$cache/.${old##*/}.lock"
done
echo "$out"
