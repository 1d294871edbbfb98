// SPDX-License-Identifier: GPL-2.0
/*
 * pages.c - the page heap: runs of free heap pages, found first fit in time
 * that does not grow with the heap (Go's page allocator, runtime/mpagealloc.go).
 *
 * Pages and the limit
 * -------------------
 * A heap is a reservation of max_pages pages of 8 KiB, numbered 0 ..
 * max_pages - 1 from the heap's base. Only pages below the limit exist; the
 * heap grows by raising the limit (kgc_pageheap_grow()), normally by whole
 * 64 MiB arenas as Go's heap does, but any page count works. Pages at or
 * beyond the limit are never handed out.
 *
 * The page heap knows which pages are free and nothing else: which span
 * owns an allocated page, and how long that span is, is the span table's
 * business. kgc_pageheap_free() takes any run of allocated pages, and free
 * runs coalesce with their free neighbours implicitly, because a free run is
 * nothing but a stretch of clear bits.
 *
 * Chunks and bitmaps
 * ------------------
 * Pages are grouped in chunks of KGC_CHUNK_PAGES = 512 pages (4 MiB, Go's
 * pallocChunkPages). Each chunk has two 512-bit bitmaps (struct
 * kgc_pagechunk): alloc (1 = allocated, or beyond the limit) and scav (1 =
 * free and scavenged, see below). The bitmaps of an arena's 16 chunks are
 * one 2 KiB block, allocated when the heap first grows into the arena, so
 * this memory follows the grown size: 32 bytes per MiB of heap.
 *
 * Summaries and the summary tree
 * ------------------------------
 * A range of pages is summarised as (start, max, end): the free pages at
 * its low end, its longest free run, and the free pages at its high end
 * (Go's pallocSum). Two neighbouring ranges L and R of s pages each merge as
 *
 *	start = L.start == s ? s + R.start : L.start
 *	end   = R.end == s ? s + L.end : R.end
 *	max   = max(L.max, R.max, L.end + R.start)
 *
 * so a complete binary tree over the chunks (a segment tree; Go uses a
 * radix tree of fan-out 8 over the same summaries) holds at every node the
 * summary of that node's power-of-two range of chunks, and at the root the
 * summary of the whole heap. Leaves are the chunks' own summaries. The tree
 * is sized at init for max_pages: 2 * nleaves nodes of 16 bytes, nleaves
 * being the chunk count rounded up to a power of two, so 8 to 16 KiB per GiB
 * of reservation and 512 KiB for the largest (64 GiB) heap. (Go reserves
 * its summary arrays for the whole address space and maps them as the heap
 * grows; a kgc reservation is small enough to allocate the tree outright.)
 * Chunks not grown into, and leaves beyond max_pages, read as fully
 * allocated: an all-zero summary.
 *
 * Allocation: lowest address first fit
 * ------------------------------------
 * Like Go, an allocation of n pages takes the lowest-addressed run of n free
 * pages. Address-ordered first fit fragments little in practice, keeps the
 * heap dense at the bottom and leaves the top free for the scavenger. If the
 * root's max is below n no run fits anywhere: -ENOMEM at once,
 * and the caller grows the heap and retries (kgc_pageheap_tail_free() tells
 * it how few pages the growth must add). Otherwise walk down from the root,
 * keeping the invariant "the current node's range holds a run of n":
 *
 *  - if left.max >= n, the first fit lies inside the left child: go left;
 *  - else if left.end + right.start >= n, the run that starts left.end pages
 *    below the middle is the first fit (every run wholly inside the left
 *    child is shorter than n, and this one starts before anything in the
 *    right child): done;
 *  - else the first fit lies inside the right child: go right.
 *
 * A leaf reached this way has max >= n, hence n <= 512 and the run lies
 * inside the chunk; a scan of the chunk's eight words finds it (counts of
 * trailing and leading zeros for runs that cross words, and a shift-and
 * reduction for runs inside a word). Runs longer than a chunk are always
 * found at an inner node, so an allocation may span chunks and arenas, up to
 * the whole heap. The run's alloc bits are set, its scav bits counted (the
 * count is reported to the caller) and cleared, and the touched leaves and
 * only their ancestors are recomputed, level by level: O(k + log chunks)
 * nodes for a run over k chunks. Recomputing a leaf is one pass over its
 * eight words: popcounts and zero counts, and, only for a word whose inner
 * free runs could beat the longest so far, a shift-and test and a walk over
 * its runs.
 *
 * The cost of an allocation or a free is therefore O(log chunks) tree steps
 * (at most 14) plus work proportional to the chunks the run touches. Nothing
 * scans the heap: a 4 GiB heap costs what a 16 MiB one costs, give or take
 * a few tree levels (see tests/core/bench_pages.c).
 *
 * Freeing
 * -------
 * kgc_pageheap_free() checks that every page of the run is below the limit
 * and allocated, then clears the alloc bits and recomputes the summaries. A
 * run that fails the check is a caller bug (a double free, a stray base):
 * it warns once and changes nothing, so the page heap stays consistent. The
 * freed pages count as resident: they were handed out and may have been
 * touched (Go does the same); the scavenger gives them back later.
 *
 * Scavenged pages
 * ---------------
 * A free page is either resident or scavenged. Scavenged means not
 * resident: its physical memory was given back to the system, or it was
 * never touched at all. Pages that grow() adds are fresh: the heap never
 * touched them and they would fault in as zero pages, so they start out
 * scavenged (as Go marks newly grown memory scavenged). They do not count as
 * resident memory, the scavenger never wastes work on them, and an
 * allocation that returns them reports them in *nscav: the caller knows
 * those pages fault in zeroed and need no clearing, while the rest of the
 * run may hold old data.
 *
 * Every summary also carries nres, the free resident pages of its range,
 * summed up the tree, so the scavenger finds resident free pages in
 * O(log chunks): kgc_pageheap_find_resident() walks down preferring the right
 * child, that is, it searches from the highest address down, as Go's
 * scavenger does. Allocation prefers low addresses, so the highest free pages
 * are those least likely to be reused soon; giving them back first avoids
 * releasing memory that is about to fault in again. It returns the highest
 * run of free resident pages in the highest chunk that has any, at most
 * max_npages of its top pages and never crossing a chunk, which bounds the
 * work per step. The caller gives that memory back and records it with
 * kgc_pageheap_scavenge(). To give memory back without holding the heap
 * lock, the caller reserves the run first, like Go's scavengeOne():
 *
 *	base = kgc_pageheap_find_resident(ph, max, &n);
 *	kgc_pageheap_alloc_range(ph, base, n, NULL);	(reserve it)
 *	unlock; release the pages' memory; lock;
 *	kgc_pageheap_free(ph, base, n);
 *	kgc_pageheap_scavenge(ph, base, n);
 *
 * Invariants (kgc_pageheap_check() verifies them all)
 * ---------------------------------------------------
 *  - blocks[b] is allocated exactly for the arenas below the limit;
 *  - in an allocated block, every page at or beyond the limit has its alloc
 *    bit set and its scav bit clear;
 *  - scav implies free: alloc & scav == 0 in every word;
 *  - every leaf is the summary of its chunk's bitmaps (all zero for chunks
 *    without a block), every inner node the merge of its children;
 *  - free_pages counts the clear alloc bits below the limit, scav_pages the
 *    set scav bits, and the root's nres is free_pages - scav_pages.
 *
 * Locking: the caller holds the heap lock; see struct kgc_pageheap.
 */
#include "pages.h"

/**
 * pages_mask() - mask of bits [@lo, @hi) of a 64-bit word
 * @lo: first bit, below 64
 * @hi: bit after the last, above @lo and at most 64
 *
 * Return: the mask.
 */
static inline u64 pages_mask(unsigned int lo, unsigned int hi)
{
	u64 m = hi >= 64 ? ~0ULL : (1ULL << hi) - 1;

	return m & ~((1ULL << lo) - 1);
}

/**
 * bits_count() - count the set bits of a range of a chunk bitmap
 * @bits: the bitmap, KGC_CHUNK_WORDS words
 * @off: first bit
 * @len: bits in the range; @off + @len is at most KGC_CHUNK_PAGES
 *
 * Return: set bits in [@off, @off + @len).
 */
static unsigned int bits_count(const u64 *bits, unsigned int off,
			       unsigned int len)
{
	unsigned int end = off + len, n = 0;

	while (off < end) {
		unsigned int i = off / 64;
		unsigned int hi = min_t(unsigned int, end - i * 64, 64);

		n += hweight64(bits[i] & pages_mask(off % 64, hi));
		off = i * 64 + hi;
	}
	return n;
}

/**
 * bits_set() - set a range of a chunk bitmap
 * @bits: the bitmap, KGC_CHUNK_WORDS words
 * @off: first bit
 * @len: bits to set; @off + @len is at most KGC_CHUNK_PAGES
 */
static void bits_set(u64 *bits, unsigned int off, unsigned int len)
{
	unsigned int end = off + len;

	while (off < end) {
		unsigned int i = off / 64;
		unsigned int hi = min_t(unsigned int, end - i * 64, 64);

		bits[i] |= pages_mask(off % 64, hi);
		off = i * 64 + hi;
	}
}

/**
 * bits_clear() - clear a range of a chunk bitmap
 * @bits: the bitmap, KGC_CHUNK_WORDS words
 * @off: first bit
 * @len: bits to clear; @off + @len is at most KGC_CHUNK_PAGES
 */
static void bits_clear(u64 *bits, unsigned int off, unsigned int len)
{
	unsigned int end = off + len;

	while (off < end) {
		unsigned int i = off / 64;
		unsigned int hi = min_t(unsigned int, end - i * 64, 64);

		bits[i] &= ~pages_mask(off % 64, hi);
		off = i * 64 + hi;
	}
}

/**
 * word_inner_max() - longest run of clear bits strictly inside a word
 * @w: the word, not zero
 *
 * Runs that touch bit 0 or bit 63 are not counted: they belong to runs
 * that may continue into the neighbouring words and are measured there.
 *
 * Return: the length of the longest run of clear bits with a set bit on
 * both sides.
 */
static unsigned int word_inner_max(u64 w)
{
	unsigned int best = 0, z;

	w >>= __ffs64(w);		/* drop the low run; bit 0 is now set */
	if (w == ~0ULL)
		return 0;
	for (;;) {
		w >>= __ffs64(~w);	/* drop set bits; zeros shift in on top */
		if (!w)
			break;		/* what is left was the high run */
		z = __ffs64(w);
		best = max(best, z);
		w >>= z;
	}
	return best;
}

/**
 * word_runs() - where runs of @n set bits start in a word
 * @x: the word
 * @n: run length, 1 to 63
 *
 * Log-step shift-and: after each step bit i says whether bits i .. i + s - 1
 * are all set, with s doubling up to @n. Runs that would continue past bit 63
 * are not reported (zeros shift in from the top).
 *
 * Return: a word with bit i set when bits i .. i + @n - 1 of @x are all set.
 */
static u64 word_runs(u64 x, unsigned int n)
{
	unsigned int s = 1;

	while (s < n) {
		unsigned int sh = min(s, n - s);

		x &= x >> sh;
		s += sh;
	}
	return x;
}

/**
 * pagechunk_summarize() - summary of one chunk's bitmaps
 * @pc: the chunk
 *
 * Return: start, max and end free runs of the chunk and its count of free
 * resident pages.
 */
static struct kgc_pagesum pagechunk_summarize(const struct kgc_pagechunk *pc)
{
	struct kgc_pagesum s = { 0 };
	unsigned int i, run = 0, busy = 0;
	bool seen = false;

	for (i = 0; i < KGC_CHUNK_WORDS; i++) {
		u64 w = pc->alloc[i];
		unsigned int tz, lz, inner;

		busy += hweight64(w | pc->scav[i]);
		if (!w) {
			run += 64;
			continue;
		}
		tz = __ffs64(w);
		lz = 64 - fls64(w);
		run += tz;
		if (!seen) {
			s.start = run;
			seen = true;
		}
		s.max = max_t(u32, s.max, run);
		/*
		 * Only measure the runs inside the word if one of them beats
		 * the best so far: first by counting, then by shift-and.
		 */
		inner = 64 - hweight64(w) - tz - lz;
		if (inner > s.max &&
		    word_runs(~w & pages_mask(tz, 64 - lz), s.max + 1))
			s.max = word_inner_max(w);
		run = lz;
	}
	if (!seen) {
		s.start = KGC_CHUNK_PAGES;
		s.max = KGC_CHUNK_PAGES;
		s.end = KGC_CHUNK_PAGES;
	} else {
		s.end = run;
		s.max = max_t(u32, s.max, run);
	}
	s.nres = KGC_CHUNK_PAGES - busy;
	return s;
}

/**
 * pagechunk_find() - first run of free pages inside a chunk
 * @pc: the chunk
 * @n: pages wanted, 1 to KGC_CHUNK_PAGES
 *
 * Return: the chunk-relative index of the lowest run of @n free pages, or
 * -1 when the chunk has none.
 */
static long pagechunk_find(const struct kgc_pagechunk *pc, unsigned int n)
{
	unsigned int i, run = 0, start = 0;

	for (i = 0; i < KGC_CHUNK_WORDS; i++) {
		u64 w = pc->alloc[i];

		if (!run)
			start = i * 64;
		if (!w) {
			run += 64;
			if (run >= n)
				return start;
			continue;
		}
		/* The run from earlier words, continued by this word's low zeros. */
		if (run + __ffs64(w) >= n)
			return start;
		/* A run wholly inside this word. */
		if (n < 64) {
			u64 fit = word_runs(~w, n);

			if (fit)
				return i * 64 + __ffs64(fit);
		}
		/* The high zeros start a run that may continue in the next word. */
		run = 64 - fls64(w);
		start = i * 64 + 64 - run;
	}
	return -1;
}

/**
 * pagesum_merge() - summary of two neighbouring ranges of equal size
 * @s: result
 * @l: summary of the lower range
 * @r: summary of the upper range
 * @half: pages in each of the two ranges
 */
static void pagesum_merge(struct kgc_pagesum *s, const struct kgc_pagesum *l,
			  const struct kgc_pagesum *r, u32 half)
{
	s->start = l->start == half ? half + r->start : l->start;
	s->end = r->end == half ? half + l->end : r->end;
	s->max = max(max(l->max, r->max), l->end + r->start);
	s->nres = l->nres + r->nres;
}

/**
 * pageheap_chunk() - bitmaps of a chunk
 * @ph: page heap
 * @c: chunk index; the chunk's arena must have been grown into
 *
 * Return: the chunk.
 */
static struct kgc_pagechunk *pageheap_chunk(const struct kgc_pageheap *ph,
					    unsigned long c)
{
	return &ph->blocks[c / KGC_ARENA_CHUNKS][c % KGC_ARENA_CHUNKS];
}

/*
 * The part of [*pos, end) that lies in one chunk: its chunk, offset and
 * length. Advances *pos past it; callers loop while *pos < end.
 */
static struct kgc_pagechunk *pageheap_piece(struct kgc_pageheap *ph,
					    unsigned long *pos,
					    unsigned long end,
					    unsigned int *off,
					    unsigned int *len)
{
	struct kgc_pagechunk *pc = pageheap_chunk(ph, *pos / KGC_CHUNK_PAGES);

	*off = *pos % KGC_CHUNK_PAGES;
	*len = min_t(unsigned long, end - *pos, KGC_CHUNK_PAGES - *off);
	*pos += *len;
	return pc;
}

/**
 * pageheap_update() - recompute the summaries of a range of chunks
 * @ph: page heap
 * @c0: first chunk whose bitmaps changed
 * @c1: last chunk whose bitmaps changed
 *
 * Recomputes the leaves of chunks @c0 .. @c1, then, level by level, only the
 * inner nodes above them: O(@c1 - @c0 + log chunks) nodes.
 */
static void pageheap_update(struct kgc_pageheap *ph, unsigned long c0,
			    unsigned long c1)
{
	struct kgc_pagesum *t = ph->tree;
	unsigned long i, lo, hi;
	u32 half = KGC_CHUNK_PAGES;

	for (i = c0; i <= c1; i++)
		t[ph->nleaves + i] = pagechunk_summarize(pageheap_chunk(ph, i));
	lo = (ph->nleaves + c0) / 2;
	hi = (ph->nleaves + c1) / 2;
	for (; lo; lo /= 2, hi /= 2, half *= 2) {
		for (i = lo; i <= hi; i++)
			pagesum_merge(&t[i], &t[2 * i], &t[2 * i + 1], half);
	}
}

/**
 * pageheap_range_valid() - whether a run lies below the limit
 * @ph: page heap
 * @base: first page
 * @npages: pages in the run
 *
 * Return: true when @npages is not zero and [@base, @base + @npages) lies
 * below the limit (no overflow).
 */
static bool pageheap_range_valid(const struct kgc_pageheap *ph,
				 unsigned long base, unsigned long npages)
{
	return npages && base < ph->limit && npages <= ph->limit - base;
}

/**
 * pageheap_count() - count allocated (or scavenged) pages in a run
 * @ph: page heap
 * @base: first page
 * @npages: pages in the run, which pageheap_range_valid() accepted
 * @scav: count scav bits instead of alloc bits
 *
 * Return: pages of the run whose alloc (or scav) bit is set.
 */
static unsigned long pageheap_count(const struct kgc_pageheap *ph,
				    unsigned long base, unsigned long npages,
				    bool scav)
{
	unsigned long end = base + npages, n = 0;

	while (base < end) {
		const struct kgc_pagechunk *pc;
		unsigned int off = base % KGC_CHUNK_PAGES;
		unsigned int len = min_t(unsigned long, end - base,
					 KGC_CHUNK_PAGES - off);

		pc = pageheap_chunk(ph, base / KGC_CHUNK_PAGES);
		n += bits_count(scav ? pc->scav : pc->alloc, off, len);
		base += len;
	}
	return n;
}

/**
 * pageheap_take() - allocate a run known to be free
 * @ph: page heap
 * @base: first page
 * @npages: pages in the run, all free and below the limit
 * @nscav: if not NULL, set to how many pages of the run were scavenged
 */
static void pageheap_take(struct kgc_pageheap *ph, unsigned long base,
			  unsigned long npages, unsigned long *nscav)
{
	unsigned long end = base + npages, c0 = base / KGC_CHUNK_PAGES;
	unsigned long n = 0;

	while (base < end) {
		struct kgc_pagechunk *pc;
		unsigned int off, len;

		pc = pageheap_piece(ph, &base, end, &off, &len);
		n += bits_count(pc->scav, off, len);
		bits_clear(pc->scav, off, len);
		bits_set(pc->alloc, off, len);
	}
	pageheap_update(ph, c0, (end - 1) / KGC_CHUNK_PAGES);
	WRITE_ONCE(ph->free_pages, ph->free_pages - npages);
	WRITE_ONCE(ph->scav_pages, ph->scav_pages - n);
	if (nscav)
		*nscav = n;
}

/**
 * kgc_pageheap_init() - set up an empty page heap
 * @ph: page heap to set up
 * @max_pages: pages the heap may grow to, 1 to KGC_PAGEHEAP_MAX_PAGES
 *
 * The heap starts with a limit of 0: grow it before allocating. The summary
 * tree (32 to 64 bytes per 4 MiB chunk of @max_pages) is allocated here, the
 * bitmaps when the heap grows. Sleeps. On failure @ph is left zeroed, and
 * kgc_pageheap_destroy() on it is a no-op.
 *
 * Return: 0, -EINVAL for a bad @max_pages, or -ENOMEM.
 */
int kgc_pageheap_init(struct kgc_pageheap *ph, unsigned long max_pages)
{
	unsigned long nchunks, nleaves = 1;

	memset(ph, 0, sizeof(*ph));
	if (!max_pages || max_pages > KGC_PAGEHEAP_MAX_PAGES)
		return -EINVAL;
	nchunks = DIV_ROUND_UP(max_pages, KGC_CHUNK_PAGES);
	while (nleaves < nchunks)
		nleaves *= 2;

	ph->nblocks = DIV_ROUND_UP(max_pages, KGC_ARENA_PAGES);
	ph->blocks = kcalloc(ph->nblocks, sizeof(*ph->blocks),
			     GFP_KERNEL_ACCOUNT);
	if (!ph->blocks)
		goto err;
	ph->tree = kvcalloc(2 * nleaves, sizeof(*ph->tree), GFP_KERNEL_ACCOUNT);
	if (!ph->tree)
		goto err_blocks;
	ph->nleaves = nleaves;
	ph->max_pages = max_pages;
	return 0;

err_blocks:
	kfree(ph->blocks);
err:
	memset(ph, 0, sizeof(*ph));
	return -ENOMEM;
}

/**
 * kgc_pageheap_destroy() - free a page heap's metadata
 * @ph: page heap, set up by kgc_pageheap_init() (successfully or not)
 *
 * Pages still allocated are simply forgotten: the heap's memory is torn
 * down as a whole by its owner.
 */
void kgc_pageheap_destroy(struct kgc_pageheap *ph)
{
	unsigned long b;

	for (b = 0; ph->blocks && b < ph->nblocks; b++)
		kfree(ph->blocks[b]);
	kfree(ph->blocks);
	kvfree(ph->tree);
	memset(ph, 0, sizeof(*ph));
}

/**
 * kgc_pageheap_grow() - extend the heap to a new limit
 * @ph: page heap
 * @new_limit: pages the heap has after growing, at most max_pages
 *
 * Pages [limit, @new_limit) become free and scavenged: they were never
 * touched, so they are not resident and fault in zeroed. The bitmaps of
 * arenas grown into for the first time are allocated here; if that fails
 * nothing changes. Sleeps.
 *
 * Return: 0 (also when @new_limit is the limit), -EINVAL when @new_limit is
 * below the limit, -ENOSPC when it is above max_pages, -ENOMEM.
 */
int kgc_pageheap_grow(struct kgc_pageheap *ph, unsigned long new_limit)
{
	unsigned long old = ph->limit, base = old, b, b0, b1, c;

	if (new_limit < old)
		return -EINVAL;
	if (new_limit > ph->max_pages)
		return -ENOSPC;
	if (new_limit == old)
		return 0;

	b0 = DIV_ROUND_UP(old, KGC_ARENA_PAGES);
	b1 = DIV_ROUND_UP(new_limit, KGC_ARENA_PAGES);
	for (b = b0; b < b1; b++) {
		struct kgc_pagechunk *blk;

		blk = kcalloc(KGC_ARENA_CHUNKS, sizeof(*blk), GFP_KERNEL_ACCOUNT);
		if (!blk)
			goto err;
		/* Beyond the limit reads as allocated. */
		for (c = 0; c < KGC_ARENA_CHUNKS; c++)
			memset(blk[c].alloc, 0xff, sizeof(blk[c].alloc));
		ph->blocks[b] = blk;
	}

	while (base < new_limit) {
		struct kgc_pagechunk *pc;
		unsigned int off, len;

		pc = pageheap_piece(ph, &base, new_limit, &off, &len);
		bits_clear(pc->alloc, off, len);
		bits_set(pc->scav, off, len);
	}
	pageheap_update(ph, old / KGC_CHUNK_PAGES,
			(new_limit - 1) / KGC_CHUNK_PAGES);
	WRITE_ONCE(ph->free_pages, ph->free_pages + new_limit - old);
	WRITE_ONCE(ph->scav_pages, ph->scav_pages + new_limit - old);
	WRITE_ONCE(ph->limit, new_limit);
	return 0;

err:
	while (b-- > b0) {
		kfree(ph->blocks[b]);
		ph->blocks[b] = NULL;
	}
	return -ENOMEM;
}

/**
 * kgc_pageheap_alloc() - allocate the lowest run of free pages that fits
 * @ph: page heap
 * @npages: pages wanted
 * @nscav: if not NULL, set to how many pages of the run were scavenged
 *	(they fault in zeroed); 0 on failure
 *
 * Return: the first page of the run, -ENOMEM when no run of @npages free
 * pages exists below the limit (grow the heap and retry), -EINVAL when
 * @npages is 0.
 */
long kgc_pageheap_alloc(struct kgc_pageheap *ph, unsigned long npages,
			unsigned long *nscav)
{
	const struct kgc_pagesum *t = ph->tree;
	unsigned long i = 1, pos = 0, half = ph->nleaves * KGC_CHUNK_PAGES;
	long base, off;

	if (nscav)
		*nscav = 0;
	if (!npages)
		return -EINVAL;
	if (!t || npages > t[1].max)
		return -ENOMEM;

	while (i < ph->nleaves) {
		const struct kgc_pagesum *l = &t[2 * i], *r = &t[2 * i + 1];

		half /= 2;
		if (l->max >= npages) {
			i = 2 * i;
		} else if (l->end + r->start >= npages) {
			base = pos + half - l->end;
			goto found;
		} else {
			i = 2 * i + 1;
			pos += half;
		}
	}
	off = pagechunk_find(pageheap_chunk(ph, i - ph->nleaves), npages);
	if (WARN_ON_ONCE(off < 0))
		return -ENOMEM;		/* a summary lied: never expected */
	base = pos + off;
found:
	pageheap_take(ph, base, npages, nscav);
	return base;
}

/**
 * kgc_pageheap_alloc_range() - allocate a given run of pages
 * @ph: page heap
 * @base: first page
 * @npages: pages in the run
 * @nscav: if not NULL, set to how many pages of the run were scavenged;
 *	0 on failure
 *
 * Used to reserve a run the scavenger is about to release (see the top of
 * this file), and by anyone who needs particular pages.
 *
 * Return: 0, -EINVAL when the run is empty or not below the limit, -EBUSY
 * when a page of it is allocated.
 */
int kgc_pageheap_alloc_range(struct kgc_pageheap *ph, unsigned long base,
			     unsigned long npages, unsigned long *nscav)
{
	if (nscav)
		*nscav = 0;
	if (!pageheap_range_valid(ph, base, npages))
		return -EINVAL;
	if (pageheap_count(ph, base, npages, false))
		return -EBUSY;
	pageheap_take(ph, base, npages, nscav);
	return 0;
}

/**
 * kgc_pageheap_free() - free a run of allocated pages
 * @ph: page heap
 * @base: first page
 * @npages: pages in the run
 *
 * The run may be any run of allocated pages: a whole run returned by
 * kgc_pageheap_alloc(), part of one, or several adjacent ones. It merges
 * with free neighbours. The pages count as resident afterwards. A run that
 * is empty, not below the limit or not wholly allocated is a caller bug: it
 * warns once and nothing changes.
 */
void kgc_pageheap_free(struct kgc_pageheap *ph, unsigned long base,
		       unsigned long npages)
{
	unsigned long end = base + npages, c0 = base / KGC_CHUNK_PAGES;

	if (WARN_ON_ONCE(!pageheap_range_valid(ph, base, npages) ||
			 pageheap_count(ph, base, npages, false) != npages))
		return;

	while (base < end) {
		struct kgc_pagechunk *pc;
		unsigned int off, len;

		pc = pageheap_piece(ph, &base, end, &off, &len);
		bits_clear(pc->alloc, off, len);
	}
	pageheap_update(ph, c0, (end - 1) / KGC_CHUNK_PAGES);
	WRITE_ONCE(ph->free_pages, ph->free_pages + npages);
}

/**
 * kgc_pageheap_find_resident() - highest run of free resident pages
 * @ph: page heap
 * @max_npages: longest run wanted
 * @npages: set to the length of the run found, 0 when none
 *
 * Searches from the highest address down (see the top of this file). The
 * run lies inside one chunk and is the top @max_npages pages of the highest
 * maximal run of free resident pages. Nothing changes: mark the run with
 * kgc_pageheap_scavenge() once its memory is given back.
 *
 * Return: the first page of the run, or -ENOENT when every free page is
 * scavenged already (or @max_npages is 0).
 */
long kgc_pageheap_find_resident(const struct kgc_pageheap *ph,
				unsigned long max_npages,
				unsigned long *npages)
{
	const struct kgc_pagesum *t = ph->tree;
	const struct kgc_pagechunk *pc;
	unsigned long i = 1, run = 0, top;
	unsigned int b;
	int w;
	u64 res = 0;

	*npages = 0;
	if (!max_npages || !t || !t[1].nres)
		return -ENOENT;
	while (i < ph->nleaves)
		i = t[2 * i + 1].nres ? 2 * i + 1 : 2 * i;
	pc = pageheap_chunk(ph, i - ph->nleaves);

	/* The highest free resident page of the chunk... */
	for (w = KGC_CHUNK_WORDS - 1; w >= 0; w--) {
		res = ~(pc->alloc[w] | pc->scav[w]);
		if (res)
			break;
	}
	if (WARN_ON_ONCE(w < 0))
		return -ENOENT;		/* a summary lied: never expected */
	b = fls64(res) - 1;
	top = (i - ph->nleaves) * KGC_CHUNK_PAGES + w * 64 + b;

	/* ...and the free resident pages right below it, word by word. */
	for (;;) {
		u64 busy;

		res = ~(pc->alloc[w] | pc->scav[w]);
		busy = ~res & pages_mask(0, b + 1);
		if (busy) {
			run += b + 1 - fls64(busy);
			break;
		}
		run += b + 1;
		if (run >= max_npages || w == 0)
			break;
		w--;
		b = 63;
	}
	*npages = min(run, max_npages);
	return top + 1 - *npages;
}

/**
 * kgc_pageheap_scavenge() - record that a run of free pages is not resident
 * @ph: page heap
 * @base: first page
 * @npages: pages in the run, all free
 *
 * Call after giving the pages' memory back. Pages of the run that are
 * scavenged already stay so. A run that is empty, not below the limit or
 * not wholly free is a caller bug: it warns once and nothing changes.
 *
 * Return: pages of the run that were resident until now.
 */
unsigned long kgc_pageheap_scavenge(struct kgc_pageheap *ph,
				    unsigned long base, unsigned long npages)
{
	unsigned long end = base + npages, c0 = base / KGC_CHUNK_PAGES;
	unsigned long n = 0;

	if (WARN_ON_ONCE(!pageheap_range_valid(ph, base, npages) ||
			 pageheap_count(ph, base, npages, false)))
		return 0;

	while (base < end) {
		struct kgc_pagechunk *pc;
		unsigned int off, len;

		pc = pageheap_piece(ph, &base, end, &off, &len);
		n += len - bits_count(pc->scav, off, len);
		bits_set(pc->scav, off, len);
	}
	pageheap_update(ph, c0, (end - 1) / KGC_CHUNK_PAGES);
	WRITE_ONCE(ph->scav_pages, ph->scav_pages + n);
	return n;
}

/**
 * kgc_pageheap_largest_free() - longest run of free pages
 * @ph: page heap
 *
 * Return: the largest @npages kgc_pageheap_alloc() would satisfy now.
 */
unsigned long kgc_pageheap_largest_free(const struct kgc_pageheap *ph)
{
	return ph->tree ? ph->tree[1].max : 0;
}

/**
 * kgc_pageheap_tail_free() - free pages right below the limit
 * @ph: page heap
 *
 * A run of n pages fits after growing the heap by n - tail_free pages, so
 * the caller of a failed kgc_pageheap_alloc() can grow by no more than it
 * needs (rounded up to an arena, as Go does). O(log chunks): the run is
 * measured in the last chunk, then over whole tree nodes to its left.
 *
 * Return: the length of the free run that ends at the limit.
 */
unsigned long kgc_pageheap_tail_free(const struct kgc_pageheap *ph)
{
	const struct kgc_pagechunk *pc;
	unsigned long last, j, size = KGC_CHUNK_PAGES, run = 0;
	unsigned int b;
	int w;

	if (!ph->limit)
		return 0;
	last = (ph->limit - 1) / KGC_CHUNK_PAGES;
	pc = pageheap_chunk(ph, last);
	w = (ph->limit - 1) % KGC_CHUNK_PAGES / 64;
	b = (ph->limit - 1) % 64;
	for (;;) {
		u64 busy = pc->alloc[w] & pages_mask(0, b + 1);

		if (busy)
			return run + b + 1 - fls64(busy);
		run += b + 1;
		if (w == 0)
			break;
		w--;
		b = 63;
	}

	/*
	 * The chunk is free below the limit: add whole nodes to the left.
	 * Going up while the node is a left child makes the next left
	 * neighbour as large as it can be, so this takes O(log chunks) steps.
	 */
	j = ph->nleaves + last;
	for (;;) {
		while (j > 1 && !(j & 1)) {
			j /= 2;
			size *= 2;
		}
		if (j == 1)
			return run;
		j--;
		if (ph->tree[j].end < size)
			return run + ph->tree[j].end;
		run += size;
	}
}

/**
 * kgc_pageheap_is_free() - whether every page of a run is free
 * @ph: page heap
 * @base: first page
 * @npages: pages in the run
 *
 * Return: true when the run is not empty, lies below the limit and every
 * page of it is free.
 */
bool kgc_pageheap_is_free(const struct kgc_pageheap *ph, unsigned long base,
			  unsigned long npages)
{
	return pageheap_range_valid(ph, base, npages) &&
	       !pageheap_count(ph, base, npages, false);
}

/**
 * kgc_pageheap_check() - verify every invariant of a page heap
 * @ph: page heap
 *
 * Recomputes every summary and counter from the bitmaps: O(grown pages +
 * nodes). For tests and debugging; not used on any fast path.
 *
 * Return: 0 when consistent, -EUCLEAN (after a warning naming the broken
 * invariant) otherwise.
 */
int kgc_pageheap_check(const struct kgc_pageheap *ph)
{
	unsigned long nchunks = DIV_ROUND_UP(ph->max_pages, KGC_CHUNK_PAGES);
	unsigned long grown = DIV_ROUND_UP(ph->limit, KGC_ARENA_PAGES);
	unsigned long b, c, i, nfree = 0, nscav = 0;
	const struct kgc_pagesum *t = ph->tree;
	u32 half = KGC_CHUNK_PAGES;

	if (!t)
		return ph->limit ? -EUCLEAN : 0;
	for (b = 0; b < ph->nblocks; b++) {
		bool want = b < grown;

		if (WARN_ON_ONCE(!!ph->blocks[b] != want))
			return -EUCLEAN;
	}
	for (c = 0; c < ph->nleaves; c++) {
		const struct kgc_pagesum *got = &t[ph->nleaves + c];
		struct kgc_pagesum want = { 0 };
		const struct kgc_pagechunk *pc;

		if (c < nchunks && c / KGC_ARENA_CHUNKS < grown) {
			pc = pageheap_chunk(ph, c);
			for (i = 0; i < KGC_CHUNK_PAGES; i++) {
				unsigned long p = c * KGC_CHUNK_PAGES + i;
				bool a = pc->alloc[i / 64] & BIT_ULL(i % 64);
				bool s = pc->scav[i / 64] & BIT_ULL(i % 64);

				if (WARN_ON_ONCE(s && a) ||
				    WARN_ON_ONCE(p >= ph->limit && !a))
					return -EUCLEAN;
				nfree += !a;
				nscav += s;
			}
			want = pagechunk_summarize(pc);
		}
		if (WARN_ON_ONCE(memcmp(&want, got, sizeof(want))))
			return -EUCLEAN;
	}
	for (i = ph->nleaves / 2; i; i /= 2, half *= 2) {
		for (c = i; c < 2 * i; c++) {
			struct kgc_pagesum want;

			pagesum_merge(&want, &t[2 * c], &t[2 * c + 1], half);
			if (WARN_ON_ONCE(memcmp(&want, &t[c], sizeof(want))))
				return -EUCLEAN;
		}
	}
	if (WARN_ON_ONCE(nfree != ph->free_pages) ||
	    WARN_ON_ONCE(nscav != ph->scav_pages) ||
	    WARN_ON_ONCE(t[1].nres != nfree - nscav))
		return -EUCLEAN;
	return 0;
}

#ifdef __KERNEL__
#if IS_ENABLED(CONFIG_KUNIT)
#include "pages-test.h"
#endif
#endif
