/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sweep.h - sweeping spans after a GC cycle.
 */
#ifndef _KGC_SWEEP_H
#define _KGC_SWEEP_H

#include "mheap.h"

u32 kgc_sweep_span(struct kgc_mheap *h, struct kgc_span *s);
bool kgc_sweep_class(struct kgc_mheap *h, u32 spanclass);
bool kgc_sweep_some(struct kgc_mheap *h, unsigned long budget);
void kgc_sweep_all(struct kgc_mheap *h);

#endif /* _KGC_SWEEP_H */
