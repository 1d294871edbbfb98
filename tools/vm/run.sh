#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/run.sh - run a command in a QEMU VM with kgc.ko loaded.
#
# Usage:
#   tools/vm/run.sh --kernel stock|debug --log FILE [options] -- COMMAND...
#
# Options:
#   --kernel stock|debug  stock: Debian's 6.1 kernel (/boot/vmlinuz-6.1.*),
#                         module built against its headers.
#                         debug: the KUnit/KASAN/lockdep/kmemleak kernel from
#                         tools/vm/build-kernel.sh (built on first use).
#   --log FILE            full serial console log (kernel messages + the
#                         harness's own KGC-VM lines), \r stripped.
#   --out FILE            COMMAND's stdout+stderr (default: FILE with .log
#                         replaced by .out). It goes through a second serial
#                         port so kernel messages never interleave with it.
#   --timeout SEC         wall-clock limit for the whole VM (default 600).
#   --mem SIZE            guest memory (default 1G).
#   --smp N               guest CPUs (default 2).
#   --module-src DIR      build the module from DIR (a directory with a Kbuild)
#                         instead of the repository's Kbuild + kmod/ + uapi/.
#   --no-module           do not build or load any module.
#   --quiet               do not copy COMMAND's output to stdout as it runs.
#   --exclusive           wait until no other VM of this checkout runs and keep
#                         others from starting meanwhile (benchmarks: 2 cores
#                         do not leave room for a second guest).
#
# COMMAND is a shell command line run by /bin/sh (busybox) inside the guest,
# with stdin from /dev/null, after /init has mounted proc, sysfs, devtmpfs,
# tmpfs (/tmp, /dev/shm), debugfs, tracefs and cgroup2 (/sys/fs/cgroup, with
# the memory controller enabled for children) and inserted /kgc.ko.
# Everything under build/guest/ is copied to the guest's / (the library,
# selftests, examples), with the shared libraries those programs need.
#
# After COMMAND: remaining processes are killed, the module is removed,
# kmemleak is scanned (debug kernel), the taint value is printed and the VM
# powers off. The exit status is COMMAND's, unless the harness found a
# problem, which it explains on stderr:
#   120  the VM never printed its exit marker (crash, panic, host timeout)
#   121  the console log shows a kernel problem (tools/vm/scan-log.sh)
#   122  insmod or rmmod failed
#   124  COMMAND was still running after --timeout minus 120 s (at least
#        half of --timeout) and was killed inside the guest
#   2    usage error; 3 build failure (module, initramfs or kernel)
#
# Build products go to build/: module trees build/kmod-<kernel>/ and, per
# run, the initramfs in build/vm/<kernel>.XXXXXX/ (removed afterwards).
# Runs may overlap: a per-kernel lock is held only while the module and
# the initramfs are built, not while the VM runs; every run holds a shared
# lock on build/vm/.machine.lock for its whole length, which --exclusive
# takes exclusively.

set -euo pipefail

# The whole script is one brace group, parsed before it runs, so editing
# this file while a VM is running cannot derail the running harness.
{
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${O_DIR:-$top/build}

kernel='' log='' out='' timeout=600 mem=1G smp=2 module_src='' no_module=0 quiet=0 exclusive=0

usage() {
	sed -n '/^# Usage:/,/^# Build products/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}
die() { echo "run.sh: $*" >&2; exit "${2:-3}"; }
say() { echo "run.sh: $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--module-src) module_src=$(cd "$2" && pwd); shift 2 ;;
	--no-module) no_module=1; shift ;;
	--quiet) quiet=1; shift ;;
	--exclusive) exclusive=1; shift ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown option: $1" >&2; usage ;;
	esac
done
[ $# -gt 0 ] || { echo "run.sh: no COMMAND given" >&2; usage; }
[ -n "$log" ] || { echo "run.sh: --log is required" >&2; usage; }
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout wants seconds, got '$timeout'" 2
case $kernel in
stock | debug) ;;
*) echo "run.sh: --kernel must be stock or debug" >&2; usage ;;
esac
command=$*
[ -n "$out" ] || out=${log%.log}.out
[ "$out" != "$log" ] || out=$log.out
mkdir -p "$(dirname "$log")" "$(dirname "$out")"
log=$(cd "$(dirname "$log")" && pwd)/$(basename "$log")
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

t_start=$(date +%s)

# ---- Which kernel and which KDIR -----------------------------------------
if [ "$kernel" = stock ]; then
	# The newest installed Debian 6.1 kernel that has matching headers.
	kver=${KGC_STOCK_KVER:-}
	if [ -z "$kver" ]; then
		for v in $(find /boot -maxdepth 1 -name 'vmlinuz-6.1.*-amd64' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V -r); do
			if [ -f "/usr/src/linux-headers-$v/Makefile" ]; then
				kver=$v
				break
			fi
		done
	fi
	[ -n "$kver" ] || die "no /boot/vmlinuz-6.1.*-amd64 with matching /usr/src/linux-headers-* (run tools/deps.sh)"
	kimage=/boot/vmlinuz-$kver
	kdir=/usr/src/linux-headers-$kver
	[ -r "$kimage" ] || die "$kimage is not readable"
	append_extra=""
else
	kdir=$("$here/build-kernel.sh") || die "debug kernel build failed"
	kimage=$kdir/arch/x86/boot/bzImage
	kver=$(cat "$kdir/include/config/kernel.release")
	# kmemleak=on: in case the config defaults it to off.
	append_extra="kmemleak=on"
fi

# ---- Locks ---------------------------------------------------------------
mkdir -p "$build/vm"
exec 8>"$build/vm/.machine.lock"
if [ "$exclusive" = 1 ]; then
	flock -n 8 || say "--exclusive: waiting for the other VMs to finish"
	flock 8
else
	flock -s 8
fi
# The build steps of runs on the same kernel share build/kmod-<kernel>/.
exec 9>"$build/vm/.$kernel.lock"
flock 9
vmdir=$(mktemp -d "$build/vm/$kernel.XXXXXX")
trap 'rm -rf "$vmdir"' EXIT
trap 'exit 130' INT TERM

# ---- Build the module (never in-tree: each kernel gets its own copy) -----
modname='' kmodfile=''
if [ "$no_module" = 0 ]; then
	mdir=$build/kmod-$kernel
	srcargs=()
	if [ -n "$module_src" ]; then
		mdir=$build/kmod-$kernel-$(basename "$module_src")
		srcargs=(--src "$module_src")
	fi
	say "building module in $mdir against $kdir"
	kmodfile=$("$here/build-module.sh" --kdir "$kdir" --dest "$mdir" "${srcargs[@]}") ||
		die "module build failed"
	modname=$(modinfo -F name "$kmodfile")
	deps=$(modinfo -F depends "$kmodfile")
	[ -z "$deps" ] || [ "$kernel" = stock ] ||
		die "$modname depends on modules ($deps) but the debug kernel has everything built in"
fi

# ---- Build the initramfs -------------------------------------------------
root=$vmdir/root
initrd=$vmdir/initramfs.cgz
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,root,lib,lib64,mnt}
mkdir -p "$build/guest"

busybox=$(command -v busybox) || die "busybox not found (run tools/deps.sh)"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

# The lead's build output for the guest: library, selftests, examples.
cp -a "$build/guest/." "$root/"

# Shared libraries: for every dynamically linked ELF file in the tree, copy
# what ldd resolves (libc, the dynamic loader, ...) to the same path in the
# guest. Libraries that live in build/guest are found there first.
guest_libpath=$root/lib:$root/usr/lib:$root/usr/local/lib
copy_host_file() {	# copy a host file to the same path in the guest
	local f=$1
	[ -e "$root$f" ] && return 0
	mkdir -p "$root$(dirname "$f")"
	cp -L "$f" "$root$f"
}
while IFS= read -r -d '' f; do
	[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
	libs=$(LD_LIBRARY_PATH=$guest_libpath ldd "$f" 2>/dev/null) || continue
	while read -r line; do
		case $line in
		*"=> not found"*) say "warning: $f: ${line%% *} not found on the host or in build/guest" ;;
		*"=> /"*) p=${line#*=> }; p=${p%% (*} ;;
		/*) p=${line%% (*} ;;
		*) continue ;;
		esac
		case ${p:-} in
		"" | "$root"/*) ;;
		*) copy_host_file "$p" ;;
		esac
		p=
	done <<<"$libs"
done < <(find "$root" -path "$root/bin/busybox" -prune -o -type f -perm -u+x -print0 -o -type f -name '*.so*' -print0)
# pthread_cancel/pthread_exit dlopen libgcc_s at run time; ldd cannot see it.
if [ -e "$root/lib64/ld-linux-x86-64.so.2" ]; then
	if [ -e /lib/x86_64-linux-gnu/libgcc_s.so.1 ]; then
		copy_host_file /lib/x86_64-linux-gnu/libgcc_s.so.1
	fi
fi

if [ -n "$kmodfile" ]; then
	cp "$kmodfile" "$root/kgc.ko"
	# Stock kernel only: modules kgc.ko needs, in load order.
	: >"$root/kgc-deps"
	add_dep() {
		local name=$1 file d
		grep -qx "$name" "$root/kgc-deps.names" 2>/dev/null && return 0
		file=$(modinfo -k "$kver" -n "$name") || die "module $name (needed by $modname) not found for $kver"
		for d in $(modinfo -k "$kver" -F depends "$name" | tr ',' ' '); do
			add_dep "$d"
		done
		echo "$name" >>"$root/kgc-deps.names"
		mkdir -p "$root/lib/kgc-deps"
		case $file in
		*.xz) xz -dc "$file" >"$root/lib/kgc-deps/$name.ko" ;;
		*.zst) zstd -qdc "$file" >"$root/lib/kgc-deps/$name.ko" ;;
		*.gz) gzip -dc "$file" >"$root/lib/kgc-deps/$name.ko" ;;
		*) cp "$file" "$root/lib/kgc-deps/$name.ko" ;;
		esac
		echo "/lib/kgc-deps/$name.ko" >>"$root/kgc-deps"
	}
	for d in $(modinfo -F depends "$kmodfile" | tr ',' ' '); do
		add_dep "$d"
	done
fi

# Guest-side limit for COMMAND: leave time for boot and teardown.
cmd_timeout=$((timeout - 120))
[ "$cmd_timeout" -ge $((timeout / 2)) ] || cmd_timeout=$((timeout / 2))

printf '%s\n' "$command" >"$root/kgc-cmd"
{
	printf 'MODNAME=%q\n' "$modname"
	printf 'CMD_TIMEOUT=%q\n' "$cmd_timeout"
	printf 'KERNEL_FLAVOUR=%q\n' "$kernel"
} >"$root/kgc-vm.conf"
cp "$here/guest-init.sh" "$root/init"
chmod +x "$root/init"

(cd "$root" && find . -print0 | cpio --null -o -H newc --owner=0:0 --quiet) |
	gzip -1 >"$initrd.tmp"
mv "$initrd.tmp" "$initrd"
rm -rf "$root"
exec 9>&-	# the VM only needs its own initramfs: let other runs build

# ---- Boot ------------------------------------------------------------------
rawlog=$log.raw rawout=$out.raw
: >"$rawlog"
: >"$rawout"
append="console=ttyS0 panic=-1 printk.devkmsg=on mitigations=off rdinit=/init $append_extra"
qemu=(qemu-system-x86_64 -accel tcg -cpu max -smp "$smp" -m "$mem"
	-nodefaults -no-user-config -display none -monitor none -no-reboot
	-chardev "file,id=con,path=$rawlog" -serial chardev:con
	-chardev "file,id=out,path=$rawout" -serial chardev:out
	-kernel "$kimage" -initrd "$initrd" -append "$append")

say "booting $kernel kernel $kver (timeout ${timeout}s): $command"
t_boot=$(date +%s)
set +e
timeout -k 10 "$timeout" "${qemu[@]}" </dev/null >"$log.qemu" 2>&1 &
qpid=$!
tailpid=''
# timeout(1) runs QEMU in its own process group, out of reach of the
# terminal's Ctrl-C: stop it explicitly.
# shellcheck disable=SC2317  # (invoked by the trap)
on_signal() {
	say "interrupted: stopping QEMU"
	kill -TERM "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	exit 130
}
trap on_signal INT TERM
if [ "$quiet" = 0 ]; then
	tail -c +1 -f --pid="$qpid" "$rawout" | tr -d '\r' &
	tailpid=$!
fi
wait "$qpid"
qrc=$?
[ -z "$tailpid" ] || wait "$tailpid"
trap - INT TERM
set -e
t_end=$(date +%s)

tr -d '\r' <"$rawlog" >"$log"
tr -d '\r' <"$rawout" >"$out"
rm -f "$rawlog" "$rawout"
if [ -s "$log.qemu" ]; then
	{ echo "---- qemu stderr ----"; cat "$log.qemu"; } >>"$log"
fi
rm -f "$log.qemu"

# ---- Verdict -----------------------------------------------------------------
# The harness's own lines come through /dev/kmsg: "[  1.234] KGC-VM-EXIT=0".
marker() { grep -a -o "KGC-VM-$1=[^ ]*" "$log" | tail -n 1 | cut -d= -f2- || true; }
status=$(marker EXIT)
insmod=$(marker INSMOD)
rmmod=$(marker RMMOD)
timing="VM ${kernel}: $((t_end - t_boot)) s in QEMU, $((t_end - t_start)) s total"
rc=0
problems=$("$here/scan-log.sh" "$log") || rc=$?

if [ -z "$status" ]; then
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		say "FAIL: VM timed out after ${timeout}s without reaching the exit marker ($timing)"
	else
		say "FAIL: VM stopped (qemu status $qrc) without reaching the exit marker: crash or panic? ($timing)"
	fi
	[ -z "$problems" ] || echo "$problems" >&2
	tail -n 25 "$log" | sed 's/^/  | /' >&2
	say "console log: $log"
	exit 120
fi
if grep -aq 'KGC-VM-TIMEOUT' "$log"; then
	say "FAIL: COMMAND timed out inside the guest after ${cmd_timeout}s and was killed (blocked tasks dumped in the log; $timing)"
	[ -z "$problems" ] || echo "$problems" >&2
	say "console log: $log"
	exit 124
fi
if [ "$rc" -ne 0 ]; then
	echo "$problems" >&2
	say "FAIL: kernel problem in the console log (command status $status; $timing)"
	say "console log: $log"
	exit 121
fi
if [ "$insmod" = fail ]; then
	grep -a 'KGC-VM' "$log" | sed 's/^/  | /' >&2
	say "FAIL: $modname did not load, COMMAND was not run ($timing)"
	say "console log: $log"
	exit 122
fi
if [ -n "$modname" ] && { [ "$insmod" != ok ] || [ "$rmmod" != ok ]; }; then
	grep -a 'KGC-VM' "$log" | sed 's/^/  | /' >&2
	say "FAIL: insmod=$insmod rmmod=$rmmod (command status $status; $timing)"
	say "console log: $log"
	exit 122
fi
say "command exited $status; kernel log clean ($timing); log: $log"
exit "$status"
}
