// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * heapbits.c - the pointer-bitmap writer against a bit-by-bit reference:
 * precise types and arrays of them, conservative objects, small and large
 * slots at every bit offset; stale bits of the slot are cleared and bits
 * outside it are left alone.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tap.h"

#define BM_WORDS	2048	/* 131072 heap words */

static uint64_t bm[BM_WORDS];
static uint64_t before[BM_WORDS];
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static bool get_bit(const uint64_t *b, size_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

/* The expected bit of slot word @w. */
static bool want_bit(const struct kgc_type *t, size_t datasize, bool cons,
		     size_t w)
{
	size_t datawords = (datasize + 7) / 8, tw;

	if (w >= datawords)
		return false;
	if (cons)
		return true;
	tw = t->size / 8;
	return get_bit(t->ptrmap, w % tw);
}

/* Write one slot over garbage and compare every bit of the bitmap. */
static bool check_one(const struct kgc_type *t, size_t bitoff, size_t nwords,
		      size_t datasize, bool cons)
{
	size_t i, lo = bitoff > 128 ? bitoff - 128 : 0;
	size_t hi = MIN(bitoff + nwords + 128, (size_t)BM_WORDS * 64);

	for (i = 0; i < BM_WORDS; i++)
		before[i] = bm[i] = rng();
	heapbits_write(bm, bitoff, nwords, t, datasize, cons);
	for (i = lo; i < hi; i++) {
		bool in = i >= bitoff && i < bitoff + nwords;
		bool want = in ? want_bit(t, datasize, cons, i - bitoff) :
				 get_bit(before, i);

		if (get_bit(bm, i) != want) {
			tap_fail(__FILE__, __LINE__,
				 "type %zu words, slot %zu words at bit %zu, data %zu bytes, %s: bit %zu is %d",
				 t ? t->size / 8 : 0, nwords, bitoff, datasize,
				 cons ? "conservative" : "precise", i,
				 get_bit(bm, i));
			return false;
		}
	}
	/* Nothing outside the window either. */
	for (i = 0; i < lo / 64; i++)
		if (bm[i] != before[i])
			return false;
	for (i = (hi + 63) / 64; i < BM_WORDS; i++)
		if (bm[i] != before[i])
			return false;
	return true;
}

static void test_precise_struct_small(void)
{
	static const uint64_t map[] = { 0x5 };	/* words 0 and 2 */
	const struct kgc_type t = { 24, map, "t", 0, 0 };
	size_t off;

	for (off = 0; off < 200; off++)
		if (!check_one(&t, off, 4, 24, false))	/* 32-byte class */
			return;
	memset(bm, 0xff, sizeof(bm));
	heapbits_write(bm, 64, 4, &t, 24, false);
	CHECK_EQ(bm[1] & 0xf, 0x5);
	CHECK(bm[1] >> 4 == ~0ULL >> 4);
	CHECK(bm[0] == ~0ULL);
}

static void test_precise_arrays(void)
{
	static const size_t tws[] = {
		1, 2, 3, 5, 7, 8, 13, 31, 32, 33, 63, 64, 65, 100, 129,
	};
	uint64_t map[4];
	size_t i, round;

	for (round = 0; round < 400; round++) {
		size_t tw = tws[rng() % ARRAY_SIZE(tws)];
		struct kgc_type t = { tw * 8, map, "t", 0, 0 };
		size_t maxn = 8192 / tw, n = 1 + rng() % (maxn ? maxn : 1);
		size_t datawords = n * tw, nwords;
		size_t off = rng() % 4096;

		for (i = 0; i < ARRAY_SIZE(map); i++)
			map[i] = rng();
		/* A slot of the right class, or a large object's pages. */
		if (datawords * 8 <= KGC_MAX_SMALL_SIZE)
			nwords = kgc_class_to_size[kgc_size_to_sizeclass(
					datawords * 8)] / 8;
		else
			nwords = ROUND_UP(datawords * 8, KGC_PAGE_SIZE) / 8;
		if (off + nwords > (size_t)BM_WORDS * 64)
			continue;
		if (!check_one(&t, off, nwords, datawords * 8, false))
			return;
	}
}

static void test_conservative(void)
{
	static const size_t sizes[] = {
		1, 7, 8, 9, 13, 16, 100, 504, 512, 513, 4000, 32768, 40000,
		65536,
	};
	size_t i, off;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t size = sizes[i], nwords;

		if (size <= KGC_MAX_SMALL_SIZE)
			nwords = kgc_class_to_size[kgc_size_to_sizeclass(size)] / 8;
		else
			nwords = ROUND_UP(size, KGC_PAGE_SIZE) / 8;
		for (off = 0; off < 130; off += 1 + off / 8)
			if (!check_one(NULL, off, nwords, size, true))
				return;
	}
}

/* A word-aligned large slot: whole bitmap words, no partial masks. */
static void test_large_aligned(void)
{
	static const uint64_t map[] = { 0x2 };
	const struct kgc_type t = { 16, map, "pair", 0, 0 };
	size_t i;

	/* 2500 pairs = 5000 words in a 5-page (5120-word) slot. */
	memset(bm, 0xff, sizeof(bm));
	heapbits_write(bm, 1024, 5 * 1024, &t, 2500 * 16, false);
	for (i = 16; i < 16 + 78; i++)
		if (bm[i] != 0xaaaaaaaaaaaaaaaaULL) {
			tap_fail(__FILE__, __LINE__, "word %zu = %llx", i,
				 (unsigned long long)bm[i]);
			return;
		}
	CHECK(bm[16 + 78] == 0xaaULL);
	CHECK_EQ(bm[16 + 79], 0);
	CHECK(bm[15] == ~0ULL);
	CHECK(bm[16 + 80] == ~0ULL);
}

static void test_setup(void)
{
	kgc_sizeclass_init();
	CHECK_EQ(kgc_size_to_sizeclass(24), 3);
}

TAP_MAIN(
	TAP_CASE(test_setup),
	TAP_CASE(test_precise_struct_small),
	TAP_CASE(test_precise_arrays),
	TAP_CASE(test_conservative),
	TAP_CASE(test_large_aligned),
)
