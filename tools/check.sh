#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/check.sh - every test of kgc ('make check').
#
# Runs the test groups below in order, prints one line per group
#   PASS host-core: 42 passed, 0 failed (3 s)
# and, as the very last line, the sum over all groups of individual test
# cases:
#   N passed, N failed, N skipped
# It exits non-zero when anything failed. A group that cannot run fails,
# unless it is a deliberate skip, which says why (e.g. a Makefile that does
# not exist yet). Each group's full output is in build/logs/<group>.log;
# for a failed group the path and the last lines are printed.
#
# Groups (test cases counted in brackets):
#   deps             tools/deps.sh installs what is missing            [1]
#   harness          tools/vm/scan-log.sh on sample logs (TAP)         [per log]
#   scripts          the harness scripts (tools/, .ci/run) pass shellcheck [per file]
#   uapi             uapi/linux/kgc.h alone as C90, C++98, C++17       [3]
#   checkpatch       checkpatch.pl --strict on kmod/*.[ch], uapi/linux/*.h [per file]
#   module-w1        kgc.ko with W=1 against the stock headers, no warnings [1]
#   sparse           kgc.ko with C=2 CHECK=sparse, no warnings in kmod/, uapi/ [1]
#   host-core        make -C tests/core check (TAP)                    [per test]
#   host-userlib     make -C userlib check (TAP)                       [per test]
#   install          tools/test-install.sh: make install into a staging
#                    root, a program built with pkg-config, dkms (TAP) [per test]
#   build-guest      libkgc, selftests and examples for the VM         [per make]
#   debug-kernel     tools/vm/build-kernel.sh (cached)                 [1]
#   kunit            debug kernel boots, insmod runs the KUnit suites (KTAP)
#                                                                      [per case + 1]
#   kselftest-stock  /selftests/run.sh in the stock kernel (TAP)       [per test + 1]
#   kselftest-debug  /selftests/run.sh in the debug kernel (TAP)       [per test + 1]
#   pprof            tools/test-pprof.sh: profile_test's heap profiles (stock
#                    kernel) read by go tool pprof on the host (TAP)   [16]
# The "+ 1" of the VM groups is the harness verdict: the console log shows
# no kernel problem (scan-log.sh) and insmod/rmmod worked.
#
# Usage: tools/check.sh [GROUP...]     (default: all groups, in order)
#        tools/check.sh --list

# The group_* functions (and the helpers only they use) are called through
# run_group's "$fn", which shellcheck cannot follow: file-wide directive.
# shellcheck disable=SC2317

set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
export O_DIR=$top/build
logs=$top/build/logs
checkdir=$top/build/check

all_groups=(deps harness scripts uapi checkpatch module-w1 sparse host-core
	host-userlib install build-guest debug-kernel kunit kselftest-stock kselftest-debug
	pprof)

# Wall-clock limits, so that a hang fails a group instead of the whole run.
host_test_timeout=900
vm_timeout_stock=900
vm_timeout_debug=1500

# ---- Per-group accounting ------------------------------------------------------
# A group function adds to g_pass/g_fail/g_skip, appends reasons to g_note,
# and sets g_skip_reason when the whole group is skipped on purpose. It
# writes its output to "$glog".
g_pass=0 g_fail=0 g_skip=0 g_note='' g_skip_reason='' glog=''
total_pass=0 total_fail=0 total_skip=0 failed_groups=()
debug_kdir=''

pass() { g_pass=$((g_pass + 1)); }
fail() { g_fail=$((g_fail + 1)); note "$1"; }
note() { g_note=${g_note:+$g_note; }$1; }
skip_group() { g_skip=$((g_skip + 1)); g_skip_reason=$1; }
logcmd() { echo "+ $*" >>"$glog"; "$@" >>"$glog" 2>&1; }

# tap_count FILE: parse top-level TAP result lines ("ok N name", "not ok N
# name", "# SKIP"/"# TODO" directives, "1..N" plans, "Bail out!") and add
# them to the group's counts. Results missing compared with the plans count
# as failures (a test program that crashed half-way).
tap_count() {
	local counts p f s plan bail
	counts=$(awk '
		/^(not )?ok( |$)/ {
			l = tolower($0)
			if (l ~ /#[ \t]*skip/) s++
			else if ($1 == "not" && l ~ /#[ \t]*todo/) s++
			else if ($1 == "not") { f++; print "FAILED: " $0 > "/dev/stderr" }
			else p++
			next
		}
		/^1\.\.[0-9]+/ { split($1, a, "\\.\\."); plan += a[2]; next }
		/^Bail out!/ { bail++ }
		END { printf "%d %d %d %d %d\n", p, f, s, plan, bail }' "$1" 2>>"$glog")
	read -r p f s plan bail <<<"$counts"
	g_pass=$((g_pass + p)) g_fail=$((g_fail + f)) g_skip=$((g_skip + s))
	[ "$f" -eq 0 ] || note "$f test(s) failed"
	if [ "$plan" -gt $((p + f + s)) ]; then
		g_fail=$((g_fail + plan - p - f - s))
		note "$((plan - p - f - s)) planned test(s) never reported (crash?)"
	fi
	[ "$bail" -eq 0 ] || fail "TAP 'Bail out!'"
	echo "# TAP: $p passed, $f failed, $s skipped, plans total $plan" >>"$glog"
	return 0
}

# ktap_count CONSOLE_LOG: KUnit's nested KTAP in a kernel console log.
# A result line with deeper-indented results right before it is a suite (or
# a parameterised case); only leaves are counted as test cases. A suite that
# reports "not ok" without a failed case (e.g. its init failed) counts as
# one failure. Sets ktap_suites.
ktap_count() {
	local counts p f s suites
	counts=$(sed -E 's/^\[ *[0-9]+\.[0-9]+\] //' "$1" | awk '
		match($0, /^ *(not )?ok [0-9]+/) {
			ind = match($0, /[^ ]/) - 1
			notok = ($0 ~ /^ *not ok/)
			isskip = (tolower($0) ~ /#[ \t]*skip/)
			if (ind == 0) suites++			# KUnit: top level = suites
			if (child[ind]) {			# a suite: its cases came first
				if (notok && !isskip && !cfail[ind]) {
					f++; print "FAILED (suite): " $0 > "/dev/stderr"
				}
				if (notok && !isskip && ind >= 4) cfail[ind - 4]++
				child[ind] = 0; cfail[ind] = 0
			} else {				# a test case
				if (isskip) s++
				else if (notok) {
					f++; print "FAILED: " $0 > "/dev/stderr"
					if (ind >= 4) cfail[ind - 4]++
				} else p++
			}
			if (ind >= 4) child[ind - 4] = 1
		}
		END { printf "%d %d %d %d\n", p, f, s, suites }' 2>>"$glog")
	read -r p f s suites <<<"$counts"
	g_pass=$((g_pass + p)) g_fail=$((g_fail + f)) g_skip=$((g_skip + s))
	[ "$f" -eq 0 ] || note "$f KUnit case(s) failed"
	ktap_suites=$suites
	echo "# KTAP: $suites suite(s); cases: $p passed, $f failed, $s skipped" >>"$glog"
}

# vm_verdict RUN_RC CONSOLE_LOG: one test case for the harness verdict.
vm_verdict() {
	local rc=$1 console=$2
	if grep -q '^run.sh: FAIL' "$glog"; then
		fail "$(grep '^run.sh: FAIL' "$glog" | head -n 1 | sed 's/^run.sh: FAIL: //') (console: ${console#"$top"/})"
	elif [ "$rc" -ge 2 ] && [ "$rc" -le 3 ] && ! grep -q 'KGC-VM-EXIT=' "$console" 2>/dev/null; then
		fail "VM harness could not run (status $rc)"
	else
		pass
	fi
}

# ---- The groups ------------------------------------------------------------------

group_deps() {
	if logcmd tools/deps.sh; then pass; else fail "tools/deps.sh failed"; fi
}

group_harness() {
	logcmd tools/vm/test-scan-log.sh || true
	tap_count "$glog"
}

group_scripts() {
	local f
	for f in tools/*.sh tools/vm/*.sh .ci/run; do
		[ -f "$f" ] || continue
		if logcmd shellcheck -x "$f"; then pass; else fail "$f"; fi
	done
}

group_uapi() {
	local src=$checkdir/uapi-only.c
	mkdir -p "$checkdir"
	printf '#include <linux/kgc.h>\n' >"$src"
	local common=(-pedantic -Wall -Wextra -Werror -fsyntax-only -I uapi)
	if logcmd gcc -std=c90 "${common[@]}" "$src"; then pass; else fail "not valid C90"; fi
	if logcmd g++ -std=c++98 "${common[@]}" -x c++ "$src"; then pass; else fail "not valid C++98"; fi
	if logcmd g++ -std=c++17 "${common[@]}" -x c++ "$src"; then pass; else fail "not valid C++17"; fi
}

group_checkpatch() {
	local ksrc out
	if ! ksrc=$(tools/ksrc.sh 2>>"$glog"); then
		fail "no kernel source tree (tools/ksrc.sh)"
		return
	fi
	shopt -s nullglob
	local files=() f
	for f in kmod/*.[ch] uapi/linux/*.h; do
		case $f in *.mod.c) continue ;; esac	# generated by an in-tree build
		files+=("$f")
	done
	shopt -u nullglob
	[ ${#files[@]} -gt 0 ] || { fail "no files to check"; return; }
	for f in "${files[@]}"; do
		out=$("$ksrc/scripts/checkpatch.pl" --strict --no-tree --no-summary --terse \
			--quiet --show-types -f "$f" 2>&1) || true
		echo "== $f" >>"$glog"
		if [ -z "$out" ]; then
			pass
		else
			echo "$out" >>"$glog"
			fail "$f: $(grep -c ': \(ERROR\|WARNING\|CHECK\):' <<<"$out") issue(s)"
		fi
	done
}

# The stock Debian 6.1 headers (the same KDIR the stock VM uses).
stock_kdir() {
	local v
	for v in $(find /boot -maxdepth 1 -name 'vmlinuz-6.1.*-amd64' -printf '%f\n' |
		sed 's/^vmlinuz-//' | sort -V -r); do
		if [ -f "/usr/src/linux-headers-$v/Makefile" ]; then
			echo "/usr/src/linux-headers-$v"
			return 0
		fi
	done
	return 1
}

group_module_w1() {
	local kdir blog=$checkdir/module-w1.build.log
	kdir=$(stock_kdir) || { fail "no Debian 6.1 headers (tools/deps.sh)"; return; }
	echo "KDIR=$kdir" >>"$glog"
	if ! logcmd tools/vm/build-module.sh --clean --kdir "$kdir" --dest "$checkdir/kmod-w1" --log "$blog"; then
		cat "$blog" >>"$glog"
		fail "module does not build with W=1"
		return
	fi
	cat "$blog" >>"$glog"
	if grep -q 'warning:' "$blog"; then
		fail "$(grep -c 'warning:' "$blog") compiler warning(s) with W=1"
	else
		pass
	fi
}

group_sparse() {
	local kdir blog=$checkdir/sparse.build.log ours
	kdir=$(stock_kdir) || { fail "no Debian 6.1 headers (tools/deps.sh)"; return; }
	if ! logcmd tools/vm/build-module.sh --clean --kdir "$kdir" --dest "$checkdir/kmod-sparse" \
		--log "$blog" -- C=2 CHECK=sparse; then
		cat "$blog" >>"$glog"
		fail "module does not build with sparse"
		return
	fi
	cat "$blog" >>"$glog"
	# Only our own files count; a header of the kernel is not ours to fix.
	ours=$(grep -E "^($checkdir/kmod-sparse/)?(kmod|uapi)/[^:]+:[0-9]+:[0-9]+: (warning|error):" "$blog" || true)
	if ! grep -q 'CHECK ' "$blog"; then
		fail "sparse did not run"
	elif [ -n "$ours" ]; then
		fail "$(wc -l <<<"$ours") sparse warning(s) in kmod/ or uapi/"
	else
		pass
	fi
}

# host_tap DIR: 'make -C DIR check', TAP on stdout.
host_tap() {
	local dir=$1 rc=0
	if [ ! -f "$dir/Makefile" ]; then
		skip_group "$dir/Makefile does not exist yet"
		return
	fi
	logcmd timeout "$host_test_timeout" make -C "$dir" check || rc=$?
	tap_count "$glog"
	if [ "$rc" -ne 0 ]; then
		if [ "$rc" -eq 124 ]; then fail "timed out after ${host_test_timeout}s"
		elif [ "$g_fail" -eq 0 ]; then fail "make -C $dir check exited $rc"
		else note "make exited $rc"
		fi
	fi
}
group_host_core() { host_tap tests/core; }
group_host_userlib() { host_tap userlib; }

group_install() {
	local rc=0
	logcmd timeout "$host_test_timeout" tools/test-install.sh || rc=$?
	tap_count "$glog"
	if [ "$rc" -ne 0 ] && [ "$g_fail" -eq 0 ]; then
		fail "tools/test-install.sh exited $rc"
	fi
}

group_build_guest() {
	local d built=0
	for d in userlib selftests examples; do
		[ -f "$d/Makefile" ] || { echo "# $d/Makefile does not exist yet" >>"$glog"; continue; }
		built=1
		if logcmd make -C "$d"; then pass; else fail "make -C $d failed"; fi
	done
	[ "$built" = 1 ] || skip_group "no userlib/, selftests/ or examples/ Makefile yet"
}

group_debug_kernel() {
	local t0=$SECONDS
	if debug_kdir=$(tools/vm/build-kernel.sh 2>>"$glog"); then
		pass
		echo "# debug kernel: $debug_kdir ($((SECONDS - t0)) s)" >>"$glog"
	else
		debug_kdir=''
		fail "debug kernel build failed"
	fi
}

group_kunit() {
	local console=$logs/kunit.console.log rc=0
	if [ -z "$debug_kdir" ] && ! debug_kdir=$(tools/vm/build-kernel.sh 2>>"$glog"); then
		fail "no debug kernel"
		return
	fi
	logcmd tools/vm/run.sh --kernel debug --quiet --timeout "$vm_timeout_debug" \
		--log "$console" --out "$logs/kunit.out" -- true || rc=$?
	ktap_count "$console"
	[ "$ktap_suites" -gt 0 ] || fail "no KUnit suite ran (is CONFIG_KUNIT code in kgc.ko?)"
	vm_verdict "$rc" "$console"
}

# kselftest KERNEL: /selftests/run.sh in the VM; its TAP is in the .out file.
kselftest() {
	local kernel=$1 console=$logs/kselftest-$1.console.log out=$logs/kselftest-$1.out
	local rc=0 timeout status
	if [ ! -x build/guest/selftests/run.sh ]; then
		if [ -f selftests/Makefile ]; then
			fail "build/guest/selftests/run.sh was not built (see build-guest)"
		else
			skip_group "selftests/Makefile does not exist yet"
		fi
		return
	fi
	if [ "$kernel" = debug ] && [ -z "$debug_kdir" ] &&
		! debug_kdir=$(tools/vm/build-kernel.sh 2>>"$glog"); then
		fail "no debug kernel"
		return
	fi
	timeout=$vm_timeout_stock
	[ "$kernel" = stock ] || timeout=$vm_timeout_debug
	logcmd tools/vm/run.sh --kernel "$kernel" --quiet --timeout "$timeout" \
		--log "$console" --out "$out" -- /selftests/run.sh || rc=$?
	{ echo "---- /selftests/run.sh output ($out) ----"; cat "$out" 2>/dev/null; } >>"$glog"
	if [ -f "$out" ]; then tap_count "$out"; fi
	vm_verdict "$rc" "$console"
	# run.sh's own status: 0 all passed, 4 all skipped, else failed.
	status=$(grep -a -o 'KGC-VM-EXIT=[0-9]*' "$console" 2>/dev/null | tail -n 1 | cut -d= -f2 || true)
	case ${status:-none} in
	0 | 4 | none) ;;
	*) [ "$g_fail" -gt 0 ] || fail "/selftests/run.sh exited $status" ;;
	esac
	[ $((g_pass + g_fail + g_skip)) -gt 1 ] || fail "no TAP results from /selftests/run.sh"
}
group_kselftest_stock() { kselftest stock; }
group_kselftest_debug() { kselftest debug; }

# The heap profile, checked with pprof itself (the VM has no Go).
group_pprof() {
	local rc=0
	if [ ! -x build/guest/selftests/profile_test ]; then
		fail "build/guest/selftests/profile_test was not built (see build-guest)"
		return
	fi
	logcmd timeout "$vm_timeout_stock" tools/test-pprof.sh --kernel stock || rc=$?
	tap_count "$glog"
	if [ "$rc" -ne 0 ] && [ "$g_fail" -eq 0 ]; then
		fail "tools/test-pprof.sh exited $rc"
	fi
}

# ---- Driver ------------------------------------------------------------------------

run_group() {
	local name=$1 fn t0 secs status line
	fn=group_${name//-/_}
	glog=$logs/$name.log
	: >"$glog"
	g_pass=0 g_fail=0 g_skip=0 g_note='' g_skip_reason=''
	t0=$SECONDS
	# A group function reports through fail(); if it dies anyway, say so.
	"$fn" || fail "group aborted (status $?)"
	secs=$((SECONDS - t0))
	if [ "$g_fail" -gt 0 ]; then
		status=FAIL
	elif [ -n "$g_skip_reason" ] && [ "$g_pass" -eq 0 ]; then
		status=SKIP
	elif [ "$g_pass" -eq 0 ] && [ "$g_skip" -eq 0 ]; then
		status=FAIL
		g_fail=1
		g_note="no test ran"
	else
		status=PASS
	fi
	if [ "$status" = SKIP ]; then
		line="SKIP $name: $g_skip_reason"
	else
		line="$status $name: $g_pass passed, $g_fail failed"
		[ "$g_skip" -eq 0 ] || line+=", $g_skip skipped"
		line+=" (${secs} s)"
		# Keep the summary line readable; the log has the details.
		[ ${#g_note} -le 160 ] || g_note="${g_note:0:150}... (see log)"
		[ -z "$g_note" ] || line+=" - $g_note"
	fi
	echo "$line"
	if [ "$status" = FAIL ]; then
		failed_groups+=("$name")
		echo "     log: ${glog#"$top"/}"
		tail -n 12 "$glog" | sed 's/^/     | /'
	fi
	total_pass=$((total_pass + g_pass))
	total_fail=$((total_fail + g_fail))
	total_skip=$((total_skip + g_skip))
}

main() {
	local g start
	if [ "${1:-}" = --list ]; then
		printf '%s\n' "${all_groups[@]}"
		return 0
	fi
	local groups=("$@")
	[ ${#groups[@]} -gt 0 ] || groups=("${all_groups[@]}")
	for g in "${groups[@]}"; do
		if ! declare -F "group_${g//-/_}" >/dev/null; then
			echo "check.sh: unknown group '$g' (see --list)" >&2
			return 2
		fi
	done

	mkdir -p "$logs" "$checkdir"
	start=$SECONDS
	for g in "${groups[@]}"; do
		run_group "$g"
	done
	echo "check.sh: $((SECONDS - start)) s; logs in ${logs#"$top"/}/${failed_groups[*]:+; failed: ${failed_groups[*]}}"
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
	[ "$total_fail" -eq 0 ] && [ ${#failed_groups[@]} -eq 0 ]
}

# One line, read by bash before main runs: editing this file while a check
# is running cannot derail it (bash reads scripts as it goes).
main "$@"; exit $?
