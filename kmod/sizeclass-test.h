/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for the size-class table. Included at the end of sizeclass.c.
 */
#ifndef _KGC_SIZECLASS_TEST_H
#define _KGC_SIZECLASS_TEST_H

#include <kunit/test.h>

/* Round a request up to the alignment every allocator must give it. */
static u32 kgc_test_round_request(u32 size)
{
	return size < 16 ? ALIGN(size, 8) : ALIGN(size, 16);
}

/*
 * Sizes must strictly increase and stay aligned: the library maps a request
 * to the first class that fits, which needs a sorted table, and objects of
 * 16 bytes or more are promised 16-byte alignment.
 */
static void kgc_sizeclass_test_sorted_and_aligned(struct kunit *test)
{
	u32 c;

	KUNIT_EXPECT_EQ(test, kgc_class_size[0], 0U);
	KUNIT_EXPECT_EQ(test, kgc_class_size[KGC_NR_SIZE_CLASSES - 1],
			(u32)KGC_MAX_SMALL_SIZE);
	for (c = 1; c < KGC_NR_SIZE_CLASSES; c++) {
		KUNIT_EXPECT_GT(test, kgc_class_size[c], kgc_class_size[c - 1]);
		KUNIT_EXPECT_EQ(test, kgc_class_size[c] % (c == 1 ? 8 : 16), 0U);
	}
}

/*
 * The promise in the README: the worst request that lands in a class (one
 * byte more than the class below, rounded to the alignment) wastes at most
 * 12.5% of the object.
 */
static void kgc_sizeclass_test_internal_waste_bound(struct kunit *test)
{
	u32 c;

	for (c = 1; c < KGC_NR_SIZE_CLASSES; c++) {
		u32 size = kgc_class_size[c];
		u32 worst = kgc_test_round_request(kgc_class_size[c - 1] + 1);

		KUNIT_EXPECT_LE_MSG(test, (size - worst) * 8, size,
				    "class %u (%u bytes) wastes %u of %u", c,
				    size, size - worst, size);
	}
}

/*
 * A span's tail (bytes after the last whole object) is at most 1/8 of the
 * span, and every span holds at least one object and at most
 * KGC_SPAN_MAX_OBJS (the width of the bitmaps handed to user space).
 */
static void kgc_sizeclass_test_span_tail_bound(struct kunit *test)
{
	u32 c;

	for (c = 1; c < KGC_NR_SIZE_CLASSES; c++) {
		u32 span = (u32)kgc_class_npages[c] << KGC_PAGE_SHIFT;
		u32 n = kgc_class_nelems(c);

		KUNIT_EXPECT_GE(test, n, 1U);
		KUNIT_EXPECT_LE(test, n, (u32)KGC_SPAN_MAX_OBJS);
		KUNIT_EXPECT_LE_MSG(test, (span % kgc_class_size[c]) * 8, span,
				    "class %u tail %u of %u", c,
				    span % kgc_class_size[c], span);
	}
}

/*
 * A class of at most 1 KiB holds at least 64 objects per span (one
 * alloc-cache word per refill) in at most 8 pages, and takes no page
 * more than that needs within the tail bound.
 */
static void kgc_sizeclass_test_min_objects(struct kunit *test)
{
	u32 c;

	for (c = 1; c < KGC_NR_SIZE_CLASSES; c++) {
		u32 size = kgc_class_size[c], n = kgc_class_npages[c];
		u32 less = (n - 1) << KGC_PAGE_SHIFT;

		if (size > 1024)
			break;
		KUNIT_EXPECT_GE_MSG(test, kgc_class_nelems(c), 64U,
				    "class %u: %u objects", c,
				    kgc_class_nelems(c));
		KUNIT_EXPECT_LE(test, n, 8U);
		/* One page less would not do. */
		KUNIT_EXPECT_TRUE_MSG(test, n == 1 || less / size < 64 ||
				      (less % size) * 8 > less,
				      "class %u: %u pages would do", c, n - 1);
	}
}

/* Span classes: size class 0 (large) and out-of-range values are refused. */
static void kgc_sizeclass_test_spanclass_valid(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, kgc_spanclass_valid(KGC_SPANCLASS(0, 0)));
	KUNIT_EXPECT_FALSE(test, kgc_spanclass_valid(KGC_SPANCLASS(0, 1)));
	KUNIT_EXPECT_TRUE(test, kgc_spanclass_valid(KGC_SPANCLASS(1, 0)));
	KUNIT_EXPECT_TRUE(test, kgc_spanclass_valid(KGC_SPANCLASS(1, 1)));
	KUNIT_EXPECT_TRUE(test,
			  kgc_spanclass_valid(KGC_NR_SPANCLASSES - 1));
	KUNIT_EXPECT_FALSE(test, kgc_spanclass_valid(KGC_NR_SPANCLASSES));
	KUNIT_EXPECT_FALSE(test, kgc_spanclass_valid(KGC_NO_SPANCLASS));
}

static struct kunit_case kgc_sizeclass_test_cases[] = {
	KUNIT_CASE(kgc_sizeclass_test_sorted_and_aligned),
	KUNIT_CASE(kgc_sizeclass_test_internal_waste_bound),
	KUNIT_CASE(kgc_sizeclass_test_span_tail_bound),
	KUNIT_CASE(kgc_sizeclass_test_min_objects),
	KUNIT_CASE(kgc_sizeclass_test_spanclass_valid),
	{}
};

static struct kunit_suite kgc_sizeclass_test_suite = {
	.name = "kgc_sizeclass",
	.test_cases = kgc_sizeclass_test_cases,
};

kunit_test_suite(kgc_sizeclass_test_suite);

#endif /* _KGC_SIZECLASS_TEST_H */
