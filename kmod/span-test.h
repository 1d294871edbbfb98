/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for spans. Included at the end of span.c.
 */
#ifndef _KGC_SPAN_TEST_H
#define _KGC_SPAN_TEST_H

#include <kunit/test.h>

/* Carving: object count and size follow the class table; large is one. */
static void kgc_span_test_carve(struct kunit *test)
{
	struct kgc_span *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	u32 c;

	KUNIT_ASSERT_NOT_NULL(test, s);
	for (c = 1; c < KGC_NR_SIZE_CLASSES; c++) {
		kgc_span_init(s, 8, kgc_class_npages[c], KGC_SPANCLASS(c, 0));
		KUNIT_EXPECT_EQ(test, s->elemsize, (unsigned long)kgc_class_size[c]);
		KUNIT_EXPECT_EQ(test, s->nelems, kgc_class_nelems(c));
		KUNIT_EXPECT_EQ(test, s->alloccount, 0U);
	}
	kgc_span_init(s, 8, 5, KGC_SPANCLASS(0, 1));
	KUNIT_EXPECT_EQ(test, s->nelems, 1U);
	KUNIT_EXPECT_EQ(test, s->elemsize, 5UL << KGC_PAGE_SHIFT);
}

/*
 * The reciprocal object index equals the division at every byte offset of
 * a span of every size class, is past the end after the last object, and
 * a large span has its one object.
 */
static void kgc_span_test_objindex(struct kunit *test)
{
	struct kgc_span *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	u64 off, bytes;
	u32 c, bad = 0;

	KUNIT_ASSERT_NOT_NULL(test, s);
	for (c = 1; c < KGC_NR_SIZE_CLASSES; c++) {
		kgc_span_init(s, 8, kgc_class_npages[c], KGC_SPANCLASS(c, 0));
		bytes = (u64)kgc_class_npages[c] << KGC_PAGE_SHIFT;
		for (off = 0; off < bytes; off++) {
			u32 want = off / s->elemsize;

			if (want > s->nelems)
				want = s->nelems;
			bad += kgc_span_objindex(s, off) != want;
		}
		KUNIT_EXPECT_EQ(test, kgc_span_objindex(s, bytes), s->nelems);
	}
	KUNIT_EXPECT_EQ(test, bad, 0U);
	kgc_span_init(s, 8, 3, KGC_SPANCLASS(0, 0));
	KUNIT_EXPECT_EQ(test, kgc_span_objindex(s, 0), 0U);
	KUNIT_EXPECT_EQ(test, kgc_span_objindex(s, 3 * KGC_PAGE_SIZE - 1), 0U);
	KUNIT_EXPECT_EQ(test, kgc_span_objindex(s, 3 * KGC_PAGE_SIZE), 1U);
}

/*
 * An mcache skips allocated objects: giving a span back with a higher
 * freeindex allocates exactly the free objects in between.
 */
static void kgc_span_test_alloc_range_skips_allocated(struct kunit *test)
{
	struct kgc_span *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	kgc_span_init(s, 0, 1, KGC_SPANCLASS(1, 0));	/* 1024 objects */
	__set_bit(3, s->allocbits);
	__set_bit(100, s->allocbits);
	s->alloccount = 2;
	KUNIT_EXPECT_EQ(test, kgc_span_alloc_range(s, 0, 10), 9U);
	KUNIT_EXPECT_EQ(test, s->freeindex, 10U);
	KUNIT_EXPECT_EQ(test, s->alloccount, 11U);
	KUNIT_EXPECT_EQ(test, kgc_span_alloc_range(s, 10, 1024), 1013U);
	KUNIT_EXPECT_TRUE(test, kgc_span_full(s));
	KUNIT_EXPECT_EQ(test, bitmap_weight(s->allocbits, KGC_SPAN_MAX_OBJS),
			1024U);
}

/*
 * The descriptor reports bits past nelems as allocated, so user space can
 * never allocate a phantom object in the span's tail.
 */
static void kgc_span_test_desc_tail_bits(struct kunit *test)
{
	struct kgc_span *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	struct kgc_span_desc *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	u32 c = 4;	/* 48 bytes: 170 objects */

	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, d);
	kgc_span_init(s, 2, kgc_class_npages[c], KGC_SPANCLASS(c, 1));
	KUNIT_ASSERT_EQ(test, s->nelems, 170U);
	kgc_span_alloc_range(s, 0, 5);
	kgc_span_desc(s, 0x10000000, d);
	KUNIT_EXPECT_EQ(test, d->base, 0x10000000ULL + 2 * KGC_PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, d->nelems, 170U);
	KUNIT_EXPECT_EQ(test, d->freeindex, 5U);
	KUNIT_EXPECT_EQ(test, d->spanclass, (u32)KGC_SPANCLASS(c, 1));
	KUNIT_EXPECT_EQ(test, d->allocbits[0], 0x1fULL);
	KUNIT_EXPECT_EQ(test, d->allocbits[1], 0ULL);
	KUNIT_EXPECT_EQ(test, d->allocbits[2], ~0ULL << (170 - 128));
	KUNIT_EXPECT_EQ(test, d->allocbits[3], ~0ULL);
	KUNIT_EXPECT_EQ(test, d->allocbits[KGC_ALLOC_WORDS - 1], ~0ULL);
}

/* Discarding a span frees every object and marks it as needing zeroing. */
static void kgc_span_test_free_all(struct kunit *test)
{
	struct kgc_span *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	kgc_span_init(s, 0, 1, KGC_SPANCLASS(2, 0));
	kgc_span_alloc_range(s, 0, 300);
	kgc_span_free_all(s);
	KUNIT_EXPECT_EQ(test, s->alloccount, 0U);
	KUNIT_EXPECT_EQ(test, s->freeindex, 0U);
	KUNIT_EXPECT_TRUE(test, s->needzero);
	KUNIT_EXPECT_EQ(test, bitmap_weight(s->allocbits, KGC_SPAN_MAX_OBJS), 0U);
}

static struct kunit_case kgc_span_test_cases[] = {
	KUNIT_CASE(kgc_span_test_carve),
	KUNIT_CASE(kgc_span_test_objindex),
	KUNIT_CASE(kgc_span_test_alloc_range_skips_allocated),
	KUNIT_CASE(kgc_span_test_desc_tail_bits),
	KUNIT_CASE(kgc_span_test_free_all),
	{}
};

static struct kunit_suite kgc_span_test_suite = {
	.name = "kgc_span",
	.test_cases = kgc_span_test_cases,
};

kunit_test_suite(kgc_span_test_suite);

#endif /* _KGC_SPAN_TEST_H */
