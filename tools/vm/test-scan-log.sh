#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/test-scan-log.sh - self-test of the VM harness's log scanner.
#
# Runs tools/vm/scan-log.sh on every sample console log in
# tools/vm/testdata/ and prints TAP:
#   clean-*.log  must pass (benign lines of kmemleak, KASAN, lockdep, KUnit
#                and the harness must not be mistaken for problems);
#   bad-*.log    must fail, and its first line "# expect: LABEL..." names
#                the scan-log labels that must be reported (e.g. kasan).
# The samples are cut from real console logs of the stock and debug
# kernels (throwaway modules doing WARN_ON, out-of-bounds writes, lock
# inversions, leaks, ...), keeping the lines around the report.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scan=$here/scan-log.sh
shopt -s nullglob
logs=("$here"/testdata/clean-*.log "$here"/testdata/bad-*.log)
echo "TAP version 13"
echo "1..${#logs[@]}"
n=0 failed=0
for log in "${logs[@]}"; do
	n=$((n + 1))
	name=$(basename "$log" .log)
	rc=0
	out=$("$scan" "$log") || rc=$?
	ok=1 why=''
	case $name in
	clean-*)
		if [ "$rc" -ne 0 ]; then
			ok=0 why="scan-log.sh reported problems in a clean log"
		fi
		;;
	bad-*)
		if [ "$rc" -ne 1 ]; then
			ok=0 why="scan-log.sh returned $rc, expected 1"
		fi
		read -r -a labels <<<"$(sed -n '1s/^# expect: *//p' "$log")"
		for label in "${labels[@]}"; do
			if ! grep -q "\[$label\]" <<<"$out"; then
				ok=0 why="${why:+$why; }no [$label] reported"
			fi
		done
		;;
	esac
	if [ "$ok" = 1 ]; then
		echo "ok $n $name"
	else
		failed=1
		echo "not ok $n $name # $why"
		while IFS= read -r line; do echo "# $line"; done <<<"$out"
	fi
done
exit "$failed"
