// SPDX-License-Identifier: GPL-2.0
/*
 * heap_test - the kernel heap through the device: mapping rules, spans
 * (KGC_IOC_REFILL), large objects, stats, memory cgroup charging, teardown.
 * The heap is opened without the collector (kgc_handshake_nogc()): these
 * tests keep objects where no root points.
 *
 * One fixture per initialised heap (open + handshake + mapping), as in
 * hmm-tests.c; the harness forks a process per test, so each test has a
 * fresh heap.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kgc_test_util.h"

#define HEAP_LEN	(4 * KGC_ARENA_SIZE)

FIXTURE(heap) {
	int fd;
	struct kgc_api api;
	char *base;
};

FIXTURE_SETUP(heap)
{
	self->base = MAP_FAILED;
	self->fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, KGC_DEV " missing: is kgc.ko loaded?");
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kgc_handshake_nogc(self->fd, &self->api));
	self->base = kgc_map_heap(self->fd, &self->api, HEAP_LEN);
	ASSERT_NE(MAP_FAILED, self->base);
	/* Placed on an arena boundary. */
	ASSERT_EQ(0, (uintptr_t)self->base % KGC_ARENA_SIZE);
}

FIXTURE_TEARDOWN(heap)
{
	if (self->base != MAP_FAILED)
		munmap(self->base, HEAP_LEN);
	if (self->fd >= 0)
		close(self->fd);
}

static void *map_at(int fd, uint64_t off, size_t len, int flags)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off);
}

/*
 * The heap can be mapped once, shared, at its offset; the bitmap after it,
 * exactly 1/64 of its size; nothing else.
 */
TEST_F(heap, mmap_rules)
{
	uint64_t boff = self->api.bitmap_offset;
	void *p;

	DEV_REQUIRED();
	p = map_at(self->fd, self->api.heap_offset, HEAP_LEN, MAP_SHARED);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EBUSY, errno);
	p = map_at(self->fd, boff, HEAP_LEN / 64, MAP_PRIVATE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = map_at(self->fd, boff, HEAP_LEN / 32, MAP_SHARED);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = map_at(self->fd, boff + 4096, HEAP_LEN / 64, MAP_SHARED);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = map_at(self->fd, boff, HEAP_LEN / 64, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, ((char *)p)[12345]);
	p = map_at(self->fd, boff, HEAP_LEN / 64, MAP_SHARED);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EBUSY, errno);
}

/* Heap lengths: whole arenas, within the limit. */
TEST(mmap_lengths)
{
	struct kgc_api api;
	int fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);
	void *p;

	if (fd < 0 && errno == ENOENT)
		SKIP(return, KGC_DEV " missing");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kgc_handshake_nogc(fd, &api));
	p = map_at(fd, api.heap_offset, KGC_ARENA_SIZE + 4096, MAP_SHARED);
	EXPECT_EQ(MAP_FAILED, p);
	p = map_at(fd, api.heap_offset, api.max_heap_size + KGC_ARENA_SIZE,
		   MAP_SHARED);
	EXPECT_EQ(MAP_FAILED, p);
	p = map_at(fd, api.heap_offset, KGC_ARENA_SIZE, MAP_SHARED);
	EXPECT_NE(MAP_FAILED, p);
	close(fd);
}

/* The heap's range is fixed: no partial unmap, protect, or move. */
TEST_F(heap, mapping_is_fixed)
{
	void *p;

	DEV_REQUIRED();
	EXPECT_EQ(-1, munmap(self->base + KGC_ARENA_SIZE, KGC_ARENA_SIZE));
	EXPECT_EQ(-1, mprotect(self->base, KGC_ARENA_SIZE, PROT_READ));
	p = mremap(self->base, HEAP_LEN, HEAP_LEN * 2, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, p);
	p = mremap(self->base, HEAP_LEN, HEAP_LEN / 2, 0);
	EXPECT_EQ(MAP_FAILED, p);
	/* Still all there. */
	self->base[HEAP_LEN - 1] = 1;
	EXPECT_EQ(1, self->base[HEAP_LEN - 1]);
}

/*
 * Spans of every class: carved from the heap, zeroed, non-overlapping; a
 * partly used span comes back with exactly the objects the mcache took.
 */
TEST_F(heap, refill_every_class)
{
	static struct kgc_refill r[KGC_NR_SPANCLASSES];
	uint32_t sc, i;

	DEV_REQUIRED();
	for (sc = 2; sc < KGC_NR_SPANCLASSES; sc++) {
		struct kgc_span_desc *d = &r[sc].span;
		uint32_t size = KGC_SPANCLASS_SIZECLASS(sc);

		ASSERT_EQ(0, kgc_get_span(self->fd, sc, &r[sc]));
		ASSERT_EQ(sc, d->spanclass);
		ASSERT_GE(d->base, (uint64_t)(uintptr_t)self->base);
		ASSERT_LE(d->base + d->npages * KGC_PAGE_SIZE,
			  (uint64_t)(uintptr_t)self->base + HEAP_LEN);
		ASSERT_EQ(0, (d->base - (uintptr_t)self->base) % KGC_PAGE_SIZE);
		ASSERT_EQ(d->npages * KGC_PAGE_SIZE / d->elemsize, d->nelems);
		ASSERT_EQ(0, d->freeindex);
		(void)size;
		/* Fresh memory reads zero; fill it with the class's tag. */
		for (i = 0; i < d->nelems * d->elemsize; i += 64)
			ASSERT_EQ(0, *(char *)(uintptr_t)(d->base + i));
		memset((void *)(uintptr_t)d->base, (int)sc,
		       (size_t)d->nelems * d->elemsize);
	}
	/* No two spans overlap: every tag is intact. */
	for (sc = 2; sc < KGC_NR_SPANCLASSES; sc++) {
		struct kgc_span_desc *d = &r[sc].span;

		for (i = 0; i < d->nelems * d->elemsize; i += 8)
			ASSERT_EQ((char)sc, *(char *)(uintptr_t)(d->base + i));
	}
	for (sc = 2; sc < KGC_NR_SPANCLASSES; sc++)
		ASSERT_EQ(0, kgc_put_span(self->fd, r[sc].span.base,
					  r[sc].span.nelems / 2, 0));
	/* Handed out again, with the first half allocated. */
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(2, 0), &r[0]));
	EXPECT_EQ(r[KGC_SPANCLASS(2, 0)].span.base, r[0].span.base);
	EXPECT_EQ(256, r[0].span.freeindex);
	EXPECT_EQ(~0ULL, r[0].span.allocbits[3]);
	EXPECT_EQ(0, r[0].span.allocbits[4]);
}

/* Give back and get in one call, as the library's refill does. */
TEST_F(heap, refill_put_and_get)
{
	struct kgc_refill r, r2;

	DEV_REQUIRED();
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(3, 1), &r));
	memset(&r2, 0, sizeof(r2));
	r2.put_base = r.span.base;
	r2.put_freeindex = r.span.nelems;
	r2.spanclass = KGC_SPANCLASS(3, 1);
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r2));
	EXPECT_NE(r.span.base, r2.span.base);
	EXPECT_EQ(0, r2.span.freeindex);
}

/*
 * Bad refills: span class 0/1 (large), out of range; a put of an address
 * that is not a cached span's base (interior, outside the heap, foreign
 * class), returned twice, freeindex beyond nelems or below the hand-out
 * point, unknown flags, reserved fields.
 */
TEST_F(heap, refill_bad_input)
{
	struct kgc_refill r, r2;

	DEV_REQUIRED();
	EXPECT_EQ(-EINVAL, kgc_get_span(self->fd, 0, &r));
	EXPECT_EQ(-EINVAL, kgc_get_span(self->fd, 1, &r));
	EXPECT_EQ(-EINVAL, kgc_get_span(self->fd, KGC_NR_SPANCLASSES, &r));
	EXPECT_EQ(-EINVAL, kgc_get_span(self->fd, 0x7fffffff, &r));
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(4, 0), &r));
	EXPECT_EQ(-EINVAL, kgc_put_span(self->fd, r.span.base + 48, 0, 0));
	EXPECT_EQ(-EINVAL, kgc_put_span(self->fd, 4096, 0, 0));
	EXPECT_EQ(-EINVAL, kgc_put_span(self->fd, ~0ULL, 0, 0));
	EXPECT_EQ(-EINVAL, kgc_put_span(self->fd, (uintptr_t)self->base +
					HEAP_LEN - KGC_PAGE_SIZE, 0, 0));
	EXPECT_EQ(-EINVAL, kgc_put_span(self->fd, r.span.base,
					r.span.nelems + 1, 0));
	EXPECT_EQ(-EINVAL, kgc_put_span(self->fd, r.span.base, 0, 1U << 7));
	memset(&r2, 0, sizeof(r2));
	r2.spanclass = KGC_SPANCLASS(4, 0);
	r2.resv[2] = 1;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r2));
	memset(&r2, 0, sizeof(r2));
	r2.spanclass = KGC_NO_SPANCLASS;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r2));

	ASSERT_EQ(0, kgc_put_span(self->fd, r.span.base, 10, 0));
	EXPECT_EQ(-EINVAL, kgc_put_span(self->fd, r.span.base, 10, 0));
	/* Handed out again at freeindex 10: a lower freeindex is refused. */
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(4, 0), &r));
	ASSERT_EQ(10, r.span.freeindex);
	EXPECT_EQ(-EINVAL, kgc_put_span(self->fd, r.span.base, 9, 0));
	EXPECT_EQ(0, kgc_put_span(self->fd, r.span.base, 10, 0));
}

static long spans_cached(int fd)
{
	struct kgc_stats st;

	memset(&st, 0, sizeof(st));
	if (kgc_ioctl(fd, KGC_IOC_STATS, &st))
		return -1;
	return (long)st.spans_cached;
}

/*
 * Batched refills: further spans of the class to @more, within the share
 * of the heap goal (4 MiB minimum goal / 64: eight 8 KiB spans); all of
 * them given back in one call through @puts; an entry that is not a
 * cached span stops the puts there; a caller of the first struct version
 * still gets one span.
 */
TEST_F(heap, refill_batch)
{
	struct kgc_span_desc more[KGC_REFILL_MORE_MAX];
	struct kgc_span_mark puts[KGC_REFILL_MORE_MAX + 1];
	struct kgc_refill r;
	uint32_t i, j, n;

	DEV_REQUIRED();
	ASSERT_TRUE(self->api.features & KGC_FEATURE_REFILL_BATCH);
	memset(&r, 0, sizeof(r));
	r.spanclass = KGC_SPANCLASS(3, 1);
	r.more = (uintptr_t)more;
	r.more_max = KGC_REFILL_MORE_MAX;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r));
	n = r.more_count;
	EXPECT_EQ(8, n);
	EXPECT_EQ(1 + n, spans_cached(self->fd));
	puts[0].base = r.span.base;
	puts[0].freeindex = 0;
	puts[0].resv = 0;
	for (i = 0; i < n; i++) {
		EXPECT_EQ(KGC_SPANCLASS(3, 1), more[i].spanclass);
		EXPECT_EQ(r.span.nelems, more[i].nelems);
		EXPECT_EQ(0, more[i].freeindex);
		puts[1 + i].base = more[i].base;
		puts[1 + i].freeindex = more[i].nelems;
		puts[1 + i].resv = 0;
		for (j = 0; j < 1 + i; j++)
			EXPECT_NE(puts[j].base, more[i].base);
	}

	/* All back in one call, and a fresh span in the same call. */
	memset(&r, 0, sizeof(r));
	r.spanclass = KGC_SPANCLASS(3, 1);
	r.puts = (uintptr_t)puts;
	r.nputs = 1 + n;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r));
	EXPECT_EQ(0, r.more_count);
	EXPECT_EQ(1, spans_cached(self->fd));
	/* Given back twice: refused at the first entry. */
	r.spanclass = KGC_NO_SPANCLASS;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r));
	/* A good entry, then a bad one: the good one is back. */
	puts[0].base = r.span.base;
	puts[1].base = r.span.base + 64;
	r.nputs = 2;
	r.span.base = 0;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r));
	EXPECT_EQ(0, spans_cached(self->fd));

	/* The first version of the struct: one span, no batch. */
	memset(&r, 0, sizeof(r));
	r.spanclass = KGC_SPANCLASS(3, 1);
	ASSERT_EQ(0, kgc_ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
					      KGC_IOC_MAGIC, KGC_IOC_NR_REFILL,
					      KGC_REFILL_SIZE_VER0), &r));
	EXPECT_NE(0, r.span.base);
	EXPECT_EQ(1, spans_cached(self->fd));
}

/*
 * Bad batches: counts over their limits or without their pointer, a batch
 * without a class, reserved fields; @more not writable: EFAULT and nothing
 * handed out, the main span included; @puts not readable: EFAULT.
 */
TEST_F(heap, refill_batch_bad_input)
{
	struct kgc_span_desc more[KGC_REFILL_MORE_MAX];
	struct kgc_span_mark puts[1];
	struct kgc_refill r;
	void *ro;

	DEV_REQUIRED();
#define BAD_REFILL(field, value, err) do {				\
		memset(&r, 0, sizeof(r));				\
		r.spanclass = KGC_SPANCLASS(3, 1);			\
		r.more = (uintptr_t)more;				\
		r.more_max = 1;						\
		r.field = value;					\
		EXPECT_EQ(err, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r)); \
	} while (0)
	BAD_REFILL(more_max, KGC_REFILL_MORE_MAX + 1, -EINVAL);
	BAD_REFILL(more, 0, -EINVAL);
	BAD_REFILL(spanclass, KGC_NO_SPANCLASS, -EINVAL);
	BAD_REFILL(nputs, KGC_REFILL_PUTS_MAX + 1, -EINVAL);
	BAD_REFILL(nputs, 1, -EINVAL);	/* no @puts */
	BAD_REFILL(resv2, 1, -EINVAL);
	EXPECT_EQ(0, spans_cached(self->fd));

	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	BAD_REFILL(more, (uintptr_t)ro, -EFAULT);
	EXPECT_EQ(0, spans_cached(self->fd));
#undef BAD_REFILL
	munmap(ro, 4096);

	/* A bad entry's reserved field, and @puts not readable. */
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(3, 1), &r));
	puts[0].base = r.span.base;
	puts[0].freeindex = 0;
	puts[0].resv = 1;
	memset(&r, 0, sizeof(r));
	r.spanclass = KGC_NO_SPANCLASS;
	r.puts = (uintptr_t)puts;
	r.nputs = 1;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r));
	r.puts = (uintptr_t)ro;	/* unmapped now */
	EXPECT_EQ(-EFAULT, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r));
	EXPECT_EQ(1, spans_cached(self->fd));
	puts[0].resv = 0;
	r.puts = (uintptr_t)puts;
	EXPECT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r));
	EXPECT_EQ(0, spans_cached(self->fd));
}

/*
 * A discarded span's memory is reused and flagged for zeroing, and a large
 * object on dirty pages comes back zeroed by the kernel.
 */
TEST_F(heap, reuse_and_zeroing)
{
	struct kgc_refill r;
	struct kgc_large l = { .size = 40000 };
	uint64_t a;
	size_t i;

	DEV_REQUIRED();
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(20, 0), &r));
	a = r.span.base;
	memset((void *)(uintptr_t)a, 0xa5, r.span.npages * KGC_PAGE_SIZE);
	ASSERT_EQ(0, kgc_put_span(self->fd, a, 3, KGC_REFILL_DISCARD));
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(20, 0), &r));
	EXPECT_EQ(a, r.span.base);
	EXPECT_EQ(KGC_SPAN_NEEDZERO, r.span.flags & KGC_SPAN_NEEDZERO);
	ASSERT_EQ(0, kgc_put_span(self->fd, a, 0, KGC_REFILL_DISCARD));

	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	EXPECT_EQ(a, l.addr);
	for (i = 0; i < l.size; i++)
		ASSERT_EQ(0, ((char *)(uintptr_t)l.addr)[i]);
}

/* Large objects: page-rounded, writable, freed explicitly, checked. */
TEST_F(heap, large_objects)
{
	struct kgc_large l = { .size = 3 * KGC_MAX_SMALL_SIZE + 5 };
	struct kgc_large m = { .size = KGC_ARENA_SIZE + 1,
			       .flags = KGC_LARGE_NOSCAN };
	struct kgc_free f = { 0 };
	size_t i;

	DEV_REQUIRED();
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	EXPECT_EQ(0, l.addr % KGC_PAGE_SIZE);
	EXPECT_EQ((l.size + KGC_PAGE_SIZE - 1) / KGC_PAGE_SIZE, l.npages);
	memset((void *)(uintptr_t)l.addr, 0x11, l.size);
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &m));
	EXPECT_GE(m.addr, l.addr + l.npages * KGC_PAGE_SIZE);
	memset((void *)(uintptr_t)m.addr, 0x22, KGC_PAGE_SIZE);
	for (i = 0; i < l.size; i++)
		ASSERT_EQ(0x11, ((char *)(uintptr_t)l.addr)[i]);

	f.addr = l.addr + KGC_PAGE_SIZE;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_FREE, &f));
	f.addr = l.addr;
	f.resv = 1;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_FREE, &f));
	f.resv = 0;
	EXPECT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_FREE, &f));
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_FREE, &f));
	f.addr = m.addr;
	EXPECT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_FREE, &f));
}

/* Large-object sizes: small sizes, impossible sizes, flags, full heap. */
TEST_F(heap, large_bad_sizes)
{
	struct kgc_large l = { .size = KGC_MAX_SMALL_SIZE };
	struct kgc_refill r;

	DEV_REQUIRED();
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	l = (struct kgc_large){ .size = 0 };
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	l = (struct kgc_large){ .size = ~0ULL };
	EXPECT_EQ(-E2BIG, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	l = (struct kgc_large){ .size = HEAP_LEN + 1 };
	EXPECT_EQ(-E2BIG, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	l = (struct kgc_large){ .size = 1 << 20, .flags = 1U << 5 };
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	l = (struct kgc_large){ .size = 1 << 20, .resv = 1 };
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	/* The whole heap, then nothing is left: ENOMEM, not a crash. */
	l = (struct kgc_large){ .size = HEAP_LEN };
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	EXPECT_EQ(-ENOMEM, kgc_get_span(self->fd, KGC_SPANCLASS(1, 0), &r));
	l = (struct kgc_large){ .size = 1 << 20 };
	EXPECT_EQ(-ENOMEM, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
}

/* Stats follow what the heap did. */
TEST_F(heap, stats)
{
	struct kgc_stats st0, st;
	struct kgc_large l = { .size = 1 << 20 };
	struct kgc_refill r;

	DEV_REQUIRED();
	EXPECT_EQ(-EFAULT, kgc_ioctl(self->fd, KGC_IOC_STATS, NULL));
	EXPECT_EQ(-EFAULT, kgc_ioctl(self->fd, KGC_IOC_STATS, (void *)-4096L));
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_STATS, &st0));
	EXPECT_EQ(0, st0.heap_inuse);
	EXPECT_EQ(0, st0.spans_inuse);
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(1, 0), &r));
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	memset((void *)(uintptr_t)l.addr, 1, l.size);
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_STATS, &st));
	EXPECT_EQ(2, st.spans_inuse);
	EXPECT_EQ(1, st.spans_cached);
	EXPECT_EQ(1, st.large_objects);
	EXPECT_EQ(1 << 20, st.large_bytes);
	EXPECT_EQ((1 << 20) + KGC_PAGE_SIZE, st.heap_inuse);
	EXPECT_EQ(KGC_ARENA_SIZE, st.heap_sys);
	EXPECT_EQ(st.heap_sys, st.heap_inuse + st.heap_idle);
	EXPECT_EQ(1, st.arenas);
	EXPECT_EQ(1, st.refills);
	EXPECT_GE(st.heap_resident, 1 << 20);
	EXPECT_GE(st.faults, (1 << 20) / getpagesize());
}

static long read_long(const char *path)
{
	char buf[64] = { 0 };
	int fd = open(path, O_RDONLY);
	long v = -1;

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		v = atol(buf);
	close(fd);
	return v;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

#define CG_ROOT "/sys/fs/cgroup"
#define CG_DIR CG_ROOT "/kgc-heap-test"

/*
 * Heap pages are charged to the memory cgroup of the process that touches
 * them: memory.current rises by the touched size and falls back when the
 * heap is gone.
 */
TEST(cgroup_charge)
{
	long before, during, after;
	struct kgc_api api;
	char pid[32];
	char *heap;
	int fd, status;
	pid_t child;

	if (access(KGC_DEV, F_OK))
		SKIP(return, KGC_DEV " missing");
	if (access(CG_ROOT "/cgroup.controllers", F_OK))
		SKIP(return, "no cgroup2 at " CG_ROOT);
	if (write_str(CG_ROOT "/cgroup.subtree_control", "+memory"))
		SKIP(return, "memory controller not available");
	rmdir(CG_DIR);
	ASSERT_EQ(0, mkdir(CG_DIR, 0755));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (write_str(CG_DIR "/cgroup.procs", pid))
			_exit(40);
		fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0 || kgc_handshake_nogc(fd, &api))
			_exit(41);
		heap = kgc_map_heap(fd, &api, KGC_ARENA_SIZE);
		if (heap == MAP_FAILED)
			_exit(42);
		before = read_long(CG_DIR "/memory.current");
		memset(heap, 1, 32 << 20);
		during = read_long(CG_DIR "/memory.current");
		printf("# memory.current: %ld -> %ld\n", before, during);
		if (during - before < (32 << 20))
			_exit(43);
		munmap(heap, KGC_ARENA_SIZE);
		close(fd);
		after = read_long(CG_DIR "/memory.current");
		printf("# memory.current after close: %ld\n", after);
		if (after - before > (4 << 20))
			_exit(44);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, rmdir(CG_DIR));
}

static long meminfo(const char *key)
{
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, strlen(key))) {
			v = atol(line + strlen(key));
			break;
		}
	}
	fclose(f);
	return v;
}

/*
 * kill -9 at any point frees the heap: a child fills 64 MiB and is killed;
 * MemAvailable comes back.
 */
TEST(kill_frees_heap)
{
	long before, after;
	int i, status, p[2];
	pid_t child;
	char c;

	if (access(KGC_DEV, F_OK))
		SKIP(return, KGC_DEV " missing");
	before = meminfo("MemAvailable:");
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pipe(p));
		child = fork();
		ASSERT_LE(0, child);
		if (child == 0) {
			struct kgc_api api;
			char *heap;
			int fd = open(KGC_DEV, O_RDWR);

			if (fd < 0 || kgc_handshake_nogc(fd, &api))
				_exit(1);
			heap = kgc_map_heap(fd, &api, 2 * KGC_ARENA_SIZE);
			if (heap == MAP_FAILED)
				_exit(2);
			memset(heap, 7, KGC_ARENA_SIZE);
			if (write(p[1], "x", 1) != 1)
				_exit(3);
			pause();
			_exit(4);
		}
		close(p[1]);
		ASSERT_EQ(1, read(p[0], &c, 1));
		close(p[0]);
		kill(child, SIGKILL);
		ASSERT_EQ(child, waitpid(child, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status));
	}
	after = meminfo("MemAvailable:");
	printf("# MemAvailable: %ld kB -> %ld kB\n", before, after);
	EXPECT_LT(before - after, 16 * 1024);
}

TEST_HARNESS_MAIN
