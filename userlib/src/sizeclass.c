// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * sizeclass.c - size class lookup tables.
 *
 * The size classes are defined once, in the uapi header's
 * KGC_CLASS_SIZES/KGC_CLASS_NPAGES tables, which the kernel uses too: the class of a
 * span is part of the contract. From it this file builds Go's two lookup
 * tables (runtime/sizeclasses.go): size_to_class8 for sizes up to 1024
 * bytes in 8-byte steps and size_to_class128 above that in 128-byte steps,
 * each entry the smallest class whose objects hold every size of its step.
 * Every class above 1024 bytes is a multiple of 128 and every class from 16
 * bytes on a multiple of 16, so one table load gives the exact class and
 * objects of 16 bytes or more are 16-byte aligned (span bases are
 * page-aligned).
 *
 * The tables are filled once, by kgc_init() (pthread_once), rather than
 * written out here, so that nothing but the X-macro is the source of truth.
 */
#include <pthread.h>

#include "internal.h"

const uint32_t kgc_class_to_size[KGC_NR_SIZE_CLASSES] = KGC_CLASS_SIZES;

const uint32_t kgc_class_to_npages[KGC_NR_SIZE_CLASSES] = KGC_CLASS_NPAGES;

uint8_t kgc_size_to_class8[KGC_SMALL_SIZE_MAX / KGC_SMALL_SIZE_DIV + 1];
uint8_t kgc_size_to_class128[(KGC_MAX_SMALL_SIZE - KGC_SMALL_SIZE_MAX) /
			     KGC_LARGE_SIZE_DIV + 1];

_Static_assert(KGC_NR_SIZE_CLASSES < 256, "classes must fit a uint8_t");

/* The smallest class (1 and up) whose objects hold @size bytes. */
static uint8_t class_for(size_t size)
{
	uint32_t c;

	for (c = 1; c < KGC_NR_SIZE_CLASSES; c++)
		if (kgc_class_to_size[c] >= size)
			return (uint8_t)c;
	return 0;	/* not reached for size <= KGC_MAX_SMALL_SIZE */
}

static void sizeclass_build(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kgc_size_to_class8); i++)
		kgc_size_to_class8[i] = class_for(i * KGC_SMALL_SIZE_DIV);
	for (i = 0; i < ARRAY_SIZE(kgc_size_to_class128); i++)
		kgc_size_to_class128[i] =
			class_for(KGC_SMALL_SIZE_MAX + i * KGC_LARGE_SIZE_DIV);
	/* Size 0 is never looked up; keep the entry a real class. */
	kgc_size_to_class8[0] = 1;
}

/**
 * kgc_sizeclass_init() - fill the lookup tables (idempotent, thread-safe)
 */
void kgc_sizeclass_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, sizeclass_build);
}
