/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fake_heap.h - a heap in plain memory for the host tests and benchmarks
 * of marking and sweeping (test_gc.c, bench_mark.c).
 *
 * The objects and the pointer bitmap (one bit per heap word) are calloc'd
 * memory, read through struct kgc_mark_ops the way the module reads its
 * pages: in place within one page (through the marker's page cache), from
 * a copy across pages. A miniature mcache allocates from spans the real
 * page heap (mheap.c) hands out.
 */
#ifndef _KGC_FAKE_HEAP_H
#define _KGC_FAKE_HEAP_H

#include "host_shim.h"
#include "mark.h"
#include "sweep.h"
#include "sizeclass.h"

#define FAKE_ARENAS	4
#define FAKE_HEAPSZ	((u64)FAKE_ARENAS * KGC_ARENA_SIZE)

extern u8 *mem;			/* the heap's bytes; address = base + offset */
extern u64 *bitmap;		/* one bit per heap word */
extern u64 base;
extern bool conservative;	/* read_bits: every word may be a pointer */
extern struct kgc_mheap h;
extern struct kgc_mark m;
extern struct kgc_marker w;
extern const struct kgc_mark_ops fake_ops;
extern atomic_long_t fake_gen;

/* A user-space mcache in miniature: a span and its next free index. */
struct cache {
	struct kgc_refill r;
	u32 next;
};

void setup(void);
void teardown(void);
void cache_get(struct cache *c, u32 spanclass);
u64 cache_alloc(struct cache *c, u64 ptrmask);
void cache_put(struct cache *c);
void store(u64 obj, unsigned int word, u64 val);
bool marked(u64 p);
bool allocated(u64 p);
struct kgc_span *mark_start(const struct cache *c);
void finish_cycle(void);

#endif /* _KGC_FAKE_HEAP_H */
