/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for the device's handshake and ioctl table. Included at the
 * end of dev.c.
 */
#ifndef _KGC_DEV_TEST_H
#define _KGC_DEV_TEST_H

#include <kunit/test.h>

static struct kgc_heap *kgc_dev_test_heap(struct kunit *test)
{
	struct kgc_heap *heap = kunit_kzalloc(test, sizeof(*heap), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, heap);
	mutex_init(&heap->setup_lock);
	heap->pgoff = 3UL << (KGC_WINDOW_SHIFT - PAGE_SHIFT);
	return heap;
}

/* A good handshake reports features, ioctls and the heap's windows. */
static void kgc_dev_test_handshake_answers(struct kunit *test)
{
	struct kgc_heap *heap = kgc_dev_test_heap(test);
	struct kgc_api a = { .api = KGC_API, .features = KGC_FEATURE_HEAP };

	KUNIT_ASSERT_EQ(test, kgc_api_handshake(heap, &a), 0);
	KUNIT_EXPECT_EQ(test, a.api, KGC_API);
	KUNIT_EXPECT_EQ(test, a.features, KGC_FEATURES_ALL);
	KUNIT_EXPECT_EQ(test, a.ioctls, KGC_IOCTLS_SUPPORTED);
	KUNIT_EXPECT_EQ(test, a.heap_offset, 3ULL << KGC_WINDOW_SHIFT);
	KUNIT_EXPECT_EQ(test, a.bitmap_offset,
			(3ULL << KGC_WINDOW_SHIFT) + KGC_BITMAP_WINDOW);
	KUNIT_EXPECT_EQ(test, a.page_size, (u32)KGC_PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, a.nr_size_classes, (u32)KGC_NR_SIZE_CLASSES);
	KUNIT_EXPECT_EQ(test, a.max_heap_size, (u64)kgc_max_heap_mb << 20);
	KUNIT_EXPECT_TRUE(test, heap->api_done);
	/* The handshake is done once. */
	a = (struct kgc_api){ .api = KGC_API };
	KUNIT_EXPECT_EQ(test, kgc_api_handshake(heap, &a), -EINVAL);
}

/* Wrong version, unknown features and reserved bits are refused. */
static void kgc_dev_test_handshake_rejects_bad_input(struct kunit *test)
{
	struct kgc_heap *heap = kgc_dev_test_heap(test);
	struct kgc_api a = { .api = KGC_API + 1 };

	KUNIT_EXPECT_EQ(test, kgc_api_handshake(heap, &a), -EINVAL);
	a = (struct kgc_api){ .api = KGC_API, .features = 1ULL << 63 };
	KUNIT_EXPECT_EQ(test, kgc_api_handshake(heap, &a), -EINVAL);
	a = (struct kgc_api){ .api = KGC_API, .resv[1] = 1 };
	KUNIT_EXPECT_EQ(test, kgc_api_handshake(heap, &a), -EINVAL);
	KUNIT_EXPECT_FALSE(test, heap->api_done);
}

/*
 * Dispatch: every supported command is found, also with another struct
 * size (size-versioned structs); other types, numbers or directions are not
 * (ENOTTY).
 */
static void kgc_dev_test_ioctl_lookup(struct kunit *test)
{
	unsigned int nr, cmd;

	for (nr = 0; nr < 64; nr++) {
		bool supported = KGC_IOCTLS_SUPPORTED & (1ULL << nr);

		cmd = _IOWR(KGC_IOC_MAGIC, nr, u64);
		if (nr < ARRAY_SIZE(kgc_ioctls) && kgc_ioctls[nr].fn)
			cmd = kgc_ioctls[nr].cmd;
		KUNIT_EXPECT_EQ(test, !!kgc_ioctl_lookup(cmd), supported);
	}
	cmd = _IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_REFILL, struct kgc_stats);
	KUNIT_EXPECT_NOT_NULL(test, kgc_ioctl_lookup(cmd));
	cmd = _IOR(KGC_IOC_MAGIC, KGC_IOC_NR_REFILL, struct kgc_refill);
	KUNIT_EXPECT_NULL(test, kgc_ioctl_lookup(cmd));
	KUNIT_EXPECT_NULL(test, kgc_ioctl_lookup(_IOWR('x', KGC_IOC_NR_API,
						       struct kgc_api)));
	KUNIT_EXPECT_NULL(test, kgc_ioctl_lookup(_IO(KGC_IOC_MAGIC, 0x3f)));
}

static struct kunit_case kgc_dev_test_cases[] = {
	KUNIT_CASE(kgc_dev_test_handshake_answers),
	KUNIT_CASE(kgc_dev_test_handshake_rejects_bad_input),
	KUNIT_CASE(kgc_dev_test_ioctl_lookup),
	{}
};

static struct kunit_suite kgc_dev_test_suite = {
	.name = "kgc_dev",
	.test_cases = kgc_dev_test_cases,
};

kunit_test_suite(kgc_dev_test_suite);

#endif /* _KGC_DEV_TEST_H */
