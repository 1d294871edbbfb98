#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs every kgc kselftest program in this directory (inside the test VM,
# with kgc.ko loaded). Each program prints its own TAP; this script adds
# only '#' comment lines, and exits 1 if any program failed, 4 (kselftest
# skip) if all were skipped.
cd "$(dirname "$0")" || exit 1
fail=0
ran=0
for t in ./*_test; do
	[ -x "$t" ] || continue
	echo "# selftests: kgc: ${t#./}"
	"$t"
	rc=$?
	case $rc in
	0) ran=1 ;;
	4) echo "# ${t#./}: skipped" ;;
	*) echo "# ${t#./}: exit status $rc"; fail=1; ran=1 ;;
	esac
done
[ $fail -ne 0 ] && exit 1
[ $ran -eq 0 ] && exit 4
exit 0
