// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * sizeclass.c - the lookup tables built from the uapi X-macro: every size
 * maps to the smallest class that holds it, classes are aligned, and the
 * table is what the kernel will assume.
 */
#include "internal.h"
#include "tap.h"

static void test_every_size_gets_smallest_class(void)
{
	size_t size;

	kgc_sizeclass_init();
	for (size = 1; size <= KGC_MAX_SMALL_SIZE; size++) {
		uint32_t c = kgc_size_to_sizeclass(size);

		if (c < 1 || c >= KGC_NR_SIZE_CLASSES ||
		    kgc_class_to_size[c] < size ||
		    (c > 1 && kgc_class_to_size[c - 1] >= size)) {
			tap_fail(__FILE__, __LINE__, "size %zu -> class %u (%u bytes)",
				 size, c, c < KGC_NR_SIZE_CLASSES ?
				 kgc_class_to_size[c] : 0);
			return;
		}
	}
}

static void test_sizes_from_16_are_16_aligned(void)
{
	size_t size;

	kgc_sizeclass_init();
	for (size = 16; size <= KGC_MAX_SMALL_SIZE; size++) {
		uint32_t c = kgc_size_to_sizeclass(size);

		if (kgc_class_to_size[c] % 16) {
			tap_fail(__FILE__, __LINE__, "size %zu -> %u bytes", size,
				 kgc_class_to_size[c]);
			return;
		}
	}
	CHECK_EQ(kgc_class_to_size[kgc_size_to_sizeclass(1)], 8);
	CHECK_EQ(kgc_class_to_size[kgc_size_to_sizeclass(8)], 8);
	CHECK_EQ(kgc_class_to_size[kgc_size_to_sizeclass(9)], 16);
	CHECK_EQ(kgc_class_to_size[kgc_size_to_sizeclass(1024)], 1024);
	CHECK_EQ(kgc_class_to_size[kgc_size_to_sizeclass(1025)], 1152);
	CHECK_EQ(kgc_class_to_size[kgc_size_to_sizeclass(32768)], 32768);
}

static void test_table_shape(void)
{
	uint32_t c;

	CHECK_EQ(kgc_class_to_size[0], 0);
	CHECK_EQ(kgc_class_to_size[KGC_NR_SIZE_CLASSES - 1], KGC_MAX_SMALL_SIZE);
	for (c = 1; c < KGC_NR_SIZE_CLASSES; c++) {
		uint32_t size = kgc_class_to_size[c];
		uint32_t n = kgc_class_nelems(c);

		CHECK(size % 8 == 0);
		CHECK(c == 1 || size > kgc_class_to_size[c - 1]);
		CHECK(size <= KGC_SMALL_SIZE_MAX || size % KGC_LARGE_SIZE_DIV == 0);
		CHECK(n >= 1 && n <= KGC_SPAN_MAX_OBJS);
		CHECK(kgc_class_to_npages[c] >= 1);
		/* Worst-case tail waste of a span stays at most 12.5%. */
		CHECK((uint64_t)kgc_class_to_npages[c] * KGC_PAGE_SIZE -
		      (uint64_t)n * size <=
		      (uint64_t)kgc_class_to_npages[c] * KGC_PAGE_SIZE / 8);
	}
	CHECK_EQ(kgc_class_nelems(1), KGC_SPAN_MAX_OBJS);
	CHECK_EQ(KGC_SPANCLASS_SIZECLASS(KGC_TINY_SPANCLASS), 2);
	CHECK_EQ(KGC_SPANCLASS_NOSCAN(KGC_TINY_SPANCLASS), 1);
	CHECK_EQ(kgc_class_to_size[2], KGC_TINY_SIZE);
}

TAP_MAIN(
	TAP_CASE(test_every_size_gets_smallest_class),
	TAP_CASE(test_sizes_from_16_are_16_aligned),
	TAP_CASE(test_table_shape),
)
