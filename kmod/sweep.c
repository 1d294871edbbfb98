// SPDX-License-Identifier: GPL-2.0
/*
 * sweep.c - turning mark bits into alloc bits (Go's mgcsweep.go).
 *
 * Mark termination advances the heap's sweepgen by 2: every span whose
 * sweepgen is now two behind still carries the finished cycle's mark bits
 * and must be swept before the next cycle marks again. Sweeping happens in
 * three places, all under the heap lock:
 *  - in the background, by the marker thread right after mark termination;
 *  - on demand in a refill, which sweeps spans of the wanted class before
 *    carving a new one (so memory freed by the cycle is reused first);
 *  - when an mcache gives back a span it held across the cycle.
 * Sweep termination (kgc_sweep_all()) finishes the rest before a cycle
 * starts.
 *
 * How a span is swept depends on where it is:
 *  - on an mcentral list: alloc bits := mark bits; an empty span goes back
 *    to the page heap, others to the swept partial or full list;
 *  - cached by an mcache: only objects below the point from which the
 *    mcache's allocations were black (black_from) are swept; the mcache owns
 *    the rest and the kernel's bits there are stale until the span returns;
 *  - a large object: freed when unmarked.
 * Freed objects make a span need zeroing; with poisoning on, their resident
 * memory is filled with a pattern so a dangling pointer reads garbage.
 */
#include "mheap.h"
#include "sizeclass.h"
#include "sweep.h"

static void kgc_sweep_poison(struct kgc_mheap *h, struct kgc_span *s,
			     const unsigned long *old, u32 limit)
{
	u64 base = kgc_span_base(s, h->base);
	u32 i;

	if (!h->poison || !READ_ONCE(h->poisoning))
		return;
	for (i = 0; i < limit; i++)
		if (test_bit(i, old) && !test_bit(i, s->allocbits))
			h->poison(h->poison_ctx, base + (u64)i * s->elemsize,
				  s->elemsize);
}

/*
 * Objects [0, @limit) take their mark bits as alloc bits. Returns the number
 * of objects freed.
 *
 * One pass over the words that can hold bits (those of the span's nelems
 * objects, not the whole KGC_SPAN_MAX_OBJS): the sweeper holds the heap
 * lock that refills wait for, and a 16-object span needs one word, not 16.
 * Bits at and beyond nelems are never set in any of the three bitmaps.
 */
static u32 kgc_sweep_bits(struct kgc_mheap *h, struct kgc_span *s, u32 limit)
{
	unsigned long old[KGC_ALLOC_WORDS];
	unsigned int nw = BITS_TO_LONGS(s->nelems), lw = BITS_TO_LONGS(limit);
	bool poison = h->poison && READ_ONCE(h->poisoning);
	u32 i, before = 0, after = 0, count = 0, freed = 0;

	for (i = 0; i < nw; i++) {
		unsigned long a = s->allocbits[i];

		if (i < lw) {
			unsigned long mask = i + 1 < lw ? ~0UL :
					     BITMAP_LAST_WORD_MASK(limit);
			unsigned long n = (a & ~mask) | (s->markbits[i] & mask);

			if (poison)
				old[i] = a;
			before += hweight_long(a & mask);
			after += hweight_long(n & mask);
			s->allocbits[i] = n;
			a = n;
		}
		count += hweight_long(a);
		s->markbits[i] = 0;
		s->checkbits[i] = 0;
	}
	s->alloccount = count;
	if (before > after)
		freed = before - after;
	if (freed) {
		s->needzero = true;
		if (poison)
			kgc_sweep_poison(h, s, old, limit);
	}
	s->sweepgen = h->sweepgen;
	return freed;
}

/**
 * kgc_sweep_span() - sweep one span for the last cycle
 * @h: heap, lock held
 * @s: span with sweepgen == h->sweepgen - 2, on no list unless cached or
 *	large (large spans stay on h->large)
 *
 * A central span is put back on its swept list or freed; a cached one stays
 * cached; a dead large object is freed.
 *
 * Return: objects freed.
 */
u32 kgc_sweep_span(struct kgc_mheap *h, struct kgc_span *s)
{
	struct kgc_central *c = &h->central[s->spanclass];
	u32 freed, limit;

	lockdep_assert_held(&h->lock);
	h->swept_spans++;
	switch (s->state) {
	case KGC_SPAN_LARGE:
		s->sweepgen = h->sweepgen;
		if (test_bit(0, s->markbits)) {
			__clear_bit(0, s->markbits);
			return 0;
		}
		list_del(&s->list);
		h->nr_large--;
		h->large_pages -= s->npages;
		h->freed_objects++;
		if (h->poison && READ_ONCE(h->poisoning))
			h->poison(h->poison_ctx, kgc_span_base(s, h->base),
				  s->elemsize);
		kgc_mheap_free_span(h, s);
		return 1;
	case KGC_SPAN_CACHED:
		/*
		 * Below freeindex the kernel's bits are exact; from there to
		 * black_from the mcache allocated white objects, which are
		 * live exactly when marked. The kernel's bits are exact up to
		 * the limit afterwards.
		 */
		limit = s->black_from != KGC_NO_BLACK ? s->black_from :
			s->freeindex;
		limit = min(max(limit, s->freeindex), s->nelems);
		/*
		 * The mcache handed out every object below limit: count them
		 * as allocated, so the dead ones are freed like any other
		 * (poisoned, and the span needs zeroing before reuse).
		 */
		if (limit > s->freeindex)
			bitmap_set(s->allocbits, s->freeindex,
				   limit - s->freeindex);
		freed = kgc_sweep_bits(h, s, limit);
		s->freeindex = limit;
		s->black_from = KGC_NO_BLACK;
		break;
	default:
		freed = kgc_sweep_bits(h, s, s->nelems);
		s->freeindex = find_first_zero_bit(s->allocbits, s->nelems);
		s->black_from = KGC_NO_BLACK;
		if (!s->alloccount)
			kgc_mheap_free_span(h, s);
		else
			kgc_central_insert(c, s, h->sweepgen);
		break;
	}
	h->freed_objects += freed;
	return freed;
}

/**
 * kgc_sweep_class() - sweep spans of one class until one has a free object
 * @h: heap, lock held
 * @spanclass: span class
 *
 * The refill path calls this before carving a new span, so memory the last
 * cycle freed is reused first.
 *
 * Return: true when a swept span with a free object is now on the partial
 * list.
 */
bool kgc_sweep_class(struct kgc_mheap *h, u32 spanclass)
{
	struct kgc_central *c = &h->central[spanclass];
	struct kgc_span *s;

	lockdep_assert_held(&h->lock);
	while ((s = kgc_central_take_unswept(c, h->sweepgen))) {
		kgc_sweep_span(h, s);
		if (c->nr_partial)
			return true;
	}
	return false;
}

/*
 * Sweep the unswept spans of the large or cached list (they stay on it, or
 * leave it when freed). Caller holds the lock. Returns the budget left.
 */
static unsigned long kgc_sweep_list(struct kgc_mheap *h,
				    struct list_head *list,
				    unsigned long budget)
{
	struct kgc_span *s, *n;

	list_for_each_entry_safe(s, n, list, list) {
		if (!budget)
			break;
		if (s->sweepgen == h->sweepgen)
			continue;
		kgc_sweep_span(h, s);
		budget--;
	}
	return budget;
}

/**
 * kgc_sweep_some() - background sweeping: up to @budget spans
 * @h: heap
 * @budget: spans to sweep at most (the lock is dropped between batches)
 *
 * Return: true when nothing is left to sweep.
 */
bool kgc_sweep_some(struct kgc_mheap *h, unsigned long budget)
{
	struct kgc_span *s;
	unsigned int sc;
	bool done = true;

	mutex_lock(&h->lock);
	for (sc = 2; sc < KGC_NR_SPANCLASSES && budget; sc++) {
		while (budget && (s = kgc_central_take_unswept(&h->central[sc],
							       h->sweepgen))) {
			kgc_sweep_span(h, s);
			budget--;
		}
	}
	budget = kgc_sweep_list(h, &h->large, budget);
	budget = kgc_sweep_list(h, &h->cached, budget);
	if (!budget)
		done = false;
	mutex_unlock(&h->lock);
	return done;
}

/*
 * Spans swept per hold of the heap lock by kgc_sweep_all(). Refills wait
 * for the lock (spinning while its owner runs), so the batch is small:
 * under TCG a span takes microseconds to sweep, and batches of 64 had the
 * allocating thread spin for a tenth of a millisecond at a time.
 */
#define KGC_SWEEP_BATCH	8

/**
 * kgc_sweep_all() - sweep termination: sweep everything left
 * @h: heap
 */
void kgc_sweep_all(struct kgc_mheap *h)
{
	while (!kgc_sweep_some(h, KGC_SWEEP_BATCH))
		cond_resched();
}
