// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * binary_trees - the classic allocation benchmark, on the kgc heap.
 *
 * Allocates perfect binary trees bottom-up and walks them: a "stretch"
 * tree of depth MAX+1, one long-lived tree of depth MAX that survives to
 * the end, and for each depth d = 4, 6, ..., MAX, 2^(MAX - d + 4) trees of
 * depth d that become garbage as soon as they are checked. The collector
 * (paced by GOGC, KGC_GOGC in the environment) frees them; nothing is ever
 * freed by hand. Every check count is verified: a tree of depth d has
 * 2^(d+1) - 1 nodes.
 *
 * Nodes are typed objects with a precise pointer map (two pointer words).
 * Stores into a node that was just allocated need no barrier; the
 * long-lived tree is kept in a registered global root, set with KGC_STORE.
 *
 *   binary_trees [MAX_DEPTH]     (default 12; the benchmark's usual is 21)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <kgc.h>

#define MIN_DEPTH 4

struct node {
	struct node *left;
	struct node *right;
};

static const uint64_t node_ptrmap[] = {
	KGC_PTRBIT(struct node, left) | KGC_PTRBIT(struct node, right),
};
static const struct kgc_type node_type = {
	.size = sizeof(struct node),
	.ptrmap = node_ptrmap,
	.name = "struct node",
};

/* The long-lived tree: a global root. */
static struct node *long_lived;

static struct node *bottom_up(int depth)
{
	struct node *n = kgc_alloc(sizeof(*n), &node_type);

	if (!n) {
		fprintf(stderr, "binary_trees: kgc_alloc: %s\n",
			kgc_last_error());
		exit(1);
	}
	if (depth > 0) {
		/* n is new and only on our stack: plain stores. */
		n->left = bottom_up(depth - 1);
		n->right = bottom_up(depth - 1);
	}
	return n;
}

static long check(const struct node *n)
{
	return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

static long nodes(int depth)
{
	return (2L << depth) - 1;
}

static int verify(const char *what, int depth, long got, long want)
{
	if (got == want)
		return 0;
	fprintf(stderr, "binary_trees: %s of depth %d: check %ld, expected %ld\n",
		what, depth, got, want);
	return 1;
}

int main(int argc, char **argv)
{
	int max_depth = argc > 1 ? atoi(argv[1]) : 12;
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	struct timespec t0, t1;
	int d, bad = 0, ret;
	long i, n, sum;

	if (max_depth < MIN_DEPTH + 2)
		max_depth = MIN_DEPTH + 2;
	if (max_depth > 30) {
		fprintf(stderr, "usage: binary_trees [MAX_DEPTH <= 30]\n");
		return 2;
	}
	ret = kgc_init(NULL);
	if (ret) {
		fprintf(stderr, "%s\n", kgc_last_error());
		return 1;
	}
	ret = kgc_add_roots(&long_lived, sizeof(long_lived), NULL);
	if (ret) {
		fprintf(stderr, "binary_trees: kgc_add_roots: %s\n",
			kgc_last_error());
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);

	sum = check(bottom_up(max_depth + 1));
	printf("stretch tree of depth %d\t check: %ld\n", max_depth + 1, sum);
	bad |= verify("stretch tree", max_depth + 1, sum, nodes(max_depth + 1));

	KGC_STORE(long_lived, bottom_up(max_depth));

	for (d = MIN_DEPTH; d <= max_depth; d += 2) {
		n = 1L << (max_depth - d + MIN_DEPTH);
		sum = 0;
		for (i = 0; i < n; i++)
			sum += check(bottom_up(d));
		printf("%ld\t trees of depth %d\t check: %ld\n", n, d, sum);
		bad |= verify("trees", d, sum, n * nodes(d));
	}

	sum = check(long_lived);
	printf("long lived tree of depth %d\t check: %ld\n", max_depth, sum);
	bad |= verify("long lived tree", max_depth, sum, nodes(max_depth));
	clock_gettime(CLOCK_MONOTONIC, &t1);

	if (kgc_read_stats(&st)) {
		fprintf(stderr, "binary_trees: kgc_read_stats: %s\n",
			kgc_last_error());
		return 1;
	}
	printf("\n%-26s %10.3f\n", "time (s)",
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("%-26s %10llu\n", "nodes allocated",
	       (unsigned long long)st.alloc_precise);
	printf("%-26s %10.1f\n", "MiB allocated", st.bytes_allocated / 1048576.0);
	printf("%-26s %10.1f\n", "heap grown into (MiB)",
	       st.heap_sys / 1048576.0);
	printf("%-26s %10.1f\n", "heap in use (MiB)", st.heap_inuse / 1048576.0);
	printf("%-26s %10.1f\n", "heap resident (MiB)",
	       st.heap_resident / 1048576.0);
	printf("%-26s %10llu\n", "GC cycles", (unsigned long long)st.num_gc);
	printf("%-26s %10.3f\n", "GC pause total (ms)", st.pause_total_ns / 1e6);
	printf("%-26s %10llu\n", "system calls", (unsigned long long)st.syscalls);
	printf("%-26s %10llu\n", "checkmark errors",
	       (unsigned long long)st.checkmark_errors);
	kgc_shutdown();
	return bad;
}
