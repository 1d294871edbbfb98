/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objstate.h - KGC_IOC_OBJ_STATE: is an address an allocated object?
 */
#ifndef _KGC_OBJSTATE_H
#define _KGC_OBJSTATE_H

#include <linux/kgc.h>

struct kgc_heap;
struct kgc_mheap;

/* Addresses answered per heap-lock hold: a multiple of 64 (bitmap words). */
#define KGC_OBJ_STATE_CHUNK	512

bool kgc_mheap_obj_allocated(struct kgc_mheap *h, u64 addr);
long kgc_obj_state(struct kgc_heap *heap, struct kgc_obj_state *o);

#endif /* _KGC_OBJSTATE_H */
