// SPDX-License-Identifier: GPL-2.0
/*
 * bench_pages.c - native benchmark of the page heap (kmod/pages.c).
 *
 * For heaps of 1 MiB to 4 GiB (grown to their full size) in a fragmented
 * state, prints the time of one kgc_pageheap_alloc() + kgc_pageheap_free()
 * pair for runs of 1 to 1024 pages, and of one operation of a random
 * alloc/free mix. The point is the shape of the table: the cost must not
 * grow with the heap. It prints figures and never passes or fails on time.
 *
 * Fragmented state: the lower part of the heap is held in runs of 1-8 pages
 * separated by free gaps of 1-8 pages (about half of it held); the top
 * max(1/4 of the heap, min(1024 pages, 1/2 of the heap)) is free. Runs of 1
 * and 4 pages fit in the low gaps; longer runs must pass over the whole
 * fragmented part to the free top, which a linear first-fit scan would pay
 * for in proportion to the heap.
 */
#include "bench_util.h"
#include "pages.h"

static void die(const char *what)
{
	fprintf(stderr, "bench_pages: %s failed\n", what);
	exit(1);
}

/* Grow to @pages, then hold ~half of the lower part; returns the free top. */
static unsigned long fragment(struct kgc_pageheap *ph, unsigned long pages)
{
	unsigned long tail = max(pages / 4, min(1024UL, pages / 2));
	unsigned long frag = pages - tail, p = 0;

	if (kgc_pageheap_init(ph, pages) || kgc_pageheap_grow(ph, pages))
		die("init/grow");
	while (p < frag) {
		unsigned long held = 1 + rnd() % 8, gap = 1 + rnd() % 8;

		held = min(held, frag - p);
		if (kgc_pageheap_alloc_range(ph, p, held, NULL))
			die("alloc_range");
		p += held + gap;
	}
	return tail;
}

/*
 * ns per alloc+free pair of @n pages, or -1 when no run of @n fits: the
 * best of ROUNDS rounds, so that other load on the machine shows less.
 */
#define ROUNDS	5
static double bench_pair(struct kgc_pageheap *ph, unsigned long n)
{
	unsigned long i, r, iters = n >= 128 ? 40000 : 100000;
	double t0, best = 1e30;
	long base;

	if (kgc_pageheap_largest_free(ph) < n)
		return -1;
	for (i = 0; i < 1000; i++) {		/* warm up */
		base = kgc_pageheap_alloc(ph, n, NULL);
		kgc_pageheap_free(ph, base, n);
	}
	for (r = 0; r < ROUNDS; r++) {
		t0 = now_ns();
		for (i = 0; i < iters; i++) {
			base = kgc_pageheap_alloc(ph, n, NULL);
			kgc_pageheap_free(ph, base, n);
		}
		best = min(best, (now_ns() - t0) / iters);
	}
	return best;
}

struct held {
	unsigned long base, n;
};

/* One random operation of the mix; see bench_churn(). */
static void churn_op(struct kgc_pageheap *ph, struct held *held,
		     unsigned long *nheld, unsigned long *inuse,
		     unsigned long pages)
{
	unsigned long r = rnd() % 100, n;
	long base;

	n = r < 90 ? 1 + rnd() % 8 : r < 99 ? 9 + rnd() % 120 :
		     129 + rnd() % 896;
	if (*nheld && (*inuse + n > pages / 2 || rnd() % 2)) {
		unsigned long j = rnd() % *nheld;

		kgc_pageheap_free(ph, held[j].base, held[j].n);
		*inuse -= held[j].n;
		held[j] = held[--*nheld];
		return;
	}
	base = kgc_pageheap_alloc(ph, n, NULL);
	if (base < 0)
		return;
	held[(*nheld)++] = (struct held){ base, n };
	*inuse += n;
}

/*
 * ns per operation of a random mix on a fresh heap of @pages: allocations
 * of 1-8 pages (90%), 9-128 (9%) and 129-1024 (1%) and frees of random held
 * runs, keeping about half of the heap held. Best of ROUNDS rounds, after a
 * warm-up that fills the heap.
 */
static double bench_churn(unsigned long pages)
{
	unsigned long i, r, nheld = 0, inuse = 0, iters = 100000;
	struct kgc_pageheap ph;
	struct held *held;
	double t0, best = 1e30;

	held = malloc(pages * sizeof(*held));
	if (!held || kgc_pageheap_init(&ph, pages) ||
	    kgc_pageheap_grow(&ph, pages))
		die("churn setup");
	for (i = 0; i < 4 * iters; i++)
		churn_op(&ph, held, &nheld, &inuse, pages);
	for (r = 0; r < ROUNDS; r++) {
		t0 = now_ns();
		for (i = 0; i < iters; i++)
			churn_op(&ph, held, &nheld, &inuse, pages);
		best = min(best, (now_ns() - t0) / iters);
	}
	if (kgc_pageheap_check(&ph))
		die("churn check");
	kgc_pageheap_destroy(&ph);
	free(held);
	return best;
}

int main(void)
{
	static const unsigned long sizes[] = { 1, 4, 16, 128, 1024 };
	static const struct {
		const char *name;
		unsigned long bytes;
	} heaps[] = {
		{ "1 MiB", 1UL << 20 },
		{ "16 MiB", 16UL << 20 },
		{ "256 MiB", 256UL << 20 },
		{ "4 GiB", 4UL << 30 },
	};
	unsigned long h, s;

	printf("kgc page heap: ns per alloc+free pair, fragmented heap (native, -O2)\n");
	printf("%-8s %7s %6s", "heap", "chunks", "free");
	for (s = 0; s < ARRAY_SIZE(sizes); s++)
		printf(" %7lup", sizes[s]);
	printf(" %9s\n", "mix ns/op");
	for (h = 0; h < ARRAY_SIZE(heaps); h++) {
		unsigned long pages = heaps[h].bytes / KGC_PAGE_SIZE;
		struct kgc_pageheap ph;

		fragment(&ph, pages);
		if (!h)
			bench_pair(&ph, 1);	/* let the CPU clock up */
		printf("%-8s %7lu %5lu%%", heaps[h].name,
		       DIV_ROUND_UP(pages, KGC_CHUNK_PAGES),
		       kgc_pageheap_free_pages(&ph) * 100 / pages);
		for (s = 0; s < ARRAY_SIZE(sizes); s++) {
			double ns = bench_pair(&ph, sizes[s]);

			if (ns < 0)
				printf(" %8s", "-");
			else
				printf(" %8.0f", ns);
		}
		if (kgc_pageheap_check(&ph))
			die("check");
		kgc_pageheap_destroy(&ph);
		printf(" %9.0f\n", bench_churn(pages));
		fflush(stdout);
	}
	printf("(- : no free run that long exists in a heap that small)\n");
	return 0;
}
