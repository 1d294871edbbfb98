// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * ctl.c - collector control: kgc_gc() (stack words, EINTR), settings to
 * the kernel, statistics and their @sz rules, gctrace, error strings and
 * the version.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_kernel.h"
#include "internal.h"
#include "tap.h"

static void test_gc_runs_a_cycle(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	void *keep;

	REQUIRE_EQ(fake_heap_init(), 0);
	/* Not attached: nothing to park with. */
	CHECK_EQ(kgc_gc(), 0);
	CHECK_EQ(fk.gc_runs, 1);
	CHECK_EQ(fk.gc_run_nptrs, 0);
	/* Attached: the stack's heap pointers go along; EINTR is retried. */
	keep = kgc_alloc_noscan(100);
	REQUIRE(keep != NULL);
	fk.gc_eintr = 3;
	CHECK_EQ(kgc_gc(), 0);
	CHECK_EQ(fk.gc_eintr, 0);
	CHECK_EQ(fk.gc_runs, 2);
	{
		uint64_t i;
		bool found = false;

		for (i = 0; i < fk.gc_run_nptrs; i++)
			found |= fk.gc_run_ptrs[i] == (uintptr_t)keep;
		CHECK(found);
	}
	*(volatile char *)keep = 1;	/* keep it on the stack until here */
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.num_gc, 2);
	CHECK_EQ(st.num_forced_gc, 2);
	CHECK_EQ(st.pause_total_ns, 6000);
	CHECK_EQ(st.pause_ns[1], 2000);
	CHECK_EQ(st.signals, 7);
	CHECK(st.gc_cpu_fraction > 0.24 && st.gc_cpu_fraction < 0.26);
	CHECK_EQ(kgc_free_os_memory(), -ENOSYS);
	CHECK_STR_CONTAINS(kgc_last_error(), "scavenger");
	kgc_shutdown();
	CHECK_EQ(kgc_gc(), -EINVAL);
	CHECK_EQ(kgc_free_os_memory(), -EINVAL);
}

#ifdef KGC_IOC_SCAVENGE
/* With the scavenger: a cycle, then everything free goes back. */
static void test_free_os_memory(void)
{
	fake_kernel_install();
	fk.ioctls_answer |= 1ULL << KGC_IOC_NR_SCAVENGE;
	REQUIRE_EQ(kgc_init(&(struct kgc_options){
		.sz = sizeof(struct kgc_options),
		.heap_reserve = KGC_ARENA_SIZE,
		.flags = KGC_INIT_NOENV | KGC_INIT_NOAUTOROOTS }), 0);
	CHECK_EQ(kgc_free_os_memory(), 0);
	CHECK_EQ(fk.gc_runs, 1);
	CHECK_EQ(fk.scavenges, 1);
	kgc_shutdown();
}
#else
static void test_free_os_memory(void)
{
	TAP_SKIP("uapi without KGC_IOC_SCAVENGE");
}
#endif

static void test_settings_go_to_the_kernel(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	KGC_OPTS(opts, .heap_reserve = KGC_ARENA_SIZE, .gc_percent = 25,
		 .memory_limit = 100 << 20,
		 .debug = KGC_DEBUG_CHECKMARK | KGC_DEBUG_POISON |
			  KGC_DEBUG_NOROOTS,
		 .flags = KGC_INIT_NOENV | KGC_INIT_NOAUTOROOTS);

	REQUIRE_EQ(fake_heap_init(), 0);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.gc_percent, 100);
	CHECK(st.memory_limit == KGC_NO_MEMORY_LIMIT);
	CHECK_EQ(fk.gc_percent, 100);
	CHECK(fk.memory_limit == KGC_GC_OFF);
	CHECK_EQ(fk.debug, 0);

	CHECK_EQ(kgc_set_gc_percent(50), 0);
	CHECK_EQ(fk.gc_percent, 50);
	CHECK_EQ(kgc_set_memory_limit(1 << 30), 0);
	CHECK_EQ(fk.memory_limit, 1 << 30);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.gc_percent, 50);
	CHECK_EQ(st.memory_limit, 1 << 30);

	CHECK_EQ(kgc_set_gc_percent(KGC_GOGC_OFF), 0);
	CHECK(fk.gc_percent == KGC_GC_OFF);
	CHECK_EQ(kgc_set_gc_percent(0), 0);
	CHECK_EQ(fk.gc_percent, 0);
	CHECK_EQ(kgc_set_gc_percent(-2), -EINVAL);
	CHECK_EQ(kgc_set_gc_percent(1000001), -EINVAL);
	CHECK_EQ(kgc_set_memory_limit(-1), -EINVAL);
	CHECK_EQ(kgc_set_memory_limit(KGC_NO_MEMORY_LIMIT), 0);
	CHECK(fk.memory_limit == KGC_GC_OFF);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.gc_percent, 0);
	CHECK(st.memory_limit == KGC_NO_MEMORY_LIMIT);
	kgc_shutdown();
	CHECK_EQ(kgc_set_gc_percent(10), -EINVAL);

	/*
	 * No limit configured: the kernel's default (here as if the cgroup
	 * had memory.max = 300 MiB) is left alone and reported; an explicit
	 * KGC_NO_MEMORY_LIMIT replaces it.
	 */
	fake_kernel_install();
	fk.memory_limit = 300 << 20;
	REQUIRE_EQ(kgc_init(&(struct kgc_options){ .sz = sizeof(opts),
			.heap_reserve = KGC_ARENA_SIZE,
			.flags = KGC_INIT_NOENV | KGC_INIT_NOAUTOROOTS }), 0);
	CHECK_EQ(fk.memory_limit, 300 << 20);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.memory_limit, 300 << 20);
	CHECK_EQ(kgc_set_memory_limit(KGC_NO_MEMORY_LIMIT), 0);
	CHECK(fk.memory_limit == KGC_GC_OFF);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK(st.memory_limit == KGC_NO_MEMORY_LIMIT);
	kgc_shutdown();

	/* Options at init; nobarrier and gctrace stay in the library. */
	fake_kernel_install();
	REQUIRE_EQ(kgc_init(&opts), 0);
	CHECK_EQ(fk.gc_percent, 25);
	CHECK_EQ(fk.memory_limit, 100 << 20);
	CHECK_EQ(fk.debug, KGC_GCDEBUG_CHECKMARK | KGC_GCDEBUG_POISON |
		 KGC_GCDEBUG_NOROOTS);
	kgc_shutdown();
}

/* gctrace: one line per cycle, printed once, at kgc_gc() and safepoints. */
static void test_gctrace(void)
{
	KGC_OPTS(opts, .heap_reserve = KGC_ARENA_SIZE, .debug = KGC_DEBUG_GCTRACE,
		 .flags = KGC_INIT_NOENV | KGC_INIT_NOAUTOROOTS);
	char path[] = "/tmp/kgc-gctrace-XXXXXX", buf[4096];
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	REQUIRE(fd >= 0 && saved >= 0);
	unlink(path);
	kgc_shutdown();
	fake_kernel_install();
	fflush(stderr);
	dup2(fd, 2);
	if (kgc_init(&opts) == 0) {
		CHECK(kgc_alloc_noscan(100) != NULL);
		kgc_gc();
		kgc_gc();
		kgc_safepoint();	/* nothing new: no line */
		fake_cycle_done();	/* a cycle some other thread ran */
		kgc_safepoint();
		kgc_shutdown();
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	REQUIRE(n > 0);
	buf[n] = 0;
	CHECK_STR_CONTAINS(buf, "kgc: heap 64 MiB");
	CHECK_STR_CONTAINS(buf, "\ngc 1 @");
	CHECK_STR_CONTAINS(buf, "\ngc 2 @");
	CHECK_STR_CONTAINS(buf, "\ngc 3 @");
	CHECK(!strstr(buf, "\ngc 4 @"));
	CHECK_STR_CONTAINS(buf, "25%: 0.000+0.000+0.000 ms clock, 8->");
	CHECK_STR_CONTAINS(buf, "->2 MB, 4 MB goal, 1 threads");
	CHECK_STR_CONTAINS(buf, "freed (forced)");
	{
		/* Each cycle exactly once. */
		const char *p = buf;
		int lines = 0;

		while ((p = strstr(p, "\ngc ")))
			lines++, p++;
		CHECK_EQ(lines, 3);
	}
}

static void test_stats_sz(void)
{
	struct {
		struct kgc_heap_stats st;
		uint64_t newer[4];
	} big;
	struct kgc_heap_stats st;
	size_t old = offsetof(struct kgc_heap_stats, heap_sys);

	REQUIRE_EQ(fake_heap_init(), 0);
	CHECK_EQ(kgc_read_stats(NULL), -EINVAL);
	memset(&st, 0, sizeof(st));
	CHECK_EQ(kgc_read_stats(&st), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "sizeof(struct kgc_heap_stats)");

	/* An older, shorter struct: nothing past its sz is written. */
	memset(&st, 0xee, sizeof(st));
	st.sz = old;
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.sz, old);
	CHECK_EQ(st.gc_percent, 100);
	CHECK_EQ(st.heap_reserved, 64 << 20);
	CHECK(st.heap_sys == 0xeeeeeeeeeeeeeeeeULL);

	/* A newer, longer struct: the unknown tail is zeroed. */
	memset(&big, 0xee, sizeof(big));
	big.st.sz = sizeof(big);
	REQUIRE_EQ(kgc_read_stats(&big.st), 0);
	CHECK_EQ(big.st.sz, sizeof(big));
	CHECK_EQ(big.st.heap_reserved, 64 << 20);
	CHECK_EQ(big.newer[0], 0);
	CHECK_EQ(big.newer[3], 0);
	kgc_shutdown();
}

static void test_kernel_stats_pass_through(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	void *p;

	REQUIRE_EQ(fake_heap_init(), 0);
	p = kgc_alloc_noscan(100000);
	REQUIRE(p != NULL);
	CHECK(kgc_alloc_noscan(100) != NULL);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.large_objects, 1);
	CHECK_EQ(st.large_bytes, 13 * KGC_PAGE_SIZE);
	CHECK_EQ(st.spans_cached, 1);
	CHECK_EQ(st.spans_inuse, 2);
	CHECK_EQ(st.kernel_refills, 1);
	CHECK_EQ(st.heap_sys, 64 << 20);
	CHECK_EQ(st.arenas, 1);
	CHECK_EQ(fk.stats_calls, 1);
	kgc_shutdown();
}

static void *thread_last_error(void *arg)
{
	*(const char **)arg = kgc_last_error();
	return NULL;
}

static void test_errors_and_version(void)
{
	const char *other = NULL;
	pthread_t t;

	/* The message is per thread. */
	CHECK(kgc_alloc_noscan(0) == NULL);
	REQUIRE_EQ(pthread_create(&t, NULL, thread_last_error, &other), 0);
	pthread_join(t, NULL);
	CHECK(other && !strcmp(other, "kgc: no error"));
	CHECK_STR_CONTAINS(kgc_last_error(), "size is 0");

	CHECK_STR_CONTAINS(kgc_strerror(-ENOENT), "kgc.ko");
	CHECK_STR_CONTAINS(kgc_strerror(ENOENT), "kgc.ko");
	CHECK_STR_CONTAINS(kgc_strerror(-EPROTO), "protocol");
	CHECK_STR_CONTAINS(kgc_strerror(-ENOSYS), "not available");
	CHECK(!strcmp(kgc_strerror(-EAGAIN), strerror(EAGAIN)));
	CHECK(kgc_strerror(99999) != NULL);
	CHECK(!strcmp(kgc_strerror(0), "success"));

	CHECK(!strcmp(kgc_version(), "0.1.0"));
	CHECK_EQ(KGC_VERSION_MAJOR, 0);
	CHECK_EQ(KGC_VERSION_MINOR, 1);
}

TAP_MAIN(
	TAP_CASE(test_gc_runs_a_cycle),
	TAP_CASE(test_settings_go_to_the_kernel),
	TAP_CASE(test_gctrace),
	TAP_CASE(test_free_os_memory),
	TAP_CASE(test_stats_sz),
	TAP_CASE(test_kernel_stats_pass_through),
	TAP_CASE(test_errors_and_version),
)
