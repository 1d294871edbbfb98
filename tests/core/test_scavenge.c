// SPDX-License-Identifier: GPL-2.0
/*
 * test_scavenge.c - host tests of the scavenger's index and arithmetic
 * (kmod/scavenge.c), TAP output.
 *
 * Each test states one behaviour. The random test drives a page heap with
 * its index and a naive reference model (one byte per page, a stamp per
 * chunk, linear scans) with the same operations, and checks that every run
 * the index picks is the one the model says is the oldest and highest, and
 * that the page heap's free/resident accounting follows. Its seed is fixed;
 * KGC_SEED=<n> in the environment picks another one.
 */
#include "pages.h"
#include "scavenge.h"
#include "tap.h"

#define ARENA	KGC_ARENA_PAGES
#define CHUNK	KGC_CHUNK_PAGES

/* A page heap of @max pages, grown to @max, all allocated; and its index. */
static void setup(struct kgc_pageheap *ph, struct kgc_scavidx *si,
		  unsigned long max)
{
	int ret = kgc_pageheap_init(ph, max);

	if (!ret)
		ret = kgc_pageheap_grow(ph, max);
	if (!ret)
		ret = kgc_pageheap_alloc_range(ph, 0, max, NULL);
	if (!ret)
		ret = kgc_scavidx_init(si, max);
	if (ret) {
		fprintf(stderr, "%s: %d\n", __func__, ret);
		exit(2);
	}
}

static void teardown(struct kgc_pageheap *ph, struct kgc_scavidx *si)
{
	kgc_scavidx_destroy(si);
	kgc_pageheap_destroy(ph);
}

/* What kgc_mheap_free_span() does: free the run and stamp its chunks. */
static void free_at(struct kgc_pageheap *ph, struct kgc_scavidx *si,
		    unsigned long base, unsigned long n, u64 now)
{
	si->now = now;
	kgc_pageheap_free(ph, base, n);
	kgc_scavidx_note_free(si, base, n);
}

/* The scavenger's protocol (reclaim.c), minus the memory itself. */
static unsigned long scavenge_one(struct kgc_pageheap *ph,
				  struct kgc_scavidx *si, unsigned long max,
				  long *base_out, u64 *stamp)
{
	unsigned long n;
	long base = kgc_scavidx_find(si, ph, max, &n, stamp);

	*base_out = base;
	if (base < 0)
		return 0;
	if (kgc_pageheap_alloc_range(ph, base, n, NULL))
		return 0;
	kgc_pageheap_free(ph, base, n);
	return kgc_pageheap_scavenge(ph, base, n);
}

/* A new index selects nothing, and an empty heap has no oldest stamp. */
static void test_empty_index_finds_nothing(void)
{
	struct kgc_pageheap ph;
	struct kgc_scavidx si;
	unsigned long n = 1;

	setup(&ph, &si, ARENA);
	EXPECT_EQ(kgc_scavidx_find(&si, &ph, 8, &n, NULL), -ENOENT);
	EXPECT_EQ(n, 0);
	EXPECT(kgc_scavidx_oldest(&si, &ph) == KGC_SCAV_NONE);
	teardown(&ph, &si);
}

/* Bad sizes are refused before anything is allocated. */
static void test_init_rejects_bad_sizes(void)
{
	struct kgc_scavidx si;

	EXPECT_EQ(kgc_scavidx_init(&si, 0), -EINVAL);
	EXPECT_EQ(kgc_scavidx_init(&si, KGC_PAGEHEAP_MAX_PAGES + 1), -EINVAL);
	EXPECT(!si.tree);
	kgc_scavidx_destroy(&si);
	host_fail_alloc_after = 0;
	EXPECT_EQ(kgc_scavidx_init(&si, ARENA), -ENOMEM);
	host_fail_alloc_after = -1;
	EXPECT(!si.tree);
}

/*
 * The chunk whose last free is the oldest goes first, whatever its
 * address; within it the highest free run.
 */
static void test_oldest_chunk_first(void)
{
	struct kgc_pageheap ph;
	struct kgc_scavidx si;
	unsigned long n;
	u64 stamp;
	long base;

	setup(&ph, &si, ARENA);
	free_at(&ph, &si, 2 * CHUNK + 10, 4, 10);
	free_at(&ph, &si, 5 * CHUNK + 100, 3, 5);
	free_at(&ph, &si, 5 * CHUNK + 7, 2, 5);
	free_at(&ph, &si, 9 * CHUNK, 1, 20);
	EXPECT_EQ(kgc_scavidx_oldest(&si, &ph), 5);
	base = kgc_scavidx_find(&si, &ph, 64, &n, &stamp);
	EXPECT_EQ(base, 5 * CHUNK + 100);
	EXPECT_EQ(n, 3);
	EXPECT_EQ(stamp, 5);
	EXPECT_EQ(scavenge_one(&ph, &si, 64, &base, NULL), 3);
	EXPECT_EQ(scavenge_one(&ph, &si, 64, &base, NULL), 2);
	EXPECT_EQ(base, 5 * CHUNK + 7);
	EXPECT_EQ(scavenge_one(&ph, &si, 64, &base, NULL), 4);
	EXPECT_EQ(base, 2 * CHUNK + 10);
	EXPECT_EQ(scavenge_one(&ph, &si, 64, &base, NULL), 1);
	EXPECT_EQ(base, 9 * CHUNK);
	EXPECT_EQ(scavenge_one(&ph, &si, 64, &base, NULL), 0);
	EXPECT_EQ(base, -ENOENT);
	EXPECT_EQ(kgc_pageheap_resident_free(&ph), 0);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	teardown(&ph, &si);
}

/* Among chunks freed at the same time, the highest goes first. */
static void test_ties_go_to_the_highest_chunk(void)
{
	struct kgc_pageheap ph;
	struct kgc_scavidx si;
	unsigned long n;
	long base;

	setup(&ph, &si, 2 * ARENA);
	free_at(&ph, &si, 3 * CHUNK, 8, 7);
	free_at(&ph, &si, ARENA + 4 * CHUNK, 8, 7);
	free_at(&ph, &si, 1 * CHUNK, 8, 7);
	base = kgc_scavidx_find(&si, &ph, 64, &n, NULL);
	EXPECT_EQ(base, ARENA + 4 * CHUNK);
	teardown(&ph, &si);
}

/*
 * A later free into a chunk makes it young again: it goes after chunks
 * that stayed quiet since.
 */
static void test_new_free_makes_chunk_young(void)
{
	struct kgc_pageheap ph;
	struct kgc_scavidx si;
	unsigned long n;
	long base;

	setup(&ph, &si, ARENA);
	free_at(&ph, &si, 1 * CHUNK, 8, 1);
	free_at(&ph, &si, 4 * CHUNK, 8, 2);
	free_at(&ph, &si, 1 * CHUNK + 100, 8, 3);
	base = kgc_scavidx_find(&si, &ph, 64, &n, NULL);
	EXPECT_EQ(base, 4 * CHUNK);
	EXPECT_EQ(kgc_scavidx_oldest(&si, &ph), 2);
	teardown(&ph, &si);
}

/*
 * Free pages that were allocated again (or scavenged) leave a stale leaf:
 * the index skips it, drops it, and never returns pages that are not free
 * and resident.
 */
static void test_stale_chunks_are_skipped_and_dropped(void)
{
	struct kgc_pageheap ph;
	struct kgc_scavidx si;
	unsigned long n;
	long base;

	setup(&ph, &si, ARENA);
	free_at(&ph, &si, 3 * CHUNK, 16, 1);
	free_at(&ph, &si, 6 * CHUNK, 16, 2);
	EXPECT_EQ(kgc_pageheap_alloc_range(&ph, 3 * CHUNK, 16, NULL), 0);
	base = kgc_scavidx_find(&si, &ph, 64, &n, NULL);
	EXPECT_EQ(base, 6 * CHUNK);
	EXPECT(si.tree[si.nleaves + 3] == KGC_SCAV_NONE);
	/* Scavenged elsewhere (e.g. the page heap's own search). */
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, 6 * CHUNK, 16), 16);
	EXPECT_EQ(kgc_scavidx_find(&si, &ph, 64, &n, NULL), -ENOENT);
	EXPECT(si.tree[1] == KGC_SCAV_NONE);
	teardown(&ph, &si);
}

/*
 * A run never crosses a chunk and is at most max_npages long, taken from
 * the top; a span freed across chunks stamps each of them.
 */
static void test_runs_are_bounded_and_within_a_chunk(void)
{
	struct kgc_pageheap ph;
	struct kgc_scavidx si;
	unsigned long n, total = 0;
	long base, prev = -1;

	setup(&ph, &si, ARENA);
	free_at(&ph, &si, 2 * CHUNK - 30, 60, 4);
	EXPECT_EQ(si.tree[si.nleaves + 1], 4);
	EXPECT_EQ(si.tree[si.nleaves + 2], 4);
	base = kgc_scavidx_find(&si, &ph, 20, &n, NULL);
	EXPECT_EQ(base, 2 * CHUNK + 10);
	EXPECT_EQ(n, 20);
	while ((n = scavenge_one(&ph, &si, 20, &base, NULL))) {
		EXPECT(base / CHUNK == (base + n - 1) / CHUNK);
		EXPECT(n <= 20);
		EXPECT(prev < 0 || base < prev);
		prev = base;
		total += n;
	}
	EXPECT_EQ(total, 60);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	teardown(&ph, &si);
}

/*
 * Runs are maximal runs of free *resident* pages: scavenged and allocated
 * pages inside a chunk split them, at word edges too.
 */
static void test_runs_stop_at_scavenged_and_allocated_pages(void)
{
	struct kgc_pageheap ph;
	struct kgc_scavidx si;
	unsigned long n;
	long base;

	setup(&ph, &si, ARENA);
	free_at(&ph, &si, CHUNK + 40, 200, 1);
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, CHUNK + 150, 10), 10);
	EXPECT_EQ(kgc_pageheap_alloc_range(&ph, CHUNK + 127, 2, NULL), 0);
	base = kgc_scavidx_find(&si, &ph, 512, &n, NULL);
	EXPECT_EQ(base, CHUNK + 160);
	EXPECT_EQ(n, 80);
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, base, n), 80);
	base = kgc_scavidx_find(&si, &ph, 512, &n, NULL);
	EXPECT_EQ(base, CHUNK + 129);
	EXPECT_EQ(n, 21);
	EXPECT_EQ(kgc_pageheap_scavenge(&ph, base, n), 21);
	base = kgc_scavidx_find(&si, &ph, 512, &n, NULL);
	EXPECT_EQ(base, CHUNK + 40);
	EXPECT_EQ(n, 87);
	teardown(&ph, &si);
}

/* With a clock the stamp comes from it, not from @now. */
static u64 fake_clock_value;
static u64 fake_clock(void)
{
	return fake_clock_value;
}

static void test_clock_gives_the_stamp(void)
{
	struct kgc_pageheap ph;
	struct kgc_scavidx si;

	setup(&ph, &si, ARENA);
	si.clock = fake_clock;
	si.now = 99;
	fake_clock_value = 1234;
	kgc_pageheap_free(&ph, 0, 1);
	kgc_scavidx_note_free(&si, 0, 1);
	EXPECT_EQ(kgc_scavidx_oldest(&si, &ph), 1234);
	EXPECT_EQ(kgc_scavidx_now(&si), 1234);
	teardown(&ph, &si);
}

/*
 * Go's goal, 10% over the heap goal, at most 95% of the limit; here over
 * the heap goal plus the recent overshoot, which decays by half a cycle,
 * or over the recent peak, which decays by an eighth.
 */
static void test_goal_arithmetic(void)
{
	EXPECT(kgc_scav_goal(100 << 20, 0, 0, -1) == 110ULL << 20);
	EXPECT(kgc_scav_goal(100 << 20, 100 << 20, 0, -1) == 220ULL << 20);
	EXPECT(kgc_scav_goal(100 << 20, 0, 0, 50 << 20) ==
	       (50ULL << 20) / 100 * 95);
	EXPECT(kgc_scav_goal(100 << 20, 1ULL << 40, 0, 50 << 20) ==
	       (50ULL << 20) / 100 * 95);
	EXPECT(kgc_scav_goal(~0ULL, 0, 0, -1) == ~0ULL);
	EXPECT(kgc_scav_goal(~0ULL, 0, 0, 1 << 30) == (1ULL << 30) / 100 * 95);
	EXPECT(kgc_scav_goal(~0ULL - 5, 0, 0, -1) == ~0ULL);
	EXPECT(kgc_scav_goal(1ULL << 63, 1ULL << 63, 0, -1) == ~0ULL);
	EXPECT(kgc_scav_goal(~0ULL - 5, 10, 0, -1) == ~0ULL);
	EXPECT(kgc_scav_goal(0, 0, 0, -1) == 0);
	EXPECT_EQ(kgc_scav_overshoot(0, 5 << 20, 4 << 20), 1 << 20);
	EXPECT_EQ(kgc_scav_overshoot(0, 3 << 20, 4 << 20), 0);
	EXPECT_EQ(kgc_scav_overshoot(8 << 20, 5 << 20, 4 << 20), 4 << 20);
	EXPECT_EQ(kgc_scav_overshoot(8 << 20, 13 << 20, 4 << 20), 9 << 20);
	EXPECT_EQ(kgc_scav_overshoot(1, 0, ~0ULL), 0);
	/* The recent peak, when above the goal plus the overshoot. */
	EXPECT(kgc_scav_goal(20 << 20, 5 << 20, 50 << 20, -1) ==
	       55ULL << 20);
	EXPECT(kgc_scav_goal(40 << 20, 10 << 20, 30 << 20, -1) ==
	       55ULL << 20);
	EXPECT(kgc_scav_goal(20 << 20, 0, 100 << 20, 50 << 20) ==
	       (50ULL << 20) / 100 * 95);
	EXPECT(kgc_scav_goal(~0ULL, 0, 50 << 20, -1) == ~0ULL);
	/* It decays by an eighth a cycle, and a higher peak counts at once. */
	EXPECT_EQ(kgc_scav_recent_peak(0, 48 << 20), 48 << 20);
	EXPECT_EQ(kgc_scav_recent_peak(48 << 20, 20 << 20), 42 << 20);
	EXPECT_EQ(kgc_scav_recent_peak(48 << 20, 60 << 20), 60 << 20);
	EXPECT_EQ(kgc_scav_recent_peak(7, 0), 7);
	EXPECT_EQ(kgc_scav_excess(100, 80 * KGC_PAGE_SIZE), 20);
	EXPECT_EQ(kgc_scav_excess(100, 200 * KGC_PAGE_SIZE), 0);
	EXPECT_EQ(kgc_scav_excess(100, ~0ULL), 0);
}

/* 1% of a CPU: rest 99 times as long as the work took. */
static void test_cpu_cap_arithmetic(void)
{
	EXPECT(kgc_scav_sleep_ns(1000000, 1) == 99000000ULL);
	EXPECT(kgc_scav_sleep_ns(1000000, 50) == 1000000ULL);
	EXPECT(kgc_scav_sleep_ns(1000000, 100) == 0);
	EXPECT(kgc_scav_sleep_ns(1000000, 0) == ~0ULL);
	EXPECT(kgc_scav_sleep_ns(~0ULL, 1) == ~0ULL);
}

/* ---- reference model ---- */

enum { M_USED, M_RES, M_SCAV };

/*
 * Random allocations, frees (stamped with a random clock that only grows)
 * and scavenger steps; every step's run must be the model's: the chunk with
 * the oldest stamp among those with free resident pages (highest on a
 * tie), the top of the highest free resident run in it.
 */
static void test_random_ops_match_reference_model(void)
{
	const unsigned long max = 2 * ARENA, nchunks = max / CHUNK;
	struct kgc_pageheap ph;
	struct kgc_scavidx si;
	unsigned char *st = malloc(max);
	u64 *stamp = calloc(nchunks, sizeof(*stamp)), now = 1;
	unsigned long i, ops = 20000, steps = 0;

	setup(&ph, &si, max);
	memset(st, M_USED, max);
	for (i = 0; i < ops; i++) {
		unsigned long base = rnd_range(0, max - 1), n, k, c;
		int op = rnd() % 10;

		n = rnd_range(1, rnd() % 4 ? 16 : 700);
		if (base + n > max)
			n = max - base;
		now += rnd() % 3;
		if (op < 4) {			/* free a run of used pages */
			for (k = 0; k < n && st[base + k] == M_USED; k++)
				;
			if (!k)
				continue;
			free_at(&ph, &si, base, k, now);
			memset(st + base, M_RES, k);
			for (c = base / CHUNK; c <= (base + k - 1) / CHUNK; c++)
				stamp[c] = now;
		} else if (op < 7) {		/* allocate a run of free pages */
			for (k = 0; k < n && st[base + k] != M_USED; k++)
				;
			if (!k)
				continue;
			EXPECT_EQ(kgc_pageheap_alloc_range(&ph, base, k, NULL), 0);
			memset(st + base, M_USED, k);
		} else {			/* a scavenger step */
			unsigned long want = rnd_range(1, 100), got, top = 0;
			u64 best = KGC_SCAV_NONE, s;
			long mc = -1, b;

			for (c = 0; c < nchunks; c++) {
				for (k = 0; k < CHUNK; k++)
					if (st[c * CHUNK + k] == M_RES)
						break;
				if (k < CHUNK && stamp[c] <= best) {
					best = stamp[c];
					mc = c;
				}
			}
			got = scavenge_one(&ph, &si, want, &b, &s);
			steps++;
			if (mc < 0) {
				EXPECT_EQ(b, -ENOENT);
				continue;
			}
			for (k = CHUNK; k-- > 0;)
				if (st[mc * CHUNK + k] == M_RES) {
					top = mc * CHUNK + k;
					break;
				}
			for (n = 0; n < want && n <= top - mc * CHUNK &&
			     st[top - n] == M_RES; n++)
				;
			EXPECT_EQ(b, (long)(top + 1 - n));
			EXPECT_EQ(got, n);
			EXPECT(s == best);
			if (b != (long)(top + 1 - n) || got != n)
				break;
			memset(st + b, M_SCAV, n);
		}
	}
	for (i = 0, ops = 0; i < max; i++)
		ops += st[i] == M_RES;
	EXPECT_EQ(kgc_pageheap_resident_free(&ph), ops);
	EXPECT_EQ(kgc_pageheap_check(&ph), 0);
	printf("# %lu scavenger steps\n", steps);
	teardown(&ph, &si);
	free(st);
	free(stamp);
}

#define TEST(name, warnings) { #name, test_##name, warnings }

static const struct tap_test tests[] = {
	TEST(empty_index_finds_nothing, 0),
	TEST(init_rejects_bad_sizes, 0),
	TEST(oldest_chunk_first, 0),
	TEST(ties_go_to_the_highest_chunk, 0),
	TEST(new_free_makes_chunk_young, 0),
	TEST(stale_chunks_are_skipped_and_dropped, 0),
	TEST(runs_are_bounded_and_within_a_chunk, 0),
	TEST(runs_stop_at_scavenged_and_allocated_pages, 0),
	TEST(clock_gives_the_stamp, 0),
	TEST(goal_arithmetic, 0),
	TEST(cpu_cap_arithmetic, 0),
	TEST(random_ops_match_reference_model, 0),
};

int main(void)
{
	tap_seed(0x73636176ULL);
	return tap_main(tests, ARRAY_SIZE(tests));
}
