// SPDX-License-Identifier: GPL-2.0
/*
 * test_pages.c - host tests of the page heap (kmod/pages.c), TAP output.
 *
 * Each test states one behaviour. The random test drives the page heap and
 * a deliberately naive reference model (one byte per page, linear scans)
 * with the same operations and compares every result exactly. Its seed is
 * fixed; KGC_SEED=<n> in the environment picks another one.
 */
#include "pages.h"
#include "tap.h"

#define ARENA	KGC_ARENA_PAGES
#define CHUNK	KGC_CHUNK_PAGES

/* ---- reference model: one byte per page ---- */

enum { M_USED, M_RES, M_SCAV };

struct model {
	unsigned long max, limit;
	unsigned char *st;
};

static void model_init(struct model *m, unsigned long max)
{
	m->max = max;
	m->limit = 0;
	m->st = calloc(max, 1);		/* M_USED: beyond the limit */
}

static void model_grow(struct model *m, unsigned long limit)
{
	memset(m->st + m->limit, M_SCAV, limit - m->limit);
	m->limit = limit;
}

static bool model_valid(const struct model *m, unsigned long base,
			unsigned long n)
{
	return n && base < m->limit && n <= m->limit - base;
}

static unsigned long model_count(const struct model *m, unsigned long base,
				 unsigned long n, int state)
{
	unsigned long i, c = 0;

	for (i = base; i < base + n; i++)
		c += m->st[i] == state;
	return c;
}

static void model_take(struct model *m, unsigned long base, unsigned long n,
		       unsigned long *nscav)
{
	*nscav = model_count(m, base, n, M_SCAV);
	memset(m->st + base, M_USED, n);
}

static long model_alloc(struct model *m, unsigned long n, unsigned long *nscav)
{
	unsigned long p, run = 0;

	*nscav = 0;
	for (p = 0; p < m->limit; p++) {
		run = m->st[p] == M_USED ? 0 : run + 1;
		if (run == n) {
			model_take(m, p + 1 - n, n, nscav);
			return p + 1 - n;
		}
	}
	return -ENOMEM;
}

static unsigned long model_largest(const struct model *m)
{
	unsigned long p, run = 0, best = 0;

	for (p = 0; p < m->limit; p++) {
		run = m->st[p] == M_USED ? 0 : run + 1;
		best = max(best, run);
	}
	return best;
}

static unsigned long model_tail(const struct model *m)
{
	unsigned long p = m->limit;

	while (p && m->st[p - 1] != M_USED)
		p--;
	return m->limit - p;
}

static long model_find_resident(const struct model *m, unsigned long maxn,
				unsigned long *n)
{
	unsigned long p = m->limit, top, c;

	*n = 0;
	while (p && m->st[p - 1] != M_RES)
		p--;
	if (!p || !maxn)
		return -ENOENT;
	top = p - 1;
	c = top / CHUNK;
	while (p && m->st[p - 1] == M_RES && (p - 1) / CHUNK == c && *n < maxn) {
		p--;
		(*n)++;
	}
	return top + 1 - *n;
}

/* ---- helpers ---- */

static bool page_scav(const struct kgc_pageheap *ph, unsigned long p)
{
	const struct kgc_pagechunk *pc;

	pc = &ph->blocks[p / ARENA][p % ARENA / CHUNK];
	return pc->scav[p % CHUNK / 64] >> (p % 64) & 1;
}

/* Compare every page and counter with the model. */
static bool same_as_model(const struct kgc_pageheap *ph, const struct model *m)
{
	unsigned long p, nfree = 0, nscav = 0;

	if (ph->limit != m->limit)
		return false;
	for (p = 0; p < m->limit; p++) {
		bool mfree = m->st[p] != M_USED, mscav = m->st[p] == M_SCAV;

		if (kgc_pageheap_is_free(ph, p, 1) != mfree ||
		    page_scav(ph, p) != mscav) {
			printf("# page %lu differs from the model\n", p);
			return false;
		}
		nfree += m->st[p] != M_USED;
		nscav += m->st[p] == M_SCAV;
	}
	return nfree == kgc_pageheap_free_pages(ph) &&
	       nscav == kgc_pageheap_scav_pages(ph) &&
	       kgc_pageheap_check(ph) == 0;
}

static bool setup(struct kgc_pageheap *ph, unsigned long max,
		  unsigned long limit)
{
	return kgc_pageheap_init(ph, max) == 0 &&
	       kgc_pageheap_grow(ph, limit) == 0;
}

static long alloc(struct kgc_pageheap *ph, unsigned long n)
{
	unsigned long nscav;

	return kgc_pageheap_alloc(ph, n, &nscav);
}

/* ---- tests ---- */

static void test_init_rejects_bad_sizes(void)
{
	struct kgc_pageheap ph;

	EXPECT_EQ(kgc_pageheap_init(&ph, 0), -EINVAL);
	EXPECT_EQ(kgc_pageheap_init(&ph, KGC_PAGEHEAP_MAX_PAGES + 1), -EINVAL);
	kgc_pageheap_destroy(&ph);
	EXPECT_EQ(kgc_pageheap_init(&ph, 1), 0);
	EXPECT_EQ(kgc_pageheap_grow(&ph, 1), 0);
	EXPECT_EQ(alloc(&ph, 1), 0);
	EXPECT_EQ(alloc(&ph, 1), -ENOMEM);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_init_allocation_failure(void)
{
	struct kgc_pageheap ph;
	long i;

	for (i = 0; i < 2; i++) {
		host_fail_alloc_after = i;
		EXPECT_EQ(kgc_pageheap_init(&ph, 4 * ARENA), -ENOMEM);
		EXPECT(!ph.tree && !ph.blocks && !ph.max_pages);
		kgc_pageheap_destroy(&ph);	/* a no-op, must not crash */
	}
	host_fail_alloc_after = 2;
	EXPECT_EQ(kgc_pageheap_init(&ph, 4 * ARENA), 0);
	host_fail_alloc_after = -1;
	kgc_pageheap_destroy(&ph);
}

static void test_empty_heap_has_no_pages(void)
{
	struct kgc_pageheap ph;
	unsigned long n = 7, nscav = 9;

	ASSERT(kgc_pageheap_init(&ph, 3 * ARENA) == 0);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, 1, &nscav), -ENOMEM);
	EXPECT_EQ(nscav, 0);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, 0, NULL), -EINVAL);
	EXPECT_EQ(kgc_pageheap_find_resident(&ph, 10, &n), -ENOENT);
	EXPECT_EQ(n, 0);
	EXPECT_EQ(kgc_pageheap_largest_free(&ph), 0);
	EXPECT_EQ(kgc_pageheap_tail_free(&ph), 0);
	EXPECT_EQ(kgc_pageheap_limit(&ph), 0);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_first_fit_lowest_address(void)
{
	struct kgc_pageheap ph;

	ASSERT(setup(&ph, ARENA, ARENA));
	EXPECT_EQ(alloc(&ph, 1), 0);
	EXPECT_EQ(alloc(&ph, 1), 1);
	EXPECT_EQ(alloc(&ph, 3), 2);
	EXPECT_EQ(alloc(&ph, 1), 5);
	kgc_pageheap_free(&ph, 1, 1);
	kgc_pageheap_free(&ph, 2, 3);	/* hole [1, 5) */
	EXPECT_EQ(alloc(&ph, 5), 6);	/* does not fit the hole */
	EXPECT_EQ(alloc(&ph, 2), 1);	/* lowest hole that fits */
	EXPECT_EQ(alloc(&ph, 1), 3);
	EXPECT_EQ(alloc(&ph, 2), 11);	/* [4, 5) is too small */
	EXPECT_EQ(alloc(&ph, 1), 4);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_exact_fit_consumes_hole(void)
{
	struct kgc_pageheap ph;

	ASSERT(setup(&ph, ARENA, ARENA));
	EXPECT_EQ(alloc(&ph, 100), 0);
	kgc_pageheap_free(&ph, 10, 7);		/* hole of 7 at 10 */
	kgc_pageheap_free(&ph, 30, 3);		/* hole of 3 at 30 */
	EXPECT_EQ(alloc(&ph, 3), 10);		/* first fit, not best fit */
	EXPECT_EQ(alloc(&ph, 4), 13);		/* exactly the rest */
	EXPECT_EQ(alloc(&ph, 3), 30);		/* exactly the second hole */
	EXPECT_EQ(alloc(&ph, 1), 100);		/* no hole is left */
	EXPECT_EQ(kgc_pageheap_free_pages(&ph), ARENA - 101);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_free_coalesces_neighbours(void)
{
	struct kgc_pageheap ph;
	long a, b, c;

	ASSERT(setup(&ph, ARENA, ARENA));
	a = alloc(&ph, 40);
	b = alloc(&ph, 50);
	c = alloc(&ph, 60);
	EXPECT_EQ(alloc(&ph, ARENA - 150), 150);
	EXPECT_EQ(kgc_pageheap_largest_free(&ph), 0);
	kgc_pageheap_free(&ph, a, 40);
	kgc_pageheap_free(&ph, c, 60);
	EXPECT_EQ(kgc_pageheap_largest_free(&ph), 60);
	EXPECT_EQ(alloc(&ph, 100), -ENOMEM);
	kgc_pageheap_free(&ph, b, 50);		/* joins both neighbours */
	EXPECT_EQ(kgc_pageheap_largest_free(&ph), 150);
	EXPECT_EQ(alloc(&ph, 150), 0);
	/* Freeing two adjacent runs at once, or part of one, is fine too. */
	kgc_pageheap_free(&ph, 0, 150 + 10);
	EXPECT_EQ(kgc_pageheap_largest_free(&ph), 160);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_exhaustion_then_grow(void)
{
	struct kgc_pageheap ph;
	unsigned long nscav;
	long i;

	ASSERT(setup(&ph, 4 * ARENA, ARENA));
	for (i = 0; i < (long)ARENA / 8; i++)
		EXPECT_EQ(alloc(&ph, 8), i * 8);
	EXPECT_EQ(kgc_pageheap_free_pages(&ph), 0);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, 1, &nscav), -ENOMEM);
	EXPECT_EQ(kgc_pageheap_tail_free(&ph), 0);
	EXPECT_EQ(kgc_pageheap_grow(&ph, 2 * ARENA), 0);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, 1, &nscav), ARENA);
	EXPECT_EQ(nscav, 1);
	EXPECT_EQ(alloc(&ph, ARENA), -ENOMEM);	/* one page short */
	EXPECT_EQ(kgc_pageheap_grow(&ph, 2 * ARENA + 1), 0);
	EXPECT_EQ(alloc(&ph, ARENA), ARENA + 1);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_pages_beyond_limit_never_handed_out(void)
{
	static const unsigned long limits[] = { 1, 63, 64, 65, 511, 513, 1000 };
	struct kgc_pageheap ph;
	unsigned long i, p, prev = 0;

	ASSERT(kgc_pageheap_init(&ph, 4 * ARENA) == 0);
	for (i = 0; i < ARRAY_SIZE(limits); i++) {
		EXPECT_EQ(kgc_pageheap_grow(&ph, limits[i]), 0);
		EXPECT_EQ(kgc_pageheap_largest_free(&ph), limits[i] - prev);
		EXPECT_EQ(alloc(&ph, limits[i] - prev + 1), -ENOMEM);
		for (p = prev; p < limits[i]; p++)
			EXPECT_EQ(alloc(&ph, 1), p);
		EXPECT_EQ(alloc(&ph, 1), -ENOMEM);
		EXPECT(!kgc_pageheap_is_free(&ph, limits[i], 1));
		EXPECT_EQ(kgc_pageheap_check(&ph), 0);
		prev = limits[i];
	}
	kgc_pageheap_destroy(&ph);
}

static void test_run_spans_chunk_boundary(void)
{
	struct kgc_pageheap ph;
	unsigned long nscav;

	ASSERT(setup(&ph, ARENA, ARENA));
	EXPECT_EQ(alloc(&ph, CHUNK - 10), 0);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, 30, &nscav), CHUNK - 10);
	EXPECT_EQ(nscav, 30);
	EXPECT(!kgc_pageheap_is_free(&ph, CHUNK - 10, 30));
	EXPECT(kgc_pageheap_is_free(&ph, CHUNK + 20, 1));
	kgc_pageheap_free(&ph, CHUNK - 10, 30);
	/* A run of 3 chunks plus a bit, starting mid-chunk. */
	EXPECT_EQ(alloc(&ph, 3 * CHUNK + 7), CHUNK - 10);
	EXPECT_EQ(alloc(&ph, 1), 4 * CHUNK - 3);
	kgc_pageheap_free(&ph, CHUNK - 10, 3 * CHUNK + 7);
	EXPECT_EQ(alloc(&ph, 2 * CHUNK), CHUNK - 10);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_run_spans_arena_boundary(void)
{
	struct kgc_pageheap ph;

	ASSERT(setup(&ph, 3 * ARENA, ARENA));
	EXPECT_EQ(alloc(&ph, ARENA - 5), 0);
	EXPECT_EQ(alloc(&ph, 10), -ENOMEM);
	EXPECT_EQ(kgc_pageheap_tail_free(&ph), 5);
	EXPECT_EQ(kgc_pageheap_grow(&ph, 3 * ARENA), 0);
	EXPECT_EQ(alloc(&ph, 10), ARENA - 5);
	/* More than an arena, across the second arena boundary. */
	EXPECT_EQ(alloc(&ph, ARENA + 100), ARENA + 5);
	EXPECT_EQ(kgc_pageheap_largest_free(&ph), ARENA - 105);
	kgc_pageheap_free(&ph, ARENA - 5, 10);
	kgc_pageheap_free(&ph, ARENA + 5, ARENA + 100);
	EXPECT_EQ(kgc_pageheap_largest_free(&ph), 2 * ARENA + 5);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_whole_heap_run(void)
{
	const unsigned long max = 3 * ARENA + 77;	/* not chunk aligned */
	struct kgc_pageheap ph;
	unsigned long nscav;

	ASSERT(setup(&ph, max, max));
	EXPECT_EQ(kgc_pageheap_largest_free(&ph), max);
	EXPECT_EQ(kgc_pageheap_tail_free(&ph), max);
	EXPECT_EQ(alloc(&ph, max + 1), -ENOMEM);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, max, &nscav), 0);
	EXPECT_EQ(nscav, max);
	EXPECT_EQ(kgc_pageheap_free_pages(&ph), 0);
	kgc_pageheap_free(&ph, 0, max);
	EXPECT_EQ(kgc_pageheap_free_pages(&ph), max);
	EXPECT_EQ(kgc_pageheap_resident_free(&ph), max);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, max, &nscav), 0);
	EXPECT_EQ(nscav, 0);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

/* Holes of every length at every offset around word and chunk edges. */
static void test_runs_at_word_edges(void)
{
	struct kgc_pageheap ph;
	unsigned long off, len, all = 3 * CHUNK;
	int failures = tap_failures;

	ASSERT(setup(&ph, ARENA, all));
	for (off = CHUNK - 70; off < CHUNK + 70; off += 3) {
		for (len = 1; len <= 140; len += (len < 70 ? 1 : 7)) {
			/* Everything allocated except [off, off + len). */
			EXPECT_EQ(alloc(&ph, all), 0);
			kgc_pageheap_free(&ph, off, len);
			EXPECT_EQ(kgc_pageheap_largest_free(&ph), len);
			EXPECT_EQ(alloc(&ph, len + 1), -ENOMEM);
			if (len > 1) {
				EXPECT_EQ(alloc(&ph, len - 1), off);
				kgc_pageheap_free(&ph, off, len - 1);
			}
			EXPECT_EQ(alloc(&ph, len), off);
			kgc_pageheap_free(&ph, 0, all);
			if (tap_failures != failures) {
				printf("# off %lu len %lu\n", off, len);
				goto out;
			}
		}
	}
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
out:
	kgc_pageheap_destroy(&ph);
}

static void test_checkerboard(void)
{
	struct kgc_pageheap ph;
	unsigned long p, max = 2 * ARENA;

	ASSERT(setup(&ph, max, max));
	for (p = 0; p < max; p++)
		EXPECT_EQ(alloc(&ph, 1), p);
	for (p = 0; p < max; p += 2)
		kgc_pageheap_free(&ph, p, 1);
	EXPECT_EQ(kgc_pageheap_free_pages(&ph), max / 2);
	EXPECT_EQ(kgc_pageheap_largest_free(&ph), 1);
	EXPECT_EQ(alloc(&ph, 2), -ENOMEM);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	for (p = 0; p < 100; p += 2)
		EXPECT_EQ(alloc(&ph, 1), p);
	for (p = 0; p < 100; p += 2)
		kgc_pageheap_free(&ph, p, 1);
	/* Freeing the odd pages joins everything into one run. */
	for (p = 1; p < max; p += 2)
		kgc_pageheap_free(&ph, p, 1);
	EXPECT_EQ(kgc_pageheap_largest_free(&ph), max);
	EXPECT_EQ(alloc(&ph, max), 0);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_grow_limits(void)
{
	struct kgc_pageheap ph;

	ASSERT(kgc_pageheap_init(&ph, 2 * ARENA + 3) == 0);
	EXPECT_EQ(kgc_pageheap_grow(&ph, 2 * ARENA + 4), -ENOSPC);
	EXPECT_EQ(kgc_pageheap_grow(&ph, 0), 0);
	EXPECT_EQ(kgc_pageheap_grow(&ph, 100), 0);
	EXPECT_EQ(kgc_pageheap_grow(&ph, 100), 0);
	EXPECT_EQ(kgc_pageheap_grow(&ph, 99), -EINVAL);
	EXPECT_EQ(kgc_pageheap_limit(&ph), 100);
	EXPECT_EQ(kgc_pageheap_grow(&ph, 2 * ARENA + 3), 0);
	EXPECT_EQ(kgc_pageheap_grow(&ph, 2 * ARENA + 4), -ENOSPC);
	EXPECT_EQ(kgc_pageheap_limit(&ph), 2 * ARENA + 3);
	EXPECT_EQ(kgc_pageheap_free_pages(&ph), 2 * ARENA + 3);
	EXPECT_EQ(alloc(&ph, 2 * ARENA + 3), 0);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_grow_allocation_failure(void)
{
	struct kgc_pageheap ph;
	long fail;

	ASSERT(setup(&ph, 8 * ARENA, ARENA - 1));
	EXPECT_EQ(alloc(&ph, 10), 0);
	/* Growing to 4 arenas allocates 3 blocks; fail each in turn. */
	for (fail = 0; fail < 3; fail++) {
		host_fail_alloc_after = fail;
		EXPECT_EQ(kgc_pageheap_grow(&ph, 4 * ARENA), -ENOMEM);
		host_fail_alloc_after = -1;
		EXPECT_EQ(kgc_pageheap_limit(&ph), ARENA - 1);
		EXPECT_EQ(kgc_pageheap_free_pages(&ph), ARENA - 11);
		EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	}
	/* Growing inside an arena already grown into allocates nothing. */
	host_fail_alloc_after = 0;
	EXPECT_EQ(kgc_pageheap_grow(&ph, ARENA), 0);
	host_fail_alloc_after = -1;
	EXPECT_EQ(kgc_pageheap_grow(&ph, 4 * ARENA), 0);
	EXPECT_EQ(alloc(&ph, 4 * ARENA - 10), 10);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_fresh_pages_are_scavenged(void)
{
	struct kgc_pageheap ph;
	unsigned long nscav;

	ASSERT(setup(&ph, 2 * ARENA, ARENA));
	EXPECT_EQ(kgc_pageheap_scav_pages(&ph), ARENA);
	EXPECT_EQ(kgc_pageheap_resident_free(&ph), 0);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, 100, &nscav), 0);
	EXPECT_EQ(nscav, 100);		/* fresh pages fault in zeroed */
	kgc_pageheap_free(&ph, 0, 100);
	EXPECT_EQ(kgc_pageheap_resident_free(&ph), 100);
	EXPECT_EQ(kgc_pageheap_scav_pages(&ph), ARENA - 100);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, 150, &nscav), 0);
	EXPECT_EQ(nscav, 50);		/* 100 reused, 50 fresh */
	EXPECT_EQ(kgc_pageheap_resident_free(&ph), 0);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_scavenged_accounting(void)
{
	struct kgc_pageheap ph;
	unsigned long nscav;

	ASSERT(setup(&ph, 2 * ARENA, 2 * ARENA));
	EXPECT_EQ(alloc(&ph, 2 * CHUNK), 0);
	kgc_pageheap_free(&ph, 0, 2 * CHUNK);
	EXPECT_EQ(kgc_pageheap_resident_free(&ph), 2 * CHUNK);
	/* Scavenge a run that spans the chunk boundary. */
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, CHUNK - 20, 50), 50);
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, CHUNK - 30, 20), 10);
	EXPECT_EQ(kgc_pageheap_resident_free(&ph), 2 * CHUNK - 60);
	EXPECT_EQ(kgc_pageheap_scav_pages(&ph), 2 * ARENA - 2 * CHUNK + 60);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, CHUNK, &nscav), 0);
	EXPECT_EQ(nscav, 30);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, CHUNK, &nscav), CHUNK);
	EXPECT_EQ(nscav, 30);
	EXPECT_EQ(kgc_pageheap_alloc_range(&ph, 2 * CHUNK, 5, &nscav), 0);
	EXPECT_EQ(nscav, 5);
	EXPECT_EQ(kgc_pageheap_resident_free(&ph), 0);
	EXPECT_EQ(kgc_pageheap_free_pages(&ph), 2 * ARENA - 2 * CHUNK - 5);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_find_resident_highest_first(void)
{
	struct kgc_pageheap ph;
	unsigned long n;

	ASSERT(setup(&ph, 2 * ARENA, 2 * ARENA));
	EXPECT_EQ(kgc_pageheap_find_resident(&ph, 100, &n), -ENOENT);
	EXPECT_EQ(alloc(&ph, 2 * ARENA), 0);
	kgc_pageheap_free(&ph, 10, 5);
	kgc_pageheap_free(&ph, ARENA + 3 * CHUNK - 40, 100);	/* spans chunks */
	kgc_pageheap_free(&ph, ARENA + 100, 1);
	/* The top run, clipped to its chunk. */
	EXPECT_EQ(kgc_pageheap_find_resident(&ph, 1000, &n), ARENA + 3 * CHUNK);
	EXPECT_EQ(n, 60);
	/* At most max_npages, taken from the top. */
	EXPECT_EQ(kgc_pageheap_find_resident(&ph, 7, &n), ARENA + 3 * CHUNK + 53);
	EXPECT_EQ(n, 7);
	EXPECT_EQ(kgc_pageheap_find_resident(&ph, 0, &n), -ENOENT);
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, ARENA + 3 * CHUNK, 60), 60);
	EXPECT_EQ(kgc_pageheap_find_resident(&ph, 1000, &n), ARENA + 3 * CHUNK - 40);
	EXPECT_EQ(n, 40);
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, ARENA + 3 * CHUNK - 40, 40), 40);
	EXPECT_EQ(kgc_pageheap_find_resident(&ph, 1000, &n), ARENA + 100);
	EXPECT_EQ(n, 1);
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, ARENA + 100, 1), 1);
	EXPECT_EQ(kgc_pageheap_find_resident(&ph, 1000, &n), 10);
	EXPECT_EQ(n, 5);
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, 10, 5), 5);
	EXPECT_EQ(kgc_pageheap_find_resident(&ph, 1000, &n), -ENOENT);
	EXPECT_EQ(kgc_pageheap_resident_free(&ph), 0);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

/* The unlocked release protocol described at the top of pages.c. */
static void test_scavenge_reservation_protocol(void)
{
	struct kgc_pageheap ph;
	unsigned long n, nscav;
	long base;

	ASSERT(setup(&ph, ARENA, ARENA));
	EXPECT_EQ(alloc(&ph, 300), 0);
	kgc_pageheap_free(&ph, 0, 300);
	base = kgc_pageheap_find_resident(&ph, 64, &n);
	EXPECT_EQ(base, 236);
	EXPECT_EQ(n, 64);
	EXPECT_EQ(kgc_pageheap_alloc_range(&ph, base, n, &nscav), 0);
	EXPECT_EQ(nscav, 0);
	/* While "unlocked": an allocation skips the reserved run. */
	EXPECT_EQ(alloc(&ph, 250), 300);
	kgc_pageheap_free(&ph, base, n);
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, base, n), 64);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, 236 + 64, &nscav), 0);
	EXPECT_EQ(nscav, 64);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_alloc_range_rejects_busy_and_out_of_range(void)
{
	struct kgc_pageheap ph;
	unsigned long nscav = 5;

	ASSERT(setup(&ph, ARENA, 1000));
	EXPECT_EQ(alloc(&ph, 10), 0);
	EXPECT_EQ(kgc_pageheap_alloc_range(&ph, 9, 2, &nscav), -EBUSY);
	EXPECT_EQ(nscav, 0);
	EXPECT_EQ(kgc_pageheap_alloc_range(&ph, 990, 11, NULL), -EINVAL);
	EXPECT_EQ(kgc_pageheap_alloc_range(&ph, 1000, 1, NULL), -EINVAL);
	EXPECT_EQ(kgc_pageheap_alloc_range(&ph, 20, 0, NULL), -EINVAL);
	EXPECT_EQ(kgc_pageheap_alloc_range(&ph, ~0UL, 2, NULL), -EINVAL);
	EXPECT_EQ(kgc_pageheap_alloc_range(&ph, 990, 10, NULL), 0);
	EXPECT_EQ(kgc_pageheap_alloc_range(&ph, 10, 980, NULL), 0);
	EXPECT_EQ(kgc_pageheap_free_pages(&ph), 0);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

static void test_bad_free_warns_and_changes_nothing(void)
{
	struct kgc_pageheap ph;
	struct model m;
	unsigned long nscav;

	ASSERT(setup(&ph, 2 * ARENA, ARENA + 10));
	model_init(&m, 2 * ARENA);
	model_grow(&m, ARENA + 10);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, 100, &nscav), model_alloc(&m, 100, &nscav));
	kgc_pageheap_free(&ph, 50, 50);
	memset(m.st + 50, M_RES, 50);

	kgc_pageheap_free(&ph, 50, 50);		/* double free */
	kgc_pageheap_free(&ph, 40, 20);		/* half of it is free */
	kgc_pageheap_free(&ph, 10, 0);		/* empty */
	kgc_pageheap_free(&ph, ARENA + 5, 10);	/* beyond the limit */
	kgc_pageheap_free(&ph, ~0UL - 1, 4);	/* wraps around */
	EXPECT(same_as_model(&ph, &m));
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, 0, 60), 0);	/* not free */
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, ARENA, 11), 0);	/* too far */
	EXPECT(same_as_model(&ph, &m));
	free(m.st);
	kgc_pageheap_destroy(&ph);
}

static void test_tail_free_says_how_much_to_grow(void)
{
	struct kgc_pageheap ph;
	unsigned long want = 3 * ARENA, tail;

	ASSERT(setup(&ph, 8 * ARENA, 2 * ARENA + 700));
	EXPECT_EQ(alloc(&ph, 1000), 0);
	kgc_pageheap_free(&ph, 500, 400);
	EXPECT_EQ(kgc_pageheap_tail_free(&ph), 2 * ARENA + 700 - 1000);
	EXPECT_EQ(alloc(&ph, want), -ENOMEM);
	tail = kgc_pageheap_tail_free(&ph);
	EXPECT_EQ(kgc_pageheap_grow(&ph, kgc_pageheap_limit(&ph) + want - tail), 0);
	EXPECT_EQ(alloc(&ph, want), 1000);
	EXPECT_EQ(kgc_pageheap_tail_free(&ph), 0);
	kgc_pageheap_free(&ph, 1000 + want - 1, 1);
	EXPECT_EQ(kgc_pageheap_tail_free(&ph), 1);
	kgc_pageheap_free(&ph, 900, 100);
	kgc_pageheap_free(&ph, 1000, want - 1);
	EXPECT_EQ(kgc_pageheap_tail_free(&ph), want + 500);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

struct held {
	unsigned long base, n;
};

static void random_ops(unsigned long max, unsigned long nops)
{
	static struct held held[2048];
	unsigned long op, nheld = 0, nscav, mscav, n, mn;
	unsigned long nalloc = 0, nfail = 0, nfree = 0, ngrow = 0, nfound = 0;
	unsigned long nrange = 0;
	struct kgc_pageheap ph;
	int failures = tap_failures;
	struct model m;
	long got, want;

	ASSERT(kgc_pageheap_init(&ph, max) == 0);
	model_init(&m, max);
	for (op = 0; op < nops && tap_failures == failures; op++) {
		unsigned long r = rnd() % 100, size = rnd() % 100;

		if (size < 60)
			size = rnd_range(1, 8);
		else if (size < 85)
			size = rnd_range(9, 128);
		else if (size < 97)
			size = rnd_range(129, 1500);
		else
			size = rnd_range(1501, 12000);

		if (r < 45 && nheld < ARRAY_SIZE(held)) {
			got = kgc_pageheap_alloc(&ph, size, &nscav);
			want = model_alloc(&m, size, &mscav);
			EXPECT_EQ(got, want);
			EXPECT_EQ(nscav, mscav);
			nalloc += got >= 0;
			nfail += got < 0;
			if (got >= 0)
				held[nheld++] = (struct held){ got, size };
			else if (rnd() % 2 && m.limit < max)
				r = 85;		/* grow, below */
		} else if (r < 85 && nheld) {
			unsigned long i = rnd() % nheld, keep = 0;

			if (held[i].n > 1 && rnd() % 4 == 0)
				keep = rnd_range(1, held[i].n - 1);
			kgc_pageheap_free(&ph, held[i].base + keep,
					  held[i].n - keep);
			memset(m.st + held[i].base + keep, M_RES,
			       held[i].n - keep);
			nfree++;
			if (keep)
				held[i].n = keep;
			else
				held[i] = held[--nheld];
		} else if (r >= 95 && nheld < ARRAY_SIZE(held)) {
			unsigned long base = rnd() % (m.limit + 10);
			int ret = kgc_pageheap_alloc_range(&ph, base, size,
							   &nscav);

			if (!model_valid(&m, base, size)) {
				EXPECT_EQ(ret, -EINVAL);
			} else if (model_count(&m, base, size, M_USED)) {
				EXPECT_EQ(ret, -EBUSY);
			} else {
				EXPECT_EQ(ret, 0);
				model_take(&m, base, size, &mscav);
				EXPECT_EQ(nscav, mscav);
				held[nheld++] = (struct held){ base, size };
				nrange++;
			}
		}
		if (r >= 85 && r < 90) {
			unsigned long limit = m.limit + rnd_range(0, 3000);

			limit = min(limit, max);

			EXPECT_EQ(kgc_pageheap_grow(&ph, limit), 0);
			model_grow(&m, limit);
			ngrow++;
		} else if (r >= 90 && r < 95) {
			unsigned long maxn = rnd_range(1, 700);

			got = kgc_pageheap_find_resident(&ph, maxn, &n);
			want = model_find_resident(&m, maxn, &mn);
			EXPECT_EQ(got, want);
			EXPECT_EQ(n, mn);
			if (got >= 0 && rnd() % 2) {
				/* Reserve, "release", free, mark. */
				EXPECT_EQ(kgc_pageheap_alloc_range(&ph, got, n, NULL), 0);
				kgc_pageheap_free(&ph, got, n);
			}
			if (got >= 0) {
				nfound++;
				EXPECT_EQ(kgc_pageheap_scavenge(&ph, got, n), n);
				memset(m.st + got, M_SCAV, n);
			}
		}
		EXPECT_EQ(kgc_pageheap_largest_free(&ph), model_largest(&m));
		EXPECT_EQ(kgc_pageheap_tail_free(&ph), model_tail(&m));
		EXPECT_EQ(kgc_pageheap_free_pages(&ph),
			  model_count(&m, 0, m.limit, M_RES) +
			  model_count(&m, 0, m.limit, M_SCAV));
		if (op % 1000 == 999)
			EXPECT(same_as_model(&ph, &m));
	}
	EXPECT(same_as_model(&ph, &m));
	printf("# max %lu: %lu allocs (%lu failed), %lu alloc_range, %lu frees,",
	       max, nalloc, nfail, nrange, nfree);
	printf(" %lu grows, %lu scavenges, %lu held at the end\n",
	       ngrow, nfound, nheld);
	if (tap_failures != failures)
		printf("# failed at op %lu\n", op);
	free(m.st);
	kgc_pageheap_destroy(&ph);
}

/*
 * Thousands of random operations (allocations of all sizes, whole and
 * partial frees, growth, scavenging, reservations) against the model: every
 * return value, every count and, every so often, every page must agree. On
 * a heap smaller than a chunk, one of a few chunks, and one of a few arenas.
 */
static void test_random_ops_match_reference_model(void)
{
	random_ops(300, 10000);
	random_ops(5000, 10000);
	random_ops(2 * ARENA + 1234, 20000);
}

/* The largest reservation: 64 GiB, grown an arena at a time. */
static void test_largest_heap(void)
{
	const unsigned long max = KGC_PAGEHEAP_MAX_PAGES;
	struct kgc_pageheap ph;
	unsigned long l, nscav;

	ASSERT(kgc_pageheap_init(&ph, max) == 0);
	EXPECT_EQ(kgc_pageheap_grow(&ph, max + 1), -ENOSPC);
	for (l = ARENA; l <= max; l += ARENA)
		EXPECT_EQ(kgc_pageheap_grow(&ph, l), 0);
	EXPECT_EQ(kgc_pageheap_largest_free(&ph), max);
	EXPECT_EQ(kgc_pageheap_alloc(&ph, max, &nscav), 0);
	EXPECT_EQ(nscav, max);
	kgc_pageheap_free(&ph, 1, max - 1);
	EXPECT_EQ(alloc(&ph, max - 1), 1);
	kgc_pageheap_free(&ph, max / 2, 1);
	EXPECT_EQ(alloc(&ph, 1), max / 2);
	kgc_pageheap_free(&ph, max - 1, 1);
	EXPECT_EQ(kgc_pageheap_tail_free(&ph), 1);
	EXPECT_EQ(alloc(&ph, 1), max - 1);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	kgc_pageheap_destroy(&ph);
}

#define TEST(name, warnings)	{ #name, test_##name, warnings }

static const struct tap_test tests[] = {
	TEST(init_rejects_bad_sizes, 0),
	TEST(init_allocation_failure, 0),
	TEST(empty_heap_has_no_pages, 0),
	TEST(first_fit_lowest_address, 0),
	TEST(exact_fit_consumes_hole, 0),
	TEST(free_coalesces_neighbours, 0),
	TEST(exhaustion_then_grow, 0),
	TEST(pages_beyond_limit_never_handed_out, 0),
	TEST(run_spans_chunk_boundary, 0),
	TEST(run_spans_arena_boundary, 0),
	TEST(whole_heap_run, 0),
	TEST(runs_at_word_edges, 0),
	TEST(checkerboard, 0),
	TEST(grow_limits, 0),
	TEST(grow_allocation_failure, 0),
	TEST(fresh_pages_are_scavenged, 0),
	TEST(scavenged_accounting, 0),
	TEST(find_resident_highest_first, 0),
	TEST(scavenge_reservation_protocol, 0),
	TEST(alloc_range_rejects_busy_and_out_of_range, 0),
	TEST(bad_free_warns_and_changes_nothing, 7),
	TEST(tail_free_says_how_much_to_grow, 0),
	TEST(random_ops_match_reference_model, 0),
	TEST(largest_heap, 0),
};

int main(void)
{
	tap_seed(0x6b6763ULL);
	return tap_main(tests, ARRAY_SIZE(tests));
}
