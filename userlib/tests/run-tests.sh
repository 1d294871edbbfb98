#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR MIT)
#
# Run the libkgc unit tests (each prints TAP), then the ABI check, and end
# with one summary line: "userlib: N passed, N failed".
#
# usage: run-tests.sh TEST_BINARY...   (SRCDIR and OUT in the environment)

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

pass=0
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() {
	name=$1
	shift
	echo "# $name"
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	ok=$(grep -c '^ok ' "$log")
	bad=$(grep -c '^not ok ' "$log")
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n 1)
	pass=$((pass + ok))
	fail=$((fail + bad))
	if [ -z "$plan" ] || [ $((ok + bad)) -ne "$plan" ] || [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		echo "not ok - $name: exit code $rc, plan '${plan}', ran $((ok + bad))"
		fail=$((fail + 1))
	fi
}

for t in "$@"; do
	run_one "$(basename "$t")" "$t"
done
run_one abi "$SRCDIR/tests/abi-check.sh" "$OUT/libkgc.so.0.1.0" \
	"$SRCDIR/libkgc.map" "$SRCDIR/include/kgc.h"
if command -v groff >/dev/null 2>&1; then
	run_one man "$SRCDIR/tests/man-check.sh" "$SRCDIR/man" "$SRCDIR/libkgc.map"
else
	echo "# man: groff not installed, man pages not checked"
fi

echo "userlib: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
