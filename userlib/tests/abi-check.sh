#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR MIT)
#
# ABI checks of the built shared library, as TAP:
#  - it exports exactly the symbols listed in libkgc.map, all at KGC_0.1;
#  - every kgc_ function declared in kgc.h is exported;
#  - its soname is libkgc.so.0.
#
# usage: abi-check.sh LIBKGC_SO LIBKGC_MAP KGC_H

so=$1
map=$2
hdr=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..3"

sed -n 's/^[[:space:]]*\(kgc_[a-z0-9_]*\);$/\1/p' "$map" | sort >"$tmp/map"
nm -D --defined-only "$so" | awk '$3 ~ /^kgc_/ { print $3 }' | sort >"$tmp/so"
if sed 's/@@KGC_0\.1$//' "$tmp/so" | cmp -s - "$tmp/map" &&
   ! grep -qv '@@KGC_0\.1$' "$tmp/so"; then
	echo "ok 1 - exports exactly the symbols of libkgc.map at KGC_0.1"
else
	echo "not ok 1 - exports exactly the symbols of libkgc.map at KGC_0.1"
	sed 's/@@KGC_0\.1$//' "$tmp/so" | diff "$tmp/map" - | sed 's/^/# /'
fi

grep -o '^[a-z].*[ *]\(kgc_[a-z0-9_]*\)(' "$hdr" |
	sed 's/.*\(kgc_[a-z0-9_]*\)($/\1/' | grep -v '^kgc_store$' |
	sort -u >"$tmp/hdr"
missing=$(comm -23 "$tmp/hdr" "$tmp/map")
if [ -z "$missing" ] && [ -s "$tmp/hdr" ]; then
	echo "ok 2 - every function declared in kgc.h is in libkgc.map"
else
	echo "not ok 2 - every function declared in kgc.h is in libkgc.map"
	echo "# missing: $missing"
fi

soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" = "libkgc.so.0" ]; then
	echo "ok 3 - soname is libkgc.so.0"
else
	echo "not ok 3 - soname is libkgc.so.0 (got '$soname')"
fi
