/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scavenge.h - the scavenger's index of free resident pages by age, and the
 * scavenger's arithmetic (goal, CPU cap). The kernel side (shrinker,
 * background worker, explicit release) is reclaim.c.
 *
 * The algorithm and its invariants are explained at the top of scavenge.c.
 */
#ifndef _KGC_SCAVENGE_H
#define _KGC_SCAVENGE_H

#include "core.h"

struct kgc_pageheap;

/* Stamp of a chunk with no free resident page (never selected). */
#define KGC_SCAV_NONE		(~0ULL)
/* The background scavenger retains this much over the heap goal (Go: 10). */
#define KGC_SCAV_RETAIN_PERCENT	10
/* ... and at most this share of the memory limit (Go: 95). */
#define KGC_SCAV_LIMIT_PERCENT	95
/* The recent peak loses this fraction (1/n) per cycle. */
#define KGC_SCAV_PEAK_DECAY	8
/* Longest run given back at once: 64 heap pages, 512 KiB. */
#define KGC_SCAV_BATCH_PAGES	64

/**
 * struct kgc_scavidx - when the free pages of each chunk were last freed
 * @nleaves: leaves of @tree: the chunk count rounded up to a power of two,
 *	the same as the page heap's summary tree
 * @tree: a min tree (segment tree) over the chunks: leaf @nleaves + c holds
 *	the stamp of chunk c, the time a span was last freed into it, or
 *	KGC_SCAV_NONE when the chunk has no free resident page; node i is the
 *	minimum of nodes 2i and 2i + 1, so node 1 is the oldest stamp
 * @clock: returns the current time (any unit that only grows; the module
 *	uses jiffies); NULL: use @now
 * @now: the current time when @clock is NULL (tests set it)
 * @inflight: pages a scavenger has reserved in the page heap while it
 *	gives their memory back (see reclaim.c)
 * @waiters: allocations waiting for @inflight to drop to zero; while there
 *	are any, no scavenger reserves more
 *
 * A leaf may claim a chunk has free resident pages after they were all
 * allocated again or scavenged: the page heap is the truth, and
 * kgc_scavidx_find() drops such stale leaves when it meets them. A leaf
 * never misses a chunk that does have free resident pages, because every
 * page becomes free resident through kgc_mheap_free_span(), which stamps
 * its chunks (pages that the heap grows by start out scavenged).
 *
 * Locking: the heap lock (struct kgc_mheap.lock) around every call and
 * every access to @inflight and @waiters, which may also be read without
 * it, with READ_ONCE(), as hints.
 */
struct kgc_scavidx {
	unsigned long nleaves;
	u64 *tree;
	u64 (*clock)(void);
	u64 now;
	unsigned long inflight;
	unsigned int waiters;
};

int kgc_scavidx_init(struct kgc_scavidx *si, unsigned long max_pages);
void kgc_scavidx_destroy(struct kgc_scavidx *si);
void kgc_scavidx_note_free(struct kgc_scavidx *si, unsigned long base,
			   unsigned long npages);
long kgc_scavidx_find(struct kgc_scavidx *si, const struct kgc_pageheap *ph,
		      unsigned long max_npages, unsigned long *npages,
		      u64 *stamp);
u64 kgc_scavidx_oldest(struct kgc_scavidx *si, const struct kgc_pageheap *ph);
u64 kgc_scavidx_now(const struct kgc_scavidx *si);
u64 kgc_scav_goal(u64 heap_goal, u64 overshoot, u64 recent_peak,
		  s64 memory_limit);
u64 kgc_scav_overshoot(u64 prev, u64 peak, u64 goal);
u64 kgc_scav_recent_peak(u64 prev, u64 peak);
unsigned long kgc_scav_excess(unsigned long retained, u64 goal);
u64 kgc_scav_sleep_ns(u64 work_ns, unsigned int percent);

#endif /* _KGC_SCAVENGE_H */
