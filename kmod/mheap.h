/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mheap.h - the heap of one process: page heap, span map, mcentrals.
 */
#ifndef _KGC_MHEAP_H
#define _KGC_MHEAP_H

#include "central.h"
#include "pages.h"
#include "scavenge.h"

/**
 * struct kgc_mheap - Go's mheap for one process
 * @lock: protects everything below and every span of the heap. Taken in
 *	ioctl context (sleeps: may allocate); never held across user memory
 *	access. Nothing else is held when it is taken.
 * @base: user address of heap page 0
 * @max_pages: heap pages reserved (the mapping's length)
 * @pages: the page allocator
 * @spanmap: per arena, a table of span pointers for each heap page of the
 *	arena (NULL where free); arenas are allocated as the heap grows
 * @narenas: arenas grown into
 * @max_arenas: length of @spanmap
 * @zeroed_base: heap pages at and beyond this were never handed out and
 *	are still zero
 * @sweepgen: sweep generation (advances by 2 per GC cycle)
 * @central: one mcentral per span class (index 0 and 1, large, unused)
 * @large: spans of large objects
 * @nr_spans: spans in use (cached, central or large)
 * @nr_large: large objects
 * @large_pages: heap pages of large objects
 * @inuse_pages: heap pages in spans in use
 * @refills: KGC_IOC_REFILL calls
 * @cached: spans cached by mcaches
 * @marking: a GC cycle is marking: spans handed out now allocate black,
 *	large objects are born marked
 * @live_bytes: the pacer's estimate of allocated bytes: marked bytes at the
 *	last mark termination plus what was handed out since
 * @swept_spans: spans swept since the heap was created
 * @freed_objects: objects freed by sweeping
 * @poison: when set, called with the memory of each object sweep frees
 * @poisoning: poison freed objects now (KGC_GCDEBUG_POISON), through
 *	@poison
 * @poison_ctx: its argument
 * @scav: when the free pages of each chunk were freed (the scavenger's
 *	index, scavenge.c)
 * @spanfree: freed spans kept for reuse once their RCU grace period is
 *	over, oldest first (Go's fixalloc free list): a span is made and
 *	freed per span used, and a new one from the slab would be cleared
 *	(init_on_alloc) and come from a new slab page while the old ones wait
 *	for their call_rcu()
 * @nspanfree: spans on @spanfree, at most as many as are in use
 *	(@nr_spans) or KGC_SPAN_RECYCLE_MIN
 * @scav_wait: when set, called (lock held) when no run of free pages fits
 *	while a scavenger holds some reserved (@scav.inflight): drops the
 *	lock, waits for the scavengers to give the pages back, takes the
 *	lock again (reclaim.c)
 */
struct kgc_mheap {
	struct mutex lock;	/* everything below, and every span */
	u64 base;
	unsigned long max_pages;
	struct kgc_pageheap pages;
	struct kgc_span ***spanmap;
	unsigned long narenas;
	unsigned long max_arenas;
	unsigned long zeroed_base;
	u32 sweepgen;
	struct kgc_central central[KGC_NR_SPANCLASSES];
	struct list_head large;
	unsigned long nr_spans;
	unsigned long nr_large;
	unsigned long large_pages;
	unsigned long inuse_pages;
	unsigned long refills;
	struct list_head cached;
	bool marking;
	u64 live_bytes;
	unsigned long swept_spans;
	u64 freed_objects;
	void (*poison)(void *ctx, u64 addr, u64 len);
	bool poisoning;
	void *poison_ctx;
	struct kgc_scavidx scav;
	struct list_head spanfree;
	unsigned long nspanfree;
	void (*scav_wait)(struct kgc_mheap *h);
};

int kgc_mheap_init(struct kgc_mheap *h, u64 base, unsigned long max_pages);
void kgc_mheap_destroy(struct kgc_mheap *h);
int kgc_mheap_refill_valid(const struct kgc_refill *r);
int kgc_mheap_put(struct kgc_mheap *h, const struct kgc_span_mark *m, u32 n,
		  bool discard);
int kgc_mheap_refill_for(struct kgc_mheap *h, struct kgc_refill *r,
			 const void *owner, bool black);
int kgc_mheap_take(struct kgc_mheap *h, u32 spanclass, const void *owner,
		   bool black, struct kgc_span_desc *d);
void kgc_mheap_untake(struct kgc_mheap *h, u64 base, u32 freeindex);
int kgc_mheap_refill(struct kgc_mheap *h, struct kgc_refill *r);
int kgc_mheap_alloc_large(struct kgc_mheap *h, struct kgc_large *l,
			  bool *needzero, bool black);
int kgc_mheap_free(struct kgc_mheap *h, u64 addr);
void kgc_mheap_stats(struct kgc_mheap *h, struct kgc_stats *st);
struct kgc_span *kgc_mheap_span_of(struct kgc_mheap *h, u64 addr);
void kgc_mheap_free_span(struct kgc_mheap *h, struct kgc_span *s);

/**
 * kgc_mheap_span_of_rcu() - the span of a heap address, without the lock
 * @h: heap
 * @addr: any value
 *
 * For the marker: the span may be freed, or its pages reused, at any
 * moment, so the caller checks what it reads (kgc_span_in_use()).
 *
 * Context: RCU read side (spans are freed after a grace period).
 * Return: the span containing @addr as of the read, or NULL.
 */
static __always_inline struct kgc_span *
kgc_mheap_span_of_rcu(struct kgc_mheap *h, u64 addr)
{
	struct kgc_span **map;
	unsigned long page;

	if (addr < h->base)
		return NULL;
	page = (addr - h->base) >> KGC_PAGE_SHIFT;
	/* Pairs with kgc_mheap_grow(): the arena tables are there. */
	if (page >= smp_load_acquire(&h->narenas) * KGC_ARENA_PAGES)
		return NULL;
	map = READ_ONCE(h->spanmap[page / KGC_ARENA_PAGES]);
	return READ_ONCE(map[page % KGC_ARENA_PAGES]);
}

/**
 * kgc_span_in_use() - whether a span found without the lock is in use
 * @s: span from kgc_mheap_span_of_rcu()
 *
 * Return: true while it is on an mcentral list, in an mcache or a large
 * object; false once it was freed.
 */
static inline bool kgc_span_in_use(const struct kgc_span *s)
{
	u8 state = READ_ONCE(s->state);

	return state == KGC_SPAN_CENTRAL || state == KGC_SPAN_CACHED ||
	       state == KGC_SPAN_LARGE;
}

#endif /* _KGC_MHEAP_H */
