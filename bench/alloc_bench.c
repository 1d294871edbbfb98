// SPDX-License-Identifier: GPL-2.0
/*
 * alloc_bench - small-object allocation throughput (issue 4).
 *
 * Each thread allocates objects of random sizes, 16 to 512 bytes (uniform,
 * the same sequence for every allocator), and writes the first word of
 * each. Two modes:
 *
 *   fresh  allocate and never free, a bounded total (--allocs per thread):
 *          every allocator works from memory it has never handed out, so
 *          each pays the same first-touch page faults. This is the only
 *          mode kgc can run with the collector off (GOGC=off), because
 *          libkgc has no free for small objects; it times kgc's fast path
 *          plus its span refills.
 *   ring   a working set of --slots live objects per thread: each step
 *          drops the oldest object (free() for malloc; for kgc the slot is
 *          overwritten through KGC_STORE and the collector reclaims the
 *          object, GOGC=100) and allocates a new one. Steady state with
 *          hot memory for malloc; for kgc the collector's cost is included.
 *
 * Peers allocate with malloc(), or with calloc() given --zero 1. kgc's
 * noscan and conservative objects are zeroed (fresh pages come zeroed;
 * reused memory is cleared by the allocation), so calloc is their
 * like-for-like call; kgc_alloc_uninit() objects are not, like malloc's.
 *
 * Which allocator: built once per peer (bench/Makefile). Malloc peers link
 * the allocator's shared library so that it replaces malloc() by symbol
 * interposition; the program checks which library its malloc() came from
 * and says so. kgc builds use libkgc (noscan, conservative or uninit
 * objects, see --kind); the "native" kgc build replaces the device by an
 * in-process stand-in (native_kernel.c) so that it runs on a host without
 * kgc.ko.
 *
 * Output: one "@@ alloc key=value ..." line per run, for bench/report.py.
 * It never passes or fails on time.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifdef BENCH_KGC
#include <kgc.h>
#endif
#ifdef BENCH_KGC_NATIVE
#include "native_kernel.h"
#endif

#define NSIZES		(1U << 16)
#define MIN_SIZE	16
#define MAX_SIZE	512
#define WARMUP		1000

enum mode { MODE_FRESH, MODE_RING };

static struct {
	enum mode mode;
	unsigned int threads;
	unsigned long allocs;
	unsigned long slots;
	const char *kind;	/* kgc only: "noscan" or "conservative" */
	int zero;		/* malloc peers: calloc(), zeroed like kgc */
	int gctrace;		/* kgc only: KGC_DEBUG_GCTRACE */
	int gogc;		/* kgc only, ring mode: GC percent */
} cfg = {
	.mode = MODE_FRESH,
	.threads = 1,
	.allocs = 1000000,
	.slots = 10000,
	.kind = "noscan",
	.gogc = 100,
};

struct worker {
	pthread_t tid;
	unsigned int id;
	uint32_t *sizes;
	double t0, t1;
	uintptr_t sink;
	int err;
};

/* Workers warmed up (start), then the counters read before they go (go). */
static pthread_barrier_t start_barrier, go_barrier;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "alloc_bench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

/* ---- the allocator under test ------------------------------------------ */

#ifdef BENCH_KGC
static enum { KIND_NOSCAN, KIND_CONSERVATIVE, KIND_UNINIT } kgc_kind;

static inline void *bench_alloc(size_t size)
{
	switch (kgc_kind) {
	case KIND_CONSERVATIVE:
		return kgc_alloc_conservative(size);
	case KIND_UNINIT:
		return kgc_alloc_uninit(size);
	default:
		return kgc_alloc_noscan(size);
	}
}

static inline void bench_free(void *p)
{
	(void)p;	/* the collector reclaims it */
}

static inline void bench_store(void **slot, void *p)
{
	KGC_STORE(*slot, p);
}

static void **ring_alloc(size_t n)
{
	return kgc_alloc_conservative(n * sizeof(void *));
}
#else
static inline void *bench_alloc(size_t size)
{
	return cfg.zero ? calloc(1, size) : malloc(size);
}

static inline void bench_free(void *p)
{
	free(p);
}

static inline void bench_store(void **slot, void *p)
{
	*slot = p;
}

static void **ring_alloc(size_t n)
{
	return calloc(n, sizeof(void *));
}
#endif

/* The name of the allocator in use, checked against what was linked. */
static const char *impl_name(void)
{
#ifdef BENCH_KGC
	static char name[64];

#ifndef BENCH_IMPL_SUFFIX
#define BENCH_IMPL_SUFFIX ""
#endif
	snprintf(name, sizeof(name), "kgc-%s%s", cfg.kind, BENCH_IMPL_SUFFIX);
	return name;
#else
	static char name[128];
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	const char *lib = "?", *want = IMPL_NAME;
	const char *found = "unknown";
	Dl_info info;

	if (m && dladdr(m, &info) && info.dli_fname)
		lib = info.dli_fname;
	if (strstr(lib, "jemalloc"))
		found = "jemalloc";
	else if (strstr(lib, "tcmalloc"))
		found = "tcmalloc";
	else if (strstr(lib, "mimalloc"))
		found = "mimalloc";
	else if (strstr(lib, "libc.so"))
		found = "glibc";
	if (strcmp(found, want))
		snprintf(name, sizeof(name), "%s%s(BUT-malloc-from-%s)", want,
			 cfg.zero ? "-calloc" : "", lib);
	else
		snprintf(name, sizeof(name), "%s%s", want,
			 cfg.zero ? "-calloc" : "");
	return name;
#endif
}

/* ---- workers ------------------------------------------------------------ */

/* xorshift64*: the same sizes for every allocator. */
static uint32_t *make_sizes(unsigned int seed)
{
	uint32_t *s = malloc(NSIZES * sizeof(*s));
	uint64_t x = 0x9e3779b97f4a7c15ULL * (seed + 1);
	unsigned int i;

	if (!s)
		die("%s", "out of memory");
	for (i = 0; i < NSIZES; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		s[i] = MIN_SIZE + (uint32_t)((x * 0x2545f4914f6cdd1dULL) >> 33) %
				  (MAX_SIZE - MIN_SIZE + 1);
	}
	return s;
}

static void *worker_fresh(struct worker *w)
{
	const uint32_t *sizes = w->sizes;
	uintptr_t sink = 0;
	unsigned long i;

	for (i = 0; i < WARMUP; i++) {
		uint64_t *p = bench_alloc(sizes[(i * 7) & (NSIZES - 1)]);

		if (!p)
			goto fail;
		sink ^= (uintptr_t)p;
	}
	pthread_barrier_wait(&start_barrier);
	pthread_barrier_wait(&go_barrier);
	w->t0 = now_ns();
	for (i = 0; i < cfg.allocs; i++) {
		uint64_t *p = bench_alloc(sizes[i & (NSIZES - 1)]);

		if (!p)
			goto fail;
		*p = i;
		sink ^= (uintptr_t)p;
	}
	w->t1 = now_ns();
	w->sink = sink;
	return NULL;
fail:
	w->err = errno ? errno : ENOMEM;
	w->t0 = w->t1 = 0;
	return NULL;
}

static void *worker_ring(struct worker *w)
{
	const uint32_t *sizes = w->sizes;
	unsigned long i, n = cfg.slots, k = 0;
	void **ring = ring_alloc(n);
	uintptr_t sink = 0;

	if (!ring)
		goto fail;
	/* Fill the ring, then one round of replacements, untimed. */
	for (i = 0; i < 2 * n; i++, k = k + 1 == n ? 0 : k + 1) {
		uint64_t *p = bench_alloc(sizes[(i * 7) & (NSIZES - 1)]);

		if (!p)
			goto fail;
		*p = i;
		if (ring[k])
			bench_free(ring[k]);
		bench_store(&ring[k], p);
	}
	pthread_barrier_wait(&start_barrier);
	pthread_barrier_wait(&go_barrier);
	w->t0 = now_ns();
	for (i = 0; i < cfg.allocs; i++, k = k + 1 == n ? 0 : k + 1) {
		uint64_t *p;

		bench_free(ring[k]);
		p = bench_alloc(sizes[i & (NSIZES - 1)]);
		if (!p)
			goto fail;
		*p = i;
		bench_store(&ring[k], p);
	}
	w->t1 = now_ns();
	for (i = 0; i < n; i++)
		sink ^= (uintptr_t)ring[i];
	w->sink = sink;
	return NULL;
fail:
	w->err = errno ? errno : ENOMEM;
	w->t0 = w->t1 = 0;
	return NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	return cfg.mode == MODE_RING ? worker_ring(w) : worker_fresh(w);
}

/* Peak resident set (VmHWM) in KiB, or 0. */
static long vm_hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: alloc_bench [--mode fresh|ring] [--threads N] [--allocs N]\n"
		"                   [--slots N] [--kind noscan|conservative|uninit]\n"
		"                   [--zero 0|1]   (malloc peers: 1 = calloc)\n"
		"                   [--gctrace 0|1] (kgc: a line per GC cycle)\n"
		"                   [--gogc N]     (kgc, ring mode: GC percent, 100)\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(a, "--mode")) {
			if (!strcmp(v, "fresh"))
				cfg.mode = MODE_FRESH;
			else if (!strcmp(v, "ring"))
				cfg.mode = MODE_RING;
			else
				usage();
		} else if (!strcmp(a, "--threads")) {
			cfg.threads = strtoul(v, NULL, 0);
		} else if (!strcmp(a, "--allocs")) {
			cfg.allocs = strtoul(v, NULL, 0);
		} else if (!strcmp(a, "--slots")) {
			cfg.slots = strtoul(v, NULL, 0);
		} else if (!strcmp(a, "--kind")) {
			cfg.kind = v;
		} else if (!strcmp(a, "--zero")) {
			cfg.zero = atoi(v);
		} else if (!strcmp(a, "--gctrace")) {
			cfg.gctrace = atoi(v);
		} else if (!strcmp(a, "--gogc")) {
			cfg.gogc = atoi(v);
		} else {
			usage();
		}
		i++;
	}
	if (!cfg.threads || cfg.threads > 64 || !cfg.allocs || !cfg.slots ||
	    cfg.gogc < 1)
		usage();
	if (strcmp(cfg.kind, "noscan") && strcmp(cfg.kind, "conservative") &&
	    strcmp(cfg.kind, "uninit"))
		usage();
}

int main(int argc, char **argv)
{
	const char *mode;
	struct worker *w;
	double t0 = 0, t1 = 0, ns = 0, total;
	long flt0, flt1;
	char extra[256] = "";
	unsigned int i;

	parse_args(argc, argv);
	mode = cfg.mode == MODE_RING ? "ring" : "fresh";
#ifdef BENCH_KGC
	{
		/* fresh: GOGC=off; ring: the collector reclaims (--gogc). */
		KGC_OPTS(opts, .gc_percent = cfg.mode == MODE_RING ? cfg.gogc :
					     KGC_GOGC_OFF,
			 .flags = KGC_INIT_NOENV,
			 .debug = cfg.gctrace ? KGC_DEBUG_GCTRACE : 0,
			 .heap_reserve = (size_t)16 << 30);
		int err;

		if (!strcmp(cfg.kind, "conservative"))
			kgc_kind = KIND_CONSERVATIVE;
		else if (!strcmp(cfg.kind, "uninit"))
			kgc_kind = KIND_UNINIT;
#ifdef BENCH_KGC_NATIVE
		native_kernel_install();
#endif
		err = kgc_init(&opts);
		if (err)
			die("kgc_init: %s", kgc_last_error());
#ifdef BENCH_KGC_NATIVE
		/*
		 * No collector in the stand-in: it recycles spans given back
		 * once the live working set's worth of spans came back after
		 * them (GOGC=100's footprint, no GC cost; native_kernel.c).
		 */
		if (cfg.mode == MODE_RING &&
		    native_kernel_recycle((uint64_t)cfg.slots * cfg.threads *
					  (MIN_SIZE + MAX_SIZE) / 2))
			die("%s", "native_kernel_recycle failed");
#else
		if (cfg.mode == MODE_RING && kgc_gc() == -ENOSYS) {
			printf("@@ alloc impl=%s mode=%s threads=%u allocs=%lu na=%s\n",
			       impl_name(), mode, cfg.threads, cfg.allocs,
			       "no-collector");
			return 0;
		}
#endif
	}
#endif
	w = calloc(cfg.threads, sizeof(*w));
	if (!w || pthread_barrier_init(&start_barrier, NULL, cfg.threads + 1) ||
	    pthread_barrier_init(&go_barrier, NULL, cfg.threads + 1))
		die("%s", "setup failed");
	for (i = 0; i < cfg.threads; i++) {
		w[i].id = i;
		w[i].sizes = make_sizes(i);
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]))
			die("%s", "pthread_create failed");
	}
#ifdef BENCH_KGC
	struct kgc_heap_stats st0 = { .sz = sizeof(st0) }, st1 = st0;
#endif
	/*
	 * The workers have warmed up when they reach the start barrier:
	 * the counters are read then, and they go at the next.
	 */
	pthread_barrier_wait(&start_barrier);
	flt0 = minflt();
#ifdef BENCH_KGC
	kgc_read_stats(&st0);
#endif
	pthread_barrier_wait(&go_barrier);
	for (i = 0; i < cfg.threads; i++)
		pthread_join(w[i].tid, NULL);
	flt1 = minflt();
#ifdef BENCH_KGC
	kgc_read_stats(&st1);
#endif
	for (i = 0; i < cfg.threads; i++) {
		if (w[i].err) {
			printf("@@ alloc impl=%s mode=%s threads=%u allocs=%lu na=%s\n",
			       impl_name(), mode, cfg.threads, cfg.allocs,
			       strerror(w[i].err));
			return 1;
		}
		if (!i || w[i].t0 < t0)
			t0 = w[i].t0;
		if (!i || w[i].t1 > t1)
			t1 = w[i].t1;
		ns += (w[i].t1 - w[i].t0) / cfg.allocs;
	}
	ns /= cfg.threads;
	total = (double)cfg.allocs * cfg.threads;
#ifdef BENCH_KGC
	snprintf(extra, sizeof(extra),
		 " syscalls_per_m=%.1f refills_per_m=%.1f gcs=%llu",
		 (st1.syscalls - st0.syscalls) * 1e6 / total,
		 (st1.refills - st0.refills) * 1e6 / total,
		 (unsigned long long)(st1.num_gc - st0.num_gc));
#endif
	printf("@@ alloc impl=%s mode=%s threads=%u allocs=%lu ns=%.2f mops=%.2f minflt_per_m=%.0f hwm_kb=%ld%s\n",
	       impl_name(), mode, cfg.threads, cfg.allocs, ns,
	       total / (t1 - t0) * 1e3, (flt1 - flt0) * 1e6 / total,
	       vm_hwm_kb(), extra);
	return 0;
}
