// SPDX-License-Identifier: GPL-2.0
/*
 * binarytrees - the benchmarks-game binary-trees workload (issue 5), for
 * kgc and Boehm GC (gcshim.h); binarytrees.go is the same for Go.
 *
 * A stretch tree of depth max+1 is built, checked and dropped; a
 * long-lived tree of depth max stays reachable (from the stack) to the
 * end; then for each depth d = 4, 6, ..., max, 2^(max - d + 4) trees of
 * depth d are built bottom-up, checked (node count) and dropped. Nodes are
 * two pointers (16 bytes): kgc allocates them precisely (a kgc_type with
 * both words marked as pointers) and stores the children through
 * KGC_STORE; Boehm uses GC_MALLOC.
 *
 * Usage: binarytrees MAXDEPTH on|off   ("off": GOGC=off / GC_disable())
 * Prints one "@@ gc" line (wall time, collections, pauses, peak RSS).
 */
#include "gcshim.h"

#define MIN_DEPTH	4
/* Nodes allocated between two looks at the collector's pause record. */
#define POLL_NODES	(1L << 20)

struct node {
	struct node *left;
	struct node *right;
};
SHIM_TYPE(node, (1U << 0) | (1U << 1));

static long nodes_since_poll;

static struct node *bottom_up(int depth)
{
	struct node *n = SHIM_NEW(node);

	if (depth > 0) {
		SHIM_STORE(n->left, bottom_up(depth - 1));
		SHIM_STORE(n->right, bottom_up(depth - 1));
	}
	return n;
}

static long check(const struct node *n)
{
	return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

static void count(int depth)
{
	nodes_since_poll += (2L << depth) - 1;
	if (nodes_since_poll >= POLL_NODES) {
		nodes_since_poll = 0;
		shim_poll();
	}
}

int main(int argc, char **argv)
{
	int max, d, gc_on;
	long total = 0, i, iters;
	struct node *volatile long_lived;
	char params[64];
	double t0;

	if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "off"))) {
		fprintf(stderr, "usage: binarytrees MAXDEPTH on|off\n");
		return 2;
	}
	max = atoi(argv[1]);
	if (max < MIN_DEPTH + 2)
		max = MIN_DEPTH + 2;
	gc_on = !strcmp(argv[2], "on");
	shim_init(gc_on);

	t0 = shim_now_ns();
	total += check(bottom_up(max + 1));
	count(max + 1);

	long_lived = bottom_up(max);
	count(max);
	for (d = MIN_DEPTH; d <= max; d += 2) {
		iters = 1L << (max - d + MIN_DEPTH);
		for (i = 0; i < iters; i++) {
			total += check(bottom_up(d));
			count(d);
		}
	}
	total += check(long_lived);

	snprintf(params, sizeof(params), "depth=%d", max);
	shim_report("binarytrees", params, shim_now_ns() - t0, total);
	return 0;
}
