/* SPDX-License-Identifier: (LGPL-2.1 OR MIT) */
/*
 * sizeclass.h - object size to size class, as in Go's sizeclasses.go.
 *
 * The classes themselves come from the uapi header (KGC_CLASS_SIZES, KGC_CLASS_NPAGES),
 * shared with the kernel; sizeclass.c derives the lookup tables from it.
 */
#ifndef KGC_SIZECLASS_H
#define KGC_SIZECLASS_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kgc.h>

/* Sizes up to this are looked up in 8-byte steps, larger in 128-byte steps. */
#define KGC_SMALL_SIZE_MAX	1024
#define KGC_SMALL_SIZE_DIV	8
#define KGC_LARGE_SIZE_DIV	128

extern const uint32_t kgc_class_to_size[KGC_NR_SIZE_CLASSES];
extern const uint32_t kgc_class_to_npages[KGC_NR_SIZE_CLASSES];
extern uint8_t kgc_size_to_class8[KGC_SMALL_SIZE_MAX / KGC_SMALL_SIZE_DIV + 1];
extern uint8_t kgc_size_to_class128[(KGC_MAX_SMALL_SIZE - KGC_SMALL_SIZE_MAX) /
				    KGC_LARGE_SIZE_DIV + 1];

void kgc_sizeclass_init(void);

/* Objects a span of the class holds. */
static inline uint32_t kgc_class_nelems(uint32_t sizeclass)
{
	return (uint32_t)(kgc_class_to_npages[sizeclass] * KGC_PAGE_SIZE /
			  kgc_class_to_size[sizeclass]);
}

/*
 * kgc_size_to_sizeclass() - the smallest class that holds @size bytes
 * @size: 1 to KGC_MAX_SMALL_SIZE
 */
static inline uint32_t kgc_size_to_sizeclass(size_t size)
{
	if (size <= KGC_SMALL_SIZE_MAX - 8)
		return kgc_size_to_class8[(size + KGC_SMALL_SIZE_DIV - 1) /
					  KGC_SMALL_SIZE_DIV];
	return kgc_size_to_class128[(size - KGC_SMALL_SIZE_MAX +
				     KGC_LARGE_SIZE_DIV - 1) /
				    KGC_LARGE_SIZE_DIV];
}

#endif /* KGC_SIZECLASS_H */
