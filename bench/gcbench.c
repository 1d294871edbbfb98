// SPDX-License-Identifier: GPL-2.0
/*
 * gcbench - a GCBench-shaped workload (issue 5), after the shape of
 * Boehm's classic GCBench (Ellis, Kovac, Boehm), written anew; for kgc and
 * Boehm GC (gcshim.h); gcbench.go is the same for Go.
 *
 *   1. a stretch tree of depth STRETCH, built and dropped;
 *   2. a long-lived tree of depth LONG, built top-down, and an array of
 *      ARRAY doubles (pointer-free), both reachable to the end;
 *   3. for depth d = 4, 6, ..., MAX: 2 * size(STRETCH) / size(d) trees of
 *      depth d built top-down (children stored into existing nodes: the
 *      write barrier's work), then as many built bottom-up; all dropped.
 * Nodes are two pointers and two ints (24 bytes): kgc allocates them
 * precisely and stores through KGC_STORE; Boehm uses GC_MALLOC, and
 * GC_MALLOC_ATOMIC for the array.
 *
 * Usage: gcbench STRETCH LONG MAX ARRAY on|off
 * Prints one "@@ gc" line (wall time, collections, pauses, peak RSS).
 */
#include "gcshim.h"

#define MIN_DEPTH	4
#define POLL_NODES	(1L << 20)

struct node {
	struct node *left;
	struct node *right;
	int i, j;
};
SHIM_TYPE(node, (1U << 0) | (1U << 1));

static long nodes, nodes_since_poll;

static void count(long n)
{
	nodes += n;
	nodes_since_poll += n;
	if (nodes_since_poll >= POLL_NODES) {
		nodes_since_poll = 0;
		shim_poll();
	}
}

static long tree_size(int depth)
{
	return (2L << depth) - 1;
}

/* Top-down: give @n children down to @depth levels. */
static void populate(int depth, struct node *n)
{
	if (depth <= 0)
		return;
	SHIM_STORE(n->left, SHIM_NEW(node));
	SHIM_STORE(n->right, SHIM_NEW(node));
	populate(depth - 1, n->left);
	populate(depth - 1, n->right);
}

/* Bottom-up. */
static struct node *make_tree(int depth)
{
	struct node *n = SHIM_NEW(node);

	if (depth > 0) {
		SHIM_STORE(n->left, make_tree(depth - 1));
		SHIM_STORE(n->right, make_tree(depth - 1));
	}
	n->i = depth;
	return n;
}

static long walk(const struct node *n)
{
	return n->left ? 1 + walk(n->left) + walk(n->right) : 1;
}

int main(int argc, char **argv)
{
	int stretch, longd, max, d, gc_on;
	long array_len, i, iters, total = 0;
	struct node *volatile long_lived;
	struct node *t = NULL;
	double *volatile array;
	char params[128];
	double t0;

	if (argc != 6 || (strcmp(argv[5], "on") && strcmp(argv[5], "off"))) {
		fprintf(stderr, "usage: gcbench STRETCH LONG MAX ARRAY on|off\n");
		return 2;
	}
	stretch = atoi(argv[1]);
	longd = atoi(argv[2]);
	max = atoi(argv[3]);
	array_len = atol(argv[4]);
	if (stretch < MIN_DEPTH || longd < 1 || max < MIN_DEPTH ||
	    array_len < 1001) {
		fprintf(stderr, "gcbench: parameters too small\n");
		return 2;
	}
	gc_on = !strcmp(argv[5], "on");
	shim_init(gc_on);

	t0 = shim_now_ns();
	/* 1. Stretch the heap. */
	total += walk(make_tree(stretch));
	count(tree_size(stretch));

	/* 2. Long-lived data. */
	long_lived = SHIM_NEW(node);
	populate(longd, long_lived);
	count(tree_size(longd));
	array = shim_new_noscan(array_len * sizeof(double));
	for (i = 0; i < array_len / 2; i++)
		array[i] = 1.0 / (double)(i + 1);

	/* 3. Short-lived trees, top-down then bottom-up. */
	for (d = MIN_DEPTH; d <= max; d += 2) {
		iters = 2 * tree_size(stretch) / tree_size(d);
		for (i = 0; i < iters; i++) {
			t = SHIM_NEW(node);
			populate(d, t);
			count(tree_size(d));
		}
		for (i = 0; i < iters; i++) {
			t = make_tree(d);
			count(tree_size(d));
		}
		total += walk(t);
	}

	if (!long_lived || array[1000] != 1.0 / 1001.0) {
		fprintf(stderr, "gcbench: long-lived data lost\n");
		printf("@@ gc bench=gcbench impl=%s na=long-lived-data-lost\n",
		       SHIM_NAME);
		return 1;
	}
	total += walk(long_lived);
	snprintf(params, sizeof(params), "depths=%d/%d/%d array=%ld nodes=%ld",
		 stretch, longd, max, array_len, nodes);
	shim_report("gcbench", params, shim_now_ns() - t0, total);
	return 0;
}
