/* SPDX-License-Identifier: GPL-2.0 */
/*
 * span.h - mspan: a run of heap pages cut into equal objects.
 */
#ifndef _KGC_SPAN_H
#define _KGC_SPAN_H

#include "core.h"

/**
 * enum kgc_span_state - where a span is
 * @KGC_SPAN_CENTRAL: on its mcentral's partial or full list
 * @KGC_SPAN_CACHED: handed to a user-space mcache (KGC_IOC_REFILL); the
 *	kernel's alloc bits are stale above @freeindex until it comes back
 * @KGC_SPAN_LARGE: a large object's span, owned by the object
 */
enum kgc_span_state {
	KGC_SPAN_CENTRAL = 1,
	KGC_SPAN_CACHED,
	KGC_SPAN_LARGE,
};

/**
 * struct kgc_span - a span (Go's mspan)
 * @list: link in an mcentral list or the heap's large list
 * @start: first heap page of the span
 * @npages: length in heap pages
 * @elemsize: bytes per object (the whole span for a large object)
 * @spanclass: span class; size class 0 for large objects
 * @nelems: number of objects
 * @divmul: ceil(2^32 / @elemsize) for a span of several objects, 0 for a
 *	large one: the object index of a byte offset without a division (see
 *	kgc_span_objindex())
 * @freeindex: every object below this index is allocated
 * @alloccount: number of allocated objects (cached spans: as of hand-out)
 * @state: &enum kgc_span_state
 * @needzero: free objects may hold old data
 * @sweepgen: the heap's sweepgen when the span was last swept (or made);
 *	sweepgen - 2 means it still has to be swept for the last cycle
 * @owner: while cached, an opaque identity of the thread whose mcache holds
 *	it (set by the device glue; only that thread's black points count)
 * @handout_free: free objects when the span was last handed to an mcache
 * @black_from: for a cached span, objects the mcache allocates from this
 *	index on during the current cycle are black (KGC_NO_BLACK: none yet)
 * @allocbits: bit i set when object i is allocated
 * @markbits: bit i set when object i was marked in the current cycle; set
 *	atomically by the marker without the heap lock
 * @checkbits: the checkmark pass's own mark bits
 * @rcu: spans are freed after an RCU grace period, so the marker can look
 *	them up without the heap lock
 * @gp: instead, while the span waits on its heap's free list for reuse
 *	(struct kgc_mheap.spanfree): the RCU grace-period state when it was
 *	freed
 *
 * All fields but @markbits and @checkbits are protected by the heap lock
 * (struct kgc_mheap.lock). Spans live in kernel memory only; user space sees
 * copies (struct kgc_span_desc).
 */
struct kgc_span {
	struct list_head list;
	unsigned long start;
	unsigned long npages;
	unsigned long elemsize;
	u32 spanclass;
	u32 nelems;
	u32 divmul;
	u32 freeindex;
	u32 alloccount;
	u8 state;
	bool needzero;
	u32 sweepgen;
	const void *owner;
	u32 handout_free;
	u32 black_from;
	unsigned long allocbits[KGC_ALLOC_WORDS];
	unsigned long markbits[KGC_ALLOC_WORDS];
	unsigned long checkbits[KGC_ALLOC_WORDS];
	union {
		struct rcu_head rcu;
		unsigned long gp;
	};
};

#define KGC_NO_BLACK	0xffffffffU

int kgc_span_cache_get(void);
void kgc_span_cache_put(void);
struct kgc_span *kgc_span_alloc(gfp_t gfp);
void kgc_span_free(struct kgc_span *s);
void kgc_span_free_rcu(struct kgc_span *s);
void kgc_span_init(struct kgc_span *s, unsigned long start,
		   unsigned long npages, u32 spanclass);
u32 kgc_span_alloc_range(struct kgc_span *s, u32 from, u32 to);
void kgc_span_free_all(struct kgc_span *s);
void kgc_span_desc(const struct kgc_span *s, u64 heap_base,
		   struct kgc_span_desc *d);

/**
 * kgc_span_full() - whether every object of a span is allocated
 * @s: span
 *
 * Return: true when no object is free.
 */
static inline bool kgc_span_full(const struct kgc_span *s)
{
	return s->alloccount == s->nelems;
}

/**
 * kgc_span_base() - user address of a span's first object
 * @s: span
 * @heap_base: user address of heap page 0
 *
 * Return: the address.
 */
static inline u64 kgc_span_base(const struct kgc_span *s, u64 heap_base)
{
	return heap_base + ((u64)s->start << KGC_PAGE_SHIFT);
}

/**
 * kgc_span_objindex() - the object a byte offset into a span falls in
 * @s: span
 * @off: byte offset from the span's first object
 *
 * The marker asks this for every pointer it follows; a 64-bit division
 * costs tens of cycles (far more under emulation), a multiplication by the
 * span's reciprocal @divmul one. (off * ceil(2^32 / size)) >> 32 equals
 * off / size while off * size < 2^32, which holds for every offset inside
 * a span of a small size class (KUnit checks every class exhaustively); a
 * large span has one object.
 *
 * Return: the index; @s->nelems or more when @off is past the last object.
 */
static inline u32 kgc_span_objindex(const struct kgc_span *s, u64 off)
{
	if (!s->divmul)
		return off < s->elemsize ? 0 : s->nelems;
	if (off >= (u64)s->nelems * s->elemsize)
		return s->nelems;
	return (u32)((off * s->divmul) >> 32);
}

#endif /* _KGC_SPAN_H */
