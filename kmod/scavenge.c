// SPDX-License-Identifier: GPL-2.0
/*
 * scavenge.c - which free pages to give back to the system first, and how
 * much (Go's scavenger, runtime/mgcscavenge.go, its index and its pacing).
 *
 * What is tracked
 * ---------------
 * The page heap (pages.c) already knows, for every page, whether it is
 * free and whether it is scavenged (its memory given back, or never
 * touched). A free page that is not scavenged is "free resident": memory
 * the process pays for and does not use. The page heap counts them
 * (kgc_pageheap_resident_free()) and can find them; what it does not know
 * is how long they have been free. This file adds that: for each chunk of
 * KGC_CHUNK_PAGES pages (4 MiB), the time a span was last freed into it,
 * its stamp. Pages only ever become free resident when a span is freed
 * (kgc_mheap_free_span() calls kgc_scavidx_note_free()); pages the heap
 * grows by start out scavenged, and the scavenger's own reserve-and-free
 * of a run (see reclaim.c) leaves it scavenged.
 *
 * Why per chunk and "last freed": a page-granular age would cost a word per
 * 8 KiB page and an update per page on every sweep; a chunk is the unit the
 * page heap already summarises, and a chunk into which nothing was freed
 * for a long time is the one least likely to be allocated from soon (the
 * allocator takes the lowest free run, wherever the frees happened, so a
 * chunk that keeps being freed into is one that keeps being allocated
 * from). Go's scavenger index makes the same call: its per-chunk "gen"
 * records the last GC cycle in which the chunk was used, and the background
 * scavenger prefers chunks untouched since before the last cycle.
 *
 * Selection: oldest first
 * -----------------------
 * The stamps sit in the leaves of a min tree over the chunks (a segment
 * tree shaped like the page heap's summary tree): node i holds the minimum
 * of its two children, the root the oldest stamp of the heap. A chunk with
 * no free resident page holds KGC_SCAV_NONE, larger than any stamp.
 * kgc_scavidx_find() walks from the root down to a leaf holding the root's
 * value, preferring the right child on a tie, so among chunks freed at the
 * same time the highest goes first, as in Go (the allocator prefers low
 * addresses, so high free pages are the least likely to be reused). In that
 * chunk it takes the highest run of free resident pages, at most
 * max_npages of them. A leaf can be stale: the chunk's free resident pages
 * may since have been allocated again or scavenged. The page heap's summary
 * of the chunk (nres) says so in O(1); the walk then clears the leaf and
 * starts again. Each stale leaf is cleared once, so a walk costs O(log
 * chunks) plus O(log chunks) per stale leaf it clears; a freed span costs
 * O(log chunks) per chunk it touches.
 *
 * How much: the goal and the CPU cap
 * ----------------------------------
 * The background scavenger steers the retained heap (pages in use plus free
 * resident pages: what the heap costs in memory) toward
 *
 *	goal = min(max(heap_goal + overshoot, recent_peak) *
 *		       (1 + KGC_SCAV_RETAIN_PERCENT / 100),
 *		   memory_limit * KGC_SCAV_LIMIT_PERCENT / 100)
 *
 * as Go does (retainExtraPercent = 10 over the heap goal, and 95% of
 * GOMEMLIMIT), but over what the heap will really reach: it goes past its
 * goal while a cycle marks (the overshoot), the goal counts objects while
 * the heap holds their spans' pages, and the goal jumps from cycle to
 * cycle with what each happened to mark, so the recent peak of pages in
 * use, a slowly decaying maximum, counts too. Pages given back below either
 * would be faulted in again, zeroed, a cycle later. When the live heap
 * shrinks for good, the goal follows it down within a few cycles and the
 * excess goes back.
 * It works in slices and then sleeps kgc_scav_sleep_ns() so that it uses
 * about 1% of a CPU (Go's scavengePercent).
 *
 * Locking: the heap lock around every call; see struct kgc_scavidx.
 */
#include "pages.h"
#include "scavenge.h"

/**
 * kgc_scavidx_init() - set up an empty index
 * @si: index
 * @max_pages: pages the heap may grow to (its page heap's max_pages)
 *
 * Allocates the tree, 16 bytes per 4 MiB of reservation (rounded up to a
 * power of two). On failure @si is left zeroed and kgc_scavidx_destroy() on
 * it is a no-op.
 *
 * Return: 0, -EINVAL for a bad @max_pages, or -ENOMEM.
 */
int kgc_scavidx_init(struct kgc_scavidx *si, unsigned long max_pages)
{
	unsigned long nchunks, nleaves = 1;

	memset(si, 0, sizeof(*si));
	if (!max_pages || max_pages > KGC_PAGEHEAP_MAX_PAGES)
		return -EINVAL;
	nchunks = DIV_ROUND_UP(max_pages, KGC_CHUNK_PAGES);
	while (nleaves < nchunks)
		nleaves *= 2;
	si->tree = kvmalloc(2 * nleaves * sizeof(*si->tree),
			    GFP_KERNEL_ACCOUNT);
	if (!si->tree)
		return -ENOMEM;
	/* Every node KGC_SCAV_NONE: no chunk has free resident pages. */
	memset(si->tree, 0xff, 2 * nleaves * sizeof(*si->tree));
	si->nleaves = nleaves;
	return 0;
}

/**
 * kgc_scavidx_destroy() - free an index
 * @si: index, set up by kgc_scavidx_init() (successfully or not)
 */
void kgc_scavidx_destroy(struct kgc_scavidx *si)
{
	kvfree(si->tree);
	memset(si, 0, sizeof(*si));
}

/**
 * kgc_scavidx_now() - the index's current time
 * @si: index
 *
 * Return: @si->clock() when there is a clock, else @si->now.
 */
u64 kgc_scavidx_now(const struct kgc_scavidx *si)
{
	return si->clock ? si->clock() : si->now;
}

/*
 * Set leaf @c to @stamp and recompute its ancestors, stopping at the first
 * one that does not change.
 */
static void scavidx_set(struct kgc_scavidx *si, unsigned long c, u64 stamp)
{
	unsigned long i = si->nleaves + c;

	si->tree[i] = stamp;
	for (i /= 2; i; i /= 2) {
		u64 m = min(si->tree[2 * i], si->tree[2 * i + 1]);

		if (si->tree[i] == m)
			break;
		si->tree[i] = m;
	}
}

/**
 * kgc_scavidx_note_free() - record that a run of pages was just freed
 * @si: index
 * @base: first page
 * @npages: pages in the run
 *
 * Stamps every chunk the run touches with the current time. Called by
 * kgc_mheap_free_span() for every span it gives back to the page heap.
 */
void kgc_scavidx_note_free(struct kgc_scavidx *si, unsigned long base,
			   unsigned long npages)
{
	unsigned long c, c0 = base / KGC_CHUNK_PAGES;
	unsigned long c1 = (base + npages - 1) / KGC_CHUNK_PAGES;
	u64 now;

	if (!si->tree || !npages || WARN_ON_ONCE(c1 >= si->nleaves))
		return;
	now = kgc_scavidx_now(si);
	/* A stamp never reads as "none". */
	if (now == KGC_SCAV_NONE)
		now--;
	for (c = c0; c <= c1; c++)
		scavidx_set(si, c, now);
}

/*
 * The highest run of free resident pages of chunk @c, at most @max_npages
 * long; the chunk is known to have one. Returns its first page and sets
 * *@npages.
 */
static unsigned long scavidx_chunk_run(const struct kgc_pageheap *ph,
				       unsigned long c,
				       unsigned long max_npages,
				       unsigned long *npages)
{
	const struct kgc_pagechunk *pc;
	unsigned long run = 0, top;
	unsigned int b;
	int w;
	u64 res = 0;

	pc = &ph->blocks[c / KGC_ARENA_CHUNKS][c % KGC_ARENA_CHUNKS];
	for (w = KGC_CHUNK_WORDS - 1; w >= 0; w--) {
		res = ~(pc->alloc[w] | pc->scav[w]);
		if (res)
			break;
	}
	if (WARN_ON_ONCE(w < 0))
		return 0;	/* the page heap's summary lied */
	b = fls64(res) - 1;
	top = c * KGC_CHUNK_PAGES + w * 64 + b;
	for (;;) {
		u64 busy = (pc->alloc[w] | pc->scav[w]) &
			   (b == 63 ? ~0ULL : (1ULL << (b + 1)) - 1);

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

/*
 * Walk down to the oldest leaf, dropping stale leaves on the way. Returns
 * its chunk, or -ENOENT.
 */
static long scavidx_oldest_chunk(struct kgc_scavidx *si,
				 const struct kgc_pageheap *ph)
{
	unsigned long nchunks = DIV_ROUND_UP(ph->limit, KGC_CHUNK_PAGES);

	if (!si->tree || WARN_ON_ONCE(si->nleaves != ph->nleaves))
		return -ENOENT;
	while (si->tree[1] != KGC_SCAV_NONE) {
		unsigned long i = 1, c;

		while (i < si->nleaves)
			i = si->tree[2 * i + 1] == si->tree[i] ? 2 * i + 1 :
								   2 * i;
		c = i - si->nleaves;
		if (c < nchunks && ph->tree[ph->nleaves + c].nres)
			return c;
		scavidx_set(si, c, KGC_SCAV_NONE);	/* stale */
	}
	return -ENOENT;
}

/**
 * kgc_scavidx_find() - the run of free resident pages to give back next
 * @si: index
 * @ph: the page heap it indexes
 * @max_npages: longest run wanted
 * @npages: set to the length of the run, 0 when none
 * @stamp: if not NULL, set to the stamp of the run's chunk
 *
 * Picks the chunk whose last free is the oldest (the highest one among
 * equals) and in it the highest run of free resident pages, at most
 * @max_npages long. Nothing changes in the page heap: reserve the run with
 * kgc_pageheap_alloc_range() before giving its memory back (see reclaim.c).
 *
 * Return: the first page of the run, or -ENOENT when no free page is
 * resident (or @max_npages is 0).
 */
long kgc_scavidx_find(struct kgc_scavidx *si, const struct kgc_pageheap *ph,
		      unsigned long max_npages, unsigned long *npages,
		      u64 *stamp)
{
	long c;

	*npages = 0;
	if (!max_npages)
		return -ENOENT;
	c = scavidx_oldest_chunk(si, ph);
	if (c < 0)
		return c;
	if (stamp)
		*stamp = si->tree[si->nleaves + c];
	return scavidx_chunk_run(ph, c, max_npages, npages);
}

/**
 * kgc_scavidx_oldest() - stamp of the oldest free resident pages
 * @si: index
 * @ph: the page heap it indexes
 *
 * Return: the stamp, or KGC_SCAV_NONE when no free page is resident.
 */
u64 kgc_scavidx_oldest(struct kgc_scavidx *si, const struct kgc_pageheap *ph)
{
	long c = scavidx_oldest_chunk(si, ph);

	return c < 0 ? KGC_SCAV_NONE : si->tree[si->nleaves + c];
}

/**
 * kgc_scav_goal() - how much heap the background scavenger lets stay
 * @heap_goal: the pacer's heap goal in bytes (U64_MAX: none)
 * @overshoot: how far the heap recently went past its goal during a
 *	cycle, in bytes (kgc_scav_overshoot())
 * @recent_peak: the most heap pages recently in use, in bytes
 *	(kgc_scav_recent_peak())
 * @memory_limit: the memory limit in bytes, negative for none
 *
 * The heap grows past its goal while a cycle marks (allocation does not
 * stop), and the next cycle will do the same: pages given back below that
 * peak are faulted in again, zeroed, one cycle later. So the goal covers
 * the recent overshoot too, and the recent peak, for a heap goal that
 * dropped although the heap will not (see the top of this file).
 *
 * Return: the goal for the retained heap in bytes (U64_MAX: none):
 * KGC_SCAV_RETAIN_PERCENT over the larger of the heap goal plus
 * @overshoot and @recent_peak, at most KGC_SCAV_LIMIT_PERCENT of the
 * limit.
 */
u64 kgc_scav_goal(u64 heap_goal, u64 overshoot, u64 recent_peak,
		  s64 memory_limit)
{
	u64 g = ~0ULL, peak, extra;

	if (heap_goal != ~0ULL && !check_add_overflow(heap_goal, overshoot,
						      &peak)) {
		peak = max(peak, recent_peak);
		extra = peak / 100 * KGC_SCAV_RETAIN_PERCENT;
		if (check_add_overflow(peak, extra, &g))
			g = ~0ULL;
	}
	if (memory_limit >= 0)
		g = min(g, (u64)memory_limit / 100 * KGC_SCAV_LIMIT_PERCENT);
	return g;
}

/**
 * kgc_scav_overshoot() - update the recent overshoot after a cycle
 * @prev: the overshoot so far
 * @peak: bytes in use when the cycle's marking ended (before its sweep)
 * @goal: the cycle's heap goal
 *
 * A decaying maximum: a higher overshoot counts at once, and each cycle
 * that stays lower halves the old one, so a heap that calms down (or
 * shrinks) is scavenged to its plain goal within a few cycles.
 *
 * Return: the new overshoot in bytes.
 */
u64 kgc_scav_overshoot(u64 prev, u64 peak, u64 goal)
{
	return max(peak > goal ? peak - goal : 0, prev / 2);
}

/**
 * kgc_scav_recent_peak() - update the recent peak after a cycle
 * @prev: the recent peak so far, in bytes
 * @peak: bytes of heap pages in use (by spans, whatever their objects)
 *	when the cycle's marking ended, before its sweep
 *
 * A slowly decaying maximum: a higher peak counts at once, and each cycle
 * that stays lower takes 1/KGC_SCAV_PEAK_DECAY off the old one. It covers
 * what the heap goal misses: the goal counts objects, not the pages their
 * spans hold (Go scales the last heap in use by the goal for the same
 * reason), and it moves with what each cycle happened to mark (objects
 * allocated black during a cycle count as marked). In GCBench under
 * emulation the goal jumps between 23 and 50 MB from one cycle to the
 * next, and a scavenger following it gave back several MB of pages each
 * run, only to have them faulted in again.
 *
 * Return: the new recent peak in bytes.
 */
u64 kgc_scav_recent_peak(u64 prev, u64 peak)
{
	return max(peak, prev - prev / KGC_SCAV_PEAK_DECAY);
}

/**
 * kgc_scav_excess() - pages the retained heap is over its goal
 * @retained: pages in use or free and resident
 * @goal: the goal in bytes (kgc_scav_goal())
 *
 * Return: how many pages to give back to meet the goal, 0 when it is met.
 */
unsigned long kgc_scav_excess(unsigned long retained, u64 goal)
{
	u64 goal_pages = goal >> KGC_PAGE_SHIFT;

	return retained > goal_pages ? retained - goal_pages : 0;
}

/**
 * kgc_scav_sleep_ns() - how long to rest after a slice of work
 * @work_ns: time the slice took
 * @percent: share of a CPU to use, 1 to 100
 *
 * Return: the rest that makes @work_ns @percent of the slice plus the rest
 * (U64_MAX for a @percent of 0: never work again).
 */
u64 kgc_scav_sleep_ns(u64 work_ns, unsigned int percent)
{
	u64 ns;

	if (!percent)
		return ~0ULL;
	if (percent >= 100)
		return 0;
	if (check_mul_overflow(work_ns, (u64)(100 - percent), &ns))
		return ~0ULL;
	return ns / percent;
}

#ifdef __KERNEL__
#if IS_ENABLED(CONFIG_KUNIT)
#include "scavenge-test.h"
#endif
#endif
