#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench.sh - `make bench`: kgc against its peers, as tables.
#
#   1. installs the peers' Debian packages when missing (apt-get; its
#      package lists are refreshed only when an install fails without them);
#   2. builds libkgc and bench/ (build/guest/bench/, build/bench-native/);
#   3. runs the benchmarks natively on the host (user-space fast paths;
#      kgc over an in-process stand-in for the device);
#   4. boots ONE stock-kernel VM (QEMU TCG, tools/vm/run.sh) that runs every
#      guest benchmark in sequence (bench/run-guest.sh), peers in the same
#      boot;
#   5. prints the tables (bench/report.py) and writes them to
#      build/bench/results.md, followed by the portable core's native
#      benchmarks (tests/core: marking, sweeping, the page heap).
# Benchmarks never pass or fail on time. The exit status is non-zero only
# when something could not be built or run (the tables are still printed
# for what did run).
#
# Usage: tools/bench.sh [--quick] [--native-only | --vm-only] [--rev REV]
#                       [--reps N]
#   --quick           one repetition, smaller workloads (a smoke test)
#   --native-only     skip the VM;  --vm-only: skip the native runs
#   --rev REV         benchmark kgc (module, library, uapi) as of git
#                     revision REV instead of the working tree: it is
#                     exported to build/bench/tree-REV and built there (the
#                     benchmark programs themselves stay the working tree's)
#   --reps N          repetitions (default: 3 in the VM, 5 natively)
#
# Outputs in build/bench/ (--quick: build/bench/quick/): native.out,
# vm.log, vm.out, results.md.
# Takes about 10 minutes on a 2-CPU host (most of it the VM).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
build=${O_DIR:-$top/build}
out=$build/bench

quick=0 native=1 vm=1 rev='' reps=3 native_reps=5
orig_args="$*"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; shift ;;
	--native-only) vm=0; shift ;;
	--vm-only) native=0; shift ;;
	--rev) rev=$2; shift 2 ;;
	--reps) reps=$2; native_reps=$2; shift 2 ;;
	-h | --help) sed -n '/^# Usage:/,/^# Takes/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

say() { echo "bench.sh: $*" >&2; }
# A smoke test must not overwrite the last real results.
[ "$quick" = 0 ] || out=$out/quick

# ---- 1. peers ------------------------------------------------------------------
# The benchmarks' own package list, kept apart from tools/deps.sh so that
# `make check` never waits for them.
peer_packages=(
	libgc-dev		# Boehm GC 8.2 (static libgc.a)
	libjemalloc-dev
	libgoogle-perftools-dev	# tcmalloc (tcmalloc_minimal)
	libmimalloc-dev		# mimalloc 2.0 (shared library only)
	golang-go		# Go 1.19, static binaries with CGO_ENABLED=0
	python3			# bench/report.py
)
missing=()
for p in "${peer_packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=()
	[ "$(id -u)" = 0 ] || sudo=(sudo)
	say "installing ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y \
		--no-install-recommends "${missing[@]}"; then
		say "apt-get install failed: refreshing the package lists and retrying"
		"${sudo[@]}" apt-get update
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y \
			--no-install-recommends "${missing[@]}"
	fi
fi

# ---- 2. build --------------------------------------------------------------------
mkdir -p "$out"
tree=$top treebuild=$build
srcargs=()
if [ -n "$rev" ]; then
	tree=$out/tree-$(echo "$rev" | tr -c 'A-Za-z0-9._\n-' '_')
	say "exporting $rev to $tree"
	rm -rf "$tree"
	mkdir -p "$tree"
	git -C "$top" archive "$rev" Kbuild kmod uapi userlib | tar -x -C "$tree"
	srcargs=(--module-src "$tree")
	treebuild=$tree/build
fi
say "building libkgc ($tree/userlib) and bench/"
make -s -C "$tree/userlib" O_DIR="$treebuild" >/dev/null
make -s -C "$top/bench" -j"$(nproc)" KGC_TREE="$tree" \
	LIBKGC="$treebuild/userlib/libkgc.a" >/dev/null

# Workload sizes: a few seconds per run under TCG, well under a second
# natively (see bench/README.md).
if [ "$quick" = 1 ]; then
	reps=1 native_reps=1
	sizes_vm="ALLOC_FRESH=100000 ALLOC_RING=300000 BT_DEPTH=12 GCB_ARGS='14 12 12 100000'"
	sizes_native="ALLOC_FRESH=200000 ALLOC_RING=1000000 BT_DEPTH=12 GCB_ARGS='14 12 12 100000'"
else
	sizes_vm="ALLOC_FRESH=300000 ALLOC_RING=1000000 BT_DEPTH=16 GCB_ARGS='18 16 16 500000' RUN_TIMEOUT=120"
	sizes_native="ALLOC_FRESH=1000000 ALLOC_RING=10000000 BT_DEPTH=16 GCB_ARGS='18 16 16 500000' RUN_TIMEOUT=60"
fi

status=0
t0=$(date +%s)
notes=()
# Other VMs on the host steal CPU from both the native runs and ours.
other_vms() { pgrep -c -f '^(timeout .*)?qemu-system' 2>/dev/null || true; }

# ---- 3. native -------------------------------------------------------------------
if [ "$native" = 1 ]; then
	say "native runs on the host ($native_reps repetitions)"
	n=$(other_vms)
	[ "${n:-0}" = 0 ] || notes+=("$n other QEMU process(es) were running on the host when the native runs began: expect noise")
	if ! env -i PATH="$PATH" HOME="${HOME:-/}" \
		sh -c "WHERE=native REPS=$native_reps $sizes_native SKIP='heap phase' \
		       sh '$build/bench-native/run-guest.sh'" >"$out/native.out"; then
		say "native runs failed (see $out/native.out)"
		status=1
	fi
	say "native done in $(($(date +%s) - t0)) s"
fi

# ---- 4. the VM ---------------------------------------------------------------------
if [ "$vm" = 1 ]; then
	say "one VM boot for every guest benchmark ($reps repetitions)"
	n=$(other_vms)
	[ "${n:-0}" = 0 ] || notes+=("$n other QEMU process(es) were running on the host when the VM booted: expect noise")
	rm -f "$out/vm.out"
	if ! bash "$top/tools/vm/run.sh" --kernel stock "${srcargs[@]}" \
		--mem 2G --smp 2 --timeout 1500 --quiet \
		--log "$out/vm.log" --out "$out/vm.out" -- \
		"WHERE=vm REPS=$reps $sizes_vm sh /bench/run-guest.sh"; then
		say "the VM run failed (log: $out/vm.log)"
		status=1
	fi
	say "VM done at $(($(date +%s) - t0)) s"
fi

# ---- 5. tables -----------------------------------------------------------------------
args=()
[ "$native" = 0 ] || [ ! -s "$out/native.out" ] || args+=(--native "$out/native.out")
[ "$vm" = 0 ] || [ ! -s "$out/vm.out" ] || args+=(--vm "$out/vm.out")
have=${#args[@]}
for n in ${notes[@]+"${notes[@]}"}; do
	args+=(--note "$n")
done
[ -z "$rev" ] || args+=(--note "kgc as of $rev ($(git -C "$top" rev-parse --short "$rev"))")
[ -n "$rev" ] || args+=(--note "kgc as in the working tree (HEAD $(git -C "$top" rev-parse --short HEAD)$(git -C "$top" diff --quiet HEAD -- kmod uapi userlib || echo ', with uncommitted changes'))")
if [ "$have" -gt 0 ]; then
	python3 "$top/bench/report.py" "${args[@]}" --out "$out/results.md" \
		--command "tools/bench.sh${orig_args:+ $orig_args}"
	say "tables written to $out/results.md"
	# The portable core's own benchmarks (tests/core: marking, sweeping,
	# the page heap), natively over plain memory, from the working tree.
	if [ "$native" = 1 ] && [ -z "$rev" ]; then
		say "portable core benchmarks (tests/core, native)"
		if make -s -C "$top/tests/core" "$top/build/core/bench_mark" \
			"$top/build/core/bench_pages" >/dev/null; then
			{
				echo
				echo "## Portable core, native (tests/core, working tree)"
				echo
				"$top/build/core/bench_mark"
				echo
				echo '```'
				"$top/build/core/bench_pages"
				echo '```'
			} >>"$out/results.md" || status=1
		else
			say "tests/core benchmarks failed to build"
			status=1
		fi
	fi
else
	say "no results"
	status=1
fi
exit "$status"
