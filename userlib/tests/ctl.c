// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * ctl.c - collector control (ENOSYS for now, settings kept), statistics
 * and its @sz rules, error strings and the version.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_kernel.h"
#include "internal.h"
#include "tap.h"

static void test_gc_not_available(void)
{
	REQUIRE_EQ(fake_heap_init(), 0);
	errno = 0;
	CHECK_EQ(kgc_gc(), -ENOSYS);
	CHECK_EQ(errno, ENOSYS);
	CHECK_STR_CONTAINS(kgc_last_error(), "no collector");
	CHECK_EQ(kgc_free_os_memory(), -ENOSYS);
	kgc_shutdown();
}

static void test_settings_are_kept(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };

	REQUIRE_EQ(fake_heap_init(), 0);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.gc_percent, 100);
	CHECK(st.memory_limit == KGC_NO_MEMORY_LIMIT);

	CHECK_EQ(kgc_set_gc_percent(50), -ENOSYS);
	CHECK_STR_CONTAINS(kgc_last_error(), "stored");
	CHECK_EQ(kgc_set_memory_limit(1 << 30), -ENOSYS);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.gc_percent, 50);
	CHECK_EQ(st.memory_limit, 1 << 30);

	CHECK_EQ(kgc_set_gc_percent(KGC_GOGC_OFF), -ENOSYS);
	CHECK_EQ(kgc_set_gc_percent(0), -ENOSYS);
	CHECK_EQ(kgc_set_gc_percent(-2), -EINVAL);
	CHECK_EQ(kgc_set_memory_limit(-1), -EINVAL);
	CHECK_EQ(kgc_set_memory_limit(KGC_NO_MEMORY_LIMIT), -ENOSYS);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.gc_percent, 0);
	CHECK(st.memory_limit == KGC_NO_MEMORY_LIMIT);
	kgc_shutdown();
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
	TAP_CASE(test_gc_not_available),
	TAP_CASE(test_settings_are_kept),
	TAP_CASE(test_stats_sz),
	TAP_CASE(test_kernel_stats_pass_through),
	TAP_CASE(test_errors_and_version),
)
