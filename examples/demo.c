// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * demo - what the kgc heap does, in one screen.
 *
 * Builds a binary tree of typed nodes (precise pointer maps) in the kgc
 * heap, keeps a small part of it reachable from a registered global root,
 * drops the rest, runs the collector and prints what the heap did at each
 * step: memory grown into, in use, resident, objects allocated, the system
 * calls the library needed, and the collector's cycles and pauses.
 *
 * Run it inside the VM with `make demo`, or on a machine with kgc.ko
 * loaded: ./demo (KGC_DEBUG=gctrace=1 ./demo prints one line per cycle).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kgc.h>

struct node {
	struct node *left;
	struct node *right;
	long value;
	char name[8];
};

/* Words 0 and 1 (left, right) hold pointers: the rest is data. */
static const uint64_t node_ptrmap[] = {
	KGC_PTRBIT(struct node, left) | KGC_PTRBIT(struct node, right),
};
static const struct kgc_type node_type = {
	.size = sizeof(struct node),
	.ptrmap = node_ptrmap,
	.name = "struct node",
};

/* The program's global root: what it keeps. */
static struct node *keep[16];

static struct node *tree(int depth, long *count)
{
	struct node *n = kgc_alloc(sizeof(*n), &node_type);

	if (!n) {
		fprintf(stderr, "demo: kgc_alloc: %s\n", kgc_last_error());
		exit(1);
	}
	n->value = (*count)++;
	snprintf(n->name, sizeof(n->name), "n%ld", n->value % 100000);
	if (depth > 0) {
		/* Stores into a new, unpublished object need no barrier. */
		n->left = tree(depth - 1, count);
		n->right = tree(depth - 1, count);
	}
	return n;
}

static long check(const struct node *n)
{
	if (!n)
		return 0;
	return 1 + check(n->left) + check(n->right);
}

static void show(const char *what)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };

	if (kgc_read_stats(&st)) {
		fprintf(stderr, "demo: kgc_read_stats: %s\n", kgc_last_error());
		exit(1);
	}
	printf("%-34s %7.1f %7.1f %7.1f %9llu %6llu %4llu %8.2f\n", what,
	       st.heap_sys / 1048576.0, st.heap_inuse / 1048576.0,
	       st.heap_resident / 1048576.0,
	       (unsigned long long)(st.alloc_precise + st.alloc_noscan +
				    st.alloc_conservative),
	       (unsigned long long)st.syscalls,
	       (unsigned long long)st.num_gc, st.pause_total_ns / 1e6);
}

int main(void)
{
	long count = 0, kept;
	int ret, i;

	ret = kgc_init(NULL);
	if (ret) {
		fprintf(stderr, "%s\n", kgc_last_error());
		return 1;
	}
	printf("kgc %s: a garbage-collected heap served by kgc.ko\n\n",
	       kgc_version());
	printf("%-34s %7s %7s %7s %9s %6s %4s %8s\n", "step", "sys MiB",
	       "inuse", "rss", "objects", "calls", "GCs", "pause ms");
	show("after kgc_init");

	ret = kgc_add_roots(keep, sizeof(keep), NULL);
	if (ret) {
		fprintf(stderr, "demo: kgc_add_roots: %s\n", kgc_last_error());
		return 1;
	}
	for (i = 0; i < 16; i++)
		KGC_STORE(keep[i], tree(14, &count));
	show("16 trees of depth 14 built");

	/* Keep one tree in four; the others become garbage. */
	for (i = 0; i < 16; i++)
		if (i % 4)
			KGC_STORE(keep[i], NULL);
	show("3 of 4 trees dropped");

	ret = kgc_gc();
	if (ret)
		printf("  kgc_gc: %s\n", kgc_strerror(ret));
	show("after kgc_gc()");

	kept = 0;
	for (i = 0; i < 16; i++)
		kept += check(keep[i]);
	printf("\nreachable nodes after collection: %ld of %ld allocated "
	       "(expected %ld)\n", kept, count, 4 * ((1L << 15) - 1));

	/* Allocate again: the freed spans are reused, the heap stays put. */
	for (i = 0; i < 16; i++)
		if (i % 4)
			KGC_STORE(keep[i], tree(14, &count));
	show("trees rebuilt in the freed space");
	kgc_shutdown();
	return kept == 4 * ((1L << 15) - 1) ? 0 : 1;
}
