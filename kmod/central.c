// SPDX-License-Identifier: GPL-2.0
/*
 * central.c - mcentral: where spans wait between mcaches.
 *
 * A span of a small class is in exactly one place: cached by one user-space
 * mcache, on its class's partial list (some object free) or on its full list
 * (none free). A refill takes the first partial span of the current sweep
 * set (most recently returned first: its pages are the likeliest to be
 * resident and in cache); only when there is none does the heap carve a new
 * span from free pages. A span coming back goes to partial or full by its
 * allocation count; a span with no allocated object left goes back to the
 * page heap (the caller's decision: see kgc_mheap_refill()).
 *
 * The lists are split by sweep set so the collector can sweep a class's
 * spans without a stop: marking flips the set, spans on the old set are
 * unswept. Until the collector runs, every span is on the swept set.
 */
#include "central.h"

static unsigned int kgc_sweep_set(u32 sweepgen)
{
	return (sweepgen / 2) % KGC_SWEEP_SETS;
}

/**
 * kgc_central_init() - initialise an mcentral
 * @c: mcentral
 * @spanclass: its span class
 */
void kgc_central_init(struct kgc_central *c, u32 spanclass)
{
	unsigned int i;

	for (i = 0; i < KGC_SWEEP_SETS; i++) {
		INIT_LIST_HEAD(&c->partial[i]);
		INIT_LIST_HEAD(&c->full[i]);
	}
	c->nr_partial = 0;
	c->nr_full = 0;
	c->nr_cached = 0;
	c->spanclass = spanclass;
}

/**
 * kgc_central_take() - take a swept span with a free object
 * @c: mcentral
 * @sweepgen: the heap's sweep generation
 *
 * Return: the span, removed from the lists, or NULL when there is none.
 */
struct kgc_span *kgc_central_take(struct kgc_central *c, u32 sweepgen)
{
	struct kgc_span *s;

	s = list_first_entry_or_null(&c->partial[kgc_sweep_set(sweepgen)],
				     struct kgc_span, list);
	if (s)
		kgc_central_remove(c, s);
	return s;
}

/**
 * kgc_central_insert() - put a swept span on its list
 * @c: mcentral of the span's class
 * @s: span, on no list
 * @sweepgen: the heap's sweep generation
 */
void kgc_central_insert(struct kgc_central *c, struct kgc_span *s,
			u32 sweepgen)
{
	unsigned int set = kgc_sweep_set(sweepgen);

	s->state = KGC_SPAN_CENTRAL;
	if (kgc_span_full(s)) {
		list_add(&s->list, &c->full[set]);
		c->nr_full++;
	} else {
		list_add(&s->list, &c->partial[set]);
		c->nr_partial++;
	}
}

/**
 * kgc_central_remove() - take a span off its list
 * @c: mcentral of the span's class
 * @s: span on one of @c's lists
 */
void kgc_central_remove(struct kgc_central *c, struct kgc_span *s)
{
	if (kgc_span_full(s))
		c->nr_full--;
	else
		c->nr_partial--;
	list_del_init(&s->list);
}

/**
 * kgc_central_cached() - account a span handed to an mcache
 * @c: mcentral of the span's class
 * @s: span, on no list
 */
void kgc_central_cached(struct kgc_central *c, struct kgc_span *s)
{
	s->state = KGC_SPAN_CACHED;
	c->nr_cached++;
}

/**
 * kgc_central_uncached() - account a span an mcache gave back
 * @c: mcentral of the span's class
 *
 * The span keeps its state until the caller puts it on a list
 * (kgc_central_insert()) or frees it: the marker reads the state without
 * the heap lock, and a span with objects must never look dead to it, not
 * even for a moment (it would drop the shades and scans of their objects).
 */
void kgc_central_uncached(struct kgc_central *c)
{
	c->nr_cached--;
}

/**
 * kgc_central_take_unswept() - take a span still to sweep for the last cycle
 * @c: mcentral
 * @sweepgen: the heap's sweep generation
 *
 * Return: a span from the unswept set (partial first), or NULL.
 */
struct kgc_span *kgc_central_take_unswept(struct kgc_central *c, u32 sweepgen)
{
	unsigned int set = kgc_sweep_set(sweepgen - 2);
	struct kgc_span *s;

	s = list_first_entry_or_null(&c->partial[set], struct kgc_span, list);
	if (!s)
		s = list_first_entry_or_null(&c->full[set], struct kgc_span,
					     list);
	if (s)
		kgc_central_remove(c, s);
	return s;
}
