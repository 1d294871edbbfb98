// SPDX-License-Identifier: GPL-2.0
/*
 * mheap.c - the heap of one process (Go's mheap).
 *
 * The heap is a virtual range of max_pages 8 KiB pages at a user address
 * (the process's mapping of /dev/kgc). It grows in 64 MiB arenas: growing
 * only makes pages available to the page allocator and allocates the
 * arena's span-map table; physical pages arrive on first touch (heap.c).
 *
 * Three structures, all under one lock:
 *  - the page allocator (pages.c) finds runs of free pages;
 *  - the span map gives the span of any heap page in O(1): an arena table
 *    of one span pointer per page, filled for every page of a span in use;
 *  - one mcentral per span class (central.c) holds the spans no mcache
 *    holds.
 *
 * Why one lock: user space takes a span per refill, which happens once per
 * span's worth of allocations (hundreds of objects for small classes), so
 * the heap lock is taken rarely. Go splits it per mcentral because its
 * mcaches refill far more often under many cores; the split is a local change
 * here if benchmarks ever show contention.
 *
 * Trust: every address and index from user space is checked against the
 * heap's own structures (span map, span state) before use. A process can
 * only confuse its own heap.
 */
#include "mheap.h"
#include "sizeclass.h"
#include "sweep.h"

/**
 * kgc_mheap_init() - set up an empty heap
 * @h: heap
 * @base: user address of heap page 0
 * @max_pages: pages reserved; a multiple of KGC_ARENA_PAGES
 *
 * Return: 0, -EINVAL for a bad size, or -ENOMEM.
 */
int kgc_mheap_init(struct kgc_mheap *h, u64 base, unsigned long max_pages)
{
	unsigned int i;
	int ret;

	if (!max_pages || max_pages % KGC_ARENA_PAGES)
		return -EINVAL;
	ret = kgc_span_cache_get();
	if (ret)
		return ret;
	memset(h, 0, sizeof(*h));
	mutex_init(&h->lock);
	h->base = base;
	h->max_pages = max_pages;
	h->max_arenas = max_pages / KGC_ARENA_PAGES;
	h->spanmap = kvcalloc(h->max_arenas, sizeof(*h->spanmap),
			      GFP_KERNEL_ACCOUNT);
	if (!h->spanmap) {
		ret = -ENOMEM;
		goto err_lock;
	}
	ret = kgc_pageheap_init(&h->pages, max_pages);
	if (ret)
		goto err_spanmap;
	ret = kgc_scavidx_init(&h->scav, max_pages);
	if (ret)
		goto err_pages;
	for (i = 0; i < KGC_NR_SPANCLASSES; i++)
		kgc_central_init(&h->central[i], i);
	INIT_LIST_HEAD(&h->large);
	INIT_LIST_HEAD(&h->cached);
	INIT_LIST_HEAD(&h->spanfree);
	return 0;

err_pages:
	kgc_pageheap_destroy(&h->pages);
err_spanmap:
	kvfree(h->spanmap);
err_lock:
	mutex_destroy(&h->lock);
	kgc_span_cache_put();
	return ret;
}

/**
 * kgc_mheap_destroy() - free every span and the heap's metadata
 * @h: heap; no other user left
 *
 * Spans cached by user space are on no list, so the span map is the one
 * complete index: each span is freed at its last page, after every earlier
 * page has been read.
 */
void kgc_mheap_destroy(struct kgc_mheap *h)
{
	struct kgc_span *s, *n;
	unsigned long a, p;

	for (a = 0; a < h->narenas; a++) {
		struct kgc_span **map = h->spanmap[a];

		for (p = 0; p < KGC_ARENA_PAGES; p++) {
			struct kgc_span *s = map[p];

			if (s && s->start + s->npages - 1 ==
			    a * KGC_ARENA_PAGES + p)
				kgc_span_free(s);
		}
		kvfree(map);
	}
	kvfree(h->spanmap);
	/* Their grace periods may not be over yet. */
	list_for_each_entry_safe(s, n, &h->spanfree, list) {
		list_del(&s->list);
		kgc_span_free_rcu(s);
	}
	kgc_scavidx_destroy(&h->scav);
	kgc_pageheap_destroy(&h->pages);
	mutex_destroy(&h->lock);
	kgc_span_cache_put();
}

/*
 * Freed spans a heap keeps for reuse (struct kgc_mheap.spanfree): as many
 * as it has spans in use, so that a cycle's sweep can free every span it
 * finds empty into the list and the next cycle's refills take them back;
 * at least this many for a small heap.
 */
#define KGC_SPAN_RECYCLE_MIN	64

/*
 * A struct for a new span: the oldest freed one whose RCU grace period is
 * over (no lockless reader can still hold it), else a new one. Caller
 * holds the lock.
 */
static struct kgc_span *kgc_mheap_span_struct(struct kgc_mheap *h)
{
	struct kgc_span *s;

	lockdep_assert_held(&h->lock);
	s = list_first_entry_or_null(&h->spanfree, struct kgc_span, list);
	if (s && poll_state_synchronize_rcu(s->gp)) {
		list_del(&s->list);
		h->nspanfree--;
		return s;
	}
	return kgc_span_alloc(GFP_KERNEL);
}

/*
 * Grow the heap by whole arenas so that a run of @npages can fit at its top.
 * Caller holds the lock.
 */
static int kgc_mheap_grow(struct kgc_mheap *h, unsigned long npages)
{
	unsigned long want = DIV_ROUND_UP(npages, KGC_ARENA_PAGES);
	unsigned long a;
	int ret;

	lockdep_assert_held(&h->lock);
	if (want > h->max_arenas - h->narenas)
		return -ENOMEM;
	for (a = h->narenas; a < h->narenas + want; a++) {
		h->spanmap[a] = kvcalloc(KGC_ARENA_PAGES, sizeof(**h->spanmap),
					 GFP_KERNEL_ACCOUNT);
		if (!h->spanmap[a]) {
			ret = -ENOMEM;
			goto err;
		}
	}
	ret = kgc_pageheap_grow(&h->pages, a * KGC_ARENA_PAGES);
	if (ret)
		goto err;
	/* The marker reads narenas, then the tables, without the lock. */
	smp_store_release(&h->narenas, a);
	return 0;

err:
	while (a-- > h->narenas) {
		kvfree(h->spanmap[a]);
		h->spanmap[a] = NULL;
	}
	return ret;
}

static void kgc_mheap_map_span(struct kgc_mheap *h, struct kgc_span *s,
			       struct kgc_span *val)
{
	unsigned long p;

	for (p = s->start; p < s->start + s->npages; p++)
		WRITE_ONCE(h->spanmap[p / KGC_ARENA_PAGES][p % KGC_ARENA_PAGES],
			   val);
}

/*
 * Allocate a span of @npages for @spanclass from the page heap, growing it
 * when no run fits. Caller holds the lock.
 */
static struct kgc_span *kgc_mheap_alloc_span(struct kgc_mheap *h,
					     unsigned long npages,
					     u32 spanclass)
{
	unsigned long nscav;
	struct kgc_span *s;
	long start;

	lockdep_assert_held(&h->lock);
	s = kgc_mheap_span_struct(h);
	if (!s)
		return NULL;
	start = kgc_pageheap_alloc(&h->pages, npages, &nscav);
	if (start < 0 && !kgc_mheap_grow(h, npages))
		start = kgc_pageheap_alloc(&h->pages, npages, &nscav);
	/* A scavenger holds free pages for a moment: wait for them. */
	while (start < 0 && h->scav.inflight && h->scav_wait) {
		h->scav_wait(h);
		start = kgc_pageheap_alloc(&h->pages, npages, &nscav);
	}
	if (start < 0) {
		kgc_span_free(s);
		return NULL;
	}
	kgc_span_init(s, start, npages, spanclass);
	s->sweepgen = h->sweepgen;
	/* Pages never touched or given back to the OS fault in zeroed. */
	s->needzero = nscav < npages;
	kgc_mheap_map_span(h, s, s);
	h->nr_spans++;
	h->inuse_pages += npages;
	return s;
}

/**
 * kgc_mheap_free_span() - give a span's pages back to the page heap
 * @h: heap, lock held
 * @s: span on no list
 */
void kgc_mheap_free_span(struct kgc_mheap *h, struct kgc_span *s)
{
	lockdep_assert_held(&h->lock);
	kgc_mheap_map_span(h, s, NULL);
	kgc_pageheap_free(&h->pages, s->start, s->npages);
	kgc_scavidx_note_free(&h->scav, s->start, s->npages);
	h->nr_spans--;
	h->inuse_pages -= s->npages;
	s->state = 0;
	/*
	 * The marker may be looking at it (RCU read side): reused or freed
	 * after a grace period. The span is on no list.
	 */
	if (h->nspanfree < max_t(unsigned long, h->nr_spans,
				 KGC_SPAN_RECYCLE_MIN)) {
		s->gp = start_poll_synchronize_rcu();
		list_add_tail(&s->list, &h->spanfree);
		h->nspanfree++;
	} else {
		kgc_span_free_rcu(s);
	}
}

/**
 * kgc_mheap_span_of() - the span containing an address
 * @h: heap, lock held
 * @addr: any value (user supplied)
 *
 * Return: the span in use that contains @addr, or NULL.
 */
struct kgc_span *kgc_mheap_span_of(struct kgc_mheap *h, u64 addr)
{
	unsigned long page;

	lockdep_assert_held(&h->lock);
	if (addr < h->base)
		return NULL;
	page = (addr - h->base) >> KGC_PAGE_SHIFT;
	if (page >= h->narenas * KGC_ARENA_PAGES)
		return NULL;
	return h->spanmap[page / KGC_ARENA_PAGES][page % KGC_ARENA_PAGES];
}

/* Saturating subtraction for the pacer's estimate. */
static void kgc_mheap_sub_live(struct kgc_mheap *h, u64 bytes)
{
	h->live_bytes = h->live_bytes > bytes ? h->live_bytes - bytes : 0;
}

/*
 * Record the objects an mcache allocated from @s, up to its @freeindex.
 * While marking, those allocated after the thread's safepoint are black.
 * Returns the number recorded.
 */
static u32 kgc_mheap_record(struct kgc_mheap *h, struct kgc_span *s,
			    u32 freeindex)
{
	u32 black = h->marking && s->black_from != KGC_NO_BLACK ?
		    s->black_from : freeindex;
	u32 i, n = 0, from = s->freeindex;

	/* A word at a time: the objects in [from, freeindex) not yet set. */
	for (i = from / BITS_PER_LONG; i < BITS_TO_LONGS(freeindex); i++) {
		unsigned long lo = i * BITS_PER_LONG, want = ~0UL, new;

		if (lo < from)
			want &= ~0UL << (from - lo);
		if (lo + BITS_PER_LONG > freeindex)
			want &= BITMAP_LAST_WORD_MASK(freeindex);
		new = want & ~s->allocbits[i];
		if (!new)
			continue;
		/* Mark bits first: see kgc_mark_black_alloc(). */
		if (black < lo + BITS_PER_LONG) {
			unsigned long b = new;

			if (black > lo)
				b &= ~0UL << (black - lo);
			if (b)
				set_mask_bits(&s->markbits[i], 0, b);
		}
		s->allocbits[i] |= new;
		n += hweight_long(new);
	}
	s->alloccount += n;
	s->freeindex = freeindex;
	return n;
}

/* Take back a span an mcache held. Caller holds the lock. */
static int kgc_mheap_uncache(struct kgc_mheap *h, u64 base, u32 freeindex,
			     bool discard)
{
	struct kgc_span *s = kgc_mheap_span_of(h, base);
	struct kgc_central *c;
	u32 n = 0;

	if (!s || s->state != KGC_SPAN_CACHED ||
	    kgc_span_base(s, h->base) != base)
		return -EINVAL;
	if (freeindex < s->freeindex || freeindex > s->nelems)
		return -EINVAL;
	c = &h->central[s->spanclass];
	/*
	 * Held across a mark termination: sweep it for that cycle first, while
	 * freeindex still says where the mcache's objects begin. Recording
	 * first would move freeindex past the objects allocated black (and
	 * after the cycle), and the sweep would free them.
	 */
	if (s->sweepgen != h->sweepgen)
		kgc_sweep_span(h, s);
	if (!discard)
		n = kgc_mheap_record(h, s, freeindex);
	kgc_mheap_sub_live(h, (u64)(s->handout_free > n ?
				    s->handout_free - n : 0) * s->elemsize);
	list_del_init(&s->list);
	kgc_central_uncached(c);
	s->black_from = KGC_NO_BLACK;
	s->owner = NULL;
	if (discard) {
		kgc_mheap_sub_live(h, (u64)s->alloccount * s->elemsize);
		kgc_span_free_all(s);
	} else {
		s->freeindex = find_first_zero_bit(s->allocbits, s->nelems);
	}
	if (!s->alloccount)
		kgc_mheap_free_span(h, s);
	else
		kgc_central_insert(c, s, h->sweepgen);
	return 0;
}

/*
 * Hand a span with a free object to the mcache of @owner, black or not
 * (see kgc_mheap_refill_for()). Caller holds the lock.
 */
static struct kgc_span *kgc_mheap_cache(struct kgc_mheap *h, u32 spanclass,
					const void *owner, bool black)
{
	struct kgc_central *c = &h->central[spanclass];
	struct kgc_span *s;

	s = kgc_central_take(c, h->sweepgen);
	if (!s && kgc_sweep_class(h, spanclass))
		s = kgc_central_take(c, h->sweepgen);
	if (!s) {
		u32 sizeclass = KGC_SPANCLASS_SIZECLASS(spanclass);

		s = kgc_mheap_alloc_span(h, kgc_class_npages[sizeclass],
					 spanclass);
		if (!s)
			return NULL;
	}
	kgc_central_cached(c, s);
	list_add(&s->list, &h->cached);
	s->handout_free = s->nelems - s->alloccount;
	h->live_bytes += (u64)s->handout_free * s->elemsize;
	/*
	 * Allocate black once the owner's stack is scanned: everything its
	 * mcache takes from here. Before the scan its allocations stay white
	 * (the scan or the barrier finds them); its mark-start safepoint sets
	 * black_from then.
	 */
	s->black_from = h->marking && black ? s->freeindex : KGC_NO_BLACK;
	s->owner = owner;
	return s;
}

/**
 * kgc_mheap_refill_valid() - check a KGC_IOC_REFILL request
 * @r: request
 *
 * Return: 0, or -EINVAL for unknown flags, reserved fields, a bad span
 * class, counts over their limits or without their pointer, or a request
 * that neither gives back nor takes a span.
 */
int kgc_mheap_refill_valid(const struct kgc_refill *r)
{
	bool put = r->put_base || r->nputs;
	bool get = r->spanclass != KGC_NO_SPANCLASS;

	if (r->flags & ~KGC_REFILL_FLAGS || r->resv[0] || r->resv[1] ||
	    r->resv[2] || r->resv2)
		return -EINVAL;
	if (get && !kgc_spanclass_valid(r->spanclass))
		return -EINVAL;
	if ((!r->put_base && r->put_freeindex) || (!put && (r->flags || !get)))
		return -EINVAL;
	if (r->more_max > KGC_REFILL_MORE_MAX || (r->more_max && !r->more) ||
	    (r->more_max && !get))
		return -EINVAL;
	if (r->nputs > KGC_REFILL_PUTS_MAX || (r->nputs && !r->puts))
		return -EINVAL;
	return 0;
}

/**
 * kgc_mheap_put() - give back spans an mcache held (struct kgc_refill.puts)
 * @h: heap
 * @m: the spans and their final freeindex
 * @n: number of entries
 * @discard: KGC_REFILL_DISCARD: every object of the spans is free again
 *
 * Return: 0, or -EINVAL at the first entry that is not a span this heap
 * handed out and still caches, or whose freeindex is out of range (the
 * entries before it are given back).
 */
int kgc_mheap_put(struct kgc_mheap *h, const struct kgc_span_mark *m, u32 n,
		  bool discard)
{
	int ret = 0;
	u32 i;

	mutex_lock(&h->lock);
	for (i = 0; i < n && !ret; i++)
		ret = m[i].resv ? -EINVAL :
		      kgc_mheap_uncache(h, m[i].base, m[i].freeindex, discard);
	mutex_unlock(&h->lock);
	return ret;
}

/**
 * kgc_mheap_refill_for() - KGC_IOC_REFILL: give a span back, get a fresh one
 * @h: heap
 * @r: request, validated here; @r->span is filled on success. Its @puts
 *	and @more are the caller's to handle (kgc_mheap_put(),
 *	kgc_mheap_take()).
 * @owner: opaque identity of the calling thread (struct kgc_span.owner)
 * @black: the caller's stack has been scanned in the cycle being marked,
 *	so what it allocates from here is black
 *
 * The span given back stays given back even when getting a new one fails.
 *
 * Return: 0, -EINVAL for a bad request, -ENOMEM when the heap is full.
 */
int kgc_mheap_refill_for(struct kgc_mheap *h, struct kgc_refill *r,
			 const void *owner, bool black)
{
	bool get = r->spanclass != KGC_NO_SPANCLASS;
	struct kgc_span *s;
	int ret;

	ret = kgc_mheap_refill_valid(r);
	if (ret)
		return ret;
	memset(&r->span, 0, sizeof(r->span));

	mutex_lock(&h->lock);
	h->refills++;
	if (r->put_base) {
		ret = kgc_mheap_uncache(h, r->put_base, r->put_freeindex,
					r->flags & KGC_REFILL_DISCARD);
		if (ret)
			goto out;
	}
	if (get) {
		s = kgc_mheap_cache(h, r->spanclass, owner, black);
		if (s)
			kgc_span_desc(s, h->base, &r->span);
		else
			ret = -ENOMEM;
	}
out:
	mutex_unlock(&h->lock);
	return ret;
}

/**
 * kgc_mheap_take() - one more span for a batched refill
 * @h: heap
 * @spanclass: valid span class
 * @owner: as for kgc_mheap_refill_for()
 * @black: as for kgc_mheap_refill_for()
 * @d: filled with the span on success
 *
 * Return: 0, or -ENOMEM when the heap is full.
 */
int kgc_mheap_take(struct kgc_mheap *h, u32 spanclass, const void *owner,
		   bool black, struct kgc_span_desc *d)
{
	struct kgc_span *s;

	mutex_lock(&h->lock);
	s = kgc_mheap_cache(h, spanclass, owner, black);
	if (s)
		kgc_span_desc(s, h->base, d);
	mutex_unlock(&h->lock);
	return s ? 0 : -ENOMEM;
}

/**
 * kgc_mheap_untake() - take back a span user space never received
 * @h: heap
 * @base: the span, as kgc_mheap_take() or kgc_mheap_refill_for() handed it
 *	out (nothing allocated from it)
 * @freeindex: its freeindex then
 */
void kgc_mheap_untake(struct kgc_mheap *h, u64 base, u32 freeindex)
{
	mutex_lock(&h->lock);
	/* Fails only when another thread gave it back already. */
	kgc_mheap_uncache(h, base, freeindex, false);
	mutex_unlock(&h->lock);
}

/**
 * kgc_mheap_refill() - kgc_mheap_refill_for() without an owner, black
 * while marking (for a caller whose stack is never scanned)
 * @h: heap
 * @r: request
 *
 * Return: as kgc_mheap_refill_for().
 */
int kgc_mheap_refill(struct kgc_mheap *h, struct kgc_refill *r)
{
	return kgc_mheap_refill_for(h, r, NULL, true);
}

/**
 * kgc_mheap_alloc_large() - KGC_IOC_LARGE_ALLOC
 * @h: heap
 * @l: request, validated here; @l->addr and @l->npages filled on success
 * @needzero: set when the object's memory is not known to be zero
 * @black: allocate black while marking (the caller's stack is scanned, or
 *	is never scanned)
 *
 * Return: 0, -EINVAL, -E2BIG (larger than the heap) or -ENOMEM.
 */
int kgc_mheap_alloc_large(struct kgc_mheap *h, struct kgc_large *l,
			  bool *needzero, bool black)
{
	unsigned long npages;
	struct kgc_span *s;
	u32 spanclass;

	if (l->flags & ~KGC_LARGE_FLAGS || l->resv)
		return -EINVAL;
	if (l->size <= KGC_MAX_SMALL_SIZE)
		return -EINVAL;
	if (l->size > (u64)h->max_pages << KGC_PAGE_SHIFT)
		return -E2BIG;
	npages = DIV_ROUND_UP(l->size, KGC_PAGE_SIZE);
	spanclass = KGC_SPANCLASS(0, l->flags & KGC_LARGE_NOSCAN);

	mutex_lock(&h->lock);
	s = kgc_mheap_alloc_span(h, npages, spanclass);
	if (!s) {
		mutex_unlock(&h->lock);
		return -ENOMEM;
	}
	s->state = KGC_SPAN_LARGE;
	kgc_span_alloc_range(s, 0, 1);
	if (h->marking && black)
		set_bit(0, s->markbits);
	h->live_bytes += s->elemsize;
	list_add(&s->list, &h->large);
	h->nr_large++;
	h->large_pages += npages;
	l->addr = kgc_span_base(s, h->base);
	l->npages = npages;
	*needzero = s->needzero;
	mutex_unlock(&h->lock);
	return 0;
}

/**
 * kgc_mheap_free() - KGC_IOC_FREE: free a large object now
 * @h: heap
 * @addr: the object's address as returned by kgc_mheap_alloc_large()
 *
 * Return: 0, or -EINVAL when @addr is not a live large object.
 */
int kgc_mheap_free(struct kgc_mheap *h, u64 addr)
{
	struct kgc_span *s;
	int ret = -EINVAL;

	mutex_lock(&h->lock);
	s = kgc_mheap_span_of(h, addr);
	if (s && s->state == KGC_SPAN_LARGE &&
	    kgc_span_base(s, h->base) == addr) {
		list_del(&s->list);
		h->nr_large--;
		h->large_pages -= s->npages;
		kgc_mheap_sub_live(h, s->elemsize);
		kgc_mheap_free_span(h, s);
		ret = 0;
	}
	mutex_unlock(&h->lock);
	return ret;
}

/**
 * kgc_mheap_stats() - fill the heap's part of KGC_IOC_STATS
 * @h: heap
 * @st: zeroed by the caller; resident and fault counts are the caller's
 */
void kgc_mheap_stats(struct kgc_mheap *h, struct kgc_stats *st)
{
	unsigned long cached = 0;
	unsigned int i;

	mutex_lock(&h->lock);
	for (i = 0; i < KGC_NR_SPANCLASSES; i++)
		cached += h->central[i].nr_cached;
	st->heap_sys = (u64)h->narenas << KGC_ARENA_SHIFT;
	st->heap_inuse = (u64)h->inuse_pages << KGC_PAGE_SHIFT;
	st->heap_idle = (u64)kgc_pageheap_free_pages(&h->pages) << KGC_PAGE_SHIFT;
	st->heap_released = (u64)kgc_pageheap_scav_pages(&h->pages) << KGC_PAGE_SHIFT;
	st->spans_inuse = h->nr_spans;
	st->spans_cached = cached;
	st->large_objects = h->nr_large;
	st->large_bytes = (u64)h->large_pages << KGC_PAGE_SHIFT;
	st->refills = h->refills;
	st->arenas = h->narenas;
	mutex_unlock(&h->lock);
}

#ifdef __KERNEL__
#if IS_ENABLED(CONFIG_KUNIT)
#include "mheap-test.h"
#endif
#endif
