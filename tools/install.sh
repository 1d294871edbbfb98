#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/install.sh - 'make install': the module, the library, its header,
# pkg-config file and man pages, and the udev rule for /dev/kgc.
#
# Usage: tools/install.sh [--dkms] [--no-module] [--no-userlib]
#
#   (default)     build kgc.ko against KDIR and install it with the kernel's
#                 own 'make modules_install' into
#                 $DESTDIR/lib/modules/<kernel release>/extra/kgc.ko, then
#                 run depmod (depmod -b $DESTDIR when DESTDIR is set, so an
#                 unprivileged install into a staging root works)
#   --dkms        instead of a built module, install the module's source
#                 with dkms.conf into $DESTDIR/usr/src/kgc-<version>/, for
#                 'dkms install kgc/<version>' (builds it for every kernel
#                 with headers, and again for each new kernel)
#   --no-module   neither the module nor its source (user space only)
#   --no-userlib  neither the library nor its files (module only)
#
# Environment (the top-level Makefile exports the first three):
#   KDIR          kernel build directory to build against (default: the
#                 running kernel's, else Debian's 6.1 headers)
#   PREFIX        where the library goes (default /usr/local): lib/,
#                 include/, lib/pkgconfig/, share/man/ (userlib/Makefile)
#   DESTDIR       staging root prepended to every path (default: none)
#   UDEVRULESDIR  where 60-kgc.rules goes (default /usr/lib/udev/rules.d,
#                 whatever PREFIX is: udev reads no other directory of a
#                 package; /etc/udev/rules.d is the administrator's)
#   DEPMOD        depmod to run (default: depmod from PATH, /sbin, /usr/sbin)
#
# The module's own mode is already 0666 (kmod/dev.c); the udev rule says so
# again so a distribution's default rules cannot tighten it.

set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

module=1 dkms=0 userlib=1
while [ $# -gt 0 ]; do
	case $1 in
	--dkms) dkms=1; shift ;;
	--no-module) module=0; shift ;;
	--no-userlib) userlib=0; shift ;;
	-h | --help) sed -n '/^# Usage:/,/^# The module/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option: $1 (see --help)" ;;
	esac
done

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
UDEVRULESDIR=${UDEVRULESDIR:-/usr/lib/udev/rules.d}
version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' userlib/Makefile)
[ -n "$version" ] || die "no VERSION in userlib/Makefile"

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

find_depmod() {
	local d
	if [ -n "${DEPMOD:-}" ]; then echo "$DEPMOD"; return; fi
	for d in "$(command -v depmod || true)" /sbin/depmod /usr/sbin/depmod; do
		if [ -n "$d" ] && [ -x "$d" ]; then echo "$d"; return; fi
	done
	return 1
}

# The release the modules go under: UTS_RELEASE, as the kernel's Makefile
# computes it (Debian's headers override it: include/config/kernel.release
# holds the upstream version there).
kernel_release() {
	sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
		"$KDIR/include/generated/utsrelease.h" 2>/dev/null | grep . ||
		make -s -C "$KDIR" kernelrelease
}

install_module() {
	local kver depmod key sign=()
	if [ -z "$KDIR" ] || [ ! -f "$KDIR/Makefile" ]; then
		die "no kernel build directory (KDIR=${KDIR:-unset}): install linux-headers-\$(uname -r)"
	fi
	kver=$(kernel_release)
	say "module for $kver (KDIR=$KDIR)"
	make -C "$KDIR" M="$top" modules
	# The kernel signs modules at install when it was built to, with its
	# own key, which only a kernel build tree has: without it, install
	# unsigned (fine unless the kernel enforces signatures, e.g. Secure
	# Boot: use --dkms, which signs with the machine owner's key).
	key=$(sed -n 's/^CONFIG_MODULE_SIG_KEY="\(.*\)"$/\1/p' "$KDIR/.config" 2>/dev/null || true)
	if [ -n "$key" ] && [ "${key#/}" = "$key" ]; then key=$KDIR/$key; fi
	if [ -n "$key" ] && [ ! -f "$key" ]; then
		say "no signing key in KDIR: kgc.ko is installed unsigned"
		sign=(CONFIG_MODULE_SIG_ALL=)
	fi
	# For external modules the kernel's modules_install puts kgc.ko in
	# lib/modules/<kver>/extra/kmod/; its own depmod call needs System.map,
	# which header packages lack, so depmod is run below.
	make -C "$KDIR" M="$top" INSTALL_MOD_PATH="$DESTDIR" "${sign[@]}" modules_install
	if ! depmod=$(find_depmod); then
		say "warning: no depmod (package kmod): modules.dep not updated"
	elif [ -n "$DESTDIR" ]; then
		"$depmod" -b "$DESTDIR" "$kver"
	else
		"$depmod" -a "$kver"
	fi
}

# The files dkms needs, and nothing else (no build products).
install_dkms_source() {
	local dest=$DESTDIR/usr/src/kgc-$version f
	say "module source for dkms in $dest"
	grep -q "^PACKAGE_VERSION=\"$version\"$" dkms.conf ||
		die "dkms.conf's PACKAGE_VERSION is not $version (userlib/Makefile)"
	rm -rf "$dest"
	install -d "$dest/kmod" "$dest/uapi/linux"
	install -m 0644 dkms.conf Kbuild "$dest/"
	for f in kmod/Kbuild kmod/*.c kmod/*.h; do
		case $f in *.mod.c) continue ;; esac
		install -m 0644 "$f" "$dest/kmod/"
	done
	install -m 0644 uapi/linux/*.h "$dest/uapi/linux/"
	[ -n "$DESTDIR" ] || say "now: dkms install kgc/$version"
}

if [ "$module" = 1 ]; then
	if [ "$dkms" = 1 ]; then install_dkms_source; else install_module; fi
fi

if [ "$userlib" = 1 ]; then
	say "library, header, pkg-config file, man pages under $DESTDIR$PREFIX"
	make -C userlib install PREFIX="$PREFIX" DESTDIR="$DESTDIR"
fi

say "udev rule in $DESTDIR$UDEVRULESDIR"
install -d "$DESTDIR$UDEVRULESDIR"
install -m 0644 udev/60-kgc.rules "$DESTDIR$UDEVRULESDIR/60-kgc.rules"

if [ -z "$DESTDIR" ] && [ "$module" = 1 ] && [ "$dkms" = 0 ]; then
	say "done: 'modprobe kgc' loads the module (/dev/kgc, mode 0666)"
fi
