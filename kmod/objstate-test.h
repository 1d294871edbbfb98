/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for KGC_IOC_OBJ_STATE's answers. Included at the end of
 * objstate.c. As in mheap-test.h the heap is never mapped (the mheap only
 * computes addresses), and a GC cycle is played by hand: mark bits set
 * directly, then the sweep generation advanced as mark termination does.
 */
#ifndef _KGC_OBJSTATE_TEST_H
#define _KGC_OBJSTATE_TEST_H

#include <kunit/test.h>

#include "sizeclass.h"
#include "sweep.h"

#define KGC_OBJ_TEST_BASE	0x7f0000000000ULL

static int kgc_obj_test_heap_init(struct kunit_resource *res, void *context)
{
	struct kgc_mheap *h = kzalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return -ENOMEM;
	if (kgc_mheap_init(h, KGC_OBJ_TEST_BASE, KGC_ARENA_PAGES)) {
		kfree(h);
		return -ENOMEM;
	}
	res->data = h;
	return 0;
}

static void kgc_obj_test_heap_free(struct kunit_resource *res)
{
	kgc_mheap_destroy(res->data);
	kfree(res->data);
}

/* A heap of one arena, destroyed when the test ends, even by an assert. */
static struct kgc_mheap *kgc_obj_test_heap(struct kunit *test)
{
	struct kgc_mheap *h;

	h = kunit_alloc_resource(test, kgc_obj_test_heap_init,
				 kgc_obj_test_heap_free, GFP_KERNEL, NULL);
	KUNIT_ASSERT_NOT_NULL(test, h);
	return h;
}

static bool kgc_obj_test_alloc(struct kgc_mheap *h, u64 addr)
{
	bool ret;

	mutex_lock(&h->lock);
	ret = kgc_mheap_obj_allocated(h, addr);
	mutex_unlock(&h->lock);
	return ret;
}

static struct kgc_span *kgc_obj_test_span(struct kgc_mheap *h, u64 addr)
{
	struct kgc_span *s;

	mutex_lock(&h->lock);
	s = kgc_mheap_span_of(h, addr);
	mutex_unlock(&h->lock);
	return s;
}

/* The end of a cycle that marked what the test set in the mark bits. */
static void kgc_obj_test_mark_termination(struct kgc_mheap *h)
{
	mutex_lock(&h->lock);
	h->sweepgen += 2;
	mutex_unlock(&h->lock);
}

static int kgc_obj_test_put(struct kgc_mheap *h, u64 base, u32 freeindex)
{
	struct kgc_refill r = {
		.put_base = base,
		.put_freeindex = freeindex,
		.spanclass = KGC_NO_SPANCLASS,
	};

	return kgc_mheap_refill(h, &r);
}

/*
 * Addresses outside any span (below the heap, free pages, past the heap)
 * are never allocated objects, whatever their value.
 */
static void kgc_obj_test_no_span(struct kunit *test)
{
	struct kgc_mheap *h = kgc_obj_test_heap(test);

	KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, 0));
	KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, KGC_OBJ_TEST_BASE - 8));
	KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, KGC_OBJ_TEST_BASE));
	KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, KGC_OBJ_TEST_BASE +
						    KGC_ARENA_SIZE));
	KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, ~0ULL));
}

/*
 * A span an mcache holds: every object from the kernel's freeindex on is
 * the mcache's and reads allocated. Once the span comes back with the
 * mcache's freeindex, the objects below it read allocated (interior
 * addresses too), the rest free, and the span's tail past its last object
 * never.
 */
static void kgc_obj_test_cached_then_returned(struct kunit *test)
{
	struct kgc_mheap *h = kgc_obj_test_heap(test);
	u32 sc = KGC_SPANCLASS(5, 0), size;
	struct kgc_refill r = { .spanclass = sc };
	u64 base, tail;

	KUNIT_ASSERT_EQ(test, kgc_mheap_refill(h, &r), 0);
	base = r.span.base;
	size = r.span.elemsize;
	KUNIT_EXPECT_TRUE(test, kgc_obj_test_alloc(h, base));
	KUNIT_EXPECT_TRUE(test, kgc_obj_test_alloc(h, base + 20 * size + 3));

	KUNIT_ASSERT_EQ(test, kgc_obj_test_put(h, base, 10), 0);
	KUNIT_EXPECT_TRUE(test, kgc_obj_test_alloc(h, base));
	KUNIT_EXPECT_TRUE(test, kgc_obj_test_alloc(h, base + 9 * size +
						   size - 1));
	KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, base + 10 * size));
	KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, base + 20 * size + 3));

	/* Bytes past the last object of a span whose size does not divide. */
	tail = base + (u64)r.span.nelems * size;
	if (tail < base + (u64)r.span.npages * KGC_PAGE_SIZE)
		KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, tail));
}

/*
 * Large objects read allocated from their base to their last page until
 * they are freed.
 */
static void kgc_obj_test_large(struct kunit *test)
{
	struct kgc_mheap *h = kgc_obj_test_heap(test);
	struct kgc_large l = { .size = 5 * KGC_PAGE_SIZE };
	bool nz;

	KUNIT_ASSERT_EQ(test, kgc_mheap_alloc_large(h, &l, &nz, true), 0);
	KUNIT_EXPECT_TRUE(test, kgc_obj_test_alloc(h, l.addr));
	KUNIT_EXPECT_TRUE(test, kgc_obj_test_alloc(h, l.addr +
						   5 * KGC_PAGE_SIZE - 1));
	KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, l.addr +
						    5 * KGC_PAGE_SIZE));
	KUNIT_ASSERT_EQ(test, kgc_mheap_free(h, l.addr), 0);
	KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, l.addr));
}

/*
 * After mark termination, before the sweeper reaches a span, the answer is
 * already what the sweep will make of it: marked objects stay, unmarked
 * ones die, a large object dies unless marked. Sweeping afterwards changes
 * no answer.
 */
static void kgc_obj_test_unswept_predicts_sweep(struct kunit *test)
{
	struct kgc_mheap *h = kgc_obj_test_heap(test);
	struct kgc_large dead = { .size = 40 << 10 }, live = dead;
	u32 sc = KGC_SPANCLASS(3, 1), size, i;
	struct kgc_refill r = { .spanclass = sc };
	bool before[12], nz;
	struct kgc_span *s;
	u64 base;

	KUNIT_ASSERT_EQ(test, kgc_mheap_refill(h, &r), 0);
	base = r.span.base;
	size = r.span.elemsize;
	KUNIT_ASSERT_EQ(test, kgc_obj_test_put(h, base, 10), 0);
	KUNIT_ASSERT_EQ(test, kgc_mheap_alloc_large(h, &dead, &nz, true), 0);
	KUNIT_ASSERT_EQ(test, kgc_mheap_alloc_large(h, &live, &nz, true), 0);

	s = kgc_obj_test_span(h, base);
	KUNIT_ASSERT_NOT_NULL(test, s);
	for (i = 0; i < 10; i += 2)
		set_bit(i, s->markbits);
	s = kgc_obj_test_span(h, live.addr);
	KUNIT_ASSERT_NOT_NULL(test, s);
	set_bit(0, s->markbits);
	kgc_obj_test_mark_termination(h);

	for (i = 0; i < 12; i++) {
		before[i] = kgc_obj_test_alloc(h, base + (u64)i * size);
		KUNIT_EXPECT_EQ(test, (int)before[i], (int)(i < 10 && i % 2 == 0));
	}
	KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, dead.addr));
	KUNIT_EXPECT_TRUE(test, kgc_obj_test_alloc(h, live.addr));

	kgc_sweep_all(h);
	for (i = 0; i < 12; i++)
		KUNIT_EXPECT_EQ(test,
				(int)kgc_obj_test_alloc(h, base + (u64)i * size),
				(int)before[i]);
	KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, dead.addr));
	KUNIT_EXPECT_TRUE(test, kgc_obj_test_alloc(h, live.addr));
}

/*
 * A span cached across a cycle: below its freeindex the marks decide, the
 * mcache's white objects up to the point its allocations turned black too;
 * from there on the objects are the mcache's.
 */
static void kgc_obj_test_cached_unswept(struct kunit *test)
{
	struct kgc_mheap *h = kgc_obj_test_heap(test);
	u32 sc = KGC_SPANCLASS(4, 0), size, i;
	struct kgc_refill r = { .spanclass = sc };
	struct kgc_span *s;
	u64 base;

	KUNIT_ASSERT_EQ(test, kgc_mheap_refill(h, &r), 0);
	base = r.span.base;
	size = r.span.elemsize;
	s = kgc_obj_test_span(h, base);
	KUNIT_ASSERT_NOT_NULL(test, s);
	mutex_lock(&h->lock);
	s->black_from = 6;	/* the thread's mark-start safepoint */
	mutex_unlock(&h->lock);
	for (i = 0; i < 3; i++)
		set_bit(i, s->markbits);
	kgc_obj_test_mark_termination(h);

	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_TRUE(test, kgc_obj_test_alloc(h, base + i * size));
	for (i = 3; i < 6; i++)
		KUNIT_EXPECT_FALSE(test, kgc_obj_test_alloc(h, base + i * size));
	for (i = 6; i < 9; i++)
		KUNIT_EXPECT_TRUE(test, kgc_obj_test_alloc(h, base + i * size));
}

/*
 * One chunk: each address gets its own bit, the count of set bits is
 * returned, and bits past the last address stay clear.
 */
static void kgc_obj_test_chunk_bits(struct kunit *test)
{
	struct kgc_mheap *h = kgc_obj_test_heap(test);
	struct kgc_large l = { .size = 64 << 10 };
	unsigned long bits[2] = { ~0UL, ~0UL };
	u64 addrs[70];
	bool nz;
	u32 i;

	KUNIT_ASSERT_EQ(test, kgc_mheap_alloc_large(h, &l, &nz, true), 0);
	for (i = 0; i < ARRAY_SIZE(addrs); i++)
		addrs[i] = i % 3 ? KGC_OBJ_TEST_BASE + KGC_ARENA_SIZE / 2 :
			   l.addr + i;
	KUNIT_EXPECT_EQ(test, kgc_obj_state_chunk(h, addrs, ARRAY_SIZE(addrs),
						  bits), 24U);
	for (i = 0; i < 128; i++)
		KUNIT_EXPECT_EQ(test, (int)test_bit(i, bits),
				(int)(i < ARRAY_SIZE(addrs) && i % 3 == 0));
}

/* Unknown flags, reserved fields and oversized counts are refused. */
static void kgc_obj_test_rejects_bad_input(struct kunit *test)
{
	struct kgc_heap *heap = kunit_kzalloc(test, sizeof(*heap), GFP_KERNEL);
	struct kgc_obj_state o = { .count = KGC_OBJ_STATE_MAX };

	KUNIT_ASSERT_NOT_NULL(test, heap);
	KUNIT_EXPECT_EQ(test, kgc_obj_state_check(&o), 0);
	o.count = KGC_OBJ_STATE_MAX + 1;
	KUNIT_EXPECT_EQ(test, kgc_obj_state_check(&o), -EINVAL);
	o = (struct kgc_obj_state){ .flags = 1 };
	KUNIT_EXPECT_EQ(test, kgc_obj_state_check(&o), -EINVAL);
	o = (struct kgc_obj_state){ .resv[1] = 1 };
	KUNIT_EXPECT_EQ(test, kgc_obj_state_check(&o), -EINVAL);
	/* No addresses: nothing is read, written or locked. */
	o = (struct kgc_obj_state){ .addrs = 1, .state = 1, .allocated = 5 };
	KUNIT_EXPECT_EQ(test, kgc_obj_state(heap, &o), 0L);
	KUNIT_EXPECT_EQ(test, o.allocated, 0ULL);
}

static struct kunit_case kgc_obj_test_cases[] = {
	KUNIT_CASE(kgc_obj_test_no_span),
	KUNIT_CASE(kgc_obj_test_cached_then_returned),
	KUNIT_CASE(kgc_obj_test_large),
	KUNIT_CASE(kgc_obj_test_unswept_predicts_sweep),
	KUNIT_CASE(kgc_obj_test_cached_unswept),
	KUNIT_CASE(kgc_obj_test_chunk_bits),
	KUNIT_CASE(kgc_obj_test_rejects_bad_input),
	{}
};

static struct kunit_suite kgc_obj_test_suite = {
	.name = "kgc_objstate",
	.test_cases = kgc_obj_test_cases,
};

kunit_test_suite(kgc_obj_test_suite);

#endif /* _KGC_OBJSTATE_TEST_H */
