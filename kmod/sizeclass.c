// SPDX-License-Identifier: GPL-2.0
/*
 * sizeclass.c - size classes.
 *
 * Small objects (up to KGC_MAX_SMALL_SIZE) are rounded up to one of
 * KGC_NR_SIZE_CLASSES - 1 sizes; class 0 stands for large objects, which get
 * a span of their own. The trade-off, as in Go and tcmalloc: more classes
 * waste less memory inside objects but spread a program's objects over more
 * partly used spans. kgc's rules (tools/mksizeclasses.py):
 *
 *  - objects of 16 bytes or more are 16-byte aligned, as malloc's are, so
 *    the smallest size a request can take is its size rounded up to 8
 *    (below 16) or 16 bytes;
 *  - between 2^k and 2^(k+1) classes are 2^k / 8 apart, so no class wastes
 *    more than 1/8 of an object beyond that rounding;
 *  - a span is the fewest 8 KiB pages whose tail (bytes after the last whole
 *    object) is at most 1/8 of the span;
 *  - a class whose span holds as many objects as the next larger class's
 *    span of the same length is dropped;
 *  - then a class of at most 1 KiB takes more pages, up to 8, until its
 *    span holds at least 64 objects: a refill is a call into the kernel
 *    (or a reserve span copied in), so a span must hold enough objects
 *    to pay for it. Go keeps these spans at one page, refilling from
 *    mcentral in user space.
 *
 * That gives 66 small classes. The KUnit suite below checks the waste
 * bounds and the 64 objects for every class, so a hand edit of the table
 * cannot slip through.
 */
#include "sizeclass.h"

/* Bytes per object of each size class; class 0 (large) is 0. */
const u32 kgc_class_size[KGC_NR_SIZE_CLASSES] = KGC_CLASS_SIZES;

/* Heap pages per span of each size class; class 0 (large) is 0. */
const u8 kgc_class_npages[KGC_NR_SIZE_CLASSES] = KGC_CLASS_NPAGES;

#ifdef __KERNEL__
#if IS_ENABLED(CONFIG_KUNIT)
#include "sizeclass-test.h"
#endif
#endif
