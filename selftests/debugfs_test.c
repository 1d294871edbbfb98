// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs_test - /sys/kernel/debug/kgc shows what the heap holds.
 *
 * The test plays the mcache through the raw device (like heap_test): it
 * takes spans of a few classes, gives some back partly or fully used, and
 * checks that its own directory (named by its pid) shows them: the stats
 * file's counters, one sizeclasses row per class in use with the right
 * span and object counts, the module-wide totals and heaps files. It also
 * reads a heap's files while the heap's process is killed, which must end
 * in -EIO or a full read, never in a crash (run it in the debug kernel).
 *
 * Skips (exit 4) when debugfs or kgc's directory in it is missing.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kgc_test_util.h"

#define HEAP_LEN	(2 * KGC_ARENA_SIZE)
#define DBG_DIR		"/sys/kernel/debug/kgc"

/* Read a whole file into a static buffer; returns its length or -errno. */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	if (n < 0)
		len = -errno;
	close(fd);
	if (len >= 0)
		buf[len] = 0;
	return len;
}

#define MISSING LLONG_MIN

/* The value of a "name value" line, or MISSING when there is none. */
static long long field(const char *text, const char *name)
{
	size_t len = strlen(name);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, name, len) && p[len] == ' ')
			return strtoll(p + len + 1, NULL, 0);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return MISSING;
}

/* One line of a sizeclasses file. */
struct row {
	unsigned int spanclass, class, size, noscan, pages;
	unsigned long partial, full, cached;
	unsigned long long objects, inuse, free, bytes;
};

/* Find the sizeclasses row of @spanclass; returns 1 when found. */
static int find_row(const char *text, unsigned int spanclass, struct row *r)
{
	const char *p = strchr(text, '\n');	/* skip the header */

	while (p && *++p) {
		if (sscanf(p, "%u %u %u %u %u %lu %lu %lu %llu %llu %llu %llu",
			   &r->spanclass, &r->class, &r->size, &r->noscan,
			   &r->pages, &r->partial, &r->full, &r->cached,
			   &r->objects, &r->inuse, &r->free, &r->bytes) == 12 &&
		    r->spanclass == spanclass)
			return 1;
		p = strchr(p, '\n');
	}
	return 0;
}

/* Data lines of a table (lines after the header). */
static int rows(const char *text)
{
	int n = -1;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static char buf[1 << 16];

FIXTURE(dbg) {
	int fd;
	struct kgc_api api;
	char *base;
	char dir[64];
};

FIXTURE_SETUP(dbg)
{
	struct stat st;

	self->fd = -1;
	self->base = MAP_FAILED;
	if (stat(DBG_DIR, &st))
		SKIP(return, DBG_DIR " missing: no debugfs, or kgc.ko not loaded");
	self->fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, KGC_DEV " missing: is kgc.ko loaded?");
	ASSERT_LE(0, self->fd);
	snprintf(self->dir, sizeof(self->dir), DBG_DIR "/%d", getpid());
}

FIXTURE_TEARDOWN(dbg)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, HEAP_LEN);
	if (self->fd >= 0)
		close(self->fd);
}

static void map_heap(FIXTURE_DATA(dbg) *self,
		     struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, kgc_handshake(self->fd, &self->api));
	self->base = kgc_map_heap(self->fd, &self->api, HEAP_LEN);
	ASSERT_NE(MAP_FAILED, self->base);
}

static void read_file(FIXTURE_DATA(dbg) *self, const char *name,
		      struct __test_metadata *_metadata)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", self->dir, name);
	ASSERT_LT(0, slurp(path, buf, sizeof(buf))) TH_LOG("%s", path);
}

/* The directory exists from open on; before the mmap it says "mapped 0". */
TEST_F(dbg, dir_before_mapping)
{
	struct stat st;

	ASSERT_EQ(0, stat(self->dir, &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	read_file(self, "stats", _metadata);
	EXPECT_EQ(0, field(buf, "mapped"));
	EXPECT_LE(0, field(buf, "heap_id"));
	EXPECT_EQ(MISSING, field(buf, "spans_inuse"));
	read_file(self, "sizeclasses", _metadata);
	EXPECT_EQ(0, rows(buf));
	EXPECT_EQ(0, strncmp(buf, "spanclass", 9)) TH_LOG("%s", buf);
}

/* A fresh mapped heap: every stat present, nothing in use. */
TEST_F(dbg, stats_fresh_heap)
{
	static const char *const names[] = {
		"heap_sys", "heap_inuse", "heap_idle", "heap_released",
		"heap_resident", "spans_inuse", "spans_cached",
		"large_objects", "large_bytes", "refills", "faults", "arenas",
		"num_gc", "num_forced_gc", "pause_total_ns", "last_gc_ns",
		"next_gc", "heap_live", "heap_marked", "gc_cpu_ns",
		"uptime_ns", "heap_objects", "gc_percent", "memory_limit",
		"checkmark_errors", "signals", "gc_phase", "gc_threads",
		"gc_roots", "heap_base", "heap_size", "features",
	};
	unsigned int i;

	map_heap(self, _metadata);
	read_file(self, "stats", _metadata);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		long long v = field(buf, names[i]);

		if (v == MISSING)
			TH_LOG("%s missing", names[i]);
		EXPECT_NE(MISSING, v);
	}
	EXPECT_EQ(1, field(buf, "mapped"));
	EXPECT_EQ(HEAP_LEN, field(buf, "heap_size"));
	EXPECT_EQ((long long)(uintptr_t)self->base, field(buf, "heap_base"));
	EXPECT_EQ(0, field(buf, "spans_inuse"));
	EXPECT_EQ(100, field(buf, "gc_percent"));
	EXPECT_EQ(-1, field(buf, "memory_limit"));
	EXPECT_NE(NULL, strstr(buf, "\npause_ns\n"));
	read_file(self, "sizeclasses", _metadata);
	EXPECT_EQ(0, rows(buf));
}

/*
 * Spans taken and given back: one row per span class in use, with the
 * spans on the right list and the objects counted; the stats agree.
 */
TEST_F(dbg, sizeclasses_rows)
{
	const uint32_t a = KGC_SPANCLASS(2, 0), b = KGC_SPANCLASS(5, 1);
	const uint32_t c = KGC_SPANCLASS(40, 0);
	struct kgc_refill ra[3], rb[2], rc;
	unsigned long long na, nb;
	struct row r;
	int i;

	map_heap(self, _metadata);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, kgc_get_span(self->fd, a, &ra[i]));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, kgc_get_span(self->fd, b, &rb[i]));
	ASSERT_EQ(0, kgc_get_span(self->fd, c, &rc));
	na = ra[0].span.nelems;
	nb = rb[0].span.nelems;

	read_file(self, "sizeclasses", _metadata);
	EXPECT_EQ(3, rows(buf)) TH_LOG("%s", buf);
	ASSERT_TRUE(find_row(buf, a, &r)) TH_LOG("%s", buf);
	EXPECT_EQ(2, r.class);
	EXPECT_EQ(ra[0].span.elemsize, r.size);
	EXPECT_EQ(0, r.noscan);
	EXPECT_EQ(ra[0].span.npages, r.pages);
	EXPECT_EQ(0, r.partial);
	EXPECT_EQ(0, r.full);
	EXPECT_EQ(3, r.cached);
	EXPECT_EQ(3 * na, r.objects);
	EXPECT_EQ(0, r.inuse);
	EXPECT_EQ(3 * na, r.free);
	EXPECT_EQ(3ULL * r.pages * KGC_PAGE_SIZE, r.bytes);
	ASSERT_TRUE(find_row(buf, b, &r));
	EXPECT_EQ(1, r.noscan);
	EXPECT_EQ(5, r.class);
	EXPECT_EQ(2, r.cached);
	EXPECT_EQ(2 * nb, r.free);
	ASSERT_TRUE(find_row(buf, c, &r));
	EXPECT_EQ(rc.span.elemsize, r.size);
	EXPECT_EQ(rc.span.nelems, r.objects);
	EXPECT_EQ(1, r.cached);

	/* Back: one half used (partial), one all used (full). */
	ASSERT_EQ(0, kgc_put_span(self->fd, ra[0].span.base, na / 2, 0));
	ASSERT_EQ(0, kgc_put_span(self->fd, ra[1].span.base, na, 0));
	/* An empty span goes back to the page heap: its class row goes. */
	ASSERT_EQ(0, kgc_put_span(self->fd, rc.span.base, 0, 0));
	read_file(self, "sizeclasses", _metadata);
	EXPECT_EQ(2, rows(buf)) TH_LOG("%s", buf);
	EXPECT_FALSE(find_row(buf, c, &r));
	ASSERT_TRUE(find_row(buf, a, &r));
	EXPECT_EQ(1, r.partial);
	EXPECT_EQ(1, r.full);
	EXPECT_EQ(1, r.cached);
	EXPECT_EQ(3 * na, r.objects);
	EXPECT_EQ(na / 2 + na, r.inuse);
	EXPECT_EQ(3 * na - na / 2 - na, r.free);

	read_file(self, "stats", _metadata);
	EXPECT_EQ(5, field(buf, "spans_inuse"));
	EXPECT_EQ(3, field(buf, "spans_cached"));
	EXPECT_EQ(9, field(buf, "refills"));
}

/* Large objects are in the stats, not in the size-class table. */
TEST_F(dbg, large_objects)
{
	struct kgc_large l = { .size = 100000 };

	map_heap(self, _metadata);
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	read_file(self, "stats", _metadata);
	EXPECT_EQ(1, field(buf, "large_objects"));
	EXPECT_EQ(l.npages * KGC_PAGE_SIZE, field(buf, "large_bytes"));
	EXPECT_EQ(1, field(buf, "spans_inuse"));
	read_file(self, "sizeclasses", _metadata);
	EXPECT_EQ(0, rows(buf));
}

/* Module-wide: this heap counts in totals and has a row in heaps. */
TEST_F(dbg, totals_and_heaps)
{
	unsigned long long sys, res, spans, ngc;
	int id, tgid, mapped;
	struct kgc_refill r;
	char name[32], dir[32];
	char *line;

	map_heap(self, _metadata);
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(3, 0), &r));
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(3, 0), &r));
	ASSERT_LT(0, slurp(DBG_DIR "/totals", buf, sizeof(buf)));
	EXPECT_LE(1, field(buf, "heaps"));
	EXPECT_LE(1, field(buf, "heaps_mapped"));
	EXPECT_LE(2, field(buf, "spans_inuse"));
	EXPECT_LE(2, field(buf, "spans_cached"));
	EXPECT_LE(2 * KGC_PAGE_SIZE, field(buf, "heap_inuse"));
	EXPECT_LE(0, field(buf, "num_gc"));
	EXPECT_LE(0, field(buf, "resident_pages"));

	ASSERT_LT(0, slurp(DBG_DIR "/heaps", buf, sizeof(buf)));
	snprintf(name, sizeof(name), "\n%d ", getpid());
	line = strstr(buf, name);
	ASSERT_NE(NULL, line) TH_LOG("%s", buf);
	ASSERT_EQ(8, sscanf(line + 1, "%31s %d %d %d %llu %llu %llu %llu",
			    dir, &id, &tgid, &mapped, &sys, &res, &spans, &ngc));
	EXPECT_EQ(getpid(), tgid);
	EXPECT_EQ(1, mapped);
	EXPECT_EQ(2, spans);
	EXPECT_EQ(KGC_ARENA_SIZE, sys);
	EXPECT_EQ(0, ngc);
}

static void ignore(int sig)
{
	(void)sig;
}

/* A collection shows in the stats: cycle count, pauses, threads. */
TEST_F(dbg, gc_cycle_counted)
{
	struct kgc_thread_attach a = { 0 };
	struct kgc_gc_ctl c = { .op = KGC_GC_RUN };
	char *stack = (char *)&a;
	const char *p;
	int ret, n = 0;

	map_heap(self, _metadata);
	signal(SIGURG, ignore);
	a.stack_lo = (uintptr_t)stack - (1 << 20);
	a.stack_hi = (uintptr_t)stack + 4096;
	a.signo = SIGURG;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_THREAD_ATTACH, &a));
	do {
		ret = kgc_ioctl(self->fd, KGC_IOC_GC, &c);
	} while (ret == -EINTR);
	ASSERT_EQ(0, ret);
	read_file(self, "stats", _metadata);
	EXPECT_EQ(1, field(buf, "num_gc"));
	EXPECT_EQ(1, field(buf, "num_forced_gc"));
	EXPECT_EQ(1, field(buf, "gc_threads"));
	EXPECT_EQ(0, field(buf, "gc_phase"));
	EXPECT_LT(0, field(buf, "last_gc_ns"));
	/* Two pauses per cycle. */
	p = strstr(buf, "\npause_ns");
	ASSERT_NE(NULL, p);
	for (p += 9; *p && *p != '\n'; p++)
		n += *p == ' ';
	EXPECT_EQ(2, n);
}

/* The directory goes with the heap. */
TEST_F(dbg, dir_removed_at_close)
{
	struct stat st;

	map_heap(self, _metadata);
	ASSERT_EQ(0, stat(self->dir, &st));
	munmap(self->base, HEAP_LEN);
	self->base = MAP_FAILED;
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(-1, stat(self->dir, &st));
	EXPECT_EQ(ENOENT, errno);
}

/* A child with a heap and some spans; it waits to be killed. */
static pid_t spawn_heap_child(void)
{
	int pipefd[2];
	pid_t pid;
	char c;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct kgc_api api;
		struct kgc_refill r;
		int fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);
		int i;

		if (fd < 0 || kgc_handshake(fd, &api) ||
		    kgc_map_heap(fd, &api, HEAP_LEN) == MAP_FAILED)
			_exit(1);
		for (i = 2; i < 40; i++)
			kgc_get_span(fd, i, &r);
		c = 1;
		if (write(pipefd[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	if (pid < 0 || read(pipefd[0], &c, 1) != 1) {
		close(pipefd[0]);
		return -1;
	}
	close(pipefd[0]);
	return pid;
}

struct reader {
	char path[3][96];
	int stop;		/* __atomic */
	long reads, eio;
};

static void *reader_loop(void *arg)
{
	struct reader *rd = arg;
	static char rbuf[3][1 << 15];
	int fds[3], i;
	ssize_t n;

	/* Files opened before the heap goes: reads then fail with EIO. */
	for (i = 0; i < 3; i++)
		fds[i] = open(rd->path[i], O_RDONLY | O_CLOEXEC);
	while (!__atomic_load_n(&rd->stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < 3; i++) {
			if (fds[i] < 0)
				continue;
			n = pread(fds[i], rbuf[i], sizeof(rbuf[i]), 0);
			if (n < 0 && errno == EIO)
				rd->eio++;
			rd->reads++;
		}
	}
	for (i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return NULL;
}

/*
 * Reading a heap's files while its process is killed: each read either
 * completes or fails with EIO once the heap is gone; the directory goes.
 * The debug kernel (KASAN, lockdep) checks the rest.
 */
TEST(read_while_owner_exits)
{
	long reads = 0, eio = 0;
	struct stat st;
	int round;

	if (stat(DBG_DIR, &st))
		SKIP(return, DBG_DIR " missing");
	if (access(KGC_DEV, R_OK | W_OK))
		SKIP(return, KGC_DEV " missing");
	for (round = 0; round < 20; round++) {
		struct reader rd = { 0 };
		pthread_t th;
		pid_t pid = spawn_heap_child();
		char dir[64];
		int status;

		ASSERT_LT(0, pid);
		snprintf(dir, sizeof(dir), DBG_DIR "/%d", pid);
		snprintf(rd.path[0], sizeof(rd.path[0]), "%s/stats", dir);
		snprintf(rd.path[1], sizeof(rd.path[1]), "%s/sizeclasses", dir);
		snprintf(rd.path[2], sizeof(rd.path[2]), DBG_DIR "/totals");
		ASSERT_EQ(0, pthread_create(&th, NULL, reader_loop, &rd));
		usleep(1000 * (round % 5));
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		/* The heap goes at the child's last fput, which has run. */
		usleep(20000);
		__atomic_store_n(&rd.stop, 1, __ATOMIC_RELAXED);
		pthread_join(th, NULL);
		EXPECT_LT(0, rd.reads);
		EXPECT_EQ(-1, stat(dir, &st)) TH_LOG("%s still there", dir);
		reads += rd.reads;
		eio += rd.eio;
	}
	TH_LOG("%ld reads, %ld of them after the heap went (EIO)", reads, eio);
}

TEST_HARNESS_MAIN
