/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the kselftests that go through libkgc (alloc_test,
 * threads_test): the heap fixture and object bookkeeping.
 */
#ifndef _KGC_LIB_UTIL_H
#define _KGC_LIB_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kgc.h>
#include <linux/kgc.h>

/* Address space reserved per test heap: small, only touched pages count. */
#define TEST_HEAP_RESERVE	(256UL << 20)

/*
 * kgc_init() for a test: no environment (the results must not depend on
 * the caller's KGC_*), a small reservation.
 */
static inline int test_heap_init(size_t reserve)
{
	KGC_OPTS(opts, .heap_reserve = reserve, .flags = KGC_INIT_NOENV);

	return kgc_init(&opts);
}

/*
 * FIXTURE_SETUP body: a fresh heap, or SKIP when there is no kgc.ko.
 * The 6.1 harness still runs the test body after a SKIP in the setup, so
 * bodies start with HEAP_REQUIRED().
 */
#define HEAP_SETUP(self, reserve) do {					\
	int _ret = test_heap_init(reserve);				\
	if (_ret == -ENOENT)						\
		SKIP(return, "%s", kgc_last_error());			\
	ASSERT_EQ(0, _ret) TH_LOG("%s", kgc_last_error());		\
	(self)->ready = true;						\
} while (0)

#define HEAP_REQUIRED() do {						\
	if (!self->ready)						\
		return;							\
} while (0)

static inline struct kgc_heap_stats read_stats(void)
{
	struct kgc_heap_stats st;

	memset(&st, 0, sizeof(st));
	st.sz = sizeof(st);
	if (kgc_read_stats(&st))
		st.sz = 0;	/* callers assert on sz */
	return st;
}

/* Byte i of an object tagged @tag: any object's contents are distinct. */
static inline unsigned char pattern(unsigned int tag, size_t i)
{
	return (unsigned char)(tag * 131 + i * 31 + 7);
}

static inline void fill(void *p, size_t size, unsigned int tag)
{
	unsigned char *b = p;
	size_t i;

	for (i = 0; i < size; i++)
		b[i] = pattern(tag, i);
}

static inline bool verify(const void *p, size_t size, unsigned int tag)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < size; i++)
		if (b[i] != pattern(tag, i))
			return false;
	return true;
}

static inline bool all_zero(const void *p, size_t size)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < size; i++)
		if (b[i])
			return false;
	return true;
}

struct obj {
	unsigned char *p;
	size_t size;
};

static inline int obj_cmp(const void *a, const void *b)
{
	const struct obj *x = a, *y = b;

	return x->p < y->p ? -1 : x->p > y->p;
}

/* Sort @objs by address; return the index of the first overlap, or -1. */
static inline long first_overlap(struct obj *objs, size_t n)
{
	size_t i;

	qsort(objs, n, sizeof(*objs), obj_cmp);
	for (i = 1; i < n; i++)
		if (objs[i - 1].p + objs[i - 1].size > objs[i].p)
			return (long)i;
	return -1;
}

/* The classes, from the shared table. */
static const unsigned int class_size[KGC_NR_SIZE_CLASSES] = KGC_CLASS_SIZES;

/* The slot a small object of @size takes: its size class's size. */
static inline unsigned int slot_size(size_t size)
{
	unsigned int c;

	for (c = 1; c < KGC_NR_SIZE_CLASSES; c++)
		if (class_size[c] >= size)
			return class_size[c];
	return 0;
}

#endif /* _KGC_LIB_UTIL_H */
