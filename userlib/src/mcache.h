/* SPDX-License-Identifier: (LGPL-2.1 OR MIT) */
/*
 * mcache.h - per-thread span cache and the allocation fast path.
 *
 * The algorithm and its invariants are explained at the top of mcache.c.
 * The fast path (mspan_nextfreefast()) is here so that the allocation entry
 * points inline it.
 */
#ifndef KGC_MCACHE_H
#define KGC_MCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kgc.h>

/* Objects below this size without pointers are packed by the tiny allocator. */
#define KGC_TINY_SIZE		16
#define KGC_TINY_SPANCLASS	KGC_SPANCLASS(2, 1)	/* 16-byte noscan */

/**
 * struct mspan - a span cached by an mcache (user-space copy of the
 * kernel's struct kgc_span_desc, plus the allocation cursor)
 * @alloccache: inverted @allocbits of the 64 objects starting at
 *	@freeindex: bit 0 set means object @freeindex is free
 * @base: address of object 0; 0 when no span is cached
 * @freeindex: every object below it is allocated (or was skipped as
 *	allocated); the next free object is found at or above it
 * @nelems: objects in the span
 * @loadindex: @freeindex when the span was cached: the free objects of
 *	@allocbits in [@loadindex, @freeindex) are the ones this mcache
 *	handed out (mspan_account())
 * @elemsize: bytes per object
 * @spanclass: span class
 * @flags: KGC_SPAN_* (KGC_SPAN_NEEDZERO)
 * @painted: 1 when every free object at and above @freeindex already has
 *	@paintbits as its pointer bits (mspan_paint()), 0 when not
 * @paintbits: the pointer bits of one slot, when @painted
 * @allocbits: allocation bits as the kernel handed them out (1 =
 *	allocated; bits at and beyond @nelems set)
 */
struct mspan {
	uint64_t alloccache;
	uintptr_t base;
	uint32_t freeindex;
	uint32_t nelems;
	uint32_t elemsize;
	uint32_t spanclass;
	uint32_t flags;
	uint16_t painted;
	uint16_t loadindex;	/* < KGC_SPAN_MAX_OBJS */
	uint64_t paintbits;
	uint64_t allocbits[KGC_ALLOC_WORDS];
};

/**
 * struct kgc_counters - library-side statistics of a thread
 *
 * Fields as in struct kgc_heap_stats, except:
 * @small_objs: slots taken from small-object spans, counted when the span
 *	leaves the mcache (mspan_account()): the fast path counts nothing
 *	for noscan objects (Go's mcache counts at refill the same way)
 * @tiny_blocks: of these, the 16-byte blocks of the tiny allocator
 * @bytes_allocated: slot bytes of @small_objs plus whole pages of large
 *	objects
 * Objects of kgc_alloc_noscan() and kgc_alloc_uninit() are what the other
 * counts leave over (kgc_counters_noscan()).
 */
struct kgc_counters {
	uint64_t alloc_precise;
	uint64_t alloc_conservative;
	uint64_t small_objs;
	uint64_t tiny_blocks;
	uint64_t alloc_tiny;
	uint64_t alloc_large;
	uint64_t bytes_allocated;
	uint64_t frees_large;
	uint64_t refills;
	uint64_t span_returns;
	uint64_t syscalls;
	uint64_t barrier_records;
	uint64_t barrier_flushes;
	uint64_t barrier_shaded;
	uint64_t handshakes;
	uint64_t signal_handshakes;	/* written by the signal handler only */
	uint64_t barrier_restarts;	/* at handshakes, handler included */
};

/* Spans a thread keeps in reserve from batched refills, all classes. */
#define KGC_STASH_SLOTS		128
#define KGC_STASH_WORDS		(KGC_STASH_SLOTS / 64)

/**
 * struct mcache - per-thread allocation cache (Go's mcache)
 * @tiny: current tiny block (16 bytes), 0 for none
 * @tinyoffset: next free byte in it
 * @stats: counters
 * @alloc: one cached span per span class; an empty struct mspan (all zero)
 *	when none is cached
 * @batch: per span class, how many further spans its next refill system
 *	call asks for (grows 0, 1, 3, 7, 15 with each call)
 * @stash_head: per span class, the first of its reserve spans in @stash
 *	(slot + 1; 0: none)
 * @stash_next: per slot, the next slot of the same class (slot + 1)
 * @stash_used: bitmap of the slots in use
 * @nstash: slots in use (the population count of @stash_used)
 * @nputs: used-up spans in @puts
 * @puts: used-up spans (and their final freeindex) that go back to the
 *	kernel with the next refill system call
 * @stash: reserve spans as the kernel handed them out, untouched
 * @more: where a refill system call's further spans arrive (off the stack:
 *	the allocation slow path keeps a small frame)
 * @seq: a sequence count for other threads that read @alloc and the span
 *	counts of @stats (mcache_read_counts()): odd while the owner
 *	changes a slot of @alloc, which it does only in its slow paths;
 *	the fast path moves a slot's free index alone, which any snapshot
 *	may see
 */
struct mcache {
	uintptr_t tiny;
	uintptr_t tinyoffset;
	struct kgc_counters stats;
	struct mspan alloc[KGC_NR_SPANCLASSES];
	uint8_t batch[KGC_NR_SPANCLASSES];
	uint8_t stash_head[KGC_NR_SPANCLASSES];
	uint8_t stash_next[KGC_STASH_SLOTS];
	uint64_t stash_used[KGC_STASH_WORDS];
	uint32_t nstash;
	uint32_t nputs;
	struct kgc_span_mark puts[KGC_REFILL_PUTS_MAX];
	struct kgc_span_desc stash[KGC_STASH_SLOTS];
	struct kgc_span_desc more[KGC_REFILL_MORE_MAX];
	uint32_t seq;
};

struct kgc_thread;

void mspan_load(struct mspan *s, const struct kgc_span_desc *d);
uint32_t mspan_taken(const struct mspan *s);
void mcache_read_counts(const struct mcache *c, uint64_t *objs,
			uint64_t *bytes);

/* Objects of kgc_alloc_noscan() and kgc_alloc_uninit(), tiny ones too. */
static inline uint64_t kgc_counters_noscan(const struct kgc_counters *c)
{
	return c->small_objs - c->tiny_blocks + c->alloc_tiny +
	       c->alloc_large - c->alloc_precise - c->alloc_conservative;
}
void mspan_zero_rest(struct mspan *s, void *v);
void mspan_paint(struct mspan *s, void *v, uint64_t bits);
int mspan_validate(const struct kgc_span_desc *d, uint32_t spanclass,
		   uintptr_t lo, uintptr_t hi);
uint32_t mspan_nextfreeindex(struct mspan *s);
void mcache_reset(struct mcache *c);
void *mcache_nextfree(struct kgc_thread *t, uint32_t spanclass);
int mcache_release_all(struct kgc_thread *t);
int mcache_return_puts(struct kgc_thread *t);

static inline unsigned int kgc_ctz64(uint64_t x)
{
	return (unsigned int)__builtin_ctzll(x);	/* x != 0 */
}

/**
 * mspan_take() - take the next free object of the alloc cache
 * @s: cached span whose @alloccache is not 0
 *
 * The allocation fast path (Go's nextFreeFast): the lowest set bit of the
 * alloc cache, no lock, no atomic, no system call, no test. Bits at and
 * beyond @nelems are never set (mspan_load()), so the object is in the
 * span. Taking the last object of a 64-object word leaves the cache 0 with
 * @freeindex at the start of the next word: the slow path loads that word
 * (mspan_nextfreeindex()), not the fast path.
 *
 * Return: the object.
 */
static inline void *mspan_take(struct mspan *s)
{
	uint64_t cache = s->alloccache;
	unsigned int bit = kgc_ctz64(cache);
	uint32_t result = s->freeindex + bit;
	uintptr_t v = s->base + (uintptr_t)result * s->elemsize;

	/* Two shifts: bit + 1 may be 64, which C does not allow in one. */
	s->alloccache = (cache >> bit) >> 1;
	/* A plain store; other threads' statistics read it (mcache.seq). */
	__atomic_store_n(&s->freeindex, result + 1, __ATOMIC_RELAXED);
	return (void *)v;
}

/**
 * mspan_nextfreefast() - the allocation fast path (Go's nextFreeFast)
 * @s: cached span
 *
 * mspan_take() when the alloc cache has a free object; every other case
 * is left to mcache_nextfree().
 *
 * Return: a free object, or NULL when the slow path must run.
 */
static inline void *mspan_nextfreefast(struct mspan *s)
{
	if (__builtin_expect(s->alloccache == 0, 0))
		return NULL;
	return mspan_take(s);
}

#endif /* KGC_MCACHE_H */
