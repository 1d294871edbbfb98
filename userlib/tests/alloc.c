// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * alloc.c - the allocation entry points over the fake kernel: every size
 * class, zeroing of recycled memory, spans given back at refill, the tiny
 * allocator, precise/conservative/noscan pointer bits, large objects and
 * kgc_free(), out of memory, bad sizes, a misbehaving kernel, counters.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_kernel.h"
#include "internal.h"
#include "tap.h"

struct obj {
	unsigned char *p;
	size_t size;
};

static int cmp_obj(const void *a, const void *b)
{
	const struct obj *x = a, *y = b;

	return x->p < y->p ? -1 : x->p > y->p;
}

/* Objects sorted by address must not overlap. */
static bool no_overlap(struct obj *objs, size_t n)
{
	size_t i;

	qsort(objs, n, sizeof(*objs), cmp_obj);
	for (i = 1; i < n; i++)
		if (objs[i - 1].p + objs[i - 1].size > objs[i].p) {
			tap_fail(__FILE__, __LINE__, "%p+%zu overlaps %p",
				 (void *)objs[i - 1].p, objs[i - 1].size,
				 (void *)objs[i].p);
			return false;
		}
	return true;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool in_heap(const void *p)
{
	return (uintptr_t)p >= fk.heap_base &&
	       (uintptr_t)p < fk.heap_base + fk.heap_len;
}

static bool ptrbit(const void *p, size_t word)
{
	size_t i = ((uintptr_t)p - kgc_heap.arena_start) / 8 + word;

	return kgc_heap.bitmap[i / 64] >> (i % 64) & 1;
}

static const uint64_t node_map[] = { 0x5 };	/* words 0 and 2 */
static const struct kgc_type node_type = { 24, node_map, "node", 0, 0 };
static const struct kgc_type plain_type = { 8, NULL, "plain", 0, 0 };

/* Every size class, scan and noscan: right span, aligned, zeroed, disjoint. */
static void test_every_size_class(void)
{
	static struct obj objs[4 * KGC_NR_SIZE_CLASSES * 2];
	size_t n = 0, i;
	uint32_t c;
	int scan;

	REQUIRE_EQ(fake_heap_init(), 0);
	for (scan = 0; scan < 2; scan++) {
		for (c = 1; c < KGC_NR_SIZE_CLASSES; c++) {
			size_t sizes[4] = {
				kgc_class_to_size[c - 1] + 1, kgc_class_to_size[c],
				kgc_class_to_size[c], kgc_class_to_size[c] - 1,
			};
			int k;

			for (k = 0; k < 4; k++) {
				size_t size = sizes[k];
				unsigned char *p;
				struct fake_span *s;

				if (!size || (!scan && size < KGC_TINY_SIZE))
					continue;
				p = scan ? kgc_alloc_conservative(size) :
					   kgc_alloc_noscan(size);
				REQUIRE(p != NULL);
				s = fake_span_of((uintptr_t)p);
				REQUIRE(s != NULL);
				CHECK_EQ(s->elemsize, kgc_class_to_size[c]);
				CHECK_EQ(KGC_SPANCLASS_NOSCAN(s->spanclass), !scan);
				CHECK(((uintptr_t)p - s->base) % s->elemsize == 0);
				CHECK(size < 16 || (uintptr_t)p % 16 == 0);
				CHECK((uintptr_t)p % 8 == 0);
				CHECK(all_zero(p, s->elemsize));
				memset(p, (int)(n & 0xff) | 1, size);
				objs[n].p = p;
				objs[n].size = size;
				n++;
			}
		}
	}
	for (i = 0; i < n; i++)
		if (objs[i].p[0] != ((i & 0xff) | 1) ||
		    objs[i].p[objs[i].size - 1] != ((i & 0xff) | 1)) {
			tap_fail(__FILE__, __LINE__, "object %zu overwritten", i);
			break;
		}
	CHECK(no_overlap(objs, n));
	kgc_shutdown();
}

/*
 * Spans with holes (a swept span) and scribbled free objects: the library
 * takes only free objects, zeroes them (KGC_SPAN_NEEDZERO), and gives each
 * full span back with its final freeindex in the refill that replaces it.
 */
static void test_needzero_and_refill(void)
{
	unsigned char *first, *p;
	struct fake_span *s0;
	unsigned int i, n, nfree = 0;

	REQUIRE_EQ(fake_heap_init(), 0);
	fk.prealloc = 0x9249249249249249ULL;	/* every third object taken */
	first = kgc_alloc_noscan(48);
	REQUIRE(first != NULL);
	s0 = fake_span_of((uintptr_t)first);
	REQUIRE(s0 != NULL);
	for (i = 0; i < s0->nelems; i++)
		nfree += !(s0->allocbits[i / 64] >> (i % 64) & 1);
	CHECK(nfree > 100 && nfree < 120);
	n = 1;
	for (i = 0; i < 3 * s0->nelems; i++) {
		struct fake_span *s;
		uint32_t idx;

		p = kgc_alloc_noscan(48);
		REQUIRE(p != NULL);
		s = fake_span_of((uintptr_t)p);
		idx = (uint32_t)(((uintptr_t)p - s->base) / s->elemsize);
		if (s->allocbits[idx / 64] >> (idx % 64) & 1) {
			tap_fail(__FILE__, __LINE__,
				 "object %u of span %llx was allocated", idx,
				 (unsigned long long)s->base);
			return;
		}
		if (!all_zero(p, 48)) {
			tap_fail(__FILE__, __LINE__, "object %u not zeroed", idx);
			return;
		}
		memset(p, 0x77, 48);
		n += s == s0;
	}
	/* Exactly the free objects of the first span were used. */
	CHECK_EQ(n, nfree);
	REQUIRE(fk.nputs >= 1);
	CHECK(fk.puts[0].base == s0->base);
	CHECK_EQ(fk.puts[0].freeindex, s0->nelems);
	CHECK_EQ(fk.puts[0].spanclass, KGC_SPANCLASS(4, 1));
	kgc_shutdown();
}

/* Whether all @n bytes at @p are @c. */
static bool all_byte(const unsigned char *p, size_t n, unsigned char c)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

/*
 * kgc_alloc_uninit() takes objects of a reused noscan span without
 * clearing them; the first kgc_alloc_noscan() of the class then zeroes its
 * object and the rest of the span, and leaves the uninitialised objects
 * handed out before it (and filled by their owner) alone. Tiny ones come
 * zeroed.
 */
static void test_uninit(void)
{
	unsigned char *u[4], *z, *p, *t;
	unsigned int i;

	REQUIRE_EQ(fake_heap_init(), 0);
	fk.prealloc = 0x9249249249249249ULL;	/* every third object taken */
	for (i = 0; i < 4; i++) {
		u[i] = kgc_alloc_uninit(48);
		REQUIRE(u[i] != NULL);
		/* Old data: no zeroing took place. */
		CHECK(all_byte(u[i], 48, FAKE_SCRIBBLE));
		memset(u[i], 0x40 + i, 48);
	}
	z = kgc_alloc_noscan(48);
	REQUIRE(z != NULL);
	CHECK(all_zero(z, 48));
	CHECK(fake_span_of((uintptr_t)z) == fake_span_of((uintptr_t)u[0]));
	for (i = 0; i < 4; i++)
		CHECK(all_byte(u[i], 48, 0x40 + i));
	/* The rest of the span was zeroed with it. */
	p = kgc_alloc_uninit(48);
	REQUIRE(p != NULL);
	CHECK(all_zero(p, 48));
	t = kgc_alloc_uninit(12);
	REQUIRE(t != NULL);
	CHECK(all_zero(t, 12));
	CHECK(kgc_alloc_uninit(0) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "kgc_alloc_uninit: size is 0");
	kgc_shutdown();
}

/*
 * Zeroing of a reused span (mcache.c, mspan_zero_free()) in every class up
 * to 1 KiB: in a scribbled span each object comes out zeroed over its whole
 * slot, and neither
 * the objects allocated before it nor the ones the kernel counts as
 * allocated (holes the library must not touch) lose a byte.
 */
static void test_needzero_every_class_to_1k(void)
{
	static unsigned char *objs[KGC_PAGE_SIZE / 8];
	uint64_t taken[KGC_ALLOC_WORDS];
	unsigned int c, i, n;

	REQUIRE_EQ(fake_heap_init(), 0);
	fk.prealloc = 0x9249249249249249ULL;	/* every third object taken */
	for (c = 1; c < KGC_NR_SIZE_CLASSES &&
	     kgc_class_to_size[c] <= 1024; c++) {
		size_t size = kgc_class_to_size[c];
		struct fake_span *s;
		unsigned char *p;

		p = kgc_alloc_conservative(size);
		REQUIRE(p != NULL);
		s = fake_span_of((uintptr_t)p);
		REQUIRE(s != NULL);
		CHECK_EQ(s->elemsize, size);
		CHECK(all_zero(p, size));
		memcpy(taken, s->allocbits, sizeof(taken));
		for (i = 0; i < s->nelems; i++)
			if (taken[i / 64] >> (i % 64) & 1)
				memset((void *)(uintptr_t)(s->base + i * size),
				       0xee, size);
		memset(p, 0x5a, size);
		objs[0] = p;
		for (n = 1; n < ARRAY_SIZE(objs); n++) {
			p = kgc_alloc_conservative(size);
			REQUIRE(p != NULL);
			if (fake_span_of((uintptr_t)p) != s)
				break;
			if (!all_zero(p, size)) {
				tap_fail(__FILE__, __LINE__,
					 "%zu-byte object not zeroed", size);
				return;
			}
			memset(p, 0x5a, size);
			objs[n] = p;
		}
		for (i = 0; i < n; i++)
			CHECK(all_byte(objs[i], size, 0x5a));
		for (i = 0; i < s->nelems; i++)
			if (taken[i / 64] >> (i % 64) & 1)
				CHECK(all_byte((unsigned char *)(uintptr_t)
					       (s->base + i * size), size,
					       0xee));
	}
	kgc_shutdown();
}

/*
 * A partly used span handed out again with freeindex where the last user
 * stopped, not a multiple of 64: allocation resumes right there.
 */
static void test_resume_at_unaligned_freeindex(void)
{
	unsigned char *objs[100];
	unsigned char *p;
	int i;

	REQUIRE_EQ(fake_heap_init(), 0);
	fk.reuse = true;
	for (i = 0; i < 70; i++) {
		objs[i] = kgc_alloc_noscan(64);
		REQUIRE(objs[i] != NULL);
		memset(objs[i], 0x33, 64);
	}
	/* Give the span back at freeindex 70 ... */
	REQUIRE_EQ(kgc_thread_detach(), 0);
	REQUIRE_EQ(fk.nputs, 1);
	CHECK_EQ(fk.puts[0].freeindex, 70);
	/* ... and get it back: object 70 is next, and it is zeroed. */
	p = kgc_alloc_noscan(64);
	CHECK(p == objs[0] + 70 * 64);
	CHECK(all_zero(p, 64));
	for (i = 0; i < 70; i++)
		CHECK(objs[i][0] == 0x33 && objs[i][63] == 0x33);
	kgc_shutdown();
}

static void test_tiny_packing(void)
{
	unsigned char *a, *b, *c, *d, *e, *f;
	struct fake_span *s;

	REQUIRE_EQ(fake_heap_init(), 0);
	a = kgc_alloc_noscan(8);
	b = kgc_alloc_noscan(4);
	c = kgc_alloc_noscan(4);
	REQUIRE(a && b && c);
	s = fake_span_of((uintptr_t)a);
	REQUIRE(s != NULL);
	CHECK_EQ(s->spanclass, KGC_TINY_SPANCLASS);
	CHECK((uintptr_t)a % 16 == 0);
	CHECK(b == a + 8);
	CHECK(c == a + 12);
	d = kgc_alloc_noscan(1);	/* full: the next block */
	REQUIRE(d != NULL);
	CHECK(d == a + 16);
	e = kgc_alloc_noscan(2);	/* 2-aligned after d */
	CHECK(e == d + 2);
	f = kgc_alloc_noscan(3);	/* odd: unaligned */
	CHECK(f == d + 5 - 1);
	/*
	 * 12 is 4-aligned: offset 8 + 12 > 16, so a block of its own; it
	 * leaves 4 bytes, d leaves 9: d stays the current block.
	 */
	a = kgc_alloc_noscan(12);
	CHECK(a == d + 16);
	b = kgc_alloc_noscan(8);	/* offset 7 -> 8, fits in d exactly */
	CHECK(b == d + 8);
	c = kgc_alloc_noscan(2);	/* d is full: a new current block */
	CHECK(c == d + 32);
	e = kgc_alloc_noscan(2);
	CHECK(e == c + 2);
	kgc_shutdown();
}

static void test_tiny_alignment_and_disjoint(void)
{
	static struct obj objs[20000];
	size_t i;

	REQUIRE_EQ(fake_heap_init(), 0);
	for (i = 0; i < ARRAY_SIZE(objs); i++) {
		size_t size = 1 + (i * 7 + i / 3) % 15;
		unsigned char *p = kgc_alloc_noscan(size);

		REQUIRE(p != NULL);
		CHECK(size % 8 || (uintptr_t)p % 8 == 0);
		CHECK(size % 4 || (uintptr_t)p % 4 == 0);
		CHECK(size % 2 || (uintptr_t)p % 2 == 0);
		if (!all_zero(p, size)) {
			tap_fail(__FILE__, __LINE__, "tiny object %zu not zero", i);
			return;
		}
		memset(p, (int)(i % 251) + 1, size);
		objs[i].p = p;
		objs[i].size = size;
	}
	for (i = 0; i < ARRAY_SIZE(objs); i++)
		if (objs[i].p[0] != (i % 251) + 1 ||
		    objs[i].p[objs[i].size - 1] != (i % 251) + 1) {
			tap_fail(__FILE__, __LINE__, "tiny object %zu overwritten", i);
			break;
		}
	CHECK(no_overlap(objs, ARRAY_SIZE(objs)));
	kgc_shutdown();
}

static void test_precise_bits(void)
{
	static const uint64_t big_map[] = { 0x2 };	/* word 1 of 2 */
	const struct kgc_type pair = { 16, big_map, "pair", 0, 0 };
	void **n1, **arr, **big;
	size_t w;

	REQUIRE_EQ(fake_heap_init(), 0);
	n1 = kgc_alloc(24, &node_type);	/* 32-byte slot */
	REQUIRE(n1 != NULL);
	CHECK(ptrbit(n1, 0) && !ptrbit(n1, 1) && ptrbit(n1, 2));
	CHECK(!ptrbit(n1, 3));	/* stale bit of the slot cleared */

	arr = kgc_alloc_array(&node_type, 5);	/* 120 bytes, 128 slot */
	REQUIRE(arr != NULL);
	for (w = 0; w < 16; w++)
		CHECK_EQ(ptrbit(arr, w), w < 15 && (w % 3) != 1);

	big = kgc_alloc_array(&pair, 2500);	/* 40000 bytes: large */
	REQUIRE(big != NULL);
	CHECK((uintptr_t)big % KGC_PAGE_SIZE == 0);
	for (w = 0; w < 5 * KGC_PAGE_SIZE / 8; w++)
		if (ptrbit(big, w) != (w < 5000 && w % 2 == 1)) {
			tap_fail(__FILE__, __LINE__, "large word %zu", w);
			break;
		}

	/* A type without pointers is noscan, and tiny when small. */
	n1 = kgc_alloc(8, &plain_type);
	REQUIRE(n1 != NULL);
	CHECK_EQ(fake_span_of((uintptr_t)n1)->spanclass, KGC_TINY_SPANCLASS);
	kgc_shutdown();
}

static void test_conservative_bits(void)
{
	unsigned char *p;
	size_t w;

	REQUIRE_EQ(fake_heap_init(), 0);
	p = kgc_alloc_conservative(40);	/* 48-byte slot */
	REQUIRE(p != NULL);
	for (w = 0; w < 6; w++)
		CHECK_EQ(ptrbit(p, w), w < 5);
	p = kgc_alloc_conservative(13);	/* 16-byte slot, 2 words */
	REQUIRE(p != NULL);
	CHECK(ptrbit(p, 0) && ptrbit(p, 1));
	CHECK_EQ(KGC_SPANCLASS_NOSCAN(fake_span_of((uintptr_t)p)->spanclass), 0);
	p = kgc_alloc_conservative(40000);	/* large, 5 pages */
	REQUIRE(p != NULL);
	for (w = 0; w < 5 * KGC_PAGE_SIZE / 8; w++)
		if (ptrbit(p, w) != (w < 5000)) {
			tap_fail(__FILE__, __LINE__, "large word %zu", w);
			break;
		}
	kgc_shutdown();
}

static void test_large_objects_and_free(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	unsigned char *p, *q, *small;
	int x;

	REQUIRE_EQ(fake_heap_init(), 0);
	p = kgc_alloc_noscan(100000);
	REQUIRE(p != NULL);
	CHECK(in_heap(p));
	CHECK((uintptr_t)p % KGC_PAGE_SIZE == 0);
	CHECK(all_zero(p, 100000));
	memset(p, 1, 100000);
	CHECK(fake_span_of((uintptr_t)p)->large);
	CHECK_EQ(KGC_SPANCLASS_NOSCAN(fake_span_of((uintptr_t)p)->spanclass), 1);
	q = kgc_alloc_noscan(KGC_MAX_SMALL_SIZE + 1);
	REQUIRE(q != NULL);
	CHECK(fake_span_of((uintptr_t)q)->large);
	CHECK_EQ(fk.large_allocs, 2);

	CHECK_EQ(kgc_free(NULL), 0);
	CHECK_EQ(kgc_free(p), 0);
	CHECK_EQ(fk.frees, 1);
	CHECK_EQ(kgc_free(p), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "freed already");
	CHECK_EQ(kgc_free(q + 8), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "not a large object");
	CHECK_EQ(kgc_free(&x), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "not an address in the kgc heap");

	small = kgc_alloc_noscan(KGC_MAX_SMALL_SIZE);	/* page-aligned */
	REQUIRE(small != NULL);
	CHECK((uintptr_t)small % KGC_PAGE_SIZE == 0);
	CHECK_EQ(kgc_free(small), -EINVAL);
	CHECK_EQ(errno, EINVAL);
	small = kgc_alloc_noscan(64);	/* first of a span: page-aligned */
	small = kgc_alloc_noscan(64);
	CHECK((uintptr_t)small % KGC_PAGE_SIZE == 64);
	CHECK_EQ(kgc_free(small), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "reclaimed by the collector");

	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.alloc_large, 2);
	CHECK_EQ(st.frees_large, 1);
	CHECK_EQ(st.large_objects, 1);
	kgc_shutdown();
}

static void test_bad_sizes(void)
{
	const struct kgc_type odd = { 12, node_map, "odd", 0, 0 };
	const struct kgc_type flagged = { 8, node_map, "flagged", 1, 0 };
	volatile size_t huge = SIZE_MAX;	/* hide it from -Walloc-size */

	REQUIRE_EQ(fake_heap_init(), 0);
	errno = 0;
	CHECK(kgc_alloc(0, &node_type) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "size is 0");
	CHECK(kgc_alloc_noscan(0) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(kgc_alloc_conservative(0) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(kgc_alloc(25, &node_type) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "not a multiple of the size 24");
	CHECK(kgc_alloc(8, NULL) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(kgc_alloc(12, &odd) == NULL);
	CHECK_STR_CONTAINS(kgc_last_error(), "non-zero multiple of 8");
	CHECK(kgc_alloc(8, &flagged) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(kgc_alloc_array(&node_type, 0) == NULL);
	CHECK_EQ(errno, EINVAL);

	errno = 0;
	CHECK(kgc_alloc_array(&node_type, SIZE_MAX / 8) == NULL);
	CHECK_EQ(errno, EOVERFLOW);
	CHECK_STR_CONTAINS(kgc_last_error(), "overflow");

	CHECK(kgc_alloc_noscan(huge) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK_STR_CONTAINS(kgc_last_error(), "more than the whole 64 MiB heap");
	CHECK(kgc_alloc_conservative((64 << 20) + 1) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK(kgc_alloc_array(&node_type, (64 << 20) / 24 + 1) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(fk.large_allocs, 0);	/* refused without a system call */
	kgc_shutdown();
}

static void test_out_of_memory(void)
{
	unsigned int i;
	void *p = NULL;

	REQUIRE_EQ(fake_heap_init(), 0);
	fk.max_pages = 3;
	/* 16-byte spans are one page of 512 objects: three fit. */
	for (i = 0; i < 4 * 512; i++) {
		p = kgc_alloc_noscan(16);
		if (!p)
			break;
	}
	CHECK(p == NULL);
	CHECK_EQ(i, 3 * 512);
	CHECK_EQ(errno, ENOMEM);
	CHECK_STR_CONTAINS(kgc_last_error(), "out of memory");
	/* The full span went back even though no new one came. */
	CHECK_EQ(fake_spans_cached(), 0);
	CHECK_EQ(fk.nputs, 3);
	/* Again: the same clean ENOMEM, not a span returned twice. */
	CHECK(kgc_alloc_noscan(16) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK(kgc_alloc_noscan(100000) == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK_STR_CONTAINS(kgc_last_error(), "no room for a 100000-byte object");
	/* Memory back: allocation works again. */
	fk.max_pages = 0;
	CHECK(kgc_alloc_noscan(16) != NULL);
	kgc_shutdown();
}

static void test_bad_kernel(void)
{
	REQUIRE_EQ(fake_heap_init(), 0);
	fk.bad_span = true;
	CHECK(kgc_alloc_noscan(100) == NULL);
	CHECK_EQ(errno, EPROTO);
	CHECK_STR_CONTAINS(kgc_last_error(), "bad span");
	fk.bad_span = false;
	fk.full_spans = true;
	CHECK(kgc_alloc_noscan(200) == NULL);
	CHECK_EQ(errno, EPROTO);
	CHECK_STR_CONTAINS(kgc_last_error(), "full spans");
	kgc_shutdown();
}

static void test_counters(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	unsigned long ioctls;
	int i;

	REQUIRE_EQ(fake_heap_init(), 0);
	ioctls = fk.ioctls;
	for (i = 0; i < 10; i++)
		CHECK(kgc_alloc(24, &node_type) != NULL);
	for (i = 0; i < 7; i++)
		CHECK(kgc_alloc_conservative(100) != NULL);
	for (i = 0; i < 5; i++)
		CHECK(kgc_alloc_noscan(3) != NULL);
	for (i = 0; i < 3; i++)
		CHECK(kgc_alloc_noscan(1000) != NULL);
	CHECK(kgc_alloc_noscan(50000) != NULL);
	CHECK(kgc_alloc_noscan(0) == NULL);	/* failures do not count */
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.alloc_precise, 10);
	CHECK_EQ(st.alloc_conservative, 7);
	CHECK_EQ(st.alloc_noscan, 9);
	CHECK_EQ(st.alloc_tiny, 5);
	CHECK_EQ(st.alloc_large, 1);
	/* Slot sizes 32, 112, one tiny block, 1024; seven whole pages. */
	CHECK_EQ(st.bytes_allocated,
		 10 * 32 + 7 * 112 + 16 + 3 * 1024 + 7 * KGC_PAGE_SIZE);
	CHECK_EQ(st.refills, 4);	/* 32 scan, 112 scan, 16 noscan, 1024 noscan */
	CHECK_EQ(st.span_returns, 0);
	CHECK_EQ(st.kernel_refills, fk.refills);
	CHECK_EQ(st.spans_cached, 4);
	CHECK_EQ(st.large_objects, 1);
	CHECK_EQ(st.threads, 1);
	/* Every ioctl the fake saw, plus open and three mmaps at init. */
	CHECK_EQ(st.syscalls, fk.ioctls + 4);
	/* Refills, the large object, the attach, both stats calls. */
	CHECK_EQ(fk.ioctls - ioctls, 4 + 1 + 1 + 2);
	kgc_shutdown();
}

/*
 * Noscan objects are counted by their spans (mspan_taken()): objects of
 * spans that left the cache, with some objects taken before they came
 * (every third) and spans that come back half used (reuse), plus those of
 * the cached spans, each exactly once, at its slot's size.
 */
static void test_counters_across_spans(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	uint64_t objs = 0, bytes = 0;
	int round, i;

	REQUIRE_EQ(fake_heap_init(), 0);
	fk.prealloc = 0x9249249249249249ULL;	/* every third object taken */
	fk.reuse = true;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 1000; i++) {
			CHECK(kgc_alloc_noscan(64) != NULL);
			CHECK(kgc_alloc_uninit(256) != NULL);
		}
		objs += 2000;
		bytes += 1000 * (64 + 256);
		REQUIRE_EQ(kgc_read_stats(&st), 0);
		CHECK(st.refills > 10);
		CHECK_EQ(st.alloc_noscan, objs);
		CHECK_EQ(st.bytes_allocated, bytes);
		/* The spans go back half used and come again (reuse). */
		REQUIRE_EQ(kgc_thread_detach(), 0);
		REQUIRE_EQ(kgc_read_stats(&st), 0);
		CHECK_EQ(st.alloc_noscan, objs);
		CHECK_EQ(st.bytes_allocated, bytes);
	}
	CHECK(st.span_returns > 20);
	CHECK_EQ(st.alloc_precise + st.alloc_conservative + st.alloc_tiny, 0);
	kgc_shutdown();
}

/*
 * Batched refills: a class that keeps needing spans gets 1, 2, 4, 8, then
 * 16 per system call; the reserve spans are used in the order they came,
 * the used-up ones go back with the next call, and thread exit (here:
 * shutdown's detach) gives back the rest untouched. A kernel without
 * KGC_FEATURE_REFILL_BATCH gets one call per span, as before.
 */
static void *batch_worker(void *arg)
{
	unsigned int *order_ok = arg, i;
	uintptr_t prev = 0;
	unsigned char *p;

	*order_ok = 1;
	for (i = 0; i < 40 * 170; i++) {
		p = kgc_alloc_noscan(48);
		if (!p) {
			*order_ok = 0;
			break;
		}
		memset(p, 0x5a, 48);
		/* Reserve spans in hand-out order: addresses only grow. */
		*order_ok &= (uintptr_t)p > prev;
		prev = (uintptr_t)p;
	}
	/*
	 * S1..S40 used, S40 still cached. Calls brought 1, 2, 4, 8, 16 and
	 * 16 spans (S1..S47), and carried back the 1, 2, 4, 8 and 16 used
	 * up before them; S32..S39 wait for the next call, S41..S47 in
	 * reserve.
	 */
	if (fk.refills != 6 || fk.more_spans != 1 + 3 + 7 + 15 + 15 ||
	    fk.nputs != 1 + 2 + 4 + 8 + 16 || fake_spans_cached() != 1 + 8 + 7)
		*order_ok = 0;
	return NULL;
}

static void test_batched_refills(void)
{
	/* 48-byte spans hold 170 objects: 40 spans' worth. */
	const unsigned int per = 170, nspans = 40;
	KGC_OPTS(opts, .heap_reserve = KGC_ARENA_SIZE,
		 .flags = KGC_INIT_NOENV | KGC_INIT_NOAUTOROOTS);
	unsigned int i, ok = 0;
	pthread_t t;

	REQUIRE_EQ(fake_heap_init(), 0);
	REQUIRE_EQ(pthread_create(&t, NULL, batch_worker, &ok), 0);
	pthread_join(t, NULL);
	CHECK_EQ(ok, 1);
	/* Thread exit gave back everything: used up, cached, reserve. */
	CHECK_EQ(fake_spans_cached(), 0);
	REQUIRE_EQ(fk.nputs, 47);
	for (i = 0; i < 39; i++)
		CHECK_EQ(fk.puts[i].freeindex, per);
	for (i = 40; i < 47; i++)
		CHECK_EQ(fk.puts[i].freeindex, 0);
	kgc_shutdown();

	/* The kernel may hand out fewer than asked. */
	REQUIRE_EQ(fake_heap_init(), 0);
	fk.more_cap = 2;
	for (i = 0; i < nspans * per; i++)
		REQUIRE(kgc_alloc_noscan(48) != NULL);
	/* 1 + 2 + 3 + 3 + ...: 15 calls for 40 spans. */
	CHECK_EQ(fk.refills, 15);
	kgc_shutdown();
	CHECK_EQ(fake_spans_cached(), 0);

	/* Out of memory in the middle of a batch: what fit, then ENOMEM. */
	REQUIRE_EQ(fake_heap_init(), 0);
	fk.max_pages = 10;
	for (i = 0; i < nspans * per; i++)
		if (!kgc_alloc_noscan(48))
			break;
	CHECK_EQ(i, 10 * per);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(fake_spans_cached(), 0);
	fk.max_pages = 0;
	CHECK(kgc_alloc_noscan(48) != NULL);
	kgc_shutdown();

	/* An older kernel: one span per call. */
	fake_kernel_install();
	fk.features_answer &= ~KGC_FEATURE_REFILL_BATCH;
	REQUIRE_EQ(kgc_init(&opts), 0);
	for (i = 0; i < nspans * per; i++)
		REQUIRE(kgc_alloc_noscan(48) != NULL);
	CHECK_EQ(fk.refills, nspans);
	CHECK_EQ(fk.more_spans, 0);
	kgc_shutdown();
	CHECK_EQ(fake_spans_cached(), 0);
}

/*
 * Painted spans (heapbits.c): the first precise object of a span writes
 * its bits into every free slot after it, and later objects with the same
 * bits write nothing. Every object, whatever came before it in its span,
 * must still end up with exactly its own bits: precise objects of several
 * types, one type struct whose map changes between calls (painting must
 * compare bits, not type pointers), arrays and conservative objects, in
 * the 32-byte scan class (4-word slots: a bitmap word paints 16 at once)
 * and the 48-byte one (6 words: slot by slot). Over fresh spans, then
 * over spans the kernel hands out with every third slot taken: those
 * slots keep the garbage the fake kernel wrote into the bits of each span.
 */
static void paint_round(uint64_t prealloc)
{
	static const uint64_t map_a[] = { 0x5 }, map_b[] = { 0x2 },
			      map_c[] = { 0xf }, map_d[] = { 0x11 };
	static const struct kgc_type ta = { 24, map_a, "a", 0, 0 };
	static const struct kgc_type tb = { 24, map_b, "b", 0, 0 };
	static const struct kgc_type tc = { 32, map_c, "c", 0, 0 };
	static const struct kgc_type td = { 40, map_d, "d", 0, 0 };
	static const struct kgc_type t8 = { 8, map_c, "8", 0, 0 };
	enum { N = 1500 };
	static unsigned char *objs[N];
	static uint64_t want[N];
	static unsigned int words[N];
	uint64_t x = 0x9e3779b97f4a7c15ULL, local_map[1];
	struct kgc_type local = { 24, local_map, "local", 0, 0 };
	unsigned int i, k, bad = 0, taken = 0;

	REQUIRE_EQ(fake_heap_init(), 0);
	fk.prealloc = prealloc;
	for (i = 0, k = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Runs of 50 of one kind, so that spans get painted. */
		if (i % 50 == 0)
			k = (unsigned int)(x >> 59) % 9;
		words[i] = 4;
		switch (k) {
		case 0: case 1:
			objs[i] = kgc_alloc(24, &ta);
			want[i] = 0x5;
			break;
		case 2:
			objs[i] = kgc_alloc(24, &tb);
			want[i] = 0x2;
			break;
		case 3:
			objs[i] = kgc_alloc(32, &tc);
			want[i] = 0xf;
			break;
		case 4:
			objs[i] = kgc_alloc_array(&t8, 3);	/* 24 bytes */
			want[i] = 0x7;
			break;
		case 5:
			objs[i] = kgc_alloc_conservative(20);
			want[i] = 0x7;
			break;
		case 6:
			objs[i] = kgc_alloc(40, &td);
			want[i] = 0x11;
			words[i] = 6;
			break;
		default:
			/* Same struct, another map each time. */
			local_map[0] = x & 0x7;
			objs[i] = kgc_alloc(24, &local);
			want[i] = x & 0x7;
			break;
		}
		REQUIRE(objs[i] != NULL);
	}
	for (i = 0; i < N; i++) {
		unsigned int w;

		for (w = 0; w < words[i]; w++)
			if (ptrbit(objs[i], w) != (bool)(want[i] >> w & 1))
				bad++;
	}
	CHECK_EQ(bad, 0);
	/* The taken slots of the spans used: garbage, as written. */
	bad = 0;
	for (i = 0; i < fk.nspans && prealloc; i++) {
		const struct fake_span *s = &fk.spans[i];
		uint32_t j, w, e = s->elemsize / 8;

		if (s->large || KGC_SPANCLASS_NOSCAN(s->spanclass))
			continue;
		for (j = 0; j < s->nelems; j++) {
			size_t bit = (s->base - kgc_heap.arena_start) / 8 +
				     (size_t)j * e;

			if (!(prealloc >> (j % 64) & 1))
				continue;
			taken++;
			for (w = 0; w < e; w++, bit++)
				bad += (bool)(kgc_heap.bitmap[bit / 64] >>
					      (bit % 64) & 1) !=
				       (bool)((0x5a5a5a5a5a5a5a5aULL ^
					       (bit / 64)) >> (bit % 64) & 1);
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(!prealloc || taken > 100);
	kgc_shutdown();
}

static void test_painted_spans_keep_every_objects_bits(void)
{
	paint_round(0);
	paint_round(0x9249249249249249ULL);	/* every third slot taken */
}

TAP_MAIN(
	TAP_CASE(test_every_size_class),
	TAP_CASE(test_painted_spans_keep_every_objects_bits),
	TAP_CASE(test_needzero_and_refill),
	TAP_CASE(test_needzero_every_class_to_1k),
	TAP_CASE(test_uninit),
	TAP_CASE(test_resume_at_unaligned_freeindex),
	TAP_CASE(test_tiny_packing),
	TAP_CASE(test_tiny_alignment_and_disjoint),
	TAP_CASE(test_precise_bits),
	TAP_CASE(test_conservative_bits),
	TAP_CASE(test_large_objects_and_free),
	TAP_CASE(test_bad_sizes),
	TAP_CASE(test_out_of_memory),
	TAP_CASE(test_bad_kernel),
	TAP_CASE(test_counters),
	TAP_CASE(test_counters_across_spans),
	TAP_CASE(test_batched_refills),
)
