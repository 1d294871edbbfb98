/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for the scavenger's index (free-page accounting, aging and
 * selection) and its arithmetic. Included at the end of scavenge.c, so they
 * reach its static helpers. They run at insmod under KASAN on an emulated
 * CPU, so each heap is one arena; tests/core/test_scavenge.c covers the
 * same behaviours natively, with a random walk against a reference model.
 */
#ifndef _KGC_SCAVENGE_TEST_H
#define _KGC_SCAVENGE_TEST_H

#include <kunit/test.h>

#define ST_CHUNK	KGC_CHUNK_PAGES

/* A page heap of one arena, all of it allocated, and its index. */
static void scav_test_setup(struct kunit *test, struct kgc_pageheap *ph,
			    struct kgc_scavidx *si)
{
	int ret = kgc_pageheap_init(ph, KGC_ARENA_PAGES);

	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = kgc_pageheap_grow(ph, KGC_ARENA_PAGES);
	if (!ret)
		ret = kgc_pageheap_alloc_range(ph, 0, KGC_ARENA_PAGES, NULL);
	if (!ret)
		ret = kgc_scavidx_init(si, KGC_ARENA_PAGES);
	if (ret)
		kgc_pageheap_destroy(ph);
	KUNIT_ASSERT_EQ(test, ret, 0);
}

static void scav_test_teardown(struct kgc_pageheap *ph,
			       struct kgc_scavidx *si)
{
	kgc_scavidx_destroy(si);
	kgc_pageheap_destroy(ph);
}

/* What kgc_mheap_free_span() does: free the run, stamp its chunks. */
static void scav_test_free(struct kgc_pageheap *ph, struct kgc_scavidx *si,
			   unsigned long base, unsigned long n, u64 now)
{
	si->now = now;
	kgc_pageheap_free(ph, base, n);
	kgc_scavidx_note_free(si, base, n);
}

/* One step of the scavenger's protocol, minus the memory itself. */
static unsigned long scav_test_step(struct kgc_pageheap *ph,
				    struct kgc_scavidx *si,
				    unsigned long max, long *base)
{
	unsigned long n;

	*base = kgc_scavidx_find(si, ph, max, &n, NULL);
	if (*base < 0 || kgc_pageheap_alloc_range(ph, *base, n, NULL))
		return 0;
	kgc_pageheap_free(ph, *base, n);
	return kgc_pageheap_scavenge(ph, *base, n);
}

/*
 * Accounting: every free resident page is given back exactly once, the
 * page heap's resident count falls to zero, and then nothing is found.
 */
static void kgc_scavenge_test_every_free_page_once(struct kunit *test)
{
	struct kgc_pageheap ph;
	struct kgc_scavidx si;
	unsigned long total = 0, n;
	long base;

	scav_test_setup(test, &ph, &si);
	scav_test_free(&ph, &si, 3, 700, 1);
	scav_test_free(&ph, &si, 5 * ST_CHUNK + 9, 33, 2);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_resident_free(&ph), 733UL);
	while ((n = scav_test_step(&ph, &si, KGC_SCAV_BATCH_PAGES, &base)))
		total += n;
	KUNIT_EXPECT_EQ(test, total, 733UL);
	KUNIT_EXPECT_EQ(test, base, (long)-ENOENT);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_resident_free(&ph), 0UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_scav_pages(&ph), 733UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_check(&ph), 0);
	scav_test_teardown(&ph, &si);
}

/*
 * Aging: the chunk whose last free is the oldest goes first; a new free
 * makes a chunk young again; the tree's root is the oldest stamp.
 */
static void kgc_scavenge_test_oldest_first(struct kunit *test)
{
	struct kgc_pageheap ph;
	struct kgc_scavidx si;
	unsigned long n;
	long base;

	scav_test_setup(test, &ph, &si);
	scav_test_free(&ph, &si, 1 * ST_CHUNK, 8, 10);
	scav_test_free(&ph, &si, 7 * ST_CHUNK, 8, 20);
	scav_test_free(&ph, &si, 4 * ST_CHUNK, 8, 30);
	KUNIT_EXPECT_EQ(test, si.tree[1], 10ULL);
	scav_test_free(&ph, &si, 1 * ST_CHUNK + 50, 8, 40);
	KUNIT_EXPECT_EQ(test, kgc_scavidx_oldest(&si, &ph), 20ULL);
	base = kgc_scavidx_find(&si, &ph, 64, &n, NULL);
	KUNIT_EXPECT_EQ(test, base, (long)(7 * ST_CHUNK));
	KUNIT_EXPECT_EQ(test, n, 8UL);
	KUNIT_EXPECT_EQ(test, scav_test_step(&ph, &si, 64, &base), 8UL);
	KUNIT_EXPECT_EQ(test, scav_test_step(&ph, &si, 64, &base), 8UL);
	KUNIT_EXPECT_EQ(test, base, (long)(4 * ST_CHUNK));
	KUNIT_EXPECT_EQ(test, scav_test_step(&ph, &si, 64, &base), 8UL);
	KUNIT_EXPECT_EQ(test, base, (long)(1 * ST_CHUNK + 50));
	scav_test_teardown(&ph, &si);
}

/*
 * Selection: within a chunk the highest run of free resident pages, cut
 * to the batch from its top; ties between chunks go to the highest; a
 * stale chunk (its pages allocated again) is skipped and dropped.
 */
static void kgc_scavenge_test_selection(struct kunit *test)
{
	struct kgc_pageheap ph;
	struct kgc_scavidx si;
	unsigned long n;
	long base;

	scav_test_setup(test, &ph, &si);
	scav_test_free(&ph, &si, 2 * ST_CHUNK + 60, 100, 5);
	scav_test_free(&ph, &si, 6 * ST_CHUNK, 10, 5);
	scav_test_free(&ph, &si, 9 * ST_CHUNK, 10, 5);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_alloc_range(&ph, 9 * ST_CHUNK, 10,
						       NULL), 0);
	base = kgc_scavidx_find(&si, &ph, 64, &n, NULL);
	KUNIT_EXPECT_EQ(test, base, (long)(6 * ST_CHUNK));
	KUNIT_EXPECT_EQ(test, si.tree[si.nleaves + 9], KGC_SCAV_NONE);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_scavenge(&ph, base, n), 10UL);
	base = kgc_scavidx_find(&si, &ph, 64, &n, NULL);
	KUNIT_EXPECT_EQ(test, base, (long)(2 * ST_CHUNK + 96));
	KUNIT_EXPECT_EQ(test, n, 64UL);
	scav_test_teardown(&ph, &si);
}

/*
 * Go's numbers: 10% over the heap goal (here plus the recent overshoot),
 * 95% of the limit, 1% of a CPU.
 */
static void kgc_scavenge_test_goal_and_cap(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, kgc_scav_goal(100ULL << 20, 0, 0, -1),
			110ULL << 20);
	KUNIT_EXPECT_EQ(test, kgc_scav_goal(100ULL << 20, 100ULL << 20, 0, -1),
			220ULL << 20);
	KUNIT_EXPECT_EQ(test, kgc_scav_goal(~0ULL, 0, 0, 100 << 20),
			(100ULL << 20) / 100 * 95);
	KUNIT_EXPECT_EQ(test, kgc_scav_goal(~0ULL, 0, 0, -1), ~0ULL);
	KUNIT_EXPECT_EQ(test, kgc_scav_overshoot(6 << 20, 5 << 20, 4 << 20),
			3ULL << 20);
	/* A recent peak above the goal plus overshoot is retained. */
	KUNIT_EXPECT_EQ(test, kgc_scav_goal(20ULL << 20, 5ULL << 20,
					    50ULL << 20, -1), 55ULL << 20);
	KUNIT_EXPECT_EQ(test, kgc_scav_goal(40ULL << 20, 10ULL << 20,
					    30ULL << 20, -1), 55ULL << 20);
	KUNIT_EXPECT_EQ(test, kgc_scav_goal(~0ULL, 0, 50ULL << 20, -1), ~0ULL);
	KUNIT_EXPECT_EQ(test, kgc_scav_recent_peak(0, 48ULL << 20),
			48ULL << 20);
	KUNIT_EXPECT_EQ(test, kgc_scav_recent_peak(48ULL << 20, 20ULL << 20),
			42ULL << 20);
	KUNIT_EXPECT_EQ(test, kgc_scav_excess(10, 4 * KGC_PAGE_SIZE), 6UL);
	KUNIT_EXPECT_EQ(test, kgc_scav_excess(3, 4 * KGC_PAGE_SIZE), 0UL);
	KUNIT_EXPECT_EQ(test, kgc_scav_sleep_ns(1000, 1), 99000ULL);
	KUNIT_EXPECT_EQ(test, kgc_scav_sleep_ns(1000, 0), ~0ULL);
}

static struct kunit_case kgc_scavenge_test_cases[] = {
	KUNIT_CASE(kgc_scavenge_test_every_free_page_once),
	KUNIT_CASE(kgc_scavenge_test_oldest_first),
	KUNIT_CASE(kgc_scavenge_test_selection),
	KUNIT_CASE(kgc_scavenge_test_goal_and_cap),
	{}
};

static struct kunit_suite kgc_scavenge_test_suite = {
	.name = "kgc_scavenge",
	.test_cases = kgc_scavenge_test_cases,
};

kunit_test_suite(kgc_scavenge_test_suite);

#endif /* _KGC_SCAVENGE_TEST_H */
