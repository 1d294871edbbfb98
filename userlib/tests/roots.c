// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * roots.c - the root table: registration rules (alignment, length,
 * overlap, not inside the heap), removal, private copies of the bitmaps,
 * address order, counters, cleared by kgc_shutdown().
 */
#include <stdlib.h>
#include <string.h>

#include "fake_kernel.h"
#include "internal.h"
#include "tap.h"

static uint64_t globals[64] __attribute__((aligned(64)));

struct seen {
	uintptr_t start[300];
	size_t len[300];
	uint64_t map0[300];
	bool precise[300];
	int n;
};

static int collect(uintptr_t start, size_t len, const uint64_t *map, void *arg)
{
	struct seen *s = arg;

	s->start[s->n] = start;
	s->len[s->n] = len;
	s->precise[s->n] = map != NULL;
	s->map0[s->n] = map ? map[0] : 0;
	s->n++;
	return 0;
}

static void test_add_remove(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	uint64_t map[1] = { 0x3 };
	struct seen s = { .n = 0 };

	REQUIRE_EQ(fake_heap_init(), 0);
	CHECK_EQ(kgc_add_roots(&globals[8], 64, NULL), 0);
	CHECK_EQ(kgc_add_roots(&globals[0], 32, map), 0);
	map[0] = ~0ULL;	/* the library keeps its own copy */
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.roots, 2);
	CHECK_EQ(st.root_bytes, 96);
	kgc_roots_foreach(collect, &s);
	REQUIRE_EQ(s.n, 2);
	CHECK(s.start[0] == (uintptr_t)&globals[0]);	/* address order */
	CHECK(s.precise[0] && s.map0[0] == 0x3);
	CHECK(s.start[1] == (uintptr_t)&globals[8] && !s.precise[1]);

	CHECK_EQ(kgc_remove_roots(&globals[0]), 0);
	CHECK_EQ(kgc_remove_roots(&globals[0]), -ENOENT);
	CHECK_STR_CONTAINS(kgc_last_error(), "no root range starts there");
	CHECK_EQ(kgc_remove_roots(&globals[9]), -ENOENT);	/* not a start */
	CHECK_EQ(kgc_add_roots(&globals[0], 32, NULL), 0);	/* again */
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.roots, 2);
	kgc_shutdown();
}

static void test_bitmap_copy_is_masked(void)
{
	uint64_t map[2] = { ~0ULL, ~0ULL };
	struct seen s = { .n = 0 };

	REQUIRE_EQ(fake_heap_init(), 0);
	CHECK_EQ(kgc_add_roots(&globals[0], 5 * 8, map), 0);	/* 5 words */
	kgc_roots_foreach(collect, &s);
	REQUIRE_EQ(s.n, 1);
	CHECK_EQ(s.map0[0], 0x1f);
	kgc_shutdown();
}

static void test_bad_ranges(void)
{
	char *heapobj;

	REQUIRE_EQ(fake_heap_init(), 0);
	CHECK_EQ(kgc_add_roots(NULL, 8, NULL), -EINVAL);
	CHECK_EQ(kgc_add_roots(&globals[0], 0, NULL), -EINVAL);
	CHECK_EQ(kgc_add_roots((char *)&globals[0] + 4, 8, NULL), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "8-byte aligned");
	CHECK_EQ(kgc_add_roots(&globals[0], 12, NULL), -EINVAL);
	CHECK_EQ(kgc_add_roots((void *)(UINTPTR_MAX - 7), 16, NULL), -EINVAL);
	heapobj = kgc_alloc_conservative(64);
	REQUIRE(heapobj != NULL);
	CHECK_EQ(kgc_add_roots(heapobj, 64, NULL), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "inside the kgc heap");
	CHECK_EQ(kgc_add_roots(kgc_heap.bitmap, 64, NULL), -EINVAL);
	kgc_shutdown();
}

static void test_overlap(void)
{
	REQUIRE_EQ(fake_heap_init(), 0);
	CHECK_EQ(kgc_add_roots(&globals[10], 80, NULL), 0);	/* 10..19 */
	CHECK_EQ(kgc_add_roots(&globals[10], 80, NULL), -EEXIST);
	CHECK_STR_CONTAINS(kgc_last_error(), "overlaps");
	CHECK_EQ(kgc_add_roots(&globals[5], 48, NULL), -EEXIST);	/* 5..10 */
	CHECK_EQ(kgc_add_roots(&globals[19], 8, NULL), -EEXIST);
	CHECK_EQ(kgc_add_roots(&globals[12], 8, NULL), -EEXIST);
	CHECK_EQ(kgc_add_roots(&globals[0], 160, NULL), -EEXIST);	/* covers */
	CHECK_EQ(kgc_add_roots(&globals[5], 40, NULL), 0);	/* 5..9: adjacent */
	CHECK_EQ(kgc_add_roots(&globals[20], 8, NULL), 0);	/* adjacent */
	kgc_shutdown();
}

static void test_many_and_cleared_by_shutdown(void)
{
	static uint64_t many[600];
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	struct seen s = { .n = 0 };
	int i;

	REQUIRE_EQ(fake_heap_init(), 0);
	for (i = 299; i >= 0; i--)	/* reverse order: sorted inserts */
		CHECK_EQ(kgc_add_roots(&many[2 * i], 8, NULL), 0);
	kgc_roots_foreach(collect, &s);
	REQUIRE_EQ(s.n, 300);
	for (i = 1; i < 300; i++)
		CHECK(s.start[i - 1] < s.start[i]);
	for (i = 0; i < 300; i += 2)
		CHECK_EQ(kgc_remove_roots(&many[2 * i]), 0);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.roots, 150);
	REQUIRE_EQ(fake_heap_init(), 0);	/* shutdown + init */
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.roots, 0);
	CHECK_EQ(kgc_remove_roots(&many[2]), -ENOENT);
	kgc_shutdown();
}

TAP_MAIN(
	TAP_CASE(test_add_remove),
	TAP_CASE(test_bitmap_copy_is_masked),
	TAP_CASE(test_bad_ranges),
	TAP_CASE(test_overlap),
	TAP_CASE(test_many_and_cleared_by_shutdown),
)
