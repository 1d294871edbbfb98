/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for the page heap. Included at the end of pages.c, so they
 * reach its static helpers. They run at insmod, under KASAN on an emulated
 * CPU, so every heap here is small; tests/core/test_pages.c covers the same
 * behaviours natively with bigger heaps, a longer random walk and injected
 * allocation failures.
 */
#ifndef _KGC_PAGES_TEST_H
#define _KGC_PAGES_TEST_H

#include <kunit/test.h>

#define PT_ARENA	KGC_ARENA_PAGES
#define PT_CHUNK	KGC_CHUNK_PAGES

/* Set up a page heap of @max pages grown to @limit, or abort the test. */
static void pages_test_setup(struct kunit *test, struct kgc_pageheap *ph,
			     unsigned long max, unsigned long limit)
{
	int ret = kgc_pageheap_init(ph, max);

	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = kgc_pageheap_grow(ph, limit);
	if (ret)
		kgc_pageheap_destroy(ph);
	KUNIT_ASSERT_EQ(test, ret, 0);
}

static long pages_test_alloc(struct kgc_pageheap *ph, unsigned long n)
{
	unsigned long nscav;

	return kgc_pageheap_alloc(ph, n, &nscav);
}

/*
 * The summary tree is sized for the reservation at init: an empty or
 * oversized reservation must be refused before anything is allocated, and
 * the smallest one (a single page) must work.
 */
static void kgc_pages_test_init_rejects_bad_sizes(struct kunit *test)
{
	struct kgc_pageheap ph;

	KUNIT_EXPECT_EQ(test, kgc_pageheap_init(&ph, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_init(&ph, KGC_PAGEHEAP_MAX_PAGES + 1),
			-EINVAL);
	KUNIT_EXPECT_TRUE(test, !ph.tree && !ph.blocks);
	pages_test_setup(test, &ph, 1, 1);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 1), 0L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 1), (long)-ENOMEM);
	kgc_pageheap_destroy(&ph);
}

/*
 * The chunk summary is what the whole tree is built from: start, max and
 * end runs must be right for runs that cross words, sit inside a word or
 * touch the chunk's edges, and the in-chunk search must return the lowest
 * fit.
 */
static void kgc_pages_test_chunk_summary(struct kunit *test)
{
	struct kgc_pagechunk pc;
	struct kgc_pagesum s;

	memset(&pc, 0, sizeof(pc));
	s = pagechunk_summarize(&pc);
	KUNIT_EXPECT_EQ(test, s.start, 512U);
	KUNIT_EXPECT_EQ(test, s.max, 512U);
	KUNIT_EXPECT_EQ(test, s.end, 512U);
	KUNIT_EXPECT_EQ(test, s.nres, 512U);
	KUNIT_EXPECT_EQ(test, pagechunk_find(&pc, 512), 0L);

	memset(pc.alloc, 0xff, sizeof(pc.alloc));
	s = pagechunk_summarize(&pc);
	KUNIT_EXPECT_EQ(test, s.start + s.max + s.end + s.nres, 0U);
	KUNIT_EXPECT_EQ(test, pagechunk_find(&pc, 1), -1L);

	/* Free: [3, 5), [60, 130) across two words, [200, 240), [500, 512). */
	bits_clear(pc.alloc, 3, 2);
	bits_clear(pc.alloc, 60, 70);
	bits_clear(pc.alloc, 200, 40);
	bits_clear(pc.alloc, 500, 12);
	bits_set(pc.scav, 60, 10);
	s = pagechunk_summarize(&pc);
	KUNIT_EXPECT_EQ(test, s.start, 0U);
	KUNIT_EXPECT_EQ(test, s.max, 70U);
	KUNIT_EXPECT_EQ(test, s.end, 12U);
	KUNIT_EXPECT_EQ(test, s.nres, 2U + 60 + 40 + 12);
	KUNIT_EXPECT_EQ(test, pagechunk_find(&pc, 2), 3L);
	KUNIT_EXPECT_EQ(test, pagechunk_find(&pc, 3), 60L);
	KUNIT_EXPECT_EQ(test, pagechunk_find(&pc, 70), 60L);
	KUNIT_EXPECT_EQ(test, pagechunk_find(&pc, 71), -1L);
	bits_set(pc.alloc, 60, 70);
	KUNIT_EXPECT_EQ(test, pagechunk_find(&pc, 13), 200L);
	KUNIT_EXPECT_EQ(test, pagechunk_summarize(&pc).max, 40U);
	KUNIT_EXPECT_EQ(test, word_inner_max(0x8000000000000001ULL), 62U);
	KUNIT_EXPECT_EQ(test, word_inner_max(~0ULL), 0U);
}

/*
 * Like Go, the lowest run that fits wins: low pages are reused first,
 * which keeps the heap compact and leaves the top for the scavenger.
 */
static void kgc_pages_test_first_fit(struct kunit *test)
{
	struct kgc_pageheap ph;

	pages_test_setup(test, &ph, PT_ARENA, PT_ARENA);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 1), 0L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 4), 1L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 1), 5L);
	kgc_pageheap_free(&ph, 1, 4);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 5), 6L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 2), 1L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 3), 11L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 2), 3L);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

/* A hole exactly the size asked for is used up, leaving nothing behind. */
static void kgc_pages_test_exact_fit(struct kunit *test)
{
	struct kgc_pageheap ph;

	pages_test_setup(test, &ph, PT_ARENA, PT_ARENA);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 100), 0L);
	kgc_pageheap_free(&ph, 10, 7);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 7), 10L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 1), 100L);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_free_pages(&ph), PT_ARENA - 101);
	kgc_pageheap_destroy(&ph);
}

/*
 * Freed runs merge with free neighbours on both sides without any
 * explicit coalescing step: after the middle run is freed, one run of the
 * combined length must be available at the lowest address.
 */
static void kgc_pages_test_coalesce(struct kunit *test)
{
	struct kgc_pageheap ph;

	pages_test_setup(test, &ph, PT_ARENA, PT_ARENA);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 40), 0L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 50), 40L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 60), 90L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, PT_ARENA - 150), 150L);
	kgc_pageheap_free(&ph, 0, 40);
	kgc_pageheap_free(&ph, 90, 60);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_largest_free(&ph), 60UL);
	kgc_pageheap_free(&ph, 40, 50);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_largest_free(&ph), 150UL);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 150), 0L);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

/*
 * A full heap answers -ENOMEM (the caller's cue to grow), tail_free says
 * how much growth is needed, and after growing the same request succeeds
 * at the first grown page; pages beyond the limit are never handed out.
 */
static void kgc_pages_test_exhaustion_then_grow(struct kunit *test)
{
	struct kgc_pageheap ph;
	unsigned long nscav;

	pages_test_setup(test, &ph, 4 * PT_ARENA, 1000);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 990), 0L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 11), (long)-ENOMEM);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_tail_free(&ph), 10UL);
	KUNIT_EXPECT_FALSE(test, kgc_pageheap_is_free(&ph, 1000, 1));
	KUNIT_EXPECT_EQ(test, kgc_pageheap_grow(&ph, 1001), 0);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_alloc(&ph, 11, &nscav), 990L);
	KUNIT_EXPECT_EQ(test, nscav, 11UL);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 1), (long)-ENOMEM);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

/*
 * Large objects are runs of many pages: a run must be able to start in one
 * chunk and end in another, and cross the boundary between two arenas,
 * which are grown separately and have separate bitmap blocks.
 */
static void kgc_pages_test_runs_span_chunks_and_arenas(struct kunit *test)
{
	struct kgc_pageheap ph;

	pages_test_setup(test, &ph, 3 * PT_ARENA, PT_ARENA);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, PT_CHUNK - 10), 0L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 3 * PT_CHUNK + 7),
			(long)(PT_CHUNK - 10));
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 1), (long)(4 * PT_CHUNK - 3));
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, PT_ARENA), (long)-ENOMEM);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_grow(&ph, 3 * PT_ARENA), 0);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, PT_ARENA + 100),
			(long)(4 * PT_CHUNK - 2));
	kgc_pageheap_free(&ph, PT_CHUNK - 10, 3 * PT_CHUNK + 7);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 3 * PT_CHUNK + 8),
			(long)(PT_CHUNK - 10 + PT_ARENA + 100 + 3 * PT_CHUNK + 8));
	KUNIT_EXPECT_EQ(test, kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

/*
 * The worst fragmentation: every other page held. No run of two exists
 * until the odd pages are freed too, after which everything is one run.
 */
static void kgc_pages_test_checkerboard(struct kunit *test)
{
	const unsigned long max = 2 * PT_CHUNK + 64;
	struct kgc_pageheap ph;
	unsigned long p;

	pages_test_setup(test, &ph, max, max);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, max), 0L);
	for (p = 0; p < max; p += 2)
		kgc_pageheap_free(&ph, p, 1);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_largest_free(&ph), 1UL);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 2), (long)-ENOMEM);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 1), 0L);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 1), 2L);
	kgc_pageheap_free(&ph, 0, 1);
	kgc_pageheap_free(&ph, 2, 1);
	for (p = 1; p < max; p += 2)
		kgc_pageheap_free(&ph, p, 1);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_largest_free(&ph), max);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

/*
 * Growing never shrinks and never passes the reservation; growing to the
 * current limit is a no-op; the limit need not be chunk or arena aligned.
 */
static void kgc_pages_test_grow_limits(struct kunit *test)
{
	struct kgc_pageheap ph;

	pages_test_setup(test, &ph, PT_ARENA + 3, 100);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_grow(&ph, 99), -EINVAL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_grow(&ph, 100), 0);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_grow(&ph, PT_ARENA + 4), -ENOSPC);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_limit(&ph), 100UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_grow(&ph, PT_ARENA + 3), 0);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, PT_ARENA + 3), 0L);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

/*
 * Fresh pages were never touched, so they count as scavenged and an
 * allocation reports them (they fault in zeroed); freed pages are resident
 * until scavenged, and then count again.
 */
static void kgc_pages_test_scavenged_accounting(struct kunit *test)
{
	struct kgc_pageheap ph;
	unsigned long nscav;

	pages_test_setup(test, &ph, PT_ARENA, PT_ARENA);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_scav_pages(&ph), PT_ARENA);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_alloc(&ph, 2 * PT_CHUNK, &nscav), 0L);
	KUNIT_EXPECT_EQ(test, nscav, 2 * PT_CHUNK);
	kgc_pageheap_free(&ph, 0, 2 * PT_CHUNK);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_resident_free(&ph), 2 * PT_CHUNK);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_scavenge(&ph, PT_CHUNK - 20, 50), 50UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_scavenge(&ph, PT_CHUNK - 30, 20), 10UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_alloc(&ph, PT_CHUNK, &nscav), 0L);
	KUNIT_EXPECT_EQ(test, nscav, 30UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_alloc(&ph, PT_CHUNK + 5, &nscav),
			(long)PT_CHUNK);
	KUNIT_EXPECT_EQ(test, nscav, 35UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_resident_free(&ph), 0UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

/*
 * The scavenger releases the highest resident pages first (the ones first
 * fit reuses last), one chunk at a time and at most as many as asked; the
 * reservation protocol keeps allocations off a run being released.
 */
static void kgc_pages_test_find_resident_highest_first(struct kunit *test)
{
	struct kgc_pageheap ph;
	unsigned long n;
	long base;

	pages_test_setup(test, &ph, PT_ARENA, PT_ARENA);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_find_resident(&ph, 9, &n), (long)-ENOENT);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, PT_ARENA), 0L);
	kgc_pageheap_free(&ph, 10, 5);
	kgc_pageheap_free(&ph, 3 * PT_CHUNK - 40, 100);
	base = kgc_pageheap_find_resident(&ph, 1000, &n);
	KUNIT_EXPECT_EQ(test, base, (long)(3 * PT_CHUNK));
	KUNIT_EXPECT_EQ(test, n, 60UL);
	base = kgc_pageheap_find_resident(&ph, 7, &n);
	KUNIT_EXPECT_EQ(test, base, (long)(3 * PT_CHUNK + 53));
	KUNIT_EXPECT_EQ(test, n, 7UL);

	/* Reserve, (release unlocked), free, mark. */
	KUNIT_EXPECT_EQ(test, kgc_pageheap_alloc_range(&ph, base, n, NULL), 0);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_alloc_range(&ph, base, 1, NULL), -EBUSY);
	kgc_pageheap_free(&ph, base, n);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_scavenge(&ph, base, n), 7UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_scavenge(&ph, 3 * PT_CHUNK, 53), 53UL);

	base = kgc_pageheap_find_resident(&ph, 1000, &n);
	KUNIT_EXPECT_EQ(test, base, (long)(3 * PT_CHUNK - 40));
	KUNIT_EXPECT_EQ(test, kgc_pageheap_scavenge(&ph, base, n), 40UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_find_resident(&ph, 1000, &n), 10L);
	KUNIT_EXPECT_EQ(test, n, 5UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

/*
 * Freeing pages that are not allocated is a caller bug that must not
 * corrupt the heap. free() and scavenge() refuse such runs through these
 * predicates (calling them here would splat a WARN into the test log; the
 * host tests exercise the warning path itself).
 */
static void kgc_pages_test_bad_runs_are_rejected(struct kunit *test)
{
	struct kgc_pageheap ph;

	pages_test_setup(test, &ph, PT_ARENA, 1000);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, 100), 0L);
	KUNIT_EXPECT_FALSE(test, pageheap_range_valid(&ph, 10, 0));
	KUNIT_EXPECT_FALSE(test, pageheap_range_valid(&ph, 995, 6));
	KUNIT_EXPECT_FALSE(test, pageheap_range_valid(&ph, ~0UL - 1, 4));
	KUNIT_EXPECT_TRUE(test, pageheap_range_valid(&ph, 995, 5));
	/* A double free and a half-allocated run are not wholly allocated. */
	KUNIT_EXPECT_EQ(test, pageheap_count(&ph, 100, 10, false), 0UL);
	KUNIT_EXPECT_EQ(test, pageheap_count(&ph, 90, 20, false), 10UL);
	KUNIT_EXPECT_EQ(test, pageheap_count(&ph, 0, 100, false), 100UL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_alloc_range(&ph, 90, 20, NULL), -EBUSY);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_alloc_range(&ph, 999, 2, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

/*
 * The largest reservation (64 GiB) must initialise (its summary tree is
 * the biggest allocation the page heap makes) and behave at its ends.
 */
static void kgc_pages_test_largest_reservation(struct kunit *test)
{
	struct kgc_pageheap ph;

	pages_test_setup(test, &ph, KGC_PAGEHEAP_MAX_PAGES, PT_ARENA);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_grow(&ph, KGC_PAGEHEAP_MAX_PAGES + 1),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, PT_ARENA + 1), (long)-ENOMEM);
	KUNIT_EXPECT_EQ(test, pages_test_alloc(&ph, PT_ARENA), 0L);
	kgc_pageheap_free(&ph, PT_ARENA - 1, 1);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_tail_free(&ph), 1UL);
	kgc_pageheap_destroy(&ph);
}

static u64 pages_test_rnd(u64 *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (*state * 0x2545f4914f6cdd1dULL) >> 11;
}

/*
 * A few thousand random allocations, frees and growths against a one byte
 * per page model (1 = free): the same first-fit answers and free counts,
 * and a consistent tree at the end. Small, for speed under KASAN.
 */
static void kgc_pages_test_random_matches_model(struct kunit *test)
{
	const unsigned long max = 3 * PT_CHUNK - 100;
	unsigned long op, nheld = 0, limit = 0, p, run, nfree = 0;
	struct { unsigned long base, n; } *held;
	struct kgc_pageheap ph;
	u64 seed = 0x6b6763;
	u8 *model;
	long got, want;

	model = kunit_kzalloc(test, max, GFP_KERNEL);
	held = kunit_kcalloc(test, 512, sizeof(*held), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, model);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, held);
	pages_test_setup(test, &ph, max, 0);

	for (op = 0; op < 3000; op++) {
		unsigned long r = pages_test_rnd(&seed) % 8;
		unsigned long n = 1 + pages_test_rnd(&seed) %
				  (r ? 16 : PT_CHUNK);

		if (r < 4 && nheld < 512) {
			got = pages_test_alloc(&ph, n);
			want = -ENOMEM;
			for (p = 0, run = 0; p < limit; p++) {
				run = model[p] ? run + 1 : 0;
				if (run == n) {
					want = p + 1 - n;
					memset(model + want, 0, n);
					break;
				}
			}
			KUNIT_EXPECT_EQ(test, got, want);
			if (got != want)
				break;
			if (got >= 0) {
				held[nheld].base = got;
				held[nheld++].n = n;
				nfree -= n;
			} else if (limit < max) {
				n = min(max, limit + 1 + n);
				KUNIT_EXPECT_EQ(test, kgc_pageheap_grow(&ph, n), 0);
				memset(model + limit, 1, n - limit);
				nfree += n - limit;
				limit = n;
			}
		} else if (nheld) {
			unsigned long i = pages_test_rnd(&seed) % nheld;

			kgc_pageheap_free(&ph, held[i].base, held[i].n);
			memset(model + held[i].base, 1, held[i].n);
			nfree += held[i].n;
			held[i] = held[--nheld];
		}
		KUNIT_EXPECT_EQ(test, kgc_pageheap_free_pages(&ph), nfree);
	}
	KUNIT_EXPECT_EQ(test, kgc_pageheap_limit(&ph), limit);
	KUNIT_EXPECT_EQ(test, kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static struct kunit_case kgc_pages_test_cases[] = {
	KUNIT_CASE(kgc_pages_test_init_rejects_bad_sizes),
	KUNIT_CASE(kgc_pages_test_chunk_summary),
	KUNIT_CASE(kgc_pages_test_first_fit),
	KUNIT_CASE(kgc_pages_test_exact_fit),
	KUNIT_CASE(kgc_pages_test_coalesce),
	KUNIT_CASE(kgc_pages_test_exhaustion_then_grow),
	KUNIT_CASE(kgc_pages_test_runs_span_chunks_and_arenas),
	KUNIT_CASE(kgc_pages_test_checkerboard),
	KUNIT_CASE(kgc_pages_test_grow_limits),
	KUNIT_CASE(kgc_pages_test_scavenged_accounting),
	KUNIT_CASE(kgc_pages_test_find_resident_highest_first),
	KUNIT_CASE(kgc_pages_test_bad_runs_are_rejected),
	KUNIT_CASE(kgc_pages_test_largest_reservation),
	KUNIT_CASE(kgc_pages_test_random_matches_model),
	{}
};

static struct kunit_suite kgc_pages_test_suite = {
	.name = "kgc_pages",
	.test_cases = kgc_pages_test_cases,
};

kunit_test_suite(kgc_pages_test_suite);

#endif /* _KGC_PAGES_TEST_H */
