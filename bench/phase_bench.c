// SPDX-License-Identifier: GPL-2.0
/*
 * phase_bench - how fast memory goes back to the system after a phase of
 * growth: grow to N MiB of live 1 KiB objects, drop to N/10 (the other 90%,
 * interleaved, become garbage), churn another N MiB of short-lived objects
 * so that a collector runs, then stay idle. RSS is sampled every 100 ms
 * from the start; the table gives, per allocator: peak RSS, RSS when the
 * idle phase starts, final RSS, the time (from the drop) until RSS is under
 * 1.2x the live data and until it settles within 10% of its final value.
 * RSS figures are the process's VmRSS minus its RSS before the workload;
 * "work" is the time the growth and the churn took (throughput).
 *
 *   phase_bench [-n MiB] [-t idle_seconds] [-b] [impl...]
 *
 * By default the survivors are every tenth object, spread over the whole
 * heap (fragmentation: pages holding a survivor cannot be given back by
 * any non-moving allocator); -b keeps the first tenth instead (a block:
 * what can go back is every page of the other 90%).
 *
 * Implementations: kgc (libkgc, the collector and the scavenger, default
 * knobs), kgc-noidle (the same with kgc.ko's idle_ms set to 0 for the run:
 * no idle collection, the scavenger stops at its goal; needs root and is
 * left out otherwise), glibc (malloc/free) in this binary; jemalloc (phase_jemalloc:
 * this file built with PHASE_MALLOC_ONLY against libjemalloc) and go
 * (phase_go, phase.go) are run from the same directory when present. It
 * prints a table; it never passes or fails on time.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifndef PHASE_MALLOC_ONLY
#include <kgc.h>
#endif

#define OBJ		1024
#define MAX_SAMPLES	4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double rss_mib(void)
{
	char line[256];
	double kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtod(line + 6, NULL);
	fclose(f);
	return kb / 1024;
}

/* The allocator under test. */
struct impl {
	const char *name;
	void *(*alloc)(size_t size);
	void (*drop)(void *p);	/* free, or forget (collected) */
	int noidle;		/* kgc.ko's idle_ms 0 while it runs */
};

#define IDLE_MS_PARAM	"/sys/module/kgc/parameters/idle_ms"

/* Read (@set NULL) or write the module's idle_ms; -1 when it cannot. */
static long idle_ms(const char *set)
{
	FILE *f = fopen(IDLE_MS_PARAM, set ? "w" : "r");
	long v = -1;

	if (!f)
		return -1;
	if (set)
		v = fputs(set, f) < 0 ? -1 : 0;
	else if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (fclose(f))
		v = -1;
	return v;
}

static void *m_alloc(size_t size)
{
	void *p = malloc(size);

	if (p)
		memset(p, 1, size);
	return p;
}

static void m_drop(void *p)
{
	free(p);
}

#ifndef PHASE_MALLOC_ONLY
static void *k_alloc(size_t size)
{
	void *p = kgc_alloc_noscan(size);

	if (p)
		memset(p, 1, size);
	return p;
}

static void k_drop(void *p)
{
	(void)p;	/* garbage: the collector finds it */
}
#endif

static struct {
	double t[MAX_SAMPLES];
	double rss[MAX_SAMPLES];
	int n;
} s;

static void sample(double t0, double base)
{
	if (s.n < MAX_SAMPLES) {
		s.t[s.n] = now_s() - t0;
		s.rss[s.n] = rss_mib() - base;
		s.n++;
	}
}

/* Run the phases, print a row: name peak idle final t1.2x tsettle. */
static int block;

static int run(const struct impl *im, unsigned long mib, int idle_s,
	       void **objs)
{
	unsigned long n = mib * 1024 * 1024 / OBJ, i;
	double base = rss_mib(), t0 = now_s(), tdrop, live, peak = 0;
	double idle_rss, fin, t12 = -1, tset = -1, work;
	int k;

	for (i = 0; i < n; i++) {
		objs[i] = im->alloc(OBJ);
		if (!objs[i])
			return -ENOMEM;
		if (i % 4096 == 0)
			sample(t0, base);
	}
	sample(t0, base);
	tdrop = now_s() - t0;
	for (i = 0; i < n; i++)
		if (block ? i >= n / 10 : i % 10) {
			im->drop(objs[i]);
			objs[i] = NULL;
		}
	live = (double)(n / 10) * OBJ / (1 << 20);
	for (i = 0; i < n; i++) {
		void *p = im->alloc(OBJ);

		if (!p)
			return -ENOMEM;
		im->drop(p);
		if (i % 4096 == 0)
			sample(t0, base);
	}
	sample(t0, base);
	work = s.t[s.n - 1];
	idle_rss = s.rss[s.n - 1];
	for (k = 0; k < idle_s * 10; k++) {
		usleep(100000);
		sample(t0, base);
	}
	fin = s.rss[s.n - 1];
	/* Read every survivor: reclaim must not have touched live data. */
	for (i = 0; i < n; i++) {
		const unsigned char *b = objs[i];

		if (b && (b[0] != 1 || b[OBJ - 1] != 1)) {
			fprintf(stderr, "%s: survivor %lu corrupted\n",
				im->name, i);
			return -EIO;
		}
	}
	for (k = 0; k < s.n; k++) {
		if (s.rss[k] > peak)
			peak = s.rss[k];
		if (s.t[k] >= tdrop && t12 < 0 && s.rss[k] <= 1.2 * live)
			t12 = s.t[k] - tdrop;
	}
	for (k = s.n - 1; k >= 0 && s.t[k] >= tdrop; k--)
		if (s.rss[k] > fin * 1.1 + 0.5)
			break;
	if (k + 1 < s.n)
		tset = s.t[k + 1] - tdrop;
	printf("%-10s %8.1f %8.1f %9.1f %8.1f ", im->name, live, peak,
	       idle_rss, fin);
	if (t12 >= 0)
		printf("%9.1f ", t12);
	else
		printf("%9s ", "never");
	printf("%9.1f %8.2f\n", tset, work);
	fflush(stdout);
	return 0;
}

static int run_child(const struct impl *im, unsigned long mib, int idle_s)
{
	void **objs = calloc(mib * 1024 * 1024 / OBJ, sizeof(void *));
	int ret;

	if (!objs)
		return 1;
#ifndef PHASE_MALLOC_ONLY
	if (im->alloc == k_alloc) {
		ret = kgc_init(NULL);
		if (ret) {
			printf("%-10s kgc_init: %s\n", im->name,
			       strerror(-ret));
			return 1;
		}
		ret = kgc_add_roots(objs, mib * 1024 * 1024 / OBJ *
				    sizeof(void *), NULL);
		if (ret) {
			printf("%-10s kgc_add_roots: %s\n", im->name,
			       strerror(-ret));
			return 1;
		}
	}
#endif
	ret = run(im, mib, idle_s, objs);
	if (ret)
		printf("%-10s failed: %s\n", im->name, strerror(-ret));
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct impl impls[] = {
#ifndef PHASE_MALLOC_ONLY
		{ "kgc", k_alloc, k_drop, 0 },
		{ "kgc-noidle", k_alloc, k_drop, 1 },
		{ "glibc", m_alloc, m_drop, 0 },
#else
		{ "jemalloc", m_alloc, m_drop, 0 },
#endif
	};
	char self[4096], mibs[32], idles[32];
	unsigned long mib = 64;
	int idle_s = 10, opt, a, ret = 0;
	ssize_t len;

	while ((opt = getopt(argc, argv, "n:t:b")) != -1) {
		if (opt == 'b')
			block = 1;
		else if (opt == 'n')
			mib = strtoul(optarg, NULL, 0);
		else if (opt == 't')
			idle_s = atoi(optarg);
		else
			return 2;
	}
#ifdef PHASE_MALLOC_ONLY
	/* Run by phase_bench: no header, just the row. */
	return run_child(&impls[0], mib, idle_s);
#endif
	printf("# phase: grow to %lu MiB of 1 KiB objects, keep 1/10 (%s), churn %lu MiB, idle %d s; RSS above the starting RSS, MiB; times from the drop, s\n",
	       mib, block ? "a block" : "every tenth", mib, idle_s);
	printf("%-10s %8s %8s %9s %8s %9s %9s %8s\n", "impl", "live", "peak",
	       "idle-RSS", "final", "t<1.2live", "t-settle", "work");
	len = readlink("/proc/self/exe", self, sizeof(self) - 32);
	if (len < 0)
		return 1;
	self[len] = 0;
	*(strrchr(self, '/') + 1) = 0;
	fflush(stdout);
	snprintf(mibs, sizeof(mibs), "%lu", mib);
	snprintf(idles, sizeof(idles), "%d", idle_s);
	for (a = optind; a < argc || a == optind; a++) {
		const char *want = a < argc ? argv[a] : NULL;
		unsigned int i;
		int st;

		for (i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
			char old[32];
			long was = -1;
			pid_t pid;

			if (want && strcmp(want, impls[i].name))
				continue;
			if (impls[i].noidle) {
				was = idle_ms(NULL);
				if (was < 0 || idle_ms("0"))
					continue;	/* not root: no row */
				snprintf(old, sizeof(old), "%ld", was);
			}
			pid = fork();
			if (!pid)
				_exit(run_child(&impls[i], mib, idle_s));
			waitpid(pid, &st, 0);
			if (was >= 0)
				idle_ms(old);
			ret |= !WIFEXITED(st) || WEXITSTATUS(st);
		}
		/* The peers built as their own programs. */
		for (i = 0; i < 2; i++) {
			const char *name = i ? "go" : "jemalloc";
			char prog[4200];
			pid_t pid;

			if (want && strcmp(want, name))
				continue;
			snprintf(prog, sizeof(prog), "%sphase_%s", self, name);
			if (access(prog, X_OK))
				continue;
			pid = fork();
			if (!pid) {
				execl(prog, prog, "-n", mibs, "-t", idles,
				      block ? "-b" : NULL, (char *)NULL);
				_exit(127);
			}
			waitpid(pid, &st, 0);
			ret |= !WIFEXITED(st) || WEXITSTATUS(st);
		}
		if (!want)
			break;
	}
	return ret;
}
