// SPDX-License-Identifier: GPL-2.0
/*
 * bench_mark.c - native benchmark of marking and sweeping (kmod/mark.c,
 * kmod/sweep.c) over the fake heap of fake_heap.c.
 *
 * Each workload builds an object graph once, then marks it from its root
 * and sweeps the heap REPS times (everything stays reachable, so every
 * cycle does the same work). It prints the best time per marked object,
 * the marked bytes per second and the sweep time per span. The marker
 * reads the heap through struct kgc_mark_ops as in the module, minus the
 * page lookups: this is the marker's own cost, which the kernel thread
 * pays on top of its memory accesses. Figures only, never a pass or fail
 * on time; a count that comes out wrong is an error.
 */
#include "bench_util.h"
#include "fake_heap.h"

#define REPS	7

/* The span class of the smallest size class holding @size bytes. */
static u32 spanclass_for(u32 size, bool noscan)
{
	u32 c;

	for (c = 1; c < KGC_NR_SIZE_CLASSES; c++)
		if (kgc_class_size[c] >= size)
			return KGC_SPANCLASS(c, noscan);
	abort();
}

/* A complete binary tree of @depth: nodes of @size bytes, words 0 and 1
 * pointing to the children. */
static u64 tree(struct cache *c, int depth, u64 *n)
{
	u64 node = cache_alloc(c, 0x3);

	(*n)++;
	if (depth > 0) {
		store(node, 0, tree(c, depth - 1, n));
		store(node, 1, tree(c, depth - 1, n));
	}
	return node;
}

static u64 build_tree(u32 size, int depth, u64 *n)
{
	struct cache c;
	u64 root;

	cache_get(&c, spanclass_for(size, false));
	root = tree(&c, depth, n);
	cache_put(&c);
	return root;
}

/*
 * @count objects of random sizes 16-512 B, one pointer word in three,
 * each pointer word to a random earlier object, and word 0 a chain from
 * the last object back to the first so that all are reachable.
 */
static u64 build_mixed(unsigned int count, u64 *n)
{
	static struct cache caches[KGC_NR_SIZE_CLASSES];
	u64 *objs = calloc(count, sizeof(*objs));
	unsigned int i, k;
	u64 root;

	memset(caches, 0, sizeof(caches));
	for (i = 0; i < count; i++) {
		u32 size = 16 + rnd() % (512 - 16 + 1);
		u32 sc = spanclass_for(size, false);
		struct cache *c = &caches[KGC_SPANCLASS_SIZECLASS(sc)];
		u32 words;

		if (!c->r.span.base)
			cache_get(c, sc);
		objs[i] = cache_alloc(c, 0x9249249249249249ULL);
		words = c->r.span.elemsize / 8;
		for (k = 3; k < words; k += 3)
			store(objs[i], k, objs[rnd() % (i + 1)]);
		if (i)
			store(objs[i], 0, objs[i - 1]);
	}
	for (i = 0; i < KGC_NR_SIZE_CLASSES; i++)
		if (caches[i].r.span.base)
			cache_put(&caches[i]);
	root = objs[count - 1];
	*n = count;
	free(objs);
	return root;
}

/* A large array of @count pointers, each to a noscan 16-byte object. */
static u64 build_array(unsigned int count, u64 *n)
{
	struct kgc_large l = { .size = (u64)count * 8 };
	struct cache c;
	unsigned int i;
	bool nz;

	if (kgc_mheap_alloc_large(&h, &l, &nz, true))
		abort();
	cache_get(&c, spanclass_for(16, true));
	for (i = 0; i < count; i++)
		store(l.addr, i, cache_alloc(&c, 0));
	cache_put(&c);
	for (i = 0; i < count; i++)
		bitmap[(l.addr - base) / 8 / 64 + i / 64] |= 1ULL << (i % 64);
	*n = count + 1;
	return l.addr;
}

static unsigned long nr_spans(void)
{
	unsigned long n = 0, a, p;

	for (a = 0; a < h.narenas; a++)
		for (p = 0; p < KGC_ARENA_PAGES; p++) {
			struct kgc_span *s = h.spanmap[a][p];

			n += s && s->start == a * KGC_ARENA_PAGES + p;
		}
	return n;
}

static void run(const char *name, u64 root, u64 objects)
{
	double best = 1e30, best_sweep = 1e30, t0, t1, t2;
	u64 bytes = 0;
	int rep;

	for (rep = 0; rep < REPS; rep++) {
		w.objects = 0;
		w.marked_bytes = 0;
		h.marking = true;
		t0 = now_ns();
		kgc_mark_shade(&w, root);
		kgc_mark_drain(&w, -1);
		t1 = now_ns();
		if (w.objects != objects) {
			fprintf(stderr, "bench_mark: %s: marked %llu of %llu\n",
				name, (unsigned long long)w.objects,
				(unsigned long long)objects);
			exit(1);
		}
		bytes = w.marked_bytes;
		finish_cycle();
		t2 = now_ns();
		if (t1 - t0 < best)
			best = t1 - t0;
		if (t2 - t1 < best_sweep)
			best_sweep = t2 - t1;
	}
	printf("| %s | %llu | %.1f | %.1f | %.0f | %.1f |\n", name,
	       (unsigned long long)objects, bytes / 1048576.0, best / 1e6,
	       best / objects, bytes / 1048576.0 / (best / 1e9));
	printf("|   sweep | %lu spans | | %.2f | %.0f ns/span | |\n",
	       nr_spans(), best_sweep / 1e6, best_sweep / nr_spans());
}

int main(void)
{
	u64 n, root;

	printf("### Marking, native (kmod/mark.c over plain memory, best of %d)\n\n",
	       REPS);
	printf("| workload | objects | MiB marked | ms | ns/object | MiB/s |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");

	setup();
	n = 0;
	root = build_tree(16, 18, &n);
	run("binary tree, 16 B nodes, depth 18", root, n);
	teardown();

	setup();
	n = 0;
	root = build_tree(32, 17, &n);
	run("binary tree, 32 B nodes, depth 17", root, n);
	teardown();

	setup();
	root = build_mixed(200000, &n);
	run("random graph, 16-512 B, 1/3 pointers", root, n);
	teardown();

	setup();
	root = build_array(1 << 20, &n);
	run("8 MiB pointer array to noscan objects", root, n);
	teardown();
	return 0;
}
