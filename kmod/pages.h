/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pages.h - the page heap (Go's mheap page allocator): runs of free 8 KiB
 * heap pages, found first-fit through per-chunk bitmaps and a summary tree.
 *
 * The algorithm, its invariants and the scavenging rules are explained at
 * the top of pages.c.
 */
#ifndef _KGC_PAGES_H
#define _KGC_PAGES_H

#include "core.h"

/* Heap pages per chunk: one 512-bit bitmap, 4 MiB of heap (Go's pallocChunkPages). */
#define KGC_CHUNK_PAGES		512UL
#define KGC_CHUNK_WORDS		(KGC_CHUNK_PAGES / 64)
/* Heap pages per 64 MiB arena, the unit the heap usually grows by. */
#define KGC_ARENA_PAGES		(KGC_ARENA_SIZE / KGC_PAGE_SIZE)
#define KGC_ARENA_CHUNKS	(KGC_ARENA_PAGES / KGC_CHUNK_PAGES)
/* Largest heap a page heap can manage: 2^23 pages, 64 GiB. */
#define KGC_PAGEHEAP_MAX_PAGES	BIT(23)

/**
 * struct kgc_pagechunk - the bitmaps of one chunk of KGC_CHUNK_PAGES pages
 * @alloc: bit i set when page i of the chunk is allocated, or lies at or
 *	beyond the heap limit
 * @scav: bit i set when page i is free and scavenged: not resident, it will
 *	fault in as a zeroed page. Never set for an allocated page.
 */
struct kgc_pagechunk {
	u64 alloc[KGC_CHUNK_WORDS];
	u64 scav[KGC_CHUNK_WORDS];
};

/**
 * struct kgc_pagesum - summary of a chunk, or of a power-of-two range of
 * chunks (a node of the summary tree)
 * @start: free pages at the low end of the range
 * @max: longest run of free pages inside the range
 * @end: free pages at the high end of the range
 * @nres: free pages in the range that are resident (not scavenged)
 *
 * A range that is entirely free has @start == @max == @end == its size.
 */
struct kgc_pagesum {
	u32 start;
	u32 max;
	u32 end;
	u32 nres;
};

/**
 * struct kgc_pageheap - a heap's free page runs
 * @max_pages: pages the heap may ever grow to (its reservation)
 * @limit: pages grown so far; pages [0, @limit) exist, the others are
 *	never handed out
 * @free_pages: free pages below @limit
 * @scav_pages: free pages below @limit that are scavenged (not resident)
 * @nleaves: leaves of the summary tree, a power of two covering every chunk
 *	of @max_pages
 * @tree: summary tree, 2 * @nleaves nodes: node 1 is the root, node i has
 *	children 2i and 2i + 1, chunk c is leaf @nleaves + c
 * @nblocks: entries of @blocks: arenas spanned by @max_pages
 * @blocks: per arena, KGC_ARENA_CHUNKS chunk bitmaps, allocated when the
 *	heap grows into the arena; NULL above the limit
 *
 * Locking: none inside. The caller holds the lock of the heap this page
 * heap belongs to (struct kgc_mheap's mutex) around every call. None of
 * the functions sleeps except kgc_pageheap_init() and kgc_pageheap_grow(),
 * which allocate with GFP_KERNEL_ACCOUNT (the metadata is charged to the
 * heap owner's memory cgroup), so that lock must be a sleeping lock. @limit,
 * @free_pages and @scav_pages are written with WRITE_ONCE(), so the inline
 * accessors below may also be called without the lock, for statistics:
 * each value was then true at some recent moment.
 */
struct kgc_pageheap {
	unsigned long max_pages;
	unsigned long limit;
	unsigned long free_pages;
	unsigned long scav_pages;
	unsigned long nleaves;
	struct kgc_pagesum *tree;
	unsigned long nblocks;
	struct kgc_pagechunk **blocks;
};

int kgc_pageheap_init(struct kgc_pageheap *ph, unsigned long max_pages);
void kgc_pageheap_destroy(struct kgc_pageheap *ph);
int kgc_pageheap_grow(struct kgc_pageheap *ph, unsigned long new_limit);
long kgc_pageheap_alloc(struct kgc_pageheap *ph, unsigned long npages,
			unsigned long *nscav);
int kgc_pageheap_alloc_range(struct kgc_pageheap *ph, unsigned long base,
			     unsigned long npages, unsigned long *nscav);
void kgc_pageheap_free(struct kgc_pageheap *ph, unsigned long base,
		       unsigned long npages);
long kgc_pageheap_find_resident(const struct kgc_pageheap *ph,
				unsigned long max_npages,
				unsigned long *npages);
unsigned long kgc_pageheap_scavenge(struct kgc_pageheap *ph,
				    unsigned long base, unsigned long npages);
unsigned long kgc_pageheap_largest_free(const struct kgc_pageheap *ph);
unsigned long kgc_pageheap_tail_free(const struct kgc_pageheap *ph);
bool kgc_pageheap_is_free(const struct kgc_pageheap *ph, unsigned long base,
			  unsigned long npages);
int kgc_pageheap_check(const struct kgc_pageheap *ph);

/**
 * kgc_pageheap_limit() - pages the heap has grown to
 * @ph: page heap
 *
 * Return: the limit; pages at or beyond it are never handed out.
 */
static inline unsigned long kgc_pageheap_limit(const struct kgc_pageheap *ph)
{
	return READ_ONCE(ph->limit);
}

/**
 * kgc_pageheap_free_pages() - free pages below the limit
 * @ph: page heap
 *
 * Return: free pages, resident or scavenged.
 */
static inline unsigned long kgc_pageheap_free_pages(const struct kgc_pageheap *ph)
{
	return READ_ONCE(ph->free_pages);
}

/**
 * kgc_pageheap_scav_pages() - free pages that are scavenged (not resident)
 * @ph: page heap
 *
 * Return: free pages whose memory was given back or never touched.
 */
static inline unsigned long kgc_pageheap_scav_pages(const struct kgc_pageheap *ph)
{
	return READ_ONCE(ph->scav_pages);
}

/**
 * kgc_pageheap_resident_free() - free pages that are still resident
 * @ph: page heap
 *
 * These are the pages the scavenger can give back to the system.
 *
 * Return: free pages that are not scavenged.
 */
static inline unsigned long kgc_pageheap_resident_free(const struct kgc_pageheap *ph)
{
	unsigned long nfree = READ_ONCE(ph->free_pages);
	unsigned long nscav = READ_ONCE(ph->scav_pages);

	/* Without the lock the two may come from different moments. */
	return nfree > nscav ? nfree - nscav : 0;
}

#endif /* _KGC_PAGES_H */
