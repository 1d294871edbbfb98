#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/scan-log.sh - look for kernel problems in a VM console log.
#
# Reports every line that shows the kernel went wrong: BUG/WARNING/Oops,
# KASAN, UBSAN, lockdep, hung tasks, RCU stalls, kmemleak leak reports,
# general protection faults, panics, and a taint value (printed by the
# harness's /init as KGC-VM-TAINT=<n>) with flags other than the expected
# O (out-of-tree module), E (unsigned module) and N (KUnit test ran).
#
# kmemleak: only "unreferenced object" lines count; /init relays the final
# report to the console (its "N new suspected memory leaks" summary line
# also appears for the boot-time baseline scan, which is not a kgc leak).
#
# Patterns are chosen not to match the benign boot lines of the same
# subsystems ("kmemleak: Kernel memory leak detector initialized",
# "kasan: KernelAddressSanitizer initialized", lockdep's banner, ...);
# tools/vm/testdata/ holds sample logs that check both directions
# (tools/vm/test-scan-log.sh runs them).
#
# Usage: tools/vm/scan-log.sh [--max N] LOG
#   exit 0: clean; exit 1: problems found (listed on stdout as
#   "LINE: [what] text", at most N of them, default 20); exit 2: usage.

set -euo pipefail

max=20
if [ "${1:-}" = --max ]; then
	max=$2
	shift 2
fi
if [ $# -ne 1 ] || [ ! -r "$1" ]; then
	echo "usage: $0 [--max N] LOG" >&2
	exit 2
fi
log=$1

# label <TAB> extended regular expression (case-sensitive). The kernel prints
# these exact prefixes; see lib/bug.c, kernel/panic.c, mm/kasan/report.c,
# lib/ubsan.c, kernel/locking/lockdep.c, kernel/hung_task.c, mm/kmemleak.c.
# Specific patterns come first: a line matching several is reported once,
# with the first matching label ("BUG: KASAN: ..." is [kasan], not [bug]).
patterns=$(cat <<'PATTERNS'
kasan	KASAN:
ubsan	UBSAN:
lockdep	possible circular locking
lockdep	possible recursive locking
lockdep	inconsistent lock state
lockdep	possible irq lock inversion
lockdep	suspicious RCU usage
lockdep	lock held when returning to user space
lockdep	bad unlock balance detected
lockdep	held lock freed
lockdep	lockdep is turned off
lockdep	turning off the locking correctness validator
lockdep	DEBUG_LOCKS_WARN_ON
hung	INFO: task .* blocked for more than
rcu	detected stalls? on CPU
rcu	self-detected stall
kmemleak	unreferenced object 0x
kmemleak	Kernel memory leak detector disabled
list	list_(add|del) corruption
odebug	ODEBUG: .*(free active|activate active|destroy active|not freed|object is on stack)
slub	(^|\] )BUG [^ ]+ \((Not tainted|Tainted)
gpf	general protection fault
panic	Kernel panic
oops	Oops[: ]
oops	: [0-9a-f]{4} \[#[0-9]+\]
bug	kernel BUG at
bug	BUG:
warning	WARNING:
PATTERNS
)

# Collect "lineno<TAB>priority<TAB>label<TAB>text" for every hit.
hits=$(
	prio=0
	while IFS=$'\t' read -r label re; do
		prio=$((prio + 1))
		tr -d '\r' <"$log" | grep -a -n -E -- "$re" |
			sed "s/^\([0-9]*\):/\1\t$prio\t$label\t/" || true
	done <<<"$patterns"
)

# Taint check: allowed bits are O (12), E (13) and N (18).
taint_flags="PFSRMBUDAWCIOELKXTN"	# bit i = letter i, kernel/panic.c
allowed=$(((1 << 12) | (1 << 13) | (1 << 18)))
while IFS=: read -r lineno value; do
	value=${value#*KGC-VM-TAINT=}
	value=${value%%[!0-9]*}
	[ -n "$value" ] || continue
	bad=$((value & ~allowed))
	[ "$bad" -ne 0 ] || continue
	letters=
	for ((i = 0; i < ${#taint_flags}; i++)); do
		if ((bad & (1 << i))); then letters+=${taint_flags:i:1}; fi
	done
	hits+=$'\n'"$lineno"$'\t'99$'\t'taint$'\t'"kernel tainted: $value (unexpected flags: ${letters:-?})"
done < <(tr -d '\r' <"$log" | grep -a -n 'KGC-VM-TAINT=' || true)

# One report per line (the most specific label), in line order.
hits=$(grep -v '^$' <<<"$hits" | sort -t $'\t' -k1,1n -k2,2n | awk -F '\t' '!seen[$1]++' || true)
if [ -z "$hits" ]; then
	exit 0
fi

count=$(wc -l <<<"$hits")
echo "$count kernel problem line(s) in $log:"
head -n "$max" <<<"$hits" | awk -F '\t' '{ printf "%s: [%s] %s\n", $1, $3, $4 }'
if [ "$count" -gt "$max" ]; then
	echo "... and $((count - max)) more"
fi
exit 1
