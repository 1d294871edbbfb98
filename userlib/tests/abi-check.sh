#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR MIT)
#
# ABI checks of the built shared library, as TAP:
#  - it exports exactly the symbols listed in libkgc.map, each at the
#    version node that lists it (KGC_0.1, KGC_0.2, ...);
#  - every kgc_ function declared in kgc.h is exported;
#  - its soname is libkgc.so.0;
#  - kgc_write_barrier_enabled names the whole control area (16 KiB,
#    16 KiB aligned), so that a program's copy relocation of it copies the
#    whole area, aligned: a PIE that reads it gets an R_X86_64_COPY-style
#    copy, and that copy is page aligned at run time.
#
# usage: abi-check.sh LIBKGC_SO LIBKGC_MAP KGC_H

so=$1
map=$2
hdr=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..5"

# "symbol@@NODE" for every symbol of the map, under the node it is in.
awk '/^KGC_[0-9.]* *\{/ { node = $1 }
     /^[[:space:]]*kgc_[a-z0-9_]*;$/ { sub(/^[[:space:]]*/, ""); sub(/;$/, "");
				       print $0 "@@" node }' "$map" |
	sort >"$tmp/mapver"
sed 's/@@.*//' "$tmp/mapver" >"$tmp/map"
nm -D --defined-only "$so" | awk '$3 ~ /^kgc_/ { print $3 }' | sort >"$tmp/so"
if cmp -s "$tmp/so" "$tmp/mapver" && [ -s "$tmp/so" ]; then
	echo "ok 1 - exports exactly the symbols of libkgc.map at their versions"
else
	echo "not ok 1 - exports exactly the symbols of libkgc.map at their versions"
	diff "$tmp/mapver" "$tmp/so" | sed 's/^/# /'
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

line=$(readelf -sW "$so" | awk '$8 ~ /^kgc_write_barrier_enabled@/ { print $2, $3; exit }')
value=${line% *}
size=${line#* }
if [ -n "$line" ] && [ "$size" = 16384 ] && [ $((0x$value % 16384)) = 0 ]; then
	echo "ok 4 - kgc_write_barrier_enabled is the 16 KiB aligned control area"
else
	echo "not ok 4 - kgc_write_barrier_enabled is the 16 KiB aligned control area"
	echo "# symbol: '$line'"
fi

cat >"$tmp/copyrel.c" <<'EOC'
#include <stdint.h>
#include <stdio.h>
#include <kgc.h>
int main(void)
{
	uintptr_t a = (uintptr_t)&kgc_write_barrier_enabled;

	printf("%lu %u\n", (unsigned long)(a % 4096), kgc_write_barrier_enabled);
	return 0;
}
EOC
if ${CC:-cc} -O2 -fPIE -pie -I"$(dirname "$hdr")" "$tmp/copyrel.c" \
	-L"$(dirname "$so")" -l:"$(basename "$so")" -o "$tmp/copyrel" 2>"$tmp/err"; then
	out=$(LD_LIBRARY_PATH=$(dirname "$so") "$tmp/copyrel" 2>&1)
	copy=$(readelf -rW "$tmp/copyrel" | grep -c 'COPY.*kgc_write_barrier_enabled')
	if [ "$out" = "0 0" ]; then
		echo "ok 5 - a PIE reading it (copy relocations: $copy) sees a page-aligned area"
	else
		echo "not ok 5 - a PIE reading it sees a page-aligned area (got '$out')"
	fi
else
	echo "not ok 5 - a PIE reading it sees a page-aligned area (build failed)"
	sed 's/^/# /' "$tmp/err"
fi
