// SPDX-License-Identifier: GPL-2.0
/*
 * span.c - carving spans into objects and keeping their bitmaps.
 *
 * A span of a small size class holds nelems = npages * 8 KiB / elemsize
 * objects; a large object's span holds one. Each span has two bitmaps of
 * KGC_SPAN_MAX_OBJS bits, as Go's mspan has allocBits and gcmarkBits:
 *
 *  - allocbits: which objects are allocated. While a span is cached by a
 *    user-space mcache the kernel's copy is frozen: the mcache allocates
 *    free objects in index order from freeindex upwards, so when the span
 *    comes back with the mcache's final freeindex the kernel knows exactly
 *    which objects were taken: the free ones in [old freeindex, new
 *    freeindex). Nothing needs to be reported per object.
 *  - markbits: set by the marker; sweep turns them into the next allocbits.
 *
 * Invariant: every object below freeindex is allocated, and alloccount is
 * the population count of allocbits.
 */
#include "span.h"
#include "sizeclass.h"

/*
 * Spans come from their own slab cache: kzalloc() would take them from
 * kmalloc-512 and clear all 512 bytes, only for kgc_span_init() to write
 * most of them again. A span is made for nearly every refill of a workload
 * that frees whole spans, so this is on the allocation slow path.
 *
 * The cache lives while it has users: the module (from init to exit) and
 * every struct kgc_mheap (kgc_mheap_init() to kgc_mheap_destroy()). The
 * second kind matters for the KUnit suites, which run when the module is
 * coming, before its init function.
 *
 * Locking: kgc_span_cache_lock guards kgc_span_cache_users and the
 * creation and destruction of kgc_span_cache; allocations do not take it
 * (a user holds a reference).
 */
static DEFINE_MUTEX(kgc_span_cache_lock);
static unsigned int kgc_span_cache_users;
static struct kmem_cache *kgc_span_cache;

/**
 * kgc_span_cache_get() - take a reference on the span slab cache, creating
 * it for the first user
 *
 * Return: 0 or -ENOMEM.
 */
int kgc_span_cache_get(void)
{
	int ret = 0;

	mutex_lock(&kgc_span_cache_lock);
	if (!kgc_span_cache_users) {
		kgc_span_cache = kmem_cache_create("kgc_span",
						   sizeof(struct kgc_span), 0,
						   SLAB_ACCOUNT, NULL);
		if (!kgc_span_cache)
			ret = -ENOMEM;
	}
	if (!ret)
		kgc_span_cache_users++;
	mutex_unlock(&kgc_span_cache_lock);
	return ret;
}

/**
 * kgc_span_cache_put() - drop a reference; the last one destroys the cache
 *
 * The last user first waits for spans still on their way out through RCU.
 */
void kgc_span_cache_put(void)
{
	mutex_lock(&kgc_span_cache_lock);
	if (!--kgc_span_cache_users) {
		rcu_barrier();
		kmem_cache_destroy(kgc_span_cache);
		kgc_span_cache = NULL;
	}
	mutex_unlock(&kgc_span_cache_lock);
}

/**
 * kgc_span_alloc() - allocate an uninitialised span
 * @gfp: allocation flags
 *
 * Return: the span, for kgc_span_init(), or NULL.
 */
struct kgc_span *kgc_span_alloc(gfp_t gfp)
{
	return kmem_cache_alloc(kgc_span_cache, gfp);
}

/**
 * kgc_span_free() - free a span nobody can be looking at
 * @s: span (may be NULL)
 */
void kgc_span_free(struct kgc_span *s)
{
	if (s)
		kmem_cache_free(kgc_span_cache, s);
}

static void kgc_span_free_cb(struct rcu_head *rcu)
{
	kmem_cache_free(kgc_span_cache, container_of(rcu, struct kgc_span, rcu));
}

/**
 * kgc_span_free_rcu() - free a span after an RCU grace period
 * @s: span, unreachable from the span map; lockless readers may still hold it
 */
void kgc_span_free_rcu(struct kgc_span *s)
{
	call_rcu(&s->rcu, kgc_span_free_cb);
}

/**
 * kgc_span_init() - carve a span for a span class
 * @s: span, contents undefined (every field but @rcu is set here)
 * @start: first heap page
 * @npages: length in heap pages
 * @spanclass: span class; size class 0 makes a one-object (large) span
 */
void kgc_span_init(struct kgc_span *s, unsigned long start,
		   unsigned long npages, u32 spanclass)
{
	u32 sizeclass = KGC_SPANCLASS_SIZECLASS(spanclass);

	/* The scalar fields; the bitmaps are cleared below. */
	memset(s, 0, offsetof(struct kgc_span, allocbits));
	INIT_LIST_HEAD(&s->list);
	s->start = start;
	s->npages = npages;
	s->spanclass = spanclass;
	if (sizeclass) {
		s->elemsize = kgc_class_size[sizeclass];
		s->nelems = (npages << KGC_PAGE_SHIFT) / s->elemsize;
		s->divmul = s->nelems > 1 ?
			    (u32)DIV_ROUND_UP_ULL(1ULL << 32, s->elemsize) : 0;
	} else {
		s->elemsize = npages << KGC_PAGE_SHIFT;
		s->nelems = 1;
		s->divmul = 0;
	}
	s->freeindex = 0;
	s->alloccount = 0;
	s->black_from = KGC_NO_BLACK;
	bitmap_zero(s->allocbits, KGC_SPAN_MAX_OBJS);
	bitmap_zero(s->markbits, KGC_SPAN_MAX_OBJS);
	bitmap_zero(s->checkbits, KGC_SPAN_MAX_OBJS);
}

/**
 * kgc_span_alloc_range() - record the objects an mcache allocated
 * @s: span coming back from an mcache
 * @from: freeindex the span was handed out with
 * @to: freeindex the mcache reached, @from <= @to <= nelems
 *
 * Every free object in [@from, @to) was allocated by the mcache. Sets their
 * bits, advances freeindex and alloccount.
 *
 * Return: the number of objects newly recorded as allocated.
 */
u32 kgc_span_alloc_range(struct kgc_span *s, u32 from, u32 to)
{
	u32 i, n = 0;

	if (WARN_ON_ONCE(from > to || to > s->nelems))
		return 0;
	for (i = find_next_zero_bit(s->allocbits, to, from); i < to;
	     i = find_next_zero_bit(s->allocbits, to, i + 1)) {
		__set_bit(i, s->allocbits);
		n++;
	}
	s->alloccount += n;
	s->freeindex = to;
	return n;
}

/**
 * kgc_span_free_all() - free every object of a span
 * @s: span
 *
 * Used when a span comes back with KGC_REFILL_DISCARD. The objects' memory
 * is left as it is, so the span now needs zeroing before reuse.
 */
void kgc_span_free_all(struct kgc_span *s)
{
	bitmap_zero(s->allocbits, KGC_SPAN_MAX_OBJS);
	s->alloccount = 0;
	s->freeindex = 0;
	s->needzero = true;
}

/**
 * kgc_span_desc() - describe a span for a user-space mcache
 * @s: span
 * @heap_base: user address of heap page 0
 * @d: filled completely (no kernel data beyond the span's own)
 *
 * Bits at and beyond nelems are reported as allocated so that a free bit
 * always names a real object.
 */
void kgc_span_desc(const struct kgc_span *s, u64 heap_base,
		   struct kgc_span_desc *d)
{
	u32 i;

	memset(d, 0, sizeof(*d));
	d->base = kgc_span_base(s, heap_base);
	d->spanclass = s->spanclass;
	d->elemsize = s->elemsize;
	d->nelems = s->nelems;
	d->freeindex = s->freeindex;
	d->npages = s->npages;
	d->flags = s->needzero ? KGC_SPAN_NEEDZERO : 0;
	for (i = 0; i < KGC_ALLOC_WORDS; i++) {
		u64 w = s->allocbits[i];
		u32 first = i * 64;

		if (first >= s->nelems)
			w = ~0ULL;
		else if (s->nelems - first < 64)
			w |= ~0ULL << (s->nelems - first);
		d->allocbits[i] = w;
	}
}

#ifdef __KERNEL__
#if IS_ENABLED(CONFIG_KUNIT)
#include "span-test.h"
#endif
#endif
