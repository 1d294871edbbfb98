// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * profile.c - the sampled heap profile over the fake kernel: the sampling
 * intervals and rate statistics, stacks without library frames, the
 * flat/cum figures of known allocation sites, deaths reported by a fake
 * KGC_IOC_OBJ_STATE and by kgc_free(), the pprof protobuf (read back with
 * a small decoder written here), errors, and the environment (profile at
 * exit and on a signal).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_kernel.h"
#include "internal.h"
#include "pprof_read.h"
#include "profile.h"
#include "tap.h"

#define NOINLINE	__attribute__((noinline, noclone))

/* ---- a fake KGC_IOC_OBJ_STATE on top of the fake kernel ---- */

#define MAX_DEAD	4096

static const struct kgc_sys *fake_sys;
static struct kgc_sys wrap_sys;
static uint64_t dead[MAX_DEAD];
static unsigned int ndead;
static unsigned long objstate_calls, objstate_addrs;
static bool objstate_bad;	/* a malformed request was seen */

static bool is_dead(uint64_t a)
{
	unsigned int i;

	for (i = 0; i < ndead; i++)
		if (dead[i] == a)
			return true;
	return false;
}

static int wrap_ioctl(int fd, unsigned long cmd, void *arg)
{
	struct kgc_obj_state *o = arg;
	const uint64_t *addrs;
	uint64_t *bits, set = 0;
	uint32_t i;

	if (cmd != KGC_IOC_OBJ_STATE)
		return fake_sys->ioctl(fd, cmd, arg);
	objstate_calls++;
	if (o->flags || o->resv[0] || o->resv[1] ||
	    o->count > KGC_OBJ_STATE_MAX) {
		objstate_bad = true;
		errno = EINVAL;
		return -1;
	}
	addrs = (const uint64_t *)(uintptr_t)o->addrs;
	bits = (uint64_t *)(uintptr_t)o->state;
	memset(bits, 0, ((o->count + 63) / 64) * sizeof(*bits));
	for (i = 0; i < o->count; i++) {
		objstate_addrs++;
		/* Only heap addresses are asked about, never a table's. */
		if (addrs[i] < fk.heap_base ||
		    addrs[i] >= fk.heap_base + fk.heap_len)
			objstate_bad = true;
		if (!is_dead(addrs[i]) && fake_span_of(addrs[i])) {
			bits[i / 64] |= 1ULL << (i % 64);
			set++;
		}
	}
	o->allocated = set;
	return 0;
}

/*
 * A 256 MiB heap over the fake kernel, with KGC_IOC_OBJ_STATE when
 * @objstate, and the profile reset to rate @rate.
 */
static int prof_heap_init(bool objstate, size_t rate, unsigned int flags)
{
	KGC_OPTS(opts, .heap_reserve = 4 * KGC_ARENA_SIZE,
		 .flags = flags | KGC_INIT_NOAUTOROOTS);
	int err;

	kgc_shutdown();
	fake_kernel_install();
	if (objstate)
		fk.ioctls_answer |= 1ULL << KGC_IOC_NR_OBJ_STATE;
	fake_sys = kgc_heap.sys;
	wrap_sys = *fake_sys;
	wrap_sys.ioctl = wrap_ioctl;
	kgc_heap.sys = &wrap_sys;
	ndead = 0;
	objstate_calls = objstate_addrs = 0;
	objstate_bad = false;
	kgc__profile_reset();
	err = kgc_init(&opts);
	if (!err)
		err = kgc_set_memprofile_rate(rate);
	return err;
}

/* Write the profile to memory and decode it. */
static bool read_profile(struct dprof *d)
{
	int fd = memfd_create("heap.pprof", MFD_CLOEXEC);
	unsigned char *buf = NULL;
	struct stat st;
	bool ok = false;

	if (fd < 0)
		return false;
	if (kgc_write_heap_profile_fd(fd)) {
		tap_fail(__FILE__, __LINE__, "%s", kgc_last_error());
		goto out;
	}
	if (fstat(fd, &st) || !st.st_size)
		goto out;
	buf = malloc((size_t)st.st_size);
	if (!buf || pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		goto out;
	ok = decode(buf, (size_t)st.st_size, d);
	if (!ok)
		tap_fail(__FILE__, __LINE__, "the profile does not decode");
out:
	free(buf);
	close(fd);
	return ok;
}

static bool within(double got, double want, double tol)
{
	return got >= want * (1 - tol) && got <= want * (1 + tol);
}

#define CHECK_WITHIN(got, want, tol) do {				\
	double _g = (double)(got), _w = (double)(want);			\
	if (!within(_g, _w, (tol)))					\
		tap_fail(__FILE__, __LINE__, "%s = %.0f, expected %.0f +- %.0f%%", \
			 #got, _g, _w, 100 * (tol));			\
} while (0)

/* ---- numbers (no libm here either) ---- */

static double fabs_diff(double a, double b)
{
	return a > b ? a - b : b - a;
}

static double sqrt_ref(double x)
{
	double r = x > 1 ? x : 1;
	int i;

	for (i = 0; i < 100; i++)
		r = (r + x / r) / 2;
	return r;
}

/* Checked against known values by test_ln_exp. */
#define exp_ref kgc__prof_exp

/* ---- allocation sites ---- */

static void *volatile sink;

static NOINLINE void site_small(size_t n, size_t size)
{
	size_t i;

	for (i = 0; i < n; i++)
		sink = kgc_alloc_noscan(size);
}

static NOINLINE void site_a(void)
{
	for (int i = 0; i < 4096; i++)
		sink = kgc_alloc_noscan(1024);	/* 4 MiB */
}

static NOINLINE void site_b(void)
{
	for (int i = 0; i < 1024; i++)
		sink = kgc_alloc_noscan(4096);	/* 4 of its 8 MiB */
	site_a();
	for (int i = 0; i < 1024; i++)
		sink = kgc_alloc_noscan(4096);
}

static NOINLINE void site_c(void)
{
	for (int i = 0; i < 96; i++)
		sink = kgc_alloc_noscan(65536);	/* 6 of its 12 MiB */
	site_b();
	for (int i = 0; i < 96; i++)
		sink = kgc_alloc_noscan(65536);
}

/* ---- tests ---- */

/*
 * The sampling interval is exponential with the rate as its mean: mean,
 * and the tail beyond one and three means (e^-1, e^-3), over many draws.
 */
static void test_interval_is_exponential(void)
{
	const size_t rate = 4096, n = 200000;
	size_t i, over1 = 0, over3 = 0;
	double sum = 0;

	for (i = 0; i < n; i++) {
		intptr_t x = kgc__profile_interval(rate);

		REQUIRE(x >= 0);
		sum += (double)x;
		over1 += x > (intptr_t)rate;
		over3 += x > 3 * (intptr_t)rate;
	}
	CHECK_WITHIN(sum / n, rate, 0.01);
	CHECK_WITHIN((double)over1 / n * 1e6, 0.36787944 * 1e6, 0.015);
	CHECK_WITHIN((double)over3 / n * 1e6, 0.04978707 * 1e6, 0.06);
	CHECK_EQ(kgc__profile_interval(1), 0);
	CHECK_EQ(kgc__profile_interval(0), 0);
}

/* The library's own ln and exp (no libm) against known values. */
static void test_ln_exp(void)
{
	static const double x[] = { 1e-16, 0.001, 0.3, 0.5, 0.7071, 1.0,
				    1.5, 2.0, 1234.5 };
	size_t i;

	CHECK(kgc__prof_ln(1.0) == 0.0);
	CHECK(fabs_diff(kgc__prof_ln(2.0), 0.6931471805599453) < 1e-14);
	CHECK(fabs_diff(kgc__prof_exp(1.0), 2.718281828459045) < 1e-14);
	CHECK(fabs_diff(kgc__prof_exp(-10.0), 4.5399929762484854e-05) < 1e-18);
	CHECK(kgc__prof_exp(-800.0) == 0.0);
	for (i = 0; i < ARRAY_SIZE(x); i++)
		CHECK(fabs_diff(kgc__prof_exp(kgc__prof_ln(x[i])), x[i]) <
		      1e-13 * x[i]);
}

/*
 * Objects of 1 KiB at rate 4 KiB are sampled with probability
 * 1 - exp(-1/4): the raw sample count is binomial around that, and the
 * scaled estimates of objects and bytes come out at the truth.
 */
static void test_rate_statistics(void)
{
	const size_t n = 20000, size = 1024, rate = 4096;
	struct kgc_prof_snapshot snap;
	double p = 1 - exp_ref(-(double)size / rate);
	uint64_t allocs = 0;
	struct dprof *d = calloc(1, sizeof(*d));
	int64_t flat, cum;
	size_t i;

	REQUIRE(d);
	REQUIRE_EQ(prof_heap_init(true, rate, KGC_INIT_NOENV), 0);
	site_small(n, size);
	REQUIRE_EQ(kgc__profile_snapshot(&snap), 0);
	for (i = 0; i < snap.nrecs; i++)
		if (snap.recs[i].size == size)
			allocs += snap.recs[i].allocs;
	free(snap.recs);
	/* Binomial: 5 standard deviations. */
	CHECK(fabs_diff((double)allocs, n * p) < 5 * sqrt_ref(n * p * (1 - p)));

	if (read_profile(d)) {
		flat_cum(d, "site_small", 0, &flat, &cum);
		CHECK_WITHIN(flat, n, 0.07);
		flat_cum(d, "site_small", 1, &flat, &cum);
		CHECK_WITHIN(flat, n * size, 0.07);
		CHECK_EQ(d->period, rate);
	}
	dprof_free(d);
	free(d);
	kgc_shutdown();
}

/* Rate 1 samples every allocation, unscaled; rate 0 none. */
static void test_rate_one_and_zero(void)
{
	struct dprof *d = calloc(1, sizeof(*d));
	int64_t flat, cum;

	REQUIRE(d);
	REQUIRE_EQ(prof_heap_init(true, 1, KGC_INIT_NOENV), 0);
	CHECK_EQ(kgc_memprofile_rate(), 1);
	site_small(777, 24);
	if (read_profile(d)) {
		flat_cum(d, "site_small", 0, &flat, &cum);
		CHECK_EQ(flat, 777);
		flat_cum(d, "site_small", 1, &flat, &cum);
		CHECK_EQ(flat, 777 * 24);
		CHECK_EQ(d->samples[0].label_num, 24);
		CHECK_STR_CONTAINS(dstr(d, d->samples[0].label_key), "bytes");
	}
	dprof_free(d);

	REQUIRE_EQ(prof_heap_init(true, 0, KGC_INIT_NOENV), 0);
	site_small(5000, 4096);
	if (read_profile(d))
		CHECK_EQ(d->nsamples, 0);
	CHECK_EQ(kgc_set_memprofile_rate((size_t)1 << 41), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "kgc_set_memprofile_rate");
	dprof_free(d);
	free(d);
	kgc_shutdown();
}

/*
 * The example, scaled down: A allocates 4 MiB, B 8 MiB and calls
 * A, C 12 MiB and calls B. Flat and cum of alloc_space per function, as
 * pprof computes them, match within the sampling error; the leaf frame of
 * every sample is a site, never a library function.
 */
static void test_flat_cum_of_known_sites(void)
{
	struct dprof *d = calloc(1, sizeof(*d));
	int64_t flat, cum;
	unsigned int i;

	REQUIRE(d);
	REQUIRE_EQ(prof_heap_init(true, 4096, KGC_INIT_NOENV), 0);
	site_c();
	if (read_profile(d)) {
		flat_cum(d, "site_a", 1, &flat, &cum);
		CHECK_WITHIN(flat, 4 << 20, 0.15);
		CHECK_WITHIN(cum, 4 << 20, 0.15);
		flat_cum(d, "site_b", 1, &flat, &cum);
		CHECK_WITHIN(flat, 8 << 20, 0.15);
		CHECK_WITHIN(cum, 12 << 20, 0.15);
		flat_cum(d, "site_c", 1, &flat, &cum);
		CHECK_WITHIN(flat, 12 << 20, 0.15);
		CHECK_WITHIN(cum, 24 << 20, 0.15);
		/* Large objects are sampled with probability ~1: exact. */
		flat_cum(d, "site_c", 0, &flat, &cum);
		CHECK(flat >= 192 && flat <= 193);
		flat_cum(d, "test_flat_cum_of_known_sites", 1, &flat, &cum);
		CHECK_WITHIN(cum, 24 << 20, 0.15);
		for (i = 0; i < d->nsamples; i++) {
			const char *leaf = loc_name(d, d->samples[i].locs[0]);

			CHECK(leaf && !strncmp(leaf, "site_", 5));
		}
	}
	dprof_free(d);
	free(d);
	kgc_shutdown();
}

/*
 * Deaths: what the kernel reports dead after a cycle moves from in use to
 * freed; kgc_free() reports its object at once, without asking; a shut
 * down heap has nothing in use. The kernel is only ever asked about heap
 * addresses, in well-formed requests.
 */
static void test_deaths(void)
{
	struct dprof *d = calloc(1, sizeof(*d));
	void *objs[100];
	int64_t flat, cum;
	unsigned long calls;
	int i;

	REQUIRE(d);
	REQUIRE_EQ(prof_heap_init(true, 4096, KGC_INIT_NOENV), 0);
	for (i = 0; i < 100; i++)
		objs[i] = kgc_alloc_noscan(64 << 10);
	CHECK_EQ(kgc_prof_nlive, 100);
	if (read_profile(d)) {
		flat_cum(d, "test_deaths", 2, &flat, &cum);
		CHECK_EQ(flat, 100);
		flat_cum(d, "test_deaths", 3, &flat, &cum);
		CHECK_EQ(flat, 100 << 16);
	}
	dprof_free(d);
	CHECK(objstate_calls >= 1);
	CHECK_EQ(objstate_addrs, 100);

	/* A cycle ends: half of them died. */
	for (i = 0; i < 100; i += 2)
		dead[ndead++] = (uintptr_t)objs[i];
	calls = objstate_calls;
	kgc__profile_cycle_done();
	CHECK_EQ(objstate_calls, calls);	/* no cycle yet: no call */
	fake_cycle_done();
	kgc__profile_cycle_done();
	CHECK_EQ(objstate_calls, calls + 1);
	CHECK_EQ(kgc_prof_nlive, 50);

	/* kgc_free(): at once, no question asked. */
	calls = objstate_calls;
	CHECK_EQ(kgc_free(objs[1]), 0);
	CHECK_EQ(kgc_prof_nlive, 49);
	CHECK_EQ(objstate_calls, calls);
	if (read_profile(d)) {
		flat_cum(d, "test_deaths", 0, &flat, &cum);
		CHECK_EQ(flat, 100);
		flat_cum(d, "test_deaths", 2, &flat, &cum);
		CHECK_EQ(flat, 49);
	}
	dprof_free(d);

	/* One more sample; then the heap goes away, and with it every object. */
	kgc_set_memprofile_rate(1);
	ndead = 0;
	{
		void *p = kgc_alloc_noscan(64 << 10);

		CHECK_EQ(kgc_prof_nlive, 50);
		sink = p;
	}
	kgc_shutdown();
	if (read_profile(d)) {
		flat_cum(d, "test_deaths", 2, &flat, &cum);
		CHECK_EQ(flat, 0);
		flat_cum(d, "test_deaths", 0, &flat, &cum);
		CHECK_EQ(flat, 101);
	}
	CHECK_EQ(kgc_prof_nlive, 0);
	CHECK(!objstate_bad);
	dprof_free(d);
	free(d);
}

/*
 * The end of a cycle is noticed by the next allocation slow path (here a
 * large object's), without waiting for a sample or a profile.
 */
static void test_cycle_noticed_on_slow_path(void)
{
	void *a, *b;

	REQUIRE_EQ(prof_heap_init(true, 1, KGC_INIT_NOENV), 0);
	a = kgc_alloc_noscan(64 << 10);
	REQUIRE(a != NULL);
	CHECK_EQ(kgc_prof_nlive, 1);
	REQUIRE_EQ(kgc_set_memprofile_rate(0), 0);
	dead[ndead++] = (uintptr_t)a;
	fake_cycle_done();
	CHECK_EQ(objstate_calls, 0);
	b = kgc_alloc_noscan(64 << 10);	/* not sampled: rate 0 */
	CHECK(b != NULL);
	CHECK_EQ(objstate_calls, 1);
	CHECK_EQ(kgc_prof_nlive, 0);
	/* Once per cycle: the next slow path asks nothing. */
	sink = kgc_alloc_noscan(64 << 10);
	CHECK_EQ(objstate_calls, 1);
	kgc_shutdown();
}

/*
 * Without KGC_IOC_OBJ_STATE nothing is remembered: in use equals
 * allocated, and the profile says why.
 */
static void test_without_obj_state(void)
{
	struct dprof *d = calloc(1, sizeof(*d));
	int64_t flat, cum;
	bool said = false;
	unsigned int i;

	REQUIRE(d);
	REQUIRE_EQ(prof_heap_init(false, 1, KGC_INIT_NOENV), 0);
	site_small(10, 4096);
	CHECK_EQ(kgc_prof_nlive, 0);
	if (read_profile(d)) {
		flat_cum(d, "site_small", 2, &flat, &cum);
		CHECK_EQ(flat, 10);
		for (i = 0; i < d->ncomments; i++)
			said |= !!strstr(dstr(d, d->comments[i]),
					 "cannot report freed objects");
		CHECK(said);
	}
	CHECK_EQ(objstate_calls, 0);
	dprof_free(d);
	free(d);
	kgc_shutdown();
}

/*
 * The protobuf holds together: string 0 is empty, Go's four sample types
 * and period type, every id a sample or location refers to exists, every
 * location lies in a mapping, the main program's mapping is first and
 * says it has functions.
 */
static void test_protobuf_structure(void)
{
	static const char *const types[4][2] = {
		{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
		{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
	};
	struct dprof *d = calloc(1, sizeof(*d));
	char exe[4096];
	ssize_t len;
	unsigned int i, j, k;

	REQUIRE(d);
	REQUIRE_EQ(prof_heap_init(true, 512, KGC_INIT_NOENV), 0);
	site_c();
	if (!read_profile(d))
		goto out;
	REQUIRE(d->nstrs > 0);
	CHECK_EQ(strlen(d->strs[0]), 0);
	REQUIRE_EQ(d->nst, 4);
	for (i = 0; i < 4; i++) {
		CHECK(!strcmp(dstr(d, d->st_type[i]), types[i][0]));
		CHECK(!strcmp(dstr(d, d->st_unit[i]), types[i][1]));
	}
	CHECK(!strcmp(dstr(d, d->pt_type), "space"));
	CHECK(!strcmp(dstr(d, d->pt_unit), "bytes"));
	CHECK_EQ(d->period, 512);
	CHECK(d->time_nanos > 0);
	CHECK(d->nsamples > 0);
	for (i = 0; i < d->nsamples; i++) {
		CHECK_EQ(d->samples[i].nv, 4);
		CHECK(d->samples[i].nlocs > 0);
		for (j = 0; j < d->samples[i].nlocs; j++) {
			for (k = 0; k < d->nlocs; k++)
				if (d->locs[k].id == d->samples[i].locs[j])
					break;
			CHECK(k < d->nlocs);
		}
	}
	for (i = 0; i < d->nlocs; i++) {
		CHECK_EQ(d->locs[i].id, i + 1);
		if (d->locs[i].fn) {
			for (k = 0; k < d->nfns; k++)
				if (d->fns[k].id == d->locs[i].fn)
					break;
			CHECK(k < d->nfns);
		}
		for (k = 0; k < d->nmaps; k++)
			if (d->maps[k].id == d->locs[i].mapping)
				break;
		CHECK(k < d->nmaps);
		if (k < d->nmaps)
			CHECK(d->locs[i].address >= d->maps[k].start &&
			      d->locs[i].address < d->maps[k].limit);
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	REQUIRE(len > 0);
	exe[len] = '\0';
	REQUIRE(d->nmaps > 0);
	CHECK(!strcmp(dstr(d, d->maps[0].file), exe));
	CHECK(d->maps[0].has_functions);
out:
	dprof_free(d);
	free(d);
	kgc_shutdown();
}

/* Bad paths and descriptors fail with -errno and say what went wrong. */
static void test_write_errors(void)
{
	int fd;

	CHECK_EQ(kgc_write_heap_profile(NULL), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "no path");
	CHECK_EQ(kgc_write_heap_profile("/nonexistent-dir/heap.pprof"),
		 -ENOENT);
	CHECK_STR_CONTAINS(kgc_last_error(), "/nonexistent-dir/heap.pprof");
	CHECK_EQ(kgc_write_heap_profile_fd(-1), -EBADF);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	CHECK_EQ(kgc_write_heap_profile_fd(fd), -EBADF);
	CHECK_STR_CONTAINS(kgc_last_error(), "cannot write the heap profile");
	close(fd);
	/* Without a heap: a valid, empty profile. */
	kgc_shutdown();
	kgc__profile_reset();
	CHECK_EQ(kgc_write_heap_profile("/dev/null"), 0);
}

/* Malformed environment values make kgc_init() fail with a reason. */
static void test_environment_errors(void)
{
	unsetenv("KGC_SIGNAL");
	setenv("KGC_MEMPROFILERATE", "lots", 1);
	CHECK_EQ(prof_heap_init(true, 1, 0), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "KGC_MEMPROFILERATE");
	setenv("KGC_MEMPROFILERATE", "2TiB", 1);
	CHECK_EQ(prof_heap_init(true, 1, 0), -EINVAL);
	setenv("KGC_MEMPROFILERATE", "8KiB", 1);
	CHECK_EQ(prof_heap_init(true, 1, 0), 0);
	kgc_shutdown();
	/* The rate from the environment, unless set by the program. */
	kgc__profile_reset();
	fake_kernel_install();
	{
		KGC_OPTS(opts, .heap_reserve = KGC_ARENA_SIZE,
			 .flags = KGC_INIT_NOAUTOROOTS);

		REQUIRE_EQ(kgc_init(&opts), 0);
		CHECK_EQ(kgc_memprofile_rate(), 8192);
		kgc_shutdown();
		kgc_set_memprofile_rate(100);
		REQUIRE_EQ(kgc_init(&opts), 0);
		CHECK_EQ(kgc_memprofile_rate(), 100);
		kgc_shutdown();
	}
	unsetenv("KGC_MEMPROFILERATE");
	setenv("KGC_HEAPPROFILE_SIGNAL", "SIGUSR2", 1);
	CHECK_EQ(prof_heap_init(true, 1, 0), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "needs KGC_HEAPPROFILE");
	setenv("KGC_HEAPPROFILE", "/tmp/x.pprof", 1);
	setenv("KGC_HEAPPROFILE_SIGNAL", "SIGURG", 1);
	CHECK_EQ(prof_heap_init(true, 1, 0), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "safepoint signal");
	setenv("KGC_HEAPPROFILE_SIGNAL", "SIGNOPE", 1);
	CHECK_EQ(prof_heap_init(true, 1, 0), -EINVAL);
	unsetenv("KGC_HEAPPROFILE_SIGNAL");
	unsetenv("KGC_HEAPPROFILE");
	kgc__profile_reset();
}

static bool wait_for_file(const char *path)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct stat st;
	int i;

	for (i = 0; i < 1000; i++) {
		if (!stat(path, &st) && st.st_size > 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static bool file_has_site(const char *path, const char *site)
{
	struct dprof *d = calloc(1, sizeof(*d));
	unsigned char *buf = NULL;
	int64_t flat = 0, cum = 0;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d && fd >= 0 && !fstat(fd, &st) && st.st_size > 0 &&
	    (buf = malloc((size_t)st.st_size)) &&
	    read(fd, buf, (size_t)st.st_size) == st.st_size &&
	    decode(buf, (size_t)st.st_size, d))
		flat_cum(d, site, 1, &flat, &cum);
	if (fd >= 0)
		close(fd);
	free(buf);
	if (d)
		dprof_free(d);
	free(d);
	return flat > 0;
}

/*
 * KGC_HEAPPROFILE=path writes the profile at exit, and with
 * KGC_HEAPPROFILE_SIGNAL each signal writes path.N (in a child process,
 * whose exit is the one that writes).
 */
static void test_profile_at_exit_and_on_signal(void)
{
	char dir[] = "/tmp/kgc-prof-XXXXXX", path[64], path1[80];
	int status;
	pid_t pid;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/heap.pprof", dir);
	snprintf(path1, sizeof(path1), "%s.1", path);
	fflush(stdout);
	pid = fork();
	REQUIRE(pid >= 0);
	if (!pid) {
		setenv("KGC_HEAPPROFILE", path, 1);
		setenv("KGC_HEAPPROFILE_SIGNAL", "SIGUSR2", 1);
		setenv("KGC_MEMPROFILERATE", "1", 1);
		unsetenv("KGC_SIGNAL");
		if (prof_heap_init(true, 1, 0))
			_exit(2);
		kgc_set_memprofile_rate(1);
		site_small(10, 100);
		kill(getpid(), SIGUSR2);
		if (!wait_for_file(path1))
			_exit(3);
		exit(0);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(file_has_site(path1, "site_small"));
	CHECK(file_has_site(path, "site_small"));
	unlink(path1);
	unlink(path);
	rmdir(dir);
}

TAP_MAIN(TAP_CASE(test_interval_is_exponential),
	 TAP_CASE(test_ln_exp),
	 TAP_CASE(test_rate_statistics),
	 TAP_CASE(test_rate_one_and_zero),
	 TAP_CASE(test_flat_cum_of_known_sites),
	 TAP_CASE(test_deaths),
	 TAP_CASE(test_cycle_noticed_on_slow_path),
	 TAP_CASE(test_without_obj_state),
	 TAP_CASE(test_protobuf_structure),
	 TAP_CASE(test_write_errors),
	 TAP_CASE(test_environment_errors),
	 TAP_CASE(test_profile_at_exit_and_on_signal))
