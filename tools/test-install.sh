#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/test-install.sh - 'make install' into a staging root, then use it.
#
# Installs with DESTDIR=<temporary directory> PREFIX=/usr, checks that the
# staged tree has what a package would ship (kgc.ko under
# lib/modules/<kernel>/ with modules.dep, kgc.h, libkgc.so.0 and libkgc.a,
# kgc.pc, every man page, the udev rule), builds examples/hello.c against it
# with 'pkg-config --cflags --libs kgc' (PKG_CONFIG_SYSROOT_DIR and
# PKG_CONFIG_LIBDIR pointing into the staging root), dynamically and
# statically, and checks the dynamic one needs libkgc.so.0 and finds it in
# the staging root. Running it needs /dev/kgc: without it, the program must
# fail with libkgc's "cannot open /dev/kgc" message, which shows the staged
# library loaded and ran.
#
# Then, when dkms is installed (Debian package dkms), the module source
# from 'tools/install.sh --dkms' is built by 'dkms build' for the same
# kernel, with a private dkms tree and source tree (nothing is installed
# anywhere else, and module signing is turned off so dkms does not make a
# machine key in /var/lib/dkms).
#
# Prints TAP; exits 1 when a test failed. Nothing outside the temporary directory is written except
# the build products of the repository (kmod/ objects, build/userlib/).
#
# Usage: tools/test-install.sh          (KEEP=1 keeps the temporary tree)
# Environment: KDIR as for 'make' (default: the running kernel's build
# directory, else Debian's 6.1 headers).

set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top" || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kgc-install.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
	echo "# staging tree kept in $tmp"
else
	trap 'rm -rf "$tmp"' EXIT
fi
stage=$tmp/root
log=$tmp/log
: >"$log"

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n - $1"
	tail -n 15 "$log" | sed 's/^/# /'
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check DESCRIPTION COMMAND...: one test, the command's output in the log.
check() {
	local desc=$1
	shift
	echo "+ $*" >>"$log"
	if "$@" >>"$log" 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}

if [ -z "${KDIR:-}" ]; then
	if [ -f "/lib/modules/$(uname -r)/build/Makefile" ]; then
		KDIR=/lib/modules/$(uname -r)/build
	else
		KDIR=''
		for d in /usr/src/linux-headers-6.1.*-amd64; do
			if [ -f "$d/Makefile" ]; then KDIR=$d; fi
		done
	fi
fi
have_kdir=0
[ -n "$KDIR" ] && [ -f "$KDIR/Makefile" ] && have_kdir=1
version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' userlib/Makefile)

# ---- make install ---------------------------------------------------------
if [ "$have_kdir" = 1 ]; then
	check "make install DESTDIR=<staging root> PREFIX=/usr" \
		make install DESTDIR="$stage" PREFIX=/usr KDIR="$KDIR"
else
	echo "# no kernel headers (KDIR): user-space part only" >>"$log"
	check "tools/install.sh --no-module into a staging root (no KDIR)" \
		env DESTDIR="$stage" PREFIX=/usr tools/install.sh --no-module
fi

# ---- the module -------------------------------------------------------------
ko=$(find "$stage/lib/modules" -name 'kgc.ko*' 2>/dev/null | head -n 1)
kver=''
if [ "$have_kdir" = 0 ]; then
	skip "kgc.ko under lib/modules/<kernel>/" "no kernel headers"
	skip "modules.dep lists kgc.ko" "no kernel headers"
	skip "modinfo shows the module's parameters" "no kernel headers"
elif [ -n "$ko" ]; then
	kver=${ko#"$stage/lib/modules/"}
	kver=${kver%%/*}
	ok "kgc.ko under lib/modules/$kver/ (${ko#"$stage/lib/modules/$kver/"})"
	if [ -f "$stage/lib/modules/$kver/modules.dep" ]; then
		check "modules.dep lists kgc.ko" \
			grep -q 'kgc\.ko' "$stage/lib/modules/$kver/modules.dep"
	else
		skip "modules.dep lists kgc.ko" "depmod did not run (no depmod?)"
	fi
	if command -v modinfo >/dev/null || [ -x /sbin/modinfo ]; then
		mi=$(command -v modinfo || echo /sbin/modinfo)
		check "modinfo shows the module's parameters" \
			bash -c "'$mi' -F parm '$ko' | grep -q '^max_heap_mb:' &&
				 '$mi' -F license '$ko' | grep -qx GPL"
	else
		skip "modinfo shows the module's parameters" "no modinfo"
	fi
else
	not_ok "kgc.ko under lib/modules/<kernel>/"
	skip "modules.dep lists kgc.ko" "no module"
	skip "modinfo shows the module's parameters" "no module"
fi

# ---- user space -------------------------------------------------------------
check "kgc.h in usr/include" cmp userlib/include/kgc.h "$stage/usr/include/kgc.h"
check "libkgc.so.$version, libkgc.so.0 -> it, libkgc.so, libkgc.a in usr/lib" \
	bash -c "cd '$stage/usr/lib' && [ -f libkgc.so.$version ] &&
		 [ \"\$(readlink libkgc.so.0)\" = libkgc.so.$version ] &&
		 [ \"\$(readlink -f libkgc.so)\" = \"\$(readlink -f libkgc.so.$version)\" ] &&
		 [ -f libkgc.a ]"
check "kgc.pc in usr/lib/pkgconfig, for prefix /usr" \
	grep -qx 'prefix=/usr' "$stage/usr/lib/pkgconfig/kgc.pc"
missing=''
pages=(userlib/man/*.[37])
for f in "${pages[@]}"; do
	sec=${f##*.}
	[ -f "$stage/usr/share/man/man$sec/${f##*/}" ] || missing+=" ${f##*/}"
done
if [ -z "$missing" ] && [ -f "${pages[0]}" ]; then
	ok "every man page in usr/share/man (${#pages[@]})"
else
	echo "missing man pages:$missing" >>"$log"
	not_ok "every man page in usr/share/man (missing:$missing)"
fi
check "udev rule usr/lib/udev/rules.d/60-kgc.rules gives /dev/kgc mode 0666" \
	grep -q 'KERNEL=="kgc".*MODE="0666"' "$stage/usr/lib/udev/rules.d/60-kgc.rules"

# ---- a program built against the staging root -------------------------------
export PKG_CONFIG_SYSROOT_DIR=$stage
export PKG_CONFIG_LIBDIR=$stage/usr/lib/pkgconfig
export PKG_CONFIG_PATH=$stage/usr/lib/pkgconfig
flags=$(pkg-config --cflags --libs kgc 2>>"$log")
echo "pkg-config --cflags --libs kgc: $flags" >>"$log"
if [ -n "$flags" ] && [[ $flags == *"-L$stage/usr/lib"* ]] && [[ $flags == *-lkgc* ]]; then
	ok "pkg-config --cflags --libs kgc points into the staging root"
else
	not_ok "pkg-config --cflags --libs kgc points into the staging root ($flags)"
fi
check "examples/hello.c builds and links against the staged libkgc.so" \
	bash -c "cc -std=gnu11 -Wall -Wextra -Werror -O2 examples/hello.c \
		 \$(pkg-config --cflags --libs kgc) -o '$tmp/hello'"
check "hello needs libkgc.so.0 (readelf -d)" \
	bash -c "readelf -d '$tmp/hello' | grep -q 'NEEDED.*\\[libkgc\\.so\\.0\\]'"
check "ldd finds libkgc.so.0 in the staging root" \
	bash -c "LD_LIBRARY_PATH='$stage/usr/lib' ldd '$tmp/hello' |
		 grep -q 'libkgc\\.so\\.0 => $stage/usr/lib/libkgc\\.so\\.0'"
if [ -c /dev/kgc ]; then
	check "hello runs with the staged library" \
		bash -c "LD_LIBRARY_PATH='$stage/usr/lib' '$tmp/hello' | grep -q '^hello from kgc'"
else
	check "hello runs the staged library (no /dev/kgc here: it says so)" \
		bash -c "! LD_LIBRARY_PATH='$stage/usr/lib' '$tmp/hello' 2>'$tmp/hello.err' &&
			 grep -q '/dev/kgc' '$tmp/hello.err'"
fi
check "examples/hello.c links statically (pkg-config --static)" \
	bash -c "cc -std=gnu11 -O2 -static examples/hello.c \
		 \$(pkg-config --static --cflags --libs kgc) -o '$tmp/hello-static' &&
		 ! readelf -d '$tmp/hello-static' | grep -q NEEDED"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR PKG_CONFIG_PATH

# ---- dkms -------------------------------------------------------------------
src=$tmp/dkms-src
check "tools/install.sh --dkms stages the module source in usr/src/kgc-$version" \
	bash -c "DESTDIR='$src' tools/install.sh --dkms --no-userlib &&
		 cd '$src/usr/src/kgc-$version' && [ -f dkms.conf ] && [ -f Kbuild ] &&
		 [ -f kmod/Kbuild ] && [ -f kmod/main.c ] && [ -f uapi/linux/kgc.h ] &&
		 ! ls kmod/*.o kmod/*.ko 2>/dev/null | grep -q ."
if ! command -v dkms >/dev/null; then
	skip "dkms build for the headers' kernel" "dkms not installed (apt-get install dkms)"
elif [ "$have_kdir" = 0 ] || [ -z "$kver" ]; then
	skip "dkms build for the headers' kernel" "no kernel headers"
elif [ "$(id -u)" != 0 ]; then
	skip "dkms build for the headers' kernel" "dkms wants root"
else
	tree=$tmp/dkms-tree
	mkdir -p "$tree"
	# sign_file: a path that does not exist turns module signing off.
	check "dkms add + build kgc/$version for $kver (private dkms tree)" \
		bash -c "export sign_file=/nonexistent
			 dkms add -m kgc -v '$version' --dkmstree '$tree' \
				--sourcetree '$src/usr/src' &&
			 dkms build -m kgc -v '$version' -k '$kver' --dkmstree '$tree' \
				--sourcetree '$src/usr/src' --kernelsourcedir '$KDIR'"
	built=$(find "$tree/kgc/$version/$kver" -name kgc.ko 2>/dev/null | head -n 1)
	if [ -n "$built" ]; then
		mi=$(command -v modinfo || echo /sbin/modinfo)
		check "dkms built kgc.ko for $kver (vermagic)" \
			bash -c "'$mi' -F vermagic '$built' | grep -q '^$kver '"
	else
		find "$tree" >>"$log" 2>&1
		not_ok "dkms built kgc.ko for $kver"
	fi
fi

echo "1..$n"
[ "$failed" -eq 0 ]
