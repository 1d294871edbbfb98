/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for the heap's span life cycle. Included at the end of
 * mheap.c. The heap here is never mapped: the mheap only computes addresses,
 * it never touches the memory, so a made-up base address is enough.
 */
#ifndef _KGC_MHEAP_TEST_H
#define _KGC_MHEAP_TEST_H

#include <kunit/test.h>

#define KGC_TEST_BASE	0x7f0000000000ULL

static struct kgc_mheap *kgc_mheap_test_new(struct kunit *test,
					    unsigned long arenas)
{
	struct kgc_mheap *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_EQ(test, kgc_mheap_init(h, KGC_TEST_BASE,
					     arenas * KGC_ARENA_PAGES), 0);
	return h;
}

static int kgc_mheap_test_get(struct kgc_mheap *h, u32 spanclass,
			      struct kgc_refill *r)
{
	memset(r, 0, sizeof(*r));
	r->spanclass = spanclass;
	return kgc_mheap_refill(h, r);
}

static int kgc_mheap_test_put(struct kgc_mheap *h, u64 base, u32 freeindex,
			      u32 flags)
{
	struct kgc_refill r = {
		.put_base = base,
		.put_freeindex = freeindex,
		.spanclass = KGC_NO_SPANCLASS,
		.flags = flags,
	};

	return kgc_mheap_refill(h, &r);
}

/*
 * The first refill grows the heap by one arena and carves a fresh, zeroed
 * span at the heap's start; span_of finds it from any interior address.
 */
static void kgc_mheap_test_first_refill(struct kunit *test)
{
	struct kgc_mheap *h = kgc_mheap_test_new(test, 2);
	struct kgc_refill r;
	struct kgc_span *s;
	u32 c = KGC_NR_SIZE_CLASSES - 1;

	KUNIT_ASSERT_EQ(test, kgc_mheap_test_get(h, KGC_SPANCLASS(c, 0), &r), 0);
	KUNIT_EXPECT_EQ(test, r.span.base, KGC_TEST_BASE);
	KUNIT_EXPECT_EQ(test, r.span.elemsize, kgc_class_size[c]);
	KUNIT_EXPECT_EQ(test, r.span.npages, (u32)kgc_class_npages[c]);
	KUNIT_EXPECT_EQ(test, r.span.flags, 0U);
	KUNIT_EXPECT_EQ(test, h->narenas, 1UL);
	mutex_lock(&h->lock);
	s = kgc_mheap_span_of(h, r.span.base + r.span.npages * KGC_PAGE_SIZE - 1);
	KUNIT_EXPECT_PTR_NE(test, s, (struct kgc_span *)NULL);
	KUNIT_EXPECT_EQ(test, s ? s->state : 0, (u8)KGC_SPAN_CACHED);
	KUNIT_EXPECT_PTR_EQ(test, kgc_mheap_span_of(h, r.span.base +
				r.span.npages * KGC_PAGE_SIZE),
			    (struct kgc_span *)NULL);
	KUNIT_EXPECT_PTR_EQ(test, kgc_mheap_span_of(h, KGC_TEST_BASE - 1),
			    (struct kgc_span *)NULL);
	mutex_unlock(&h->lock);
	kgc_mheap_destroy(h);
}

/*
 * mcentral transitions: a partly used span goes to partial and is the next
 * one handed out, with its allocated objects reported; a full span goes to
 * full and is never handed out; an empty one goes back to the page heap.
 */
static void kgc_mheap_test_central_transitions(struct kunit *test)
{
	struct kgc_mheap *h = kgc_mheap_test_new(test, 1);
	u32 sc = KGC_SPANCLASS(5, 0);
	struct kgc_central *c = &h->central[sc];
	struct kgc_refill r;
	u64 a, b;

	KUNIT_ASSERT_EQ(test, kgc_mheap_test_get(h, sc, &r), 0);
	a = r.span.base;
	KUNIT_ASSERT_EQ(test, kgc_mheap_test_put(h, a, 10, 0), 0);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 1UL);
	KUNIT_EXPECT_EQ(test, c->nr_cached, 0UL);

	KUNIT_ASSERT_EQ(test, kgc_mheap_test_get(h, sc, &r), 0);
	KUNIT_EXPECT_EQ(test, r.span.base, a);
	KUNIT_EXPECT_EQ(test, r.span.freeindex, 10U);
	KUNIT_EXPECT_EQ(test, r.span.allocbits[0], 0x3ffULL);
	KUNIT_EXPECT_EQ(test, r.span.flags, 0U);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 0UL);
	KUNIT_EXPECT_EQ(test, c->nr_cached, 1UL);

	/* Exhausted: full list; the next refill carves a new span. */
	KUNIT_ASSERT_EQ(test, kgc_mheap_test_put(h, a, r.span.nelems, 0), 0);
	KUNIT_EXPECT_EQ(test, c->nr_full, 1UL);
	KUNIT_ASSERT_EQ(test, kgc_mheap_test_get(h, sc, &r), 0);
	b = r.span.base;
	KUNIT_EXPECT_NE(test, a, b);
	KUNIT_EXPECT_EQ(test, r.span.freeindex, 0U);

	/* Untouched: straight back to the page heap. */
	KUNIT_ASSERT_EQ(test, kgc_mheap_test_put(h, b, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, h->nr_spans, 1UL);
	KUNIT_EXPECT_EQ(test, c->nr_partial, 0UL);
	kgc_mheap_destroy(h);
}

/*
 * A discarded span's pages are dirty: the span carved from them next must
 * tell user space to zero its objects.
 */
static void kgc_mheap_test_discard_needzero(struct kunit *test)
{
	struct kgc_mheap *h = kgc_mheap_test_new(test, 1);
	u32 sc = KGC_SPANCLASS(9, 1);
	struct kgc_refill r;
	u64 a;

	KUNIT_ASSERT_EQ(test, kgc_mheap_test_get(h, sc, &r), 0);
	a = r.span.base;
	KUNIT_ASSERT_EQ(test, kgc_mheap_test_put(h, a, 7, KGC_REFILL_DISCARD),
			0);
	KUNIT_EXPECT_EQ(test, h->nr_spans, 0UL);
	KUNIT_ASSERT_EQ(test, kgc_mheap_test_get(h, sc, &r), 0);
	KUNIT_EXPECT_EQ(test, r.span.base, a);
	KUNIT_EXPECT_EQ(test, r.span.flags, (u32)KGC_SPAN_NEEDZERO);
	kgc_mheap_destroy(h);
}

/*
 * Bad input from user space: unknown span classes, foreign or interior
 * addresses, double returns, freeindex out of range, reserved fields.
 */
static void kgc_mheap_test_refill_rejects_bad_input(struct kunit *test)
{
	struct kgc_mheap *h = kgc_mheap_test_new(test, 1);
	u32 sc = KGC_SPANCLASS(3, 0);
	struct kgc_refill r;
	u64 a;

	KUNIT_EXPECT_EQ(test, kgc_mheap_test_get(h, 0, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, kgc_mheap_test_get(h, 1, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, kgc_mheap_test_get(h, KGC_NR_SPANCLASSES, &r),
			-EINVAL);
	KUNIT_ASSERT_EQ(test, kgc_mheap_test_get(h, sc, &r), 0);
	a = r.span.base;
	KUNIT_EXPECT_EQ(test, kgc_mheap_test_put(h, a + 32, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, kgc_mheap_test_put(h, 0x1000, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, kgc_mheap_test_put(h, a, r.span.nelems + 1, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, kgc_mheap_test_put(h, a, 0, 0x80), -EINVAL);
	memset(&r, 0, sizeof(r));
	r.spanclass = sc;
	r.resv[1] = 1;
	KUNIT_EXPECT_EQ(test, kgc_mheap_refill(h, &r), -EINVAL);
	memset(&r, 0, sizeof(r));
	r.spanclass = KGC_NO_SPANCLASS;
	KUNIT_EXPECT_EQ(test, kgc_mheap_refill(h, &r), -EINVAL);

	KUNIT_EXPECT_EQ(test, kgc_mheap_test_put(h, a, 4, 0), 0);
	/* Returned twice: no longer cached. */
	KUNIT_EXPECT_EQ(test, kgc_mheap_test_put(h, a, 4, 0), -EINVAL);
	kgc_mheap_destroy(h);
}

/*
 * Large objects: page-rounded one-object spans; explicit free only of a
 * live large object's base; a full heap gives -ENOMEM, an impossible size
 * -E2BIG.
 */
static void kgc_mheap_test_large_objects(struct kunit *test)
{
	struct kgc_mheap *h = kgc_mheap_test_new(test, 1);
	struct kgc_large l = { .size = KGC_MAX_SMALL_SIZE + 1 };
	bool nz;

	KUNIT_ASSERT_EQ(test, kgc_mheap_alloc_large(h, &l, &nz, true), 0);
	KUNIT_EXPECT_EQ(test, l.npages, 5ULL);
	KUNIT_EXPECT_FALSE(test, nz);
	KUNIT_EXPECT_EQ(test, kgc_mheap_free(h, l.addr + 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, kgc_mheap_free(h, l.addr), 0);
	KUNIT_EXPECT_EQ(test, kgc_mheap_free(h, l.addr), -EINVAL);
	KUNIT_EXPECT_EQ(test, h->nr_large, 0UL);

	l = (struct kgc_large){ .size = KGC_MAX_SMALL_SIZE };
	KUNIT_EXPECT_EQ(test, kgc_mheap_alloc_large(h, &l, &nz, true), -EINVAL);
	l = (struct kgc_large){ .size = KGC_ARENA_SIZE + 1 };
	KUNIT_EXPECT_EQ(test, kgc_mheap_alloc_large(h, &l, &nz, true), -E2BIG);
	l = (struct kgc_large){ .size = KGC_ARENA_SIZE };
	KUNIT_EXPECT_EQ(test, kgc_mheap_alloc_large(h, &l, &nz, true), 0);
	l = (struct kgc_large){ .size = 64 << 10 };
	KUNIT_EXPECT_EQ(test, kgc_mheap_alloc_large(h, &l, &nz, true), -ENOMEM);
	l = (struct kgc_large){ .size = 64 << 10, .flags = 2 };
	KUNIT_EXPECT_EQ(test, kgc_mheap_alloc_large(h, &l, &nz, true), -EINVAL);
	kgc_mheap_destroy(h);
}

/* The heap grows arena by arena and never past its reservation. */
static void kgc_mheap_test_grows_by_arenas(struct kunit *test)
{
	struct kgc_mheap *h = kgc_mheap_test_new(test, 3);
	struct kgc_large l = { .size = KGC_ARENA_SIZE + KGC_PAGE_SIZE };
	struct kgc_stats st = {};
	bool nz;

	KUNIT_ASSERT_EQ(test, kgc_mheap_alloc_large(h, &l, &nz, true), 0);
	KUNIT_EXPECT_EQ(test, h->narenas, 2UL);
	KUNIT_ASSERT_EQ(test, kgc_mheap_alloc_large(h, &l, &nz, true), -ENOMEM);
	kgc_mheap_stats(h, &st);
	KUNIT_EXPECT_EQ(test, st.heap_sys, 2ULL * KGC_ARENA_SIZE);
	KUNIT_EXPECT_EQ(test, st.large_objects, 1ULL);
	KUNIT_EXPECT_EQ(test, st.heap_inuse, (u64)KGC_ARENA_SIZE + KGC_PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, st.heap_idle + st.heap_inuse, st.heap_sys);
	kgc_mheap_destroy(h);
}

static struct kunit_case kgc_mheap_test_cases[] = {
	KUNIT_CASE(kgc_mheap_test_first_refill),
	KUNIT_CASE(kgc_mheap_test_central_transitions),
	KUNIT_CASE(kgc_mheap_test_discard_needzero),
	KUNIT_CASE(kgc_mheap_test_refill_rejects_bad_input),
	KUNIT_CASE(kgc_mheap_test_large_objects),
	KUNIT_CASE(kgc_mheap_test_grows_by_arenas),
	{}
};

static struct kunit_suite kgc_mheap_test_suite = {
	.name = "kgc_mheap",
	.test_cases = kgc_mheap_test_cases,
};

kunit_test_suite(kgc_mheap_test_suite);

#endif /* _KGC_MHEAP_TEST_H */
