// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * mcache.c - per-thread span cache (Go's mcache) and how it finds free
 * objects (Go's nextFreeFast / nextFreeIndex / refill).
 *
 * The kernel owns the heap: its pages, its spans and which span is where
 * (mheap, mcentral). A thread allocates small objects without asking it:
 * each attached thread has an mcache with at most one span per span class
 * (size class x scan/noscan, KGC_NR_SPANCLASSES of them), handed to it by
 * the kernel with KGC_IOC_REFILL as a struct kgc_span_desc. While the span
 * is cached, only that thread allocates from it, so allocation needs no
 * lock, no atomic and no system call.
 *
 * Finding a free object
 * ---------------------
 * A span of n objects has n allocation bits (allocbits, 1 = allocated; the
 * bits at and beyond n are 1 too, so a 0 is always a real object) and an
 * index, freeindex: every object below it is allocated. The next free
 * object is the first 0 bit at or above freeindex. To find it in one
 * instruction, the mcache keeps
 *
 *	alloccache = ~allocbits[freeindex / 64] >> (freeindex % 64)
 *
 * the inverted bits of the 64-bit word holding freeindex, shifted so that
 * bit 0 is object freeindex. Then ctz(alloccache) is the distance to the
 * next free object:
 *
 *	fast path (mspan_nextfreefast(), inlined into every allocation):
 *		bit = ctz(alloccache); obj = freeindex + bit
 *		alloccache >>= bit + 1; freeindex = obj + 1
 *		return base + obj * elemsize
 *
 * It gives up (returns NULL) when alloccache is 0 (no free object left in
 * this word) or when freeindex would cross into the next word, which needs
 * the cache to be reloaded. The slow path, mspan_nextfreeindex(), walks the
 * following words of allocbits, reloading alloccache from each, until it
 * finds a free object or reaches nelems: the span is full.
 *
 * A full span goes back to the kernel in the same ioctl that brings the next
 * one (KGC_IOC_REFILL: put_base + put_freeindex, spanclass). put_freeindex
 * is the final freeindex: it tells the kernel that every free object below
 * it has been handed out. The kernel keeps the span it was given even when
 * it has no new one for us (ENOMEM), so then the mcache drops its copy too.
 *
 * Invariants (for each cached span s, between calls):
 *  I1. s->freeindex <= s->nelems; every object below s->freeindex is
 *      allocated in allocbits or was handed out by this mcache.
 *  I2. If s->freeindex < s->nelems, bit k of s->alloccache is 1 exactly when
 *      object s->freeindex + k is free in allocbits and lies in the same
 *      64-object word as s->freeindex (higher bits are 0).
 *  I3. An mspan with base 0 is "no span": all fields 0, so the fast path
 *      fails at once (alloccache 0) and the slow path sees a full span
 *      (freeindex == nelems == 0) and refills. This is also how a reset
 *      mcache (kgc_shutdown(), fork child) makes every thread take the
 *      slow path, which checks that the heap still exists.
 *  I4. allocbits are never written by user space: the kernel's copy is
 *      authoritative and learns about our allocations only through
 *      put_freeindex.
 *
 * Memory: objects of spans flagged KGC_SPAN_NEEDZERO may hold old data and
 * are zeroed by the allocation entry points (malloc.c); other spans are
 * fresh zero pages.
 */
#include <string.h>

#include "internal.h"

/**
 * mspan_load() - cache a span the kernel handed out
 * @s: the mcache's slot
 * @d: the kernel's description of the span (validated)
 */
void mspan_load(struct mspan *s, const struct kgc_span_desc *d)
{
	s->base = (uintptr_t)d->base;
	s->freeindex = d->freeindex;
	s->nelems = d->nelems;
	s->elemsize = d->elemsize;
	s->spanclass = d->spanclass;
	s->flags = d->flags;
	s->allocount = 0;
	memcpy(s->allocbits, d->allocbits, sizeof(s->allocbits));
	if (s->freeindex < s->nelems)
		s->alloccache = ~s->allocbits[s->freeindex / 64] >>
				(s->freeindex % 64);
	else
		s->alloccache = 0;
}

/**
 * mspan_validate() - check a span description from the kernel
 * @d: description
 * @spanclass: the span class asked for
 * @lo: heap start
 * @hi: heap end
 *
 * The kernel is trusted, but a mismatch (another size-class table, a bug)
 * must fail loudly rather than corrupt objects.
 *
 * Return: 0, or -EPROTO with a message.
 */
int mspan_validate(const struct kgc_span_desc *d, uint32_t spanclass,
		   uintptr_t lo, uintptr_t hi)
{
	uint32_t sc = KGC_SPANCLASS_SIZECLASS(spanclass);
	uint64_t bytes = (uint64_t)d->npages * KGC_PAGE_SIZE;

	if (d->spanclass != spanclass || !sc || sc >= KGC_NR_SIZE_CLASSES ||
	    d->elemsize != kgc_class_to_size[sc] ||
	    d->npages != kgc_class_to_npages[sc] ||
	    d->nelems != kgc_class_nelems(sc) ||
	    d->nelems > KGC_SPAN_MAX_OBJS || d->freeindex > d->nelems ||
	    d->base < lo || d->base >= hi || bytes > hi - d->base ||
	    (d->base - lo) % KGC_PAGE_SIZE)
		return kgc_seterr(EPROTO,
			"kgc: kernel handed out a bad span (class %u, base 0x%llx, %u x %u bytes, %u pages, freeindex %u) for span class %u",
			d->spanclass, (unsigned long long)d->base,
			d->nelems, d->elemsize, d->npages, d->freeindex,
			spanclass);
	return 0;
}

/**
 * mspan_nextfreeindex() - find the next free object (Go's nextFreeIndex)
 * @s: cached span
 *
 * Moves freeindex past the object it returns and keeps invariants I1, I2.
 *
 * Return: the index of a free object, now allocated, or s->nelems when the
 * span is full.
 */
uint32_t mspan_nextfreeindex(struct mspan *s)
{
	uint32_t sfreeindex = s->freeindex;
	uint32_t snelems = s->nelems;
	uint64_t cache = s->alloccache;
	uint32_t result;
	unsigned int bit;

	if (sfreeindex >= snelems)
		return snelems;
	while (cache == 0) {
		/* Nothing free in this word: move to the start of the next. */
		sfreeindex = (sfreeindex + 64) & ~63U;
		if (sfreeindex >= snelems) {
			s->freeindex = snelems;
			s->alloccache = 0;
			return snelems;
		}
		cache = ~s->allocbits[sfreeindex / 64];
	}
	bit = kgc_ctz64(cache);
	result = sfreeindex + bit;
	if (result >= snelems) {
		s->freeindex = snelems;
		s->alloccache = 0;
		return snelems;
	}
	s->alloccache = (cache >> bit) >> 1;
	sfreeindex = result + 1;
	if (sfreeindex % 64 == 0 && sfreeindex != snelems)
		s->alloccache = ~s->allocbits[sfreeindex / 64];
	s->freeindex = sfreeindex;
	return result;
}

/**
 * mcache_reset() - forget every cached span and the tiny block
 * @c: mcache
 *
 * The spans are not given back (the heap is gone or about to be).
 */
void mcache_reset(struct mcache *c)
{
	memset(c->alloc, 0, sizeof(c->alloc));
	c->tiny = 0;
	c->tinyoffset = 0;
}

/*
 * mcache_refill() - give the cached span of @spanclass back and get a fresh
 * one, in one KGC_IOC_REFILL (Go's mcache.refill)
 */
static int mcache_refill(struct kgc_thread *t, uint32_t spanclass)
{
	struct mspan *s = &t->mcache.alloc[spanclass];
	struct kgc_counters *st = &t->mcache.stats;
	struct kgc_refill r;
	int err;

	memset(&r, 0, sizeof(r));
	r.put_base = s->base;
	r.put_freeindex = s->base ? s->freeindex : 0;
	r.spanclass = spanclass;
	/*
	 * The tiny block lives in the tiny span, which goes back now (also
	 * when a 16-byte noscan allocation refills it): drop the block, whose
	 * span the kernel may free and reuse.
	 */
	if (spanclass == KGC_TINY_SPANCLASS && s->base) {
		t->mcache.tiny = 0;
		t->mcache.tinyoffset = 0;
	}
	err = kgc_sys_ioctl(t, KGC_IOC_REFILL, &r);
	if (err == -ENOMEM) {
		/* The kernel keeps what it was given even without a new span. */
		if (s->base) {
			STAT_INC(st->span_returns);
			memset(s, 0, sizeof(*s));
		}
		return kgc_seterr(ENOMEM,
			"kgc: out of memory: no span of %u-byte objects left in the %zu MiB heap",
			kgc_class_to_size[KGC_SPANCLASS_SIZECLASS(spanclass)],
			(size_t)((kgc_heap.arena_end - kgc_heap.arena_start) >> 20));
	}
	if (err)
		return kgc_seterr(-err,
			"kgc: KGC_IOC_REFILL (span class %u, put 0x%llx at %u) failed: %s",
			spanclass, (unsigned long long)r.put_base,
			r.put_freeindex, strerror(-err));
	if (s->base)
		STAT_INC(st->span_returns);
	STAT_INC(st->refills);
	err = mspan_validate(&r.span, spanclass, kgc_heap.arena_start,
			     kgc_heap.arena_end);
	if (err) {
		memset(s, 0, sizeof(*s));
		return err;
	}
	mspan_load(s, &r.span);
	return 0;
}

/**
 * mcache_nextfree() - the allocation slow path (Go's mcache.nextFree)
 * @t: the calling thread, attached
 * @spanclass: span class
 *
 * Called when mspan_nextfreefast() failed: finds the next free object in
 * the cached span, or refills the span from the kernel. A refill is a
 * safepoint, before and after the kernel call, and runs in a library
 * region: the signal handler must not read a half-replaced span.
 *
 * Return: an object, or NULL with errno and a message.
 */
void *mcache_nextfree(struct kgc_thread *t, uint32_t spanclass)
{
	struct mspan *s = &t->mcache.alloc[spanclass];
	void *v = NULL;
	uint32_t idx;
	int tries;

	kgc_enter(t);
	idx = mspan_nextfreeindex(s);
	/* A span with no free object is a kernel bug: retry once, then fail. */
	for (tries = 0; idx == s->nelems && tries < 2; tries++) {
		kgc_safepoint_check(t);
		if (mcache_refill(t, spanclass))
			goto out;
		kgc_safepoint_check(t);
		idx = mspan_nextfreeindex(s);
	}
	if (idx == s->nelems) {
		kgc_seterr(EPROTO, "kgc: kernel handed out full spans of class %u",
			   spanclass);
		goto out;
	}
	s->allocount++;
	v = (void *)(s->base + (uintptr_t)idx * s->elemsize);
out:
	kgc_leave(t);
	return v;
}

/**
 * mcache_release_all() - give every cached span back to the kernel
 * @t: the calling thread, attached, in a library region
 *
 * Each span goes back with KGC_IOC_REFILL, spanclass KGC_NO_SPANCLASS and
 * its final freeindex; the mcache is empty afterwards whatever happens.
 *
 * Return: 0, or the first -errno.
 */
int mcache_release_all(struct kgc_thread *t)
{
	struct mcache *c = &t->mcache;
	int ret = 0;
	uint32_t i;

	for (i = 0; i < KGC_NR_SPANCLASSES; i++) {
		struct mspan *s = &c->alloc[i];
		struct kgc_refill r;
		int err;

		if (!s->base)
			continue;
		memset(&r, 0, sizeof(r));
		r.put_base = s->base;
		r.put_freeindex = s->freeindex;
		r.spanclass = KGC_NO_SPANCLASS;
		err = kgc_sys_ioctl(t, KGC_IOC_REFILL, &r);
		if (err && !ret)
			ret = kgc_seterr(-err,
				"kgc: giving back the span at 0x%llx (class %u) failed: %s",
				(unsigned long long)r.put_base, i,
				strerror(-err));
		if (!err)
			STAT_INC(c->stats.span_returns);
		memset(s, 0, sizeof(*s));
	}
	c->tiny = 0;
	c->tinyoffset = 0;
	return ret;
}
