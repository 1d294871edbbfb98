#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/test-pprof.sh - the heap profile of libkgc, read by `go tool pprof`.
#
# selftests/profile_test runs the issue's program in the test VM (alloc_A
# allocates 10 MiB, alloc_B 20 MiB and calls alloc_A, alloc_C 30 MiB and
# calls alloc_B; sampled at 4 KiB) and prints two profiles base64-encoded
# between "# kgc-pprof-begin NAME" / "# kgc-pprof-end NAME" lines: "live"
# while the objects are reachable, "dead" after they were dropped and two
# collections ran. The VM cannot run Go, so this script decodes them on the
# host and checks, with pprof itself (-top -unit=B):
#   - pprof opens each profile and names the functions without binaries;
#   - alloc_space flat/cum: A 10/10, B 20/30, C 30/60 MiB, within 25%
#     (sampling), in both profiles;
#   - inuse_space flat: as alloc_space while alive, under 10% once dead.
# Output is TAP; the exit status is 0 when every test passed.
#
# Usage: tools/test-pprof.sh [--kernel stock|debug] [--from FILE]
#   --kernel K   the VM's kernel (default stock)
#   --from FILE  take profile_test's output from FILE (e.g. a kselftest
#                run's build/logs/kselftest-stock.out) instead of booting
# Files: build/pprof/{live,dead}.pprof, build/pprof/*.top (pprof output),
# build/logs/pprof.{log,out} (the VM run).

set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
kernel=stock from=''
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--from) from=$2; shift 2 ;;
	*) echo "usage: $0 [--kernel stock|debug] [--from FILE]" >&2; exit 2 ;;
	esac
done

out_dir=$top/build/pprof
logs=$top/build/logs
mkdir -p "$out_dir" "$logs"
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { if [ "$1" = 0 ]; then ok "$2"; else not_ok "$2"; fi; }

echo "1..16"

if ! command -v go >/dev/null 2>&1; then
	for _ in $(seq 16); do skip "go tool pprof" "go is not installed (tools/deps.sh: golang-go)"; done
	exit 0
fi

# 1. The program ran in the VM and printed both profiles.
if [ -z "$from" ]; then
	from=$logs/pprof.out
	rc=0
	tools/vm/run.sh --kernel "$kernel" --quiet --timeout 900 --log "$logs/pprof.log" \
		--out "$from" -- /selftests/profile_test >"$logs/pprof.run" 2>&1 || rc=$?
	sed 's/^/# /' "$logs/pprof.run"
	[ "$rc" = 0 ] || echo "# tools/vm/run.sh exited $rc (console: build/logs/pprof.log)"
fi
extract() {	# NAME -> build/pprof/NAME.pprof
	awk -v name="$1" '
		$0 == "# kgc-pprof-begin " name { on = 1; next }
		$0 == "# kgc-pprof-end " name { on = 0 }
		on { sub(/^# /, ""); print }' "$from" | base64 -d >"$out_dir/$1.pprof" 2>/dev/null
}
got=0
for p in live dead; do
	rm -f "$out_dir/$p.pprof"
	if [ -f "$from" ] && extract "$p" && [ -s "$out_dir/$p.pprof" ]; then
		got=$((got + 1))
	fi
done
grep -a '^# \(live\|dead\) alloc_' "$from" 2>/dev/null || true
check "$([ "$got" = 2 ]; echo $?)" "profile_test printed the live and the dead profile"

# pprof -top, in bytes: "flat flat% sum% cum cum% name" rows.
top_of() {	# PROFILE SAMPLE_INDEX -> build/pprof/PROFILE.SAMPLE_INDEX.top
	local f=$out_dir/$1.$2.top
	go tool pprof -top -nodecount=200 -sample_index="$2" -unit=B "$out_dir/$1.pprof" \
		>"$f" 2>"$f.err"
}
# value PROFILE SAMPLE_INDEX FUNCTION flat|cum -> bytes (0 when absent)
value() {
	awk -v fn="$3" -v col="$4" '
		NF >= 6 && $6 == fn {
			v = (col == "flat") ? $1 : $4
			sub(/B$/, "", v); print v + 0; found = 1; exit
		}
		END { if (!found) print 0 }' "$out_dir/$1.$2.top"
}
# near GOT WANT_MIB PERCENT: exit 0 when GOT is within PERCENT of WANT MiB
near() {
	awk -v g="$1" -v w="$2" -v p="$3" 'BEGIN {
		w *= 1048576; exit !(g >= w * (1 - p / 100) && g <= w * (1 + p / 100)) }'
}
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }

# 2-3. pprof reads both, with every function named, without binaries.
for p in live dead; do
	rc=0
	if [ -s "$out_dir/$p.pprof" ]; then
		top_of "$p" alloc_space || rc=$?
		top_of "$p" inuse_space || rc=$?
		sed 's/^/# /' "$out_dir/$p.alloc_space.top"
		if [ -s "$out_dir/$p.alloc_space.top.err" ]; then
			sed 's/^/# stderr: /' "$out_dir/$p.alloc_space.top.err"
			rc=1
		fi
		grep -q ' alloc_C$' "$out_dir/$p.alloc_space.top" || rc=1
	else
		rc=1
	fi
	check "$rc" "go tool pprof reads the $p profile and names its functions"
done

# 4-9. alloc_space flat and cum of A, B, C in both profiles.
want_flat=(10 20 30) want_cum=(10 30 60)
for p in live dead; do
	i=0
	for fn in alloc_A alloc_B alloc_C; do
		if [ -s "$out_dir/$p.alloc_space.top" ]; then
			f=$(value "$p" alloc_space "$fn" flat)
			c=$(value "$p" alloc_space "$fn" cum)
		else
			f=0 c=0
		fi
		rc=0
		near "$f" "${want_flat[$i]}" 25 || rc=1
		near "$c" "${want_cum[$i]}" 25 || rc=1
		check "$rc" "$p: $fn alloc_space flat $(mib "$f") (want ${want_flat[$i]}), cum $(mib "$c") (want ${want_cum[$i]})"
		i=$((i + 1))
	done
done

# 10-15. inuse_space flat: all of it while alive, under 10% once dead.
for p in live dead; do
	i=0
	for fn in alloc_A alloc_B alloc_C; do
		if [ -s "$out_dir/$p.inuse_space.top" ]; then
			f=$(value "$p" inuse_space "$fn" flat)
		else
			f=-1
		fi
		rc=0
		if [ "$p" = live ]; then
			near "$f" "${want_flat[$i]}" 25 || rc=1
			check "$rc" "live: $fn inuse_space flat $(mib "$f") (want ${want_flat[$i]})"
		else
			awk -v g="$f" -v w="${want_flat[$i]}" \
				'BEGIN { exit !(g >= 0 && g < w * 1048576 / 10) }' || rc=1
			check "$rc" "dead: $fn inuse_space flat $(mib "$f") (want under $((want_flat[i] * 1024 / 10)) KiB)"
		fi
		i=$((i + 1))
	done
done

# 16. pprof's own view of the sample types and the sampling period.
rc=0
if [ -s "$out_dir/live.pprof" ]; then
	go tool pprof -raw "$out_dir/live.pprof" >"$out_dir/live.raw" 2>&1 || rc=$?
	grep -q 'alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes' \
		"$out_dir/live.raw" || rc=1
	grep -q 'PeriodType: space bytes' "$out_dir/live.raw" || rc=1
	grep -q '^Period: 4096$' "$out_dir/live.raw" || rc=1
else
	rc=1
fi
check "$rc" "sample types alloc_objects, alloc_space, inuse_objects, inuse_space; period 4096 space/bytes"

exit "$failed"
