#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/demo.sh - 'make demo': install what is missing, build, boot Debian's
# stock 6.1 kernel in QEMU with kgc.ko loaded and run the example program
# /examples/demo (built from examples/ into build/guest/examples/demo). Its
# output is shown here as it runs; the kernel console log is kept in
# build/logs/demo.console.log.
#
# Usage: tools/demo.sh [--kernel stock|debug]

set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
kernel=stock
if [ "${1:-}" = --kernel ]; then
	kernel=$2
fi

tools/deps.sh

# The guest programs: libkgc, then the examples (which link it).
for d in userlib examples; do
	if [ -f "$d/Makefile" ]; then
		make -C "$d"
	fi
done
if [ ! -x build/guest/examples/demo ]; then
	echo "demo.sh: there is no demo program yet: examples/ must build" \
		"build/guest/examples/demo (see examples/Makefile)." >&2
	exit 1
fi

echo "demo.sh: booting the $kernel kernel in QEMU (TCG, takes a few seconds)..."
tools/vm/run.sh --kernel "$kernel" --log build/logs/demo.console.log \
	--out build/logs/demo.out -- /examples/demo
