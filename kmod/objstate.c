// SPDX-License-Identifier: GPL-2.0
/*
 * objstate.c - KGC_IOC_OBJ_STATE: which of some addresses lie in allocated
 * objects.
 *
 * libkgc keeps a sampled heap profile (Go's MemProfile): it remembers the
 * address of about one allocation per 512 KiB and, after each GC cycle,
 * must learn which of those objects the collector has freed. Sweeping
 * happens here, in the kernel, and tells user space nothing; this call
 * answers for a batch of addresses at once.
 *
 * The answer is the object's state as it will be once its span is swept for
 * the last finished cycle, so a death is seen as soon as the cycle that
 * found the object unreachable has ended (mark termination), whether the
 * background sweeper has reached its span yet or not. For the span that
 * contains the address (the span map, under the heap lock):
 *  - a large object's span: allocated, unless the span still has to be
 *    swept and its object is not marked (sweep frees it);
 *  - a small span: the object at index (addr - base) / elemsize, none past
 *    the last object. A swept span's alloc bits are exact; an unswept
 *    span's mark bits are what sweep will turn into alloc bits;
 *  - a span cached by an mcache: the kernel's bits are exact only below the
 *    span's freeindex (for an unswept span: below the point sweep stops at,
 *    as in kgc_sweep_span()); objects from there on belong to the mcache,
 *    which allocates them without telling the kernel, so they read as
 *    allocated.
 * Free pages (no span) read as free. Addresses are plain values from user
 * space: they are only ever compared with the span map, never dereferenced.
 *
 * A freed object whose memory has been allocated again reads as allocated:
 * the kernel keeps no record of which allocation the caller means. The
 * library bounds the error by asking soon after every cycle.
 *
 * Locking: the heap lock is taken once per chunk of KGC_OBJ_STATE_CHUNK
 * addresses and never held across the copies from and to user memory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "heap.h"
#include "mheap.h"
#include "objstate.h"

/*
 * The index of a cached span from which the mcache owns the objects: its
 * freeindex, or for a span still to be swept, where kgc_sweep_span() stops
 * (the mcache's white allocations below it are decided by their marks).
 */
static u32 kgc_obj_cached_limit(const struct kgc_span *s, bool unswept)
{
	u32 limit;

	if (!unswept)
		return s->freeindex;
	limit = s->black_from != KGC_NO_BLACK ? s->black_from : s->freeindex;
	return min(max(limit, s->freeindex), s->nelems);
}

/**
 * kgc_mheap_obj_allocated() - whether an address lies in an allocated object
 * @h: heap, lock held
 * @addr: any value (user supplied)
 *
 * See the top of this file for what "allocated" means.
 *
 * Return: true when @addr is inside an allocated object of @h.
 */
bool kgc_mheap_obj_allocated(struct kgc_mheap *h, u64 addr)
{
	struct kgc_span *s;
	bool unswept;
	u64 idx;

	lockdep_assert_held(&h->lock);
	s = kgc_mheap_span_of(h, addr);
	if (!s)
		return false;
	unswept = s->sweepgen != h->sweepgen;
	if (s->state == KGC_SPAN_LARGE)
		return !unswept || test_bit(0, s->markbits);
	idx = (addr - kgc_span_base(s, h->base)) / s->elemsize;
	if (idx >= s->nelems)
		return false;
	if (s->state == KGC_SPAN_CACHED &&
	    idx >= kgc_obj_cached_limit(s, unswept))
		return true;
	return test_bit(idx, unswept ? s->markbits : s->allocbits);
}

/*
 * Answer @n addresses into @bits (whole words, zeroed here). Returns the
 * number of bits set.
 */
static u32 kgc_obj_state_chunk(struct kgc_mheap *h, const u64 *addrs, u32 n,
			       unsigned long *bits)
{
	u32 i, set = 0;

	bitmap_zero(bits, round_up(n, BITS_PER_LONG));
	mutex_lock(&h->lock);
	for (i = 0; i < n; i++) {
		if (kgc_mheap_obj_allocated(h, addrs[i])) {
			__set_bit(i, bits);
			set++;
		}
	}
	mutex_unlock(&h->lock);
	return set;
}

/* The fields user space must get right, before any user memory is read. */
static int kgc_obj_state_check(const struct kgc_obj_state *o)
{
	if (o->flags || o->resv[0] || o->resv[1])
		return -EINVAL;
	if (o->count > KGC_OBJ_STATE_MAX)
		return -EINVAL;
	return 0;
}

/**
 * kgc_obj_state() - KGC_IOC_OBJ_STATE on a kernel copy of the struct
 * @heap: heap (mapped)
 * @o: request; @o->allocated is set on success
 *
 * Reads @o->count addresses from @o->addrs and writes the bitmap to
 * @o->state, KGC_OBJ_STATE_CHUNK addresses at a time.
 *
 * Return: 0, -EINVAL for bad fields, -EFAULT for bad user pointers, -ENOMEM,
 * or -EINTR when a fatal signal is pending.
 */
long kgc_obj_state(struct kgc_heap *heap, struct kgc_obj_state *o)
{
	struct kgc_mheap *h = &heap->mheap;
	unsigned long *bits;
	u64 *addrs, set = 0;
	u32 done, n;
	long ret;

	ret = kgc_obj_state_check(o);
	if (ret)
		return ret;
	o->allocated = 0;
	if (!o->count)
		return 0;
	addrs = kmalloc_array(KGC_OBJ_STATE_CHUNK, sizeof(*addrs), GFP_KERNEL);
	bits = bitmap_alloc(KGC_OBJ_STATE_CHUNK, GFP_KERNEL);
	ret = -ENOMEM;
	if (!addrs || !bits)
		goto out;

	for (done = 0; done < o->count; done += n) {
		n = min_t(u32, o->count - done, KGC_OBJ_STATE_CHUNK);
		ret = -EINTR;
		if (fatal_signal_pending(current))
			goto out;
		ret = -EFAULT;
		if (copy_from_user(addrs, u64_to_user_ptr(o->addrs +
							  (u64)done * 8),
				   n * sizeof(*addrs)))
			goto out;
		set += kgc_obj_state_chunk(h, addrs, n, bits);
		/* Whole words: done is a multiple of 64. */
		if (copy_to_user(u64_to_user_ptr(o->state + (u64)done / 8),
				 bits, BITS_TO_LONGS(n) * sizeof(*bits)))
			goto out;
		cond_resched();
	}
	o->allocated = set;
	ret = 0;
out:
	bitmap_free(bits);
	kfree(addrs);
	return ret;
}

#if IS_ENABLED(CONFIG_KUNIT)
#include "objstate-test.h"
#endif
