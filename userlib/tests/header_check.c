/* SPDX-License-Identifier: (LGPL-2.1 OR MIT) */
/*
 * header_check.c - kgc.h must compile alone, as C99 (-pedantic) and as
 * C++11, and its inline helpers must be usable from both.
 */
#include <kgc.h>

struct node {
	struct node *next;
	long value;
};

static const uint64_t node_ptrmap[] = { KGC_PTRBIT(struct node, next) };
static const struct kgc_type node_type = {
	sizeof(struct node), node_ptrmap, "node", 0, 0
};

int header_check(struct node *a, struct node *b);

int header_check(struct node *a, struct node *b)
{
	struct kgc_heap_stats st;
#ifndef __cplusplus
	KGC_OPTS(opts, .gc_percent = 200);
#else
	struct kgc_options opts = kgc_options();
	opts.sz = sizeof(opts);
	opts.gc_percent = 200;
#endif

	kgc_store((void **)&a->next, b);
	KGC_STORE(b->next, a);
	st.sz = sizeof(st);
	(void)kgc_alloc(sizeof(struct node), &node_type);
	return kgc_init(&opts) + kgc_read_stats(&st);
}
