/* SPDX-License-Identifier: GPL-2.0 */
/*
 * central.h - mcentral: the spans of one span class that no mcache holds.
 */
#ifndef _KGC_CENTRAL_H
#define _KGC_CENTRAL_H

#include "span.h"

/*
 * The sweep sets, as in Go: spans are on the set of their sweep state. With
 * sweepgen advancing by 2 each cycle, set (sweepgen / 2) % 2 holds swept
 * spans and the other set holds spans still to sweep.
 */
#define KGC_SWEEP_SETS 2

/**
 * struct kgc_central - per span class lists (Go's mcentral)
 * @partial: spans with at least one free object, by sweep set
 * @full: spans with no free object, by sweep set
 * @nr_partial: spans on @partial
 * @nr_full: spans on @full
 * @nr_cached: spans of this class held by mcaches
 * @spanclass: the span class
 *
 * Protected by the heap lock (struct kgc_mheap.lock).
 */
struct kgc_central {
	struct list_head partial[KGC_SWEEP_SETS];
	struct list_head full[KGC_SWEEP_SETS];
	unsigned long nr_partial;
	unsigned long nr_full;
	unsigned long nr_cached;
	u32 spanclass;
};

void kgc_central_init(struct kgc_central *c, u32 spanclass);
struct kgc_span *kgc_central_take(struct kgc_central *c, u32 sweepgen);
void kgc_central_insert(struct kgc_central *c, struct kgc_span *s,
			u32 sweepgen);
void kgc_central_remove(struct kgc_central *c, struct kgc_span *s);
struct kgc_span *kgc_central_take_unswept(struct kgc_central *c, u32 sweepgen);
void kgc_central_cached(struct kgc_central *c, struct kgc_span *s);
void kgc_central_uncached(struct kgc_central *c);

#endif /* _KGC_CENTRAL_H */
