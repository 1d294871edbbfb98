#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR MIT)
#
# Man page checks, as TAP: every page renders without groff warnings, every
# .so link points to a page that exists, and every symbol in libkgc.map has
# a page (its own or a link).
#
# usage: man-check.sh MANDIR LIBKGC_MAP

mandir=$1
map=$2
n=0
fail=0
pages=$(ls "$mandir"/*.3 "$mandir"/*.7)
count=$(echo "$pages" | wc -l)
syms=$(sed -n 's/^[[:space:]]*\(kgc_[a-z0-9_]*\);$/\1/p' "$map")
echo "1..$((count + $(echo "$syms" | wc -l)))"

for p in $pages; do
	n=$((n + 1))
	name=$(basename "$p")
	link=$(sed -n 's/^\.so man[37]\/\(.*\)$/\1/p' "$p")
	if [ -n "$link" ]; then
		if [ -f "$mandir/$link" ]; then
			echo "ok $n - $name links to $link"
		else
			echo "not ok $n - $name links to missing $link"
			fail=1
		fi
		continue
	fi
	err=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$p" 2>&1)
	if [ -z "$err" ]; then
		echo "ok $n - $name renders cleanly"
	else
		echo "not ok $n - $name renders cleanly"
		echo "$err" | sed 's/^/# /'
		fail=1
	fi
done
for s in $syms; do
	n=$((n + 1))
	if [ -f "$mandir/$s.3" ]; then
		echo "ok $n - $s has a man page"
	else
		echo "not ok $n - $s has a man page"
		fail=1
	fi
done
exit $fail
