#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench/run-guest.sh - every guest benchmark in one VM boot, in sequence.
# tools/bench.sh boots the VM with this script as the command; it prints
# "@@ ..." result lines that bench/report.py turns into tables. Peers run
# in the same boot, interleaved repetition by repetition, so that drift in
# the host's speed hits all of them alike.
#
# Usage (inside the guest): sh /bench/run-guest.sh
# Environment (defaults in brackets; tools/bench.sh sets them):
#   REPS            repetitions of every run [3]
#   ALLOC_FRESH     allocations per thread, fresh mode [500000]
#   ALLOC_RING      allocations per thread, ring mode [2000000]
#   ALLOC_SLOTS     live objects per thread, ring mode [10000]
#   BT_DEPTH        binary-trees depth [16]
#   GCB_ARGS        gcbench STRETCH LONG MAX ARRAY ["18 16 16 500000"]
#   RUN_TIMEOUT     seconds one run may take before it is killed [240];
#                   a program killed so is not run again in this boot
#   SKIP            space-separated groups to skip: alloc gc heap phase
#   WHERE           label for the results [vm]; tools/bench.sh also runs
#                   this script on the host, over build/bench-native/,
#                   with WHERE=native
#
# busybox sh: no bashisms.

B=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-3}
ALLOC_FRESH=${ALLOC_FRESH:-500000}
ALLOC_RING=${ALLOC_RING:-2000000}
ALLOC_SLOTS=${ALLOC_SLOTS:-10000}
BT_DEPTH=${BT_DEPTH:-16}
GCB_ARGS=${GCB_ARGS:-"18 16 16 500000"}
SKIP=${SKIP:-}
RUN_TIMEOUT=${RUN_TIMEOUT:-240}
TIMED_OUT=" "
WHERE=${WHERE:-vm}

skip() {
	case " $SKIP " in *" $1 "*) return 0 ;; esac
	return 1
}

now() { date +%s; }
T0=$(now)
section() { echo "## $1 (t=$(($(now) - T0))s)" >&2; echo "@@ section name=$1 t=$(($(now) - T0))"; }

# One run, killed after RUN_TIMEOUT seconds; a program that dies or hangs
# leaves a "fail" line, and one that hung is not run again (its key: the
# program and its last argument, e.g. "binarytrees_kgc on").
run() {
	key="$(basename "$1")_$(eval echo "\${$#}")"
	case $TIMED_OUT in
	*" $key "*)
		echo "@@ fail cmd=$(basename "$1") rc=skipped args=$(echo "$*" | tr ' ' '_')"
		return ;;
	esac
	out=$(timeout -k 10 "$RUN_TIMEOUT" "$@" 2>/tmp/bench.err)
	rc=$?
	if [ -n "$out" ]; then
		echo "$out"
	fi
	if [ $rc -ne 0 ]; then
		echo "@@ fail cmd=$(basename "$1") rc=$rc args=$(echo "$*" | tr ' ' '_')"
		sed 's/^/  stderr: /' /tmp/bench.err | tail -n 5 >&2
		case $rc in
		124 | 137 | 143) TIMED_OUT="$TIMED_OUT$key " ;;
		esac
	fi
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1 | tr -s ' ' '_')
echo "@@ env where=$WHERE cpu=${cpu:-unknown} kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo) mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo) reps=$REPS alloc_fresh=$ALLOC_FRESH alloc_ring=$ALLOC_RING slots=$ALLOC_SLOTS"

if ! skip alloc; then
	section alloc
	for threads in 1 2; do
		r=1
		while [ $r -le "$REPS" ]; do
			for impl in kgc glibc jemalloc tcmalloc mimalloc; do
				run "$B/alloc_$impl" --mode fresh --threads $threads \
					--allocs "$ALLOC_FRESH"
			done
			run "$B/alloc_kgc" --mode fresh --threads $threads \
				--allocs "$ALLOC_FRESH" --kind conservative
			for impl in kgc glibc jemalloc tcmalloc mimalloc; do
				run "$B/alloc_$impl" --mode ring --threads $threads \
					--allocs "$ALLOC_RING" --slots "$ALLOC_SLOTS"
			done
			run "$B/alloc_kgc" --mode ring --threads $threads \
				--allocs "$ALLOC_RING" --slots "$ALLOC_SLOTS" \
				--kind uninit
			# libkgc over the stand-in, collector off (guest only).
			if [ -x "$B/alloc_kgc_nogc" ]; then
				for kind in noscan uninit; do
					run "$B/alloc_kgc_nogc" --mode ring \
						--threads $threads \
						--allocs "$ALLOC_RING" \
						--slots "$ALLOC_SLOTS" --kind $kind
				done
			fi
			for impl in glibc jemalloc tcmalloc mimalloc; do
				run "$B/alloc_$impl" --mode ring --threads $threads \
					--allocs "$ALLOC_RING" --slots "$ALLOC_SLOTS" \
					--zero 1
			done
			r=$((r + 1))
		done
	done
fi

if ! skip gc; then
	section binarytrees
	r=1
	while [ $r -le "$REPS" ]; do
		for gc in on off; do
			for impl in kgc boehm go; do
				run "$B/binarytrees_$impl" "$BT_DEPTH" $gc
			done
		done
		r=$((r + 1))
	done
	section gcbench
	r=1
	while [ $r -le "$REPS" ]; do
		for gc in on off; do
			for impl in kgc boehm go; do
				# shellcheck disable=SC2086
				run "$B/gcbench_$impl" $GCB_ARGS $gc
			done
		done
		r=$((r + 1))
	done
fi

# The kernel heap's own benchmarks, written with the module: their output
# is passed through as it is.
if ! skip heap && [ -x "$B/heap_bench" ]; then
	section heap_bench
	echo "@@ raw begin=heap_bench"
	"$B/heap_bench" 2>&1
	echo "@@ raw end=heap_bench rc=$?"
fi
if ! skip phase && [ -x "$B/phase_bench" ]; then
	section phase_bench
	echo "@@ raw begin=phase_bench"
	"$B/phase_bench" 2>&1
	echo "@@ raw end=phase_bench rc=$?"
	echo "@@ raw begin=phase_bench_block"
	"$B/phase_bench" -b 2>&1
	echo "@@ raw end=phase_bench_block rc=$?"
fi
section end
