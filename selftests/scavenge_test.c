// SPDX-License-Identifier: GPL-2.0
/*
 * scavenge_test - giving free heap memory back to the system, through the
 * raw device: the background scavenger, explicit release
 * (KGC_IOC_SCAVENGE), the shrinker (cgroup memory.high, debugfs), memory
 * cgroup limits, and that live data survives all of it while freed pages
 * come back zeroed.
 *
 * The heap is used without the collector (no roots are registered here, so
 * a cycle would free everything): large objects are allocated and freed
 * with KGC_IOC_LARGE_ALLOC/KGC_IOC_FREE. Tests that need a memory cgroup or
 * the shrinker's debugfs files skip without them.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "kgc_test_util.h"
#include "kgc_cgroup_util.h"

#define HEAP_LEN	(2 * KGC_ARENA_SIZE)
#define MIB		(1UL << 20)
#define SHRINKER_DIR	"/sys/kernel/debug/shrinker"
/* Without the collector: heap, pointer bitmap and stats only. */
#define NOGC_FEATURES	(KGC_FEATURE_HEAP | KGC_FEATURE_STATS)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_mib(void)
{
	return status_kb("VmRSS:") / 1024;
}

/* Open, handshake with @features, map HEAP_LEN. */
static int heap_open(uint64_t features, struct kgc_api *api, char **base)
{
	int fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	memset(api, 0, sizeof(*api));
	api->api = KGC_API;
	api->features = features;
	if (kgc_ioctl(fd, KGC_IOC_API, api)) {
		close(fd);
		return -EINVAL;
	}
	*base = kgc_map_heap(fd, api, HEAP_LEN);
	if (*base == MAP_FAILED) {
		close(fd);
		return -ENOMEM;
	}
	return fd;
}

static int scav(int fd, uint32_t op, uint64_t value, struct kgc_scavenge *s)
{
	memset(s, 0, sizeof(*s));
	s->op = op;
	s->value = value;
	return kgc_ioctl(fd, KGC_IOC_SCAVENGE, s);
}

static int gc_ctl(int fd, uint32_t op, uint64_t value)
{
	struct kgc_gc_ctl c = { .op = op, .value = value };
	int ret;

	do {
		ret = kgc_ioctl(fd, KGC_IOC_GC, &c);
	} while (ret == -EINTR);
	return ret;
}

/* One full cycle (the caller is not attached: nobody to wait for). */
static int gc_run(int fd)
{
	return gc_ctl(fd, KGC_GC_RUN, 0);
}

static uint64_t large_alloc(int fd, uint64_t size)
{
	struct kgc_large l = { .size = size, .flags = KGC_LARGE_NOSCAN };

	return kgc_ioctl(fd, KGC_IOC_LARGE_ALLOC, &l) ? 0 : l.addr;
}

static int large_free(int fd, uint64_t addr)
{
	struct kgc_free f = { .addr = addr };

	return kgc_ioctl(fd, KGC_IOC_FREE, &f);
}

/* xorshift: a reproducible pattern per object. */
static uint64_t fill(uint64_t addr, size_t len, uint64_t seed)
{
	uint64_t *p = (uint64_t *)(uintptr_t)addr, x = seed | 1, sum = 0;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
		sum = sum * 31 + x;
	}
	return sum;
}

static uint64_t checksum(uint64_t addr, size_t len)
{
	const uint64_t *p = (const uint64_t *)(uintptr_t)addr;
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < len / 8; i++)
		sum = sum * 31 + p[i];
	return sum;
}

static bool all_zero(uint64_t addr, size_t len)
{
	const uint64_t *p = (const uint64_t *)(uintptr_t)addr;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Allocate @n objects of 1 MiB, filled (so resident), free all but the
 * first @keep. Returns the checksum of the kept ones in @sums.
 */
static int grow_and_drop(int fd, int n, int keep, uint64_t *addrs,
			 uint64_t *sums)
{
	int i;

	for (i = 0; i < n; i++) {
		addrs[i] = large_alloc(fd, MIB);
		if (!addrs[i])
			return -ENOMEM;
		sums[i] = fill(addrs[i], MIB, i + 1);
	}
	for (i = keep; i < n; i++)
		if (large_free(fd, addrs[i]))
			return -EINVAL;
	return 0;
}

FIXTURE(scav) {
	int fd;
	struct kgc_api api;
	char *base;
	uint64_t addrs[48];
	uint64_t sums[48];
};

FIXTURE_SETUP(scav)
{
	struct kgc_scavenge s;

	self->base = MAP_FAILED;
	self->fd = heap_open(NOGC_FEATURES, &self->api, &self->base);
	if (self->fd == -ENOENT)
		SKIP(return, KGC_DEV " missing: is kgc.ko loaded?");
	ASSERT_LE(0, self->fd);
	if (!(self->api.ioctls & (1ULL << KGC_IOC_NR_SCAVENGE)))
		SKIP(return, "module without KGC_IOC_SCAVENGE");
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_QUERY, 0, &s));
}

FIXTURE_TEARDOWN(scav)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, HEAP_LEN);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * The ioctl checks its arguments and reports the goal: 10% over the
 * pacer's heap goal (4 MiB for a new heap) and no more.
 */
TEST_F(scav, query_and_bad_arguments)
{
	struct kgc_scavenge s;

	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_QUERY, 0, &s));
	EXPECT_EQ(4 * MIB + 4 * MIB / 100 * 10, s.goal);
	EXPECT_EQ(0, s.retained);
	EXPECT_EQ(0, s.free_resident);
	EXPECT_EQ(1, s.background);
	EXPECT_EQ(0, s.scav_background + s.scav_shrinker + s.scav_explicit);
	EXPECT_EQ(-EINVAL, scav(self->fd, 7, 0, &s));
	EXPECT_EQ(-EINVAL, scav(self->fd, KGC_SCAV_QUERY, 1, &s));
	EXPECT_EQ(-EINVAL, scav(self->fd, KGC_SCAV_SET_BACKGROUND, 2, &s));
	memset(&s, 0, sizeof(s));
	s.resv[1] = 1;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_SCAVENGE, &s));
	memset(&s, 0, sizeof(s));
	s.flags = 1;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_SCAVENGE, &s));
}

/*
 * After the workload frees most of its heap, the background scavenger
 * brings the retained heap within its goal and RSS (and the cgroup's
 * memory.current, when there is a cgroup) falls with it, without any
 * explicit call. The live objects keep their contents. The scavenger uses
 * 1% of a CPU: under KASAN on an emulated CPU that takes a while.
 */
TEST_F_TIMEOUT(scav, background_returns_rss_to_goal, 120)
{
	char cg[256];
	struct kgc_scavenge s;
	long rss0, rss1, rss2;
	long long mem1 = -1, mem2 = -1;
	bool in_cg;
	double t0;
	int i;

	/*
	 * The heap is charged to whoever touches it: this process. The
	 * scavenger is held off while the heap grows so that the "before"
	 * figures are taken before anything is given back.
	 */
	in_cg = cg_enter(cg, sizeof(cg)) == 0;
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_SET_BACKGROUND, 0, &s));
	rss0 = rss_mib();
	ASSERT_EQ(0, grow_and_drop(self->fd, 20, 2, self->addrs, self->sums));
	rss1 = rss_mib();
	if (in_cg)
		mem1 = cg_get(cg, "memory.current", NULL);
	EXPECT_LE(rss0 + 18, rss1);
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_SET_BACKGROUND, 1, &s));
	EXPECT_EQ(0, s.scav_background);
	t0 = now_s();
	do {
		usleep(50000);
		ASSERT_EQ(0, scav(self->fd, KGC_SCAV_QUERY, 0, &s));
	} while (s.retained > s.goal && now_s() - t0 < 90);
	rss2 = rss_mib();
	if (in_cg)
		mem2 = cg_get(cg, "memory.current", NULL);
	TH_LOG("RSS %ld -> %ld -> %ld MiB; retained %llu KiB, goal %llu KiB after %.2f s; background gave back %llu KiB; memory.current %lld -> %lld KiB",
	       rss0, rss1, rss2, s.retained >> 10, s.goal >> 10, now_s() - t0,
	       s.scav_background >> 10, mem1 >> 10, mem2 >> 10);
	EXPECT_LE(s.retained, s.goal);
	EXPECT_LE(14 * MIB, s.scav_background);
	EXPECT_EQ(0, s.scav_explicit);
	EXPECT_LE(rss2, rss0 + 2 + 5);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(self->sums[i], checksum(self->addrs[i], MIB));
	if (in_cg) {
		EXPECT_LE(mem2 + 14 * (long long)MIB, mem1);
		cg_leave(cg);
	}
}

/*
 * KGC_SCAV_RELEASE gives back every free resident page at once (or as
 * many bytes as asked for), with the background scavenger off.
 */
TEST_F(scav, explicit_release)
{
	struct kgc_scavenge s;
	long rss1, rss2;

	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_SET_BACKGROUND, 0, &s));
	EXPECT_EQ(0, s.background);
	ASSERT_EQ(0, grow_and_drop(self->fd, 24, 4, self->addrs, self->sums));
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_QUERY, 0, &s));
	EXPECT_EQ(20 * MIB, s.free_resident);
	EXPECT_EQ(24 * MIB, s.retained);
	EXPECT_LE(0, (long long)s.oldest_free_ms);
	rss1 = rss_mib();
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_RELEASE, MIB, &s));
	EXPECT_EQ(MIB, s.released);
	EXPECT_EQ(19 * MIB, s.free_resident);
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_RELEASE, 0, &s));
	EXPECT_EQ(19 * MIB, s.released);
	EXPECT_EQ(0, s.free_resident);
	EXPECT_EQ(4 * MIB, s.retained);
	EXPECT_EQ(20 * MIB, s.scav_explicit);
	EXPECT_EQ(0, s.scav_background);
	EXPECT_EQ(0, s.oldest_free_ms);
	rss2 = rss_mib();
	TH_LOG("RSS %ld -> %ld MiB, %llu batches", rss1, rss2, s.batches);
	EXPECT_LE(rss2 + 18, rss1);
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_RELEASE, 0, &s));
	EXPECT_EQ(0, s.released);
}

/*
 * Reclaim never touches live data: objects interleaved with freed ones
 * keep their checksums after the free pages between them are given back.
 */
TEST_F(scav, live_objects_intact_after_release)
{
	struct kgc_scavenge s;
	int i;

	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_SET_BACKGROUND, 0, &s));
	for (i = 0; i < 40; i++) {
		uint64_t size = (i % 5 + 1) * 96 * 1024;

		self->addrs[i] = large_alloc(self->fd, size);
		ASSERT_NE(0, self->addrs[i]);
		self->sums[i] = fill(self->addrs[i], size, 1000 + i);
	}
	for (i = 0; i < 40; i += 2)
		ASSERT_EQ(0, large_free(self->fd, self->addrs[i]));
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_RELEASE, 0, &s));
	EXPECT_LT(0, s.released);
	for (i = 1; i < 40; i += 2)
		EXPECT_EQ(self->sums[i],
			  checksum(self->addrs[i], (i % 5 + 1) * 96 * 1024));
}

/*
 * Small objects too: spans given back whole (discarded) are released,
 * spans still holding objects are not, and their objects keep their data.
 */
TEST_F(scav, live_spans_intact_after_release)
{
	struct kgc_refill r[16];
	struct kgc_scavenge s;
	uint64_t sums[16];
	int i;

	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_SET_BACKGROUND, 0, &s));
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(20, 1), &r[i]));
		sums[i] = fill(r[i].span.base,
			       (uint64_t)r[i].span.elemsize * r[i].span.nelems,
			       77 + i);
	}
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, kgc_put_span(self->fd, r[i].span.base,
					  r[i].span.nelems,
					  i % 2 ? 0 : KGC_REFILL_DISCARD));
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_RELEASE, 0, &s));
	EXPECT_LT(0, s.released);
	for (i = 1; i < 16; i += 2)
		EXPECT_EQ(sums[i], checksum(r[i].span.base,
					    (uint64_t)r[i].span.elemsize *
					    r[i].span.nelems));
}

/*
 * A page given back reads zero when touched again, and is faulted in
 * afresh; before it was given back the freed memory still held its data
 * (so the zero really comes from the release). An object allocated there
 * afterwards is zero without the kernel clearing it.
 */
TEST_F(scav, released_pages_refault_zeroed)
{
	struct kgc_scavenge s;
	struct kgc_stats st1, st2;
	uint64_t a, b;

	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_SET_BACKGROUND, 0, &s));
	a = large_alloc(self->fd, 4 * MIB);
	ASSERT_NE(0, a);
	memset((void *)(uintptr_t)a, 0xa5, 4 * MIB);
	ASSERT_EQ(0, large_free(self->fd, a));
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, *(uint64_t *)(uintptr_t)(a + MIB));
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_RELEASE, 0, &s));
	EXPECT_EQ(4 * MIB, s.released);
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_STATS, &st1));
	EXPECT_TRUE(all_zero(a, 4 * MIB));
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_STATS, &st2));
	EXPECT_EQ(4 * MIB / getpagesize(), st2.faults - st1.faults);
	b = large_alloc(self->fd, 4 * MIB);
	EXPECT_EQ(a, b);
	EXPECT_TRUE(all_zero(b, 4 * MIB));
}

/*
 * Under a memory.high squeeze of the heap owner's cgroup, the kernel's
 * reclaim takes the free heap pages through the shrinker, within a second,
 * with the background scavenger off.
 */
TEST_F(scav, cgroup_high_squeeze_uses_shrinker)
{
	long long cur, high, after;
	struct kgc_scavenge s;
	char cg[256];
	double t0, dt;
	int fd, i, ret;
	char *base;

	ret = cg_enter(cg, sizeof(cg));
	if (ret)
		SKIP(return, "no memory cgroup (%d)", ret);
	/*
	 * A heap opened in the cgroup: its shrinker node is on its list. A
	 * process has one heap: the fixture's goes first.
	 */
	munmap(self->base, HEAP_LEN);
	self->base = MAP_FAILED;
	close(self->fd);
	self->fd = -1;
	fd = heap_open(NOGC_FEATURES, &self->api, &base);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, scav(fd, KGC_SCAV_SET_BACKGROUND, 0, &s));
	ASSERT_EQ(0, grow_and_drop(fd, 48, 4, self->addrs, self->sums));
	cur = cg_get(cg, "memory.current", NULL);
	high = cur - 32 * (long long)MIB;
	t0 = now_s();
	EXPECT_EQ(0, cg_set(cg, "memory.high", high));
	/*
	 * How long it takes is the machine's business (about 1 s on the
	 * KASAN kernel under TCG, ms natively): a timeout, not a bound.
	 * That the shrinker did it, and not the background scavenger (off),
	 * is what is asserted.
	 */
	do {
		ASSERT_EQ(0, scav(fd, KGC_SCAV_QUERY, 0, &s));
		after = cg_get(cg, "memory.current", NULL);
		dt = now_s() - t0;
		if (after <= high)
			break;
		usleep(10000);
	} while (dt < 10.0);
	TH_LOG("memory.current %lld -> %lld KiB (high %lld KiB) in %.3f s; shrinker gave back %llu KiB",
	       cur >> 10, after >> 10, high >> 10, dt, s.scav_shrinker >> 10);
	EXPECT_LE(after, high);
	EXPECT_LE(32 * MIB, s.scav_shrinker);
	EXPECT_EQ(0, s.scav_background);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(self->sums[i], checksum(self->addrs[i], MIB));
	cg_set(cg, "memory.high", -1);
	munmap(base, HEAP_LEN);
	close(fd);
	cg_leave(cg);
}

/* The kgc shrinker's debugfs directory, or -ENOENT. */
static int shrinker_dir(char *buf, size_t len)
{
	struct dirent *d;
	DIR *dir = opendir(SHRINKER_DIR);
	int ret = -ENOENT;

	if (!dir)
		return -ENOENT;
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, "kgc-", 4)) {
			snprintf(buf, len, SHRINKER_DIR "/%.200s", d->d_name);
			ret = 0;
			break;
		}
	closedir(dir);
	return ret;
}

/* This process's memory cgroup directory and its inode number. */
static unsigned long my_cgroup_ino(void)
{
	char line[512], path[768];
	struct stat st;
	FILE *f = fopen("/proc/self/cgroup", "r");

	if (!f)
		return 0;
	path[0] = 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, sizeof(path), CG_ROOT "%s", line + 3);
		}
	fclose(f);
	return path[0] && !stat(path, &st) ? st.st_ino : 0;
}

/*
 * The shrinker driven by hand through /sys/kernel/debug/shrinker/kgc-*:
 * count reports this cgroup's free resident heap pages, and scan gives
 * back exactly what it is asked for.
 */
TEST_F(scav, debugfs_shrinker_scan)
{
	char dir[512], path[600], line[128], cmd[64];
	unsigned long ino, got = 0, n;
	struct kgc_scavenge s;
	FILE *f;

	if (shrinker_dir(dir, sizeof(dir)))
		SKIP(return, "no %s/kgc-* (CONFIG_SHRINKER_DEBUG)",
		     SHRINKER_DIR);
	ino = my_cgroup_ino();
	ASSERT_NE(0, ino);
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_SET_BACKGROUND, 0, &s));
	ASSERT_EQ(0, grow_and_drop(self->fd, 16, 2, self->addrs, self->sums));
	snprintf(path, sizeof(path), "%s/count", dir);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lu %lu", &n, &got) == 2 && n == ino)
			break;
		got = 0;
	}
	fclose(f);
	/* Other heaps of the cgroup may add theirs. */
	EXPECT_LE(14 * MIB / getpagesize(), got);
	snprintf(path, sizeof(path), "%s/scan", dir);
	snprintf(cmd, sizeof(cmd), "%lu 0 %lu", ino, 4 * MIB / getpagesize());
	ASSERT_EQ(0, write_str(path, cmd));
	ASSERT_EQ(0, scav(self->fd, KGC_SCAV_QUERY, 0, &s));
	EXPECT_EQ(4 * MIB, s.scav_shrinker);
	EXPECT_EQ(10 * MIB, s.free_resident);
	EXPECT_EQ(self->sums[0], checksum(self->addrs[0], MIB));
	EXPECT_EQ(self->sums[1], checksum(self->addrs[1], MIB));
}

/*
 * A heap's memory limit (GOMEMLIMIT) defaults to its cgroup's memory.max,
 * and the scavenger's goal stays under 95% of it.
 */
TEST(memory_max_is_default_limit)
{
	struct kgc_gc_stats gs;
	struct kgc_scavenge s;
	struct kgc_api api;
	char cg[256], *base;
	int fd, ret;

	ret = cg_enter(cg, sizeof(cg));
	if (ret == -ENOENT)
		SKIP(return, KGC_DEV " or memory cgroup missing");
	if (ret)
		SKIP(return, "no memory cgroup (%d)", ret);
	ASSERT_EQ(0, cg_set(cg, "memory.max", 300 * MIB));
	fd = heap_open(KGC_FEATURES_ALL, &api, &base);
	if (fd == -ENOENT) {
		cg_leave(cg);
		SKIP(return, KGC_DEV " missing");
	}
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kgc_ioctl(fd, KGC_IOC_GC_STATS, &gs));
	EXPECT_EQ(300 * MIB, gs.memory_limit);
	ASSERT_EQ(0, scav(fd, KGC_SCAV_QUERY, 0, &s));
	EXPECT_LE(s.goal, 300 * MIB / 100 * 95);
	/* A new memory.max applies from the next cycle on... */
	ASSERT_EQ(0, cg_set(cg, "memory.max", 200 * MIB));
	ASSERT_EQ(0, gc_run(fd));
	ASSERT_EQ(0, kgc_ioctl(fd, KGC_IOC_GC_STATS, &gs));
	EXPECT_EQ(200 * MIB, gs.memory_limit);
	ASSERT_EQ(0, scav(fd, KGC_SCAV_QUERY, 0, &s));
	EXPECT_LE(s.goal, 200 * MIB / 100 * 95);
	/* ...until the process sets its own limit. */
	ASSERT_EQ(0, gc_ctl(fd, KGC_GC_SET_LIMIT, 500 * MIB));
	ASSERT_EQ(0, cg_set(cg, "memory.max", 250 * MIB));
	ASSERT_EQ(0, gc_run(fd));
	ASSERT_EQ(0, kgc_ioctl(fd, KGC_IOC_GC_STATS, &gs));
	EXPECT_EQ(500 * MIB, gs.memory_limit);
	munmap(base, HEAP_LEN);
	close(fd);
	cg_leave(cg);

	/* In the root cgroup: no limit. */
	fd = heap_open(KGC_FEATURES_ALL, &api, &base);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kgc_ioctl(fd, KGC_IOC_GC_STATS, &gs));
	EXPECT_EQ(KGC_GC_OFF, gs.memory_limit);
	munmap(base, HEAP_LEN);
	close(fd);
}

/*
 * A process whose live heap exceeds its cgroup's memory.max is killed by
 * the cgroup's own OOM killer; nothing outside the cgroup is touched.
 */
TEST(over_memory_max_is_contained)
{
	char cg[256];
	long long kills;
	int status, ret;
	pid_t pid;

	ret = cg_make(cg, sizeof(cg));
	if (ret)
		SKIP(return, "no memory cgroup (%d)", ret);
	ASSERT_EQ(0, cg_set(cg, "memory.max", 24 * MIB));
	cg_set(cg, "memory.swap.max", 0);
	/* Only the child is in the cgroup. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct kgc_api api;
		char *base;
		uint64_t a;
		int fd;

		if (cg_join(cg))
			_exit(2);
		fd = heap_open(NOGC_FEATURES, &api, &base);
		if (fd < 0)
			_exit(3);
		a = large_alloc(fd, 64 * MIB);
		if (!a)
			_exit(4);
		memset((void *)(uintptr_t)a, 1, 64 * MIB);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	kills = cg_get(cg, "memory.events", "oom_kill");
	TH_LOG("child status %#x, oom_kill %lld", status, kills);
	EXPECT_TRUE(WIFSIGNALED(status));
	if (WIFSIGNALED(status))
		EXPECT_EQ(SIGKILL, WTERMSIG(status));
	EXPECT_LE(1, kills);
	rmdir(cg);
}

struct stress {
	int fd;
	int stop;
	unsigned long ops[3];
	char shrinker[512];
	unsigned long ino;
};

/* Allocate, touch and free spans and large objects. */
static void *stress_alloc(void *arg)
{
	struct stress *st = arg;
	struct kgc_refill r;
	uint64_t a;

	while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
		if (!kgc_get_span(st->fd, KGC_SPANCLASS(5, 0), &r)) {
			memset((void *)(uintptr_t)r.span.base, 3,
			       (size_t)r.span.elemsize * r.span.nelems);
			kgc_put_span(st->fd, r.span.base, r.span.nelems,
				     KGC_REFILL_DISCARD);
		}
		a = large_alloc(st->fd, 256 * 1024);
		if (a) {
			memset((void *)(uintptr_t)a, 5, 256 * 1024);
			large_free(st->fd, a);
		}
		st->ops[0]++;
	}
	return NULL;
}

/* Run GC cycles: marking and sweeping. */
static void *stress_gc(void *arg)
{
	struct stress *st = arg;
	struct kgc_gc_ctl c = { .op = KGC_GC_RUN };

	while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
		kgc_ioctl(st->fd, KGC_IOC_GC, &c);
		st->ops[1]++;
	}
	return NULL;
}

/* Give memory back: explicitly and through the shrinker. */
static void *stress_reclaim(void *arg)
{
	struct stress *st = arg;
	struct kgc_scavenge s;
	char path[600], cmd[64];

	snprintf(path, sizeof(path), "%s/scan", st->shrinker);
	snprintf(cmd, sizeof(cmd), "%lu 0 256", st->ino);
	while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
		scav(st->fd, KGC_SCAV_RELEASE, 0, &s);
		if (st->shrinker[0])
			write_str(path, cmd);
		st->ops[2]++;
	}
	return NULL;
}

/*
 * Reclaim running concurrently with allocation, marking and sweeping: no
 * error, no deadlock (under the debug kernel: no lockdep report).
 */
TEST(reclaim_races_alloc_mark_sweep)
{
	struct stress st = { 0 };
	struct kgc_scavenge s;
	struct kgc_api api;
	pthread_t t[4];
	char *base;
	int i;

	st.fd = heap_open(KGC_FEATURES_ALL, &api, &base);
	if (st.fd == -ENOENT)
		SKIP(return, KGC_DEV " missing");
	ASSERT_LE(0, st.fd);
	if (!shrinker_dir(st.shrinker, sizeof(st.shrinker)))
		st.ino = my_cgroup_ino();
	ASSERT_EQ(0, pthread_create(&t[0], NULL, stress_alloc, &st));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, stress_alloc, &st));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, stress_gc, &st));
	ASSERT_EQ(0, pthread_create(&t[3], NULL, stress_reclaim, &st));
	sleep(3);
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ASSERT_EQ(0, scav(st.fd, KGC_SCAV_QUERY, 0, &s));
	TH_LOG("%lu alloc rounds, %lu GC cycles, %lu reclaim rounds; given back: %llu KiB background, %llu KiB shrinker, %llu KiB explicit",
	       st.ops[0], st.ops[1], st.ops[2], s.scav_background >> 10,
	       s.scav_shrinker >> 10, s.scav_explicit >> 10);
	EXPECT_LT(0, st.ops[0]);
	EXPECT_LT(0, st.ops[1]);
	EXPECT_LT(0, s.scav_explicit + s.scav_background + s.scav_shrinker);
	munmap(base, HEAP_LEN);
	close(st.fd);
}

TEST_HARNESS_MAIN
