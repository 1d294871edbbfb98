// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * bits.c - the mcache's bit tricks on spans filled in by hand: the alloc
 * cache (ctz over inverted alloc bits), its refill at 64-object word
 * boundaries, the fast and slow paths and the zeroing of a reused span's
 * free objects against a bit-by-bit reference, on span memory from malloc.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tap.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static bool allocated(const struct kgc_span_desc *d, uint32_t i)
{
	return d->allocbits[i / 64] >> (i % 64) & 1;
}

/* A descriptor as the kernel builds it: tail bits set. */
static void desc_init(struct kgc_span_desc *d, uintptr_t base, uint32_t nelems,
		      uint32_t elemsize, uint32_t freeindex)
{
	uint32_t i;

	memset(d, 0, sizeof(*d));
	d->base = base;
	d->nelems = nelems;
	d->elemsize = elemsize;
	d->freeindex = freeindex;
	d->npages = 1;
	for (i = 0; i < KGC_ALLOC_WORDS; i++) {
		uint32_t first = i * 64;

		if (first >= nelems)
			d->allocbits[i] = ~0ULL;
		else if (nelems - first < 64)
			d->allocbits[i] |= ~0ULL << (nelems - first);
	}
	for (i = 0; i < freeindex; i++)
		d->allocbits[i / 64] |= 1ULL << (i % 64);
}

/* Object counts of the random spans: word edges, odd sizes, the extremes. */
static const uint32_t nelems_list[] = {
	1, 2, 5, 63, 64, 65, 73, 127, 128, 129, 170, 512, 1000, 1024,
};

/*
 * A random span for the reference tests: an object count from nelems_list,
 * objects filling a page, a random freeindex and alloc bits of a random
 * density (none, a quarter, half, three quarters), in memory from malloc()
 * filled with @fill, with @slack bytes beyond the last object. The caller
 * frees the memory (d->base).
 */
static unsigned char *random_span(struct kgc_span_desc *d, int fill,
				  size_t slack)
{
	uint32_t nelems = nelems_list[rng() % ARRAY_SIZE(nelems_list)];
	uint32_t elemsize = (uint32_t)(KGC_PAGE_SIZE / nelems) & ~7U;
	uint32_t fi = (uint32_t)(rng() % (nelems + 1));
	int density = (int)(rng() % 4);
	unsigned char *mem;
	uint32_t i;

	if (!elemsize)
		elemsize = 8;
	mem = malloc((size_t)nelems * elemsize + slack);
	if (!mem)
		return NULL;
	memset(mem, fill, (size_t)nelems * elemsize + slack);
	desc_init(d, (uintptr_t)mem, nelems, elemsize, fi);
	for (i = 0; i < KGC_ALLOC_WORDS; i++) {
		uint64_t r = rng();

		if (density == 0)
			r = 0;
		else if (density == 1)
			r &= rng();
		else if (density == 3)
			r |= rng();
		d->allocbits[i] |= r;
	}
	return mem;
}

/* Allocate like mcache_alloc() minus the refill: fast, then slow. */
static void *span_alloc(struct mspan *s, bool *slow)
{
	void *v = mspan_nextfreefast(s);
	uint32_t idx;

	*slow = false;
	if (v)
		return v;
	*slow = true;
	idx = mspan_nextfreeindex(s);
	if (idx == s->nelems)
		return NULL;
	return (void *)(s->base + (uintptr_t)idx * s->elemsize);
}

/* Invariant I2 of mcache.c. */
static bool alloccache_ok(const struct mspan *s)
{
	uint32_t k;

	if (s->freeindex >= s->nelems)
		return true;
	/* At a word's start the word may not be loaded yet. */
	if (s->freeindex % 64 == 0 && s->alloccache == 0)
		return true;
	for (k = 0; k < 64; k++) {
		uint32_t i = s->freeindex + k;
		bool in_word = i / 64 == s->freeindex / 64 && i < s->nelems;
		bool free = in_word && !(s->allocbits[i / 64] >> (i % 64) & 1);

		if ((bool)(s->alloccache >> k & 1) != free)
			return false;
	}
	return true;
}

static void test_ctz(void)
{
	unsigned int i;

	for (i = 0; i < 64; i++) {
		CHECK_EQ(kgc_ctz64(1ULL << i), i);
		CHECK_EQ(kgc_ctz64(~0ULL << i), i);
	}
}

static void test_load_shifts_cache_to_freeindex(void)
{
	struct kgc_span_desc d;
	struct mspan s;

	desc_init(&d, 0x100000, 200, 16, 70);
	d.allocbits[1] |= 1ULL << 8;	/* object 72 taken */
	mspan_load(&s, &d);
	CHECK_EQ(s.freeindex, 70);
	CHECK(s.alloccache == ~d.allocbits[1] >> 6);
	CHECK_EQ(s.alloccache & 7, 3);	/* 70, 71 free; 72 not */
	CHECK(alloccache_ok(&s));
}

static void test_empty_span_takes_slow_path(void)
{
	struct mspan s;

	memset(&s, 0, sizeof(s));
	CHECK(mspan_nextfreefast(&s) == NULL);
	CHECK_EQ(mspan_nextfreeindex(&s), 0);	/* == nelems: refill */
	CHECK_EQ(s.freeindex, 0);
}

static void test_full_span(void)
{
	struct kgc_span_desc d;
	struct mspan s;

	desc_init(&d, 0x100000, 170, 48, 170);
	mspan_load(&s, &d);
	CHECK_EQ(s.alloccache, 0);
	CHECK(mspan_nextfreefast(&s) == NULL);
	CHECK_EQ(mspan_nextfreeindex(&s), 170);
}

/*
 * The fast path has no bound test: a description whose bits beyond
 * nelems are 0 (a kernel bug) still ends the span at nelems, because
 * mspan_load() sets them.
 */
static void test_load_closes_bits_beyond_nelems(void)
{
	static const uint32_t nelems[] = { 1, 63, 65, 100, 170, 1000 };
	unsigned int i;

	for (i = 0; i < sizeof(nelems) / sizeof(nelems[0]); i++) {
		struct kgc_span_desc d;
		unsigned int got = 0;
		bool was_slow;
		struct mspan s;

		desc_init(&d, 0x100000, nelems[i], 16, 0);
		memset(d.allocbits, 0, sizeof(d.allocbits));
		mspan_load(&s, &d);
		while (span_alloc(&s, &was_slow) && got <= nelems[i])
			got++;
		CHECK_EQ(got, nelems[i]);
		CHECK_EQ(s.freeindex, nelems[i]);
	}
}

/* Every object of a fresh 1024-object span, in order; 15 word crossings. */
static void test_fresh_span_in_order(void)
{
	struct kgc_span_desc d;
	unsigned int slow = 0, i;
	struct mspan s;
	char *mem = aligned_alloc(KGC_PAGE_SIZE, KGC_PAGE_SIZE);

	REQUIRE(mem);
	desc_init(&d, (uintptr_t)mem, 1024, 8, 0);
	mspan_load(&s, &d);
	for (i = 0; i < 1024; i++) {
		bool was_slow;
		char *p = span_alloc(&s, &was_slow);

		if (p != mem + 8 * i) {
			tap_fail(__FILE__, __LINE__, "object %u at %p, want %p",
				 i, (void *)p, (void *)(mem + 8 * i));
			break;
		}
		memset(p, 0x11, 8);
		slow += was_slow;
	}
	CHECK_EQ(slow, 15);	/* objects 64, 128, ..., 960 */
	CHECK_EQ(s.freeindex, 1024);
	{
		bool was_slow;

		CHECK(span_alloc(&s, &was_slow) == NULL);
	}
	free(mem);
}

/*
 * Random alloc bits, sizes and start indexes: the objects handed out are
 * exactly the free ones at or above freeindex, in order, and written
 * patterns never overlap.
 */
static void test_random_spans_match_reference(void)
{
	unsigned int round;

	for (round = 0; round < 3000; round++) {
		struct kgc_span_desc d;
		struct mspan s;
		unsigned char *mem = random_span(&d, 0, 0);
		uint32_t nelems = d.nelems, elemsize = d.elemsize;
		uint32_t fi = d.freeindex, want;

		REQUIRE(mem);
		mspan_load(&s, &d);
		want = fi;
		for (;;) {
			bool was_slow;
			unsigned char *p;

			while (want < nelems && allocated(&d, want))
				want++;
			p = span_alloc(&s, &was_slow);
			if (want == nelems) {
				if (p) {
					tap_fail(__FILE__, __LINE__,
						 "round %u: object past the end", round);
					goto next;
				}
				break;
			}
			if (p != mem + (size_t)want * elemsize) {
				tap_fail(__FILE__, __LINE__,
					 "round %u (nelems %u, fi %u): got index %ld, want %u",
					 round, nelems, fi,
					 p ? (long)((p - mem) / elemsize) : -1L,
					 want);
				goto next;
			}
			if (p[0] != 0) {
				tap_fail(__FILE__, __LINE__, "object handed out twice");
				goto next;
			}
			memset(p, 0x5a, elemsize);
			if (!alloccache_ok(&s)) {
				tap_fail(__FILE__, __LINE__,
					 "round %u: alloc cache invariant broken at freeindex %u",
					 round, s.freeindex);
				goto next;
			}
			want++;
		}
		CHECK_EQ(s.freeindex, nelems);
next:
		free(mem);
		if (tap_case_failed)
			return;
	}
}

/*
 * The bytes of a random_span(@d, 0xa5, 64) span after zeroing: 0 in object
 * @only (NO_OBJ: none) and in every free object from @from on, 0xa5 in
 * every other byte, the 64 after the span included. Reports the first
 * wrong byte at @line of this file.
 */
#define NO_OBJ	UINT32_MAX
static bool zeroed_exactly(const unsigned char *mem,
			   const struct kgc_span_desc *d, uint32_t from,
			   uint32_t only, unsigned int round, int line)
{
	size_t k;

	for (k = 0; k < (size_t)d->nelems * d->elemsize + 64; k++) {
		uint32_t obj = (uint32_t)(k / d->elemsize);
		bool zero = obj < d->nelems &&
			    (obj == only || (obj >= from && !allocated(d, obj)));

		if (mem[k] != (zero ? 0 : 0xa5)) {
			tap_fail(__FILE__, line,
				 "round %u (nelems %u, fi %u): byte %zu of object %u is 0x%02x",
				 round, d->nelems, d->freeindex, k, obj, mem[k]);
			return false;
		}
	}
	return true;
}

/*
 * KGC_SPAN_NEEDZERO: mspan_load() zeroes exactly the free objects at and
 * above freeindex (runs of free objects that cross 64-object words, whole
 * free words, a freeindex in mid-word), leaves every other byte alone, and
 * drops the flag. Random spans against a bit-by-bit reference.
 */
static void test_needzero_load_zeroes_free_runs(void)
{
	unsigned int round;

	for (round = 0; round < 2000; round++) {
		struct kgc_span_desc d;
		struct mspan s;
		unsigned char *mem = random_span(&d, 0xa5, 64);

		REQUIRE(mem);
		d.flags = KGC_SPAN_NEEDZERO;
		mspan_load(&s, &d);
		CHECK_EQ(s.flags & KGC_SPAN_NEEDZERO, 0);
		zeroed_exactly(mem, &d, d.freeindex, NO_OBJ, round, __LINE__);
		free(mem);
		if (tap_case_failed)
			return;
	}
}

/*
 * A noscan span keeps KGC_SPAN_NEEDZERO when loaded: the objects taken
 * without zeroing (kgc_alloc_uninit()) keep their old bytes, and the first
 * zeroed allocation (mspan_zero_rest()) clears its own object and every
 * free object after it, nothing else, and drops the flag.
 */
static void test_needzero_noscan_zeroes_at_first_zeroed_alloc(void)
{
	unsigned int round;

	for (round = 0; round < 2000; round++) {
		struct kgc_span_desc d;
		struct mspan s;
		unsigned char *mem = random_span(&d, 0xa5, 64), *v = NULL;
		uint32_t n = (uint32_t)(rng() % 5), i;
		bool slow;

		REQUIRE(mem);
		d.flags = KGC_SPAN_NEEDZERO;
		d.spanclass = KGC_SPANCLASS(1, 1);
		mspan_load(&s, &d);
		CHECK_EQ(s.flags & KGC_SPAN_NEEDZERO, KGC_SPAN_NEEDZERO);
		/* n objects taken without zeroing, then a zeroed one. */
		for (i = 0; i <= n; i++) {
			v = span_alloc(&s, &slow);
			if (!v)
				break;
		}
		if (v) {
			mspan_zero_rest(&s, v);
			CHECK_EQ(s.flags & KGC_SPAN_NEEDZERO, 0);
			zeroed_exactly(mem, &d, s.freeindex,
				       (uint32_t)(((uintptr_t)v - d.base) /
						  d.elemsize), round, __LINE__);
		} else {
			zeroed_exactly(mem, &d, d.nelems, NO_OBJ, round,
				       __LINE__);
		}
		free(mem);
		if (tap_case_failed)
			return;
	}
}

TAP_MAIN(
	TAP_CASE(test_ctz),
	TAP_CASE(test_load_shifts_cache_to_freeindex),
	TAP_CASE(test_empty_span_takes_slow_path),
	TAP_CASE(test_full_span),
	TAP_CASE(test_load_closes_bits_beyond_nelems),
	TAP_CASE(test_fresh_span_in_order),
	TAP_CASE(test_random_spans_match_reference),
	TAP_CASE(test_needzero_load_zeroes_free_runs),
	TAP_CASE(test_needzero_noscan_zeroes_at_first_zeroed_alloc),
)
