#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# /init of the kgc test VM (busybox sh, PID 1). tools/vm/run.sh copies this
# file into the initramfs together with:
#   /kgc-vm.conf   MODNAME (empty: no module), CMD_TIMEOUT, KERNEL_FLAVOUR
#   /kgc-cmd       the command line to run
#   /kgc.ko        the module; /kgc-deps lists modules to load before it
#
# Console (ttyS0) = kernel log; the harness's own lines go through /dev/kmsg
# so they are printed synchronously by printk as whole lines, never lost at
# power-off and never interleaved with other messages. COMMAND's output goes
# to the second serial port (ttyS1), which the host keeps in a separate file.
#
# Lines the host looks for (see tools/vm/run.sh):
#   KGC-VM-INSMOD=ok|fail   KGC-VM-RMMOD=ok|fail   KGC-VM-TIMEOUT
#   KGC-VM-TAINT=<n>        KGC-VM-EXIT=<status>   (always the last one)

export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/usr/local/bin
export LD_LIBRARY_PATH=/lib:/usr/lib:/usr/local/lib
export HOME=/root TERM=dumb

MODNAME='' CMD_TIMEOUT=480 KERNEL_FLAVOUR=''
# shellcheck source=/dev/null
. /kgc-vm.conf

log() { echo "KGC-VM: $*" >/dev/kmsg; }
mark() { echo "KGC-VM-$1" >/dev/kmsg; }

# ---- Filesystems -----------------------------------------------------------
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null ||
	log "no tracefs"
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# Let tests create child cgroups with memory limits.
echo +memory >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null ||
	log "memory cgroup controller not available"
hostname kgc-vm
log "booted $(uname -r) ($KERNEL_FLAVOUR), $(grep -c ^processor /proc/cpuinfo) CPUs, $(grep MemTotal /proc/meminfo | tr -s ' ')"

# ---- kmemleak: forget what boot allocated ----------------------------------
# Objects the kernel allocated before us are not kgc's business (6.1 has
# false positives from early boot, e.g. acpi_os_create_cache). kmemleak only
# reports an object that is unreferenced and unchanged over two scans, so
# scan twice and mark whatever is reported as seen ("clear"): the final
# report then only shows leaks from this run.
# The automatic scan thread is switched off so that only these scans run.
# (The "N new suspected memory leaks" line they print is about boot; the
# log scanner only counts the "unreferenced object" lines of the final
# report, which this script relays to the console.)
KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -w $KMEMLEAK ]; then
	echo scan=off >$KMEMLEAK
	log "kmemleak baseline: leaks reported now predate the module and are ignored"
	echo scan >$KMEMLEAK
	echo scan >$KMEMLEAK
	echo clear >$KMEMLEAK
	log "kmemleak enabled"
else
	KMEMLEAK=
fi

# ---- Module ------------------------------------------------------------------
# jiffies now: kmemleak objects allocated before this are not kgc's.
JIFFIES0=$(awk '/^jiffies:/ { print $2; exit }' /proc/timer_list 2>/dev/null)
if [ -n "$MODNAME" ]; then
	ok=1
	if [ -s /kgc-deps ]; then
		while read -r dep; do
			insmod "$dep" || ok=0
		done </kgc-deps
	fi
	if [ $ok = 1 ] && insmod /kgc.ko 2>/tmp/insmod.err; then
		mark INSMOD=ok
	else
		log "insmod: $(cat /tmp/insmod.err)"
		mark INSMOD=fail
		MODNAME=''	# nothing to remove
		insmod_failed=1
	fi
fi

# ---- The command -------------------------------------------------------------
# Own session (setsid) so the watchdog can kill the whole process group.
# Not run at all when the module did not load (status 125).
stty -F /dev/ttyS1 -opost 2>/dev/null
if [ -n "${insmod_failed:-}" ]; then
	log "not running the command: the module did not load"
	echo "KGC-VM: kgc.ko did not load, command not run" >/dev/ttyS1
	status=125
else
	log "running: $(cat /kgc-cmd)"
	setsid /bin/sh /kgc-cmd </dev/null >/dev/ttyS1 2>&1 &
	pid=$!
	(
		sleep "$CMD_TIMEOUT"
		mark TIMEOUT
		log "command still running after ${CMD_TIMEOUT}s: dumping blocked tasks, killing it"
		echo w >/proc/sysrq-trigger 2>/dev/null
		kill -KILL -"$pid" 2>/dev/null || kill -KILL "$pid"
	) &
	watchdog=$!
	wait "$pid"
	status=$?
	kill "$watchdog" 2>/dev/null
	log "command exited with status $status"
fi
t_end=$(cut -d. -f1 /proc/uptime)

# ---- Teardown ----------------------------------------------------------------
# Whatever the command left behind (children, daemons) must go before the
# module can be removed; exit releases their heaps.
kill -KILL -1 2>/dev/null
if [ -n "$MODNAME" ]; then
	i=0
	until rmmod "$MODNAME" 2>/tmp/rmmod.err; do
		i=$((i + 1))
		if [ $i -ge 20 ]; then
			log "rmmod: $(cat /tmp/rmmod.err)"
			break
		fi
		sleep 1
	done
	if [ $i -lt 20 ]; then mark RMMOD=ok; else mark RMMOD=fail; fi
fi

# kmemleak reports an object when two scans in a row found it unreferenced
# and unchanged, and the second scan started at least 5 s after it was
# allocated: scan, wait until 5 s have passed since the command ended (a
# scan under TCG usually takes longer than that already), scan again.
if [ -n "$KMEMLEAK" ]; then
	echo scan >$KMEMLEAK
	now=$(cut -d. -f1 /proc/uptime)
	if [ $((t_end + 6 - now)) -gt 0 ]; then
		sleep $((t_end + 6 - now))
	fi
	echo scan >$KMEMLEAK
	# (debugfs files have size 0: read it to see whether it is empty.)
	cat $KMEMLEAK >/tmp/kmemleak.txt
	if [ -s /tmp/kmemleak.txt ]; then
		log "kmemleak report follows"
		# Objects allocated before the module was loaded (the baseline
		# scans can miss a boot-time false positive) get one "ignored"
		# line; the others are relayed whole.
		awk -v j0="${JIFFIES0:-0}" '
			function flush() {
				if (obj == "") return
				if (jf != "" && jf + 0 < j0 + 0)
					print "I " hdr " comm " comm " jiffies " jf
				else
					printf "%s", obj
				obj = ""
			}
			/^unreferenced object/ { flush(); hdr = $3 " " $4 " " $5; jf = "" }
			/^  comm / { comm = $2; gsub(/[",]/, "", comm); jf = $NF }
			{ obj = obj "R " $0 "\n" }
			END { flush() }' /tmp/kmemleak.txt |
		while IFS= read -r line; do
			case $line in
			"I "*) echo "kmemleak: ignoring ${line#I } (allocated before the module was loaded)" ;;
			*) echo "kmemleak report: ${line#R }" ;;
			esac >/dev/kmsg
		done
	fi
fi

mark "TAINT=$(cat /proc/sys/kernel/tainted)"
mark "EXIT=$status"
# -no-reboot turns the reset into QEMU's exit (works without ACPI).
reboot -f
echo b >/proc/sysrq-trigger
