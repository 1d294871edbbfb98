// SPDX-License-Identifier: GPL-2.0
/*
 * profile_test - the sampled heap profile of libkgc on the real kernel.
 *
 * The program: alloc_A allocates 10 MiB, alloc_B 20 MiB and calls
 * alloc_A, alloc_C 30 MiB and calls alloc_B, at KGC_MEMPROFILERATE 4096,
 * all kept alive from a global. The profile written then must show, read
 * back here with the tests' own protobuf reader (flat and cum as pprof
 * computes them), A/B/C flat 10/20/30 MiB and cum 10/30/60 MiB of
 * alloc_space within 25%, and as much in use. After the objects are
 * dropped and two collections ran, the next profile has the same
 * allocations and (almost) nothing in use: the kernel told the library,
 * through KGC_IOC_OBJ_STATE, that the samples died.
 *
 * Both profiles are also printed, base64-encoded, between the lines
 * "# kgc-pprof-begin NAME" and "# kgc-pprof-end NAME" (TAP comments), so
 * that tools/test-pprof.sh can check them with `go tool pprof` on the
 * host, which the test VM cannot run.
 *
 * Also: the profile written at exit (KGC_HEAPPROFILE) and on a signal
 * (KGC_HEAPPROFILE_SIGNAL) of a static program, and the error paths.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "kgc_lib_util.h"
#include "../userlib/tests/pprof_read.h"

#define NOINLINE	__attribute__((noinline, noclone))

#define N_A	10240	/* 1 KiB each: 10 MiB */
#define N_B	5120	/* 4 KiB each: 20 MiB */
#define N_C	480	/* 64 KiB each (large objects): 30 MiB */
#define MiB	(1 << 20)

/* In bss: an automatic root, so the objects live until cleared. */
static void *keep[N_A + N_B + N_C];
static unsigned int nkeep;

static NOINLINE void alloc_A(void)
{
	int i;

	for (i = 0; i < N_A; i++)
		KGC_STORE(keep[nkeep++], kgc_alloc_noscan(1024));
}

static NOINLINE void alloc_B(void)
{
	int i;

	for (i = 0; i < N_B / 2; i++)
		KGC_STORE(keep[nkeep++], kgc_alloc_noscan(4096));
	alloc_A();
	for (i = 0; i < N_B / 2; i++)
		KGC_STORE(keep[nkeep++], kgc_alloc_noscan(4096));
}

static NOINLINE void alloc_C(void)
{
	int i;

	for (i = 0; i < N_C / 2; i++)
		KGC_STORE(keep[nkeep++], kgc_alloc_noscan(64 << 10));
	alloc_B();
	for (i = 0; i < N_C / 2; i++)
		KGC_STORE(keep[nkeep++], kgc_alloc_noscan(64 << 10));
}

/* The file, whole, in malloc memory; NULL when it cannot be read. */
static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (!fstat(fd, &st) && st.st_size > 0) {
		buf = malloc((size_t)st.st_size);
		if (buf && read(fd, buf, (size_t)st.st_size) != st.st_size) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)st.st_size;
	}
	close(fd);
	return buf;
}

/* Print @len bytes base64-encoded between the markers of @name. */
static void print_base64(const char *name, const unsigned char *p,
			 size_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[80];
	size_t i, n = 0;

	printf("# kgc-pprof-begin %s\n", name);
	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		line[n++] = tab[v >> 18 & 63];
		line[n++] = tab[v >> 12 & 63];
		line[n++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
		line[n++] = i + 2 < len ? tab[v & 63] : '=';
		if (n == 76 || i + 3 >= len) {
			line[n] = '\0';
			printf("# %s\n", line);
			n = 0;
		}
	}
	printf("# kgc-pprof-end %s\n", name);
	fflush(stdout);
}

/* Write the profile to @path, print it, decode it into @d. */
static bool profile(const char *path, const char *name, struct dprof *d)
{
	unsigned char *buf;
	size_t len = 0;
	bool ok;

	if (kgc_write_heap_profile(path))
		return false;
	buf = slurp(path, &len);
	if (!buf)
		return false;
	print_base64(name, buf, len);
	ok = decode(buf, len, d);
	free(buf);
	return ok;
}

FIXTURE(prof) {
	bool ready;
};

FIXTURE_SETUP(prof)
{
	HEAP_SETUP(self, TEST_HEAP_RESERVE);
}

FIXTURE_TEARDOWN(prof)
{
	kgc_shutdown();
}

#define EXPECT_NEAR_PCT(want, got, pct)					\
	EXPECT_TRUE((double)(got) >= (double)(want) * (1 - (pct) / 100.0) && \
		    (double)(got) <= (double)(want) * (1 + (pct) / 100.0)) \
		TH_LOG("%s = %lld, expected %lld +- %d%%", #got,	\
		       (long long)(got), (long long)(want), (pct))

/*
 * The A/B/C program: flat and cum of alloc_space, in use while
 * alive, nothing in use after the objects died.
 */
TEST_F_TIMEOUT(prof, known_sites, 600)
{
	static const struct {
		const char *fn;
		int64_t flat, cum;
	} want[] = {
		{ "alloc_A", 10 * MiB, 10 * MiB },
		{ "alloc_B", 20 * MiB, 30 * MiB },
		{ "alloc_C", 30 * MiB, 60 * MiB },
	};
	struct dprof *d = calloc(1, sizeof(*d));
	int64_t flat, cum, iflat, icum;
	unsigned int i;

	HEAP_REQUIRED();
	ASSERT_NE(NULL, d);
	ASSERT_EQ(0, kgc_set_memprofile_rate(4096));
	alloc_C();
	ASSERT_EQ(N_A + N_B + N_C, nkeep);
	for (i = 0; i < nkeep; i++)
		ASSERT_NE(NULL, keep[i]);

	ASSERT_TRUE(profile("/tmp/heap-live.pprof", "live", d))
		TH_LOG("%s", kgc_last_error());
	for (i = 0; i < 3; i++) {
		flat_cum(d, want[i].fn, 1, &flat, &cum);
		flat_cum(d, want[i].fn, 3, &iflat, &icum);
		printf("# live %s: alloc_space flat %lld cum %lld, inuse_space flat %lld cum %lld\n",
		       want[i].fn, (long long)flat, (long long)cum,
		       (long long)iflat, (long long)icum);
		EXPECT_NEAR_PCT(want[i].flat, flat, 25);
		EXPECT_NEAR_PCT(want[i].cum, cum, 25);
		EXPECT_NEAR_PCT(want[i].flat, iflat, 25);
	}
	dprof_free(d);

	/* Drop them; two cycles free them (conservative stacks aside). */
	for (i = 0; i < nkeep; i++)
		KGC_STORE(keep[i], NULL);
	ASSERT_EQ(0, kgc_gc());
	ASSERT_EQ(0, kgc_gc());
	ASSERT_TRUE(profile("/tmp/heap-dead.pprof", "dead", d))
		TH_LOG("%s", kgc_last_error());
	for (i = 0; i < 3; i++) {
		flat_cum(d, want[i].fn, 1, &flat, &cum);
		flat_cum(d, want[i].fn, 3, &iflat, &icum);
		printf("# dead %s: alloc_space flat %lld cum %lld, inuse_space flat %lld cum %lld\n",
		       want[i].fn, (long long)flat, (long long)cum,
		       (long long)iflat, (long long)icum);
		EXPECT_NEAR_PCT(want[i].flat, flat, 25);
		EXPECT_NEAR_PCT(want[i].cum, cum, 25);
		EXPECT_GT(want[i].flat / 10, iflat);
	}
	dprof_free(d);
	free(d);
}

/* Errors come back as -errno with a message naming the file. */
TEST_F(prof, errors)
{
	HEAP_REQUIRED();
	EXPECT_EQ(-ENOENT, kgc_write_heap_profile("/nonexistent/heap.pprof"));
	EXPECT_NE(NULL, strstr(kgc_last_error(), "/nonexistent/heap.pprof"));
	EXPECT_EQ(-EINVAL, kgc_write_heap_profile(NULL));
	EXPECT_EQ(-EBADF, kgc_write_heap_profile_fd(-1));
	EXPECT_EQ(-EINVAL, kgc_set_memprofile_rate((size_t)1 << 41));
}

static bool wait_for(const char *path)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	struct stat st;
	int i;

	for (i = 0; i < 500; i++) {
		if (!stat(path, &st) && st.st_size > 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static bool has_site(const char *path, const char *fn)
{
	struct dprof *d = calloc(1, sizeof(*d));
	int64_t flat = 0, cum = 0;
	unsigned char *buf;
	size_t len = 0;

	buf = slurp(path, &len);
	if (d && buf && decode(buf, len, d))
		flat_cum(d, fn, 1, &flat, &cum);
	if (d)
		dprof_free(d);
	free(d);
	free(buf);
	return flat > 0;
}

/*
 * KGC_HEAPPROFILE writes at exit; KGC_HEAPPROFILE_SIGNAL=SIGUSR2 writes
 * path.1 on the signal (a child process, whose exit writes).
 */
FIXTURE(env) {
	int unused;
};

FIXTURE_SETUP(env)
{
}

FIXTURE_TEARDOWN(env)
{
}

TEST_F_TIMEOUT(env, at_exit_and_on_signal, 300)
{
	const char *path = "/tmp/heap-env.pprof";
	const char *path1 = "/tmp/heap-env.pprof.1";
	int status;
	pid_t pid;

	unlink(path);
	unlink(path1);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		KGC_OPTS(opts, .heap_reserve = TEST_HEAP_RESERVE);
		int ret;

		setenv("KGC_HEAPPROFILE", path, 1);
		setenv("KGC_HEAPPROFILE_SIGNAL", "SIGUSR2", 1);
		setenv("KGC_MEMPROFILERATE", "1", 1);
		ret = kgc_init(&opts);
		if (ret == -ENOENT)
			_exit(4);
		if (ret)
			_exit(2);
		alloc_A();
		kill(getpid(), SIGUSR2);
		if (!wait_for(path1))
			_exit(3);
		exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 4)
		SKIP(return, "/dev/kgc missing: is kgc.ko loaded?");
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(has_site(path1, "alloc_A"));
	EXPECT_TRUE(has_site(path, "alloc_A"));
	unlink(path);
	unlink(path1);
}

TEST_HARNESS_MAIN
