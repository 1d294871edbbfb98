/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gcshim.h - the collector under test, for the C GC workloads
 * (binarytrees.c, gcbench.c): kgc (-DBENCH_KGC) or Boehm GC
 * (-DBENCH_BOEHM). Go has its own programs (*.go) with the same output.
 *
 * Every workload calls:
 *   shim_init(gc_on)            collector on (GOGC=100 / Boehm's default)
 *                               or off (GOGC=off / GC_disable())
 *   SHIM_NEW(type) / shim_new_noscan(bytes)
 *   SHIM_STORE(lvalue, ptr)     pointer stores into heap objects
 *   shim_poll()                 now and then: keeps the pause record
 *                               complete (kgc keeps the last 256 pauses,
 *                               i.e. 128 cycles, like Go's PauseNs)
 *   shim_report(...)            the "@@ gc ..." result line
 *
 * Pauses, as each collector defines them (footnoted in the tables):
 *   kgc    per cycle: mark-start handshake (request to last acknowledgement)
 *          + mark termination (request to release of the threads), from
 *          KGC_IOC_GC_STATS; like Go's PauseNs, one figure per cycle;
 *   Boehm  per collection: the time the world is stopped
 *          (GC_EVENT_PRE_STOP_WORLD .. GC_EVENT_POST_START_WORLD), or the
 *          whole collection (GC_EVENT_START .. GC_EVENT_END) if the
 *          stop-world events do not come.
 *
 * kgc's figures come from kgc_read_stats() (num_gc, pause_total_ns,
 * pause_ns); with a libkgc whose stats do not have them yet
 * (BENCH_KGC_PUBLIC_GCSTATS undefined, see the Makefile) the same struct
 * kgc_gc_stats is read with the KGC_IOC_GC_STATS ioctl on the library's
 * descriptor (found in /proc/self/fd). Where neither works the figures
 * print as "na", never as zeros.
 */
#ifndef KGC_BENCH_GCSHIM_H
#define KGC_BENCH_GCSHIM_H

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static inline double shim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Peak resident set in KiB: VmHWM, else ru_maxrss. */
static inline long shim_peak_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;
	struct rusage ru;

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
				break;
		fclose(f);
	}
	if (!kb && !getrusage(RUSAGE_SELF, &ru))
		kb = ru.ru_maxrss;
	return kb;
}

static struct {
	int gc_on;
	int stats_ok;		/* GC figures are real */
	uint64_t num_gc;
	uint64_t pause_total_ns;
	uint64_t pause_max_ns;
	uint64_t lost;		/* cycles whose pause was overwritten unseen */
} shim;

#if defined(BENCH_KGC)
/* ------------------------------------------------------------------ kgc */
#include <fcntl.h>
#include <linux/kgc.h>
#include <kgc.h>
#ifdef BENCH_KGC_NATIVE
#include "native_kernel.h"
#endif

#define SHIM_NAME	"kgc"

static uint64_t shim_kgc_seen;	/* cycles whose pause has been read */
static uint64_t shim_kgc_base_gc, shim_kgc_base_pause;	/* the probe */
#ifdef BENCH_KGC_PUBLIC_GCSTATS
static struct kgc_heap_stats shim_kgc_gs;
#else
static int shim_kgc_fd = -1;
static struct kgc_gc_stats shim_kgc_gs;
#endif

#define SHIM_TYPE(T, ...)						\
	static const uint64_t T##_ptrmap[1] = { __VA_ARGS__ };		\
	static const struct kgc_type T##_type = {			\
		.size = sizeof(struct T), .ptrmap = T##_ptrmap,		\
		.name = #T,						\
	}
#define SHIM_NEW(T)	((struct T *)shim_check(kgc_alloc(sizeof(struct T), \
							   &T##_type)))
#define SHIM_STORE(lv, v)	KGC_STORE(lv, v)

static inline void *shim_check(void *p)
{
	if (__builtin_expect(!p, 0)) {
		fprintf(stderr, "kgc: allocation failed: %s\n",
			kgc_last_error());
		printf("@@ gc na=allocation-failed\n");
		exit(1);
	}
	return p;
}

static inline void *shim_new_noscan(size_t bytes)
{
	return shim_check(kgc_alloc_noscan(bytes));
}

#ifdef BENCH_KGC_PUBLIC_GCSTATS
static int shim_kgc_read(void)
{
	memset(&shim_kgc_gs, 0, sizeof(shim_kgc_gs));
	shim_kgc_gs.sz = sizeof(shim_kgc_gs);
	return kgc_read_stats(&shim_kgc_gs);
}
#else
/* The library's descriptor for the device, or -1. */
static int shim_kgc_find_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[300], target[256];
	int fd = -1;
	ssize_t n;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strcmp(target, "/dev/kgc")) {
			fd = atoi(e->d_name);
			break;
		}
	}
	closedir(d);
	return fd;
}

static int shim_kgc_read(void)
{
	if (shim_kgc_fd < 0)
		return -1;
	memset(&shim_kgc_gs, 0, sizeof(shim_kgc_gs));
	return ioctl(shim_kgc_fd, KGC_IOC_GC_STATS, &shim_kgc_gs);
}
#endif

static void shim_poll(void)
{
	uint64_t n, c;

	if (!shim.stats_ok || shim_kgc_read())
		return;
	n = shim_kgc_gs.num_gc;
	if (n - shim_kgc_seen > 128) {
		shim.lost += n - shim_kgc_seen - 128;
		shim_kgc_seen = n - 128;
	}
	/* Cycle c (from 1) left its pauses at 2(c-1) (term), 2(c-1)+1. */
	for (c = shim_kgc_seen + 1; c <= n; c++) {
		uint64_t p = shim_kgc_gs.pause_ns[(2 * (c - 1)) % 256] +
			     shim_kgc_gs.pause_ns[(2 * (c - 1) + 1) % 256];

		if (p > shim.pause_max_ns)
			shim.pause_max_ns = p;
	}
	shim_kgc_seen = n;
	shim.num_gc = n - shim_kgc_base_gc;
	shim.pause_total_ns = shim_kgc_gs.pause_total_ns - shim_kgc_base_pause;
}

static void shim_init(int gc_on)
{
	KGC_OPTS(opts, .gc_percent = gc_on ? 100 : KGC_GOGC_OFF,
		 .heap_reserve = (size_t)8 << 30);
	int err;

	shim.gc_on = gc_on;
#ifdef BENCH_KGC_NATIVE
	native_kernel_install();
#endif
	err = kgc_init(&opts);
	if (err) {
		fprintf(stderr, "kgc_init: %s\n", kgc_last_error());
		printf("@@ gc na=kgc_init-failed\n");
		exit(1);
	}
#ifdef BENCH_KGC_NATIVE
	if (gc_on) {
		printf("@@ gc impl=kgc gc=on na=no-collector-in-native-stand-in\n");
		exit(0);
	}
#endif
	if (gc_on) {
		/* A collection of the empty heap: is there a collector? */
		err = kgc_gc();
		if (err) {
			printf("@@ gc impl=kgc gc=on na=%s\n",
			       err == -ENOSYS ? "no-collector-in-libkgc" :
			       "kgc_gc-failed");
			exit(0);
		}
	}
#ifndef BENCH_KGC_PUBLIC_GCSTATS
	shim_kgc_fd = shim_kgc_find_fd();
#endif
	shim.stats_ok = gc_on && !shim_kgc_read();
	if (shim.stats_ok) {
		/* Count from here: leave out the probe cycle. */
		shim_kgc_seen = shim_kgc_base_gc = shim_kgc_gs.num_gc;
		shim_kgc_base_pause = shim_kgc_gs.pause_total_ns;
	}
}

static void shim_finish(void)
{
	shim_poll();
#ifdef BENCH_KGC_PUBLIC_GCSTATS
	/* KGC_BENCH_COUNTERS=1: libkgc's counters, to stderr (diagnosis). */
	if (getenv("KGC_BENCH_COUNTERS") && !shim_kgc_read())
		fprintf(stderr,
			"kgc counters: allocs %llu refills %llu span_returns %llu syscalls %llu faults %llu barrier records %llu flushes %llu shaded %llu handshakes %llu signals %llu gc_cpu %.3f\n",
			(unsigned long long)(shim_kgc_gs.alloc_precise +
					     shim_kgc_gs.alloc_conservative +
					     shim_kgc_gs.alloc_noscan),
			(unsigned long long)shim_kgc_gs.refills,
			(unsigned long long)shim_kgc_gs.span_returns,
			(unsigned long long)shim_kgc_gs.syscalls,
			(unsigned long long)shim_kgc_gs.faults,
			(unsigned long long)shim_kgc_gs.barrier_records,
			(unsigned long long)shim_kgc_gs.barrier_flushes,
			(unsigned long long)shim_kgc_gs.barrier_shaded,
			(unsigned long long)shim_kgc_gs.handshakes,
			(unsigned long long)shim_kgc_gs.signal_handshakes,
			shim_kgc_gs.gc_cpu_fraction);
#endif
}

#elif defined(BENCH_BOEHM)
/* ---------------------------------------------------------------- Boehm */
#define GC_THREADS
#include <gc/gc.h>

#define SHIM_NAME	"boehm"

/* Boehm scans objects conservatively; the pointer map is unused. */
#define SHIM_TYPE(T, ...)	struct T
#define SHIM_NEW(T)	((struct T *)shim_check(GC_MALLOC(sizeof(struct T))))
#define SHIM_STORE(lv, v)	((lv) = (v))

static double shim_boehm_t0, shim_boehm_stw0;
static int shim_boehm_stw_events;

static inline void *shim_check(void *p)
{
	if (__builtin_expect(!p, 0)) {
		printf("@@ gc na=allocation-failed\n");
		exit(1);
	}
	return p;
}

static inline void *shim_new_noscan(size_t bytes)
{
	return shim_check(GC_MALLOC_ATOMIC(bytes));
}

static void shim_boehm_pause(double ns)
{
	shim.pause_total_ns += (uint64_t)ns;
	if ((uint64_t)ns > shim.pause_max_ns)
		shim.pause_max_ns = (uint64_t)ns;
}

static void GC_CALLBACK shim_boehm_event(GC_EventType e)
{
	switch (e) {
	case GC_EVENT_START:
		shim_boehm_t0 = shim_now_ns();
		break;
	case GC_EVENT_END:
		shim.num_gc++;
		if (!shim_boehm_stw_events)
			shim_boehm_pause(shim_now_ns() - shim_boehm_t0);
		break;
	case GC_EVENT_PRE_STOP_WORLD:
		shim_boehm_stw0 = shim_now_ns();
		break;
	case GC_EVENT_POST_START_WORLD:
		if (!shim_boehm_stw_events) {
			/* Stop-world events do come: use them only. */
			shim_boehm_stw_events = 1;
			shim.pause_total_ns = shim.pause_max_ns = 0;
		}
		shim_boehm_pause(shim_now_ns() - shim_boehm_stw0);
		break;
	default:
		break;
	}
}

static void shim_init(int gc_on)
{
	shim.gc_on = gc_on;
	GC_INIT();
	GC_set_on_collection_event(shim_boehm_event);
	if (!gc_on)
		GC_disable();
	shim.stats_ok = gc_on;
}

static inline void shim_poll(void)
{
}

static void shim_finish(void)
{
}
#else
#error "build with -DBENCH_KGC or -DBENCH_BOEHM"
#endif

/* The result line. @check is the workload's checksum (same for all). */
static void shim_report(const char *bench, const char *params, double wall_ns,
			long check)
{
	char gc[256];

	shim_finish();
	if (shim.stats_ok)
		snprintf(gc, sizeof(gc),
			 "num_gc=%llu pause_max_us=%.1f pause_total_ms=%.2f lost=%llu",
			 (unsigned long long)shim.num_gc,
			 shim.pause_max_ns / 1e3, shim.pause_total_ns / 1e6,
			 (unsigned long long)shim.lost);
	else
		snprintf(gc, sizeof(gc), "num_gc=%s pause_max_us=na pause_total_ms=na",
			 shim.gc_on ? "na" : "0");
	printf("@@ gc bench=%s impl=%s gc=%s %s wall_ms=%.1f peak_rss_kb=%ld check=%ld %s\n",
	       bench, SHIM_NAME, shim.gc_on ? "on" : "off", params,
	       wall_ns / 1e6, shim_peak_rss_kb(), check, gc);
	fflush(stdout);
}

#endif
