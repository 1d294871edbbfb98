// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * heapbits.c - writing the pointer bitmap (Go's heapBits / heapSetType).
 *
 * The marker in the kernel learns which heap words may hold pointers from
 * one bitmap, mapped from the device next to the heap: bit i (bit i % 64 of
 * 64-bit word i / 64) covers the heap word at arena_start + 8 * i. The
 * library writes it; the kernel only reads it, bounded and untrusted.
 *
 * Who writes what, when: every allocation of a *scan* object writes the
 * bits of the object's whole slot (its size class's elemsize, or all pages
 * of a large object), or finds them written already (painting, below):
 * the type's ptrmap for precise objects (repeated for arrays), ones for
 * conservative objects, zeros for the rest of the slot.
 * Writing the whole slot is what clears the stale bits of the slot's
 * previous occupant, so freeing and sweeping never touch the bitmap.
 * Objects in *noscan* spans get no bits at all: the marker never scans a
 * noscan span, so whatever its bits say is never read.
 *
 * Why a separate bitmap written at allocation time (and not Go 1.22's
 * bits-at-the-end-of-small-spans plus type-pointer headers): the bitmap's
 * place is fixed by the uapi contract, so the kernel needs no knowledge of
 * user-space type descriptors and never follows a user pointer to find a
 * layout; the price is 1/64 of the heap in bitmap and a few word writes per
 * allocation, small next to zeroing the object itself (1 word of bitmap
 * per 64 words of object).
 *
 * Word at a time: objects of up to 64 words (512 bytes, the common case)
 * have their bits built in one register: the type's first ptrmap word,
 * doubled up (x |= x << len) to cover an array, masked to the data; then
 * merged into at most two bitmap words with masks (Go's
 * writeHeapBitsSmall). Larger objects stream the same way, 64 bits per
 * step; a type of 32 words or fewer is first replicated into one 64-bit
 * period so that each step reads it once.
 *
 * Painting: the first precise single object taken from a cached scan span
 * of at most 64-word slots writes its type's bits into its own slot and
 * into every free slot after it (mspan_paint()), and the span remembers
 * those bits. Each later allocation from the span whose bits are the
 * same (one type fills most spans) writes nothing: the allocation path
 * compares one word instead of merging one, and keeps its registers (no
 * stack frame). Any other object still writes its own slot, which leaves
 * the free slots after it painted. The bits of free slots are never read
 * as such: a free slot of a scan span is zero, so whatever its bits say,
 * the marker finds no pointer in it. Painting compares bits, not type
 * pointers, so a type may still live anywhere (kgc.h).
 *
 * No atomics: a bitmap word covers 512 bytes and spans are whole 8 KiB
 * pages, so a bitmap word belongs to one span, and only the thread that has
 * the span cached (or allocated the large object) writes it.
 */
#include "internal.h"

/* @n (1..64) bits of @map from bit @pos; pos + n must not pass the map. */
static inline uint64_t read_bits(const uint64_t *map, size_t pos,
				 unsigned int n)
{
	size_t i = pos / 64;
	unsigned int j = pos % 64;
	uint64_t v = map[i] >> j;

	if (j && j + n > 64)
		v |= map[i + 1] << (64 - j);
	return v & lowmask(n);
}

/*
 * The next @n (1..64) bits of a pattern of @period bits repeated forever,
 * from bit *@pos of it; advances *@pos.
 */
static inline uint64_t pattern_bits(const uint64_t *map, size_t period,
				    size_t *pos, unsigned int n)
{
	unsigned int filled = 0;
	uint64_t chunk = 0;
	size_t p = *pos;

	while (filled < n) {
		unsigned int k = (unsigned int)MIN((size_t)(n - filled),
						   period - p);

		chunk |= read_bits(map, p, k) << filled;
		filled += k;
		p += k;
		if (p == period)
			p = 0;
	}
	*pos = p;
	return chunk;
}

/**
 * heapbits_write() - write the pointer bits of one object's slot
 * @bitmap: the bitmap
 * @bitoff: bit of the slot's first word
 * @nwords: words in the slot (elemsize / 8, or the large object's pages)
 * @type: the layout, for precise objects (ptrmap not NULL)
 * @datasize: bytes of the slot in use (a multiple of @type->size when
 *	precise); words from ceil(@datasize / 8) to @nwords get 0
 * @conservative: every data word is a possible pointer (@type unused)
 */
void heapbits_write(uint64_t *bitmap, size_t bitoff, size_t nwords,
		    const struct kgc_type *type, size_t datasize,
		    bool conservative)
{
	size_t datawords = (datasize + 7) / 8;
	const uint64_t *map = NULL;
	size_t period = 0, p = 0, w;
	uint64_t rep;

	if (nwords <= 64) {
		write_bits(bitmap, bitoff, (unsigned int)nwords,
			   small_bits(type, datawords, conservative));
		return;
	}

	if (!conservative) {
		size_t tw = type->size / 8;

		map = type->ptrmap;
		period = tw;
		if (tw <= 32) {
			/* One register holding floor(64 / tw) copies. */
			uint64_t src = type->ptrmap[0] & lowmask(tw);
			size_t c;

			rep = 0;
			for (c = 0; c + tw <= 64; c += tw)
				rep |= src << c;
			map = &rep;
			period = c;
		}
	}

	for (w = 0; w < nwords; w += 64) {
		unsigned int n = (unsigned int)MIN((size_t)64, nwords - w);
		uint64_t chunk = 0;

		if (w < datawords) {
			unsigned int dn = (unsigned int)MIN((size_t)n,
							    datawords - w);

			chunk = conservative ? lowmask(dn) :
				pattern_bits(map, period, &p, dn);
		}
		write_bits(bitmap, bitoff + w, n, chunk);
	}
}

/**
 * heapbits_set() - write the pointer bits of a new scan object
 * @obj: the object
 * @extent: bytes of its slot (elemsize, or pages of a large object)
 * @size: bytes requested
 * @type: precise layout, or NULL when @conservative
 * @conservative: every word may be a pointer
 */
void heapbits_set(uintptr_t obj, size_t extent, size_t size,
		  const struct kgc_type *type, bool conservative)
{
	heapbits_write(kgc_heap.bitmap, (obj - kgc_heap.arena_start) / 8,
		       extent / 8, type, size, conservative);
}

/**
 * mspan_paint() - write one slot's bits into @v's slot and every free slot
 * after it
 * @s: cached scan span of at most 64-word slots
 * @v: the object just taken from it (the last one handed out)
 * @bits: the slot's pointer bits
 *
 * Objects after @v have not been handed out by this mcache (allocation goes
 * up); of those, the free ones in the kernel's alloc bits get @bits, the
 * allocated ones (live objects of a swept span) keep theirs.
 */
void mspan_paint(struct mspan *s, void *v, uint64_t bits)
{
	uint32_t e = s->elemsize / 8;
	uint32_t i = (uint32_t)(((uintptr_t)v - s->base) / s->elemsize);
	size_t off = ((uintptr_t)s->base - kgc_heap.arena_start) / 8;
	/* Slots per bitmap word when whole slots fill it (e divides 64). */
	uint32_t per = 64 % e ? 0 : 64 / e;
	uint64_t rep = 0, *bm = kgc_heap.bitmap;
	uint32_t w, c;

	for (c = 0; per && c < 64; c += e)
		rep |= bits << c;
	for (w = i / 64; w * 64 < s->nelems; w++) {
		/* Bits at and beyond nelems are allocated (mspan_load()). */
		uint64_t free = ~s->allocbits[w];

		if (w == i / 64)
			free &= ~0ULL << (i % 64);
		while (free) {
			uint32_t j = w * 64 + kgc_ctz64(free);
			uint64_t group;

			/*
			 * A span starts on a bitmap word (8 KiB pages), so
			 * with e dividing 64 the slots j with j % per == 0
			 * start one; when all @per of them are free, one store
			 * paints them.
			 */
			if (per && j % per == 0) {
				group = lowmask(per) << (j % 64);
				if ((free & group) == group) {
					bm[(off + (size_t)j * e) / 64] = rep;
					free &= ~group;
					continue;
				}
			}
			write_bits(bm, off + (size_t)j * e, e, bits);
			free &= free - 1;
		}
	}
	s->paintbits = bits;
	s->painted = 1;
}
