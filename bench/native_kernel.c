// SPDX-License-Identifier: GPL-2.0
/*
 * native_kernel.c - an in-process stand-in for kgc.ko, so that libkgc's
 * user-space allocation path can be timed natively on a host that has no
 * /dev/kgc (the benchmarks' "native" rows).
 *
 * It answers the library's system calls (struct kgc_sys, the hook the unit
 * tests' fake kernel uses too) the way the module does for a heap with the
 * collector off:
 *   - the heap, the pointer bitmap and any other mapping are anonymous
 *     private memory, zero-filled on first touch by the host kernel, as the
 *     module's pages are;
 *   - KGC_IOC_REFILL hands out a fresh span of the class (bump pointer over
 *     the heap, all objects free, no NEEDZERO) and forgets the span given
 *     back: nothing is ever collected, like GOGC=off;
 *   - unless native_kernel_recycle(bytes) was called: then a span given
 *     back is handed out again, all free and flagged NEEDZERO, once
 *     @bytes more of spans have been given back after it. That models a
 *     collector that finds each dropped object dead at no cost, with a
 *     heap of about live + @bytes (@bytes = the live working set models
 *     GOGC=100's footprint): the memory stays warm as it does for malloc's
 *     free lists, and the timing is libkgc's allocation path without the
 *     page faults of fresh memory and without any marking or sweeping;
 *   - batched refills as the module does them (KGC_FEATURE_REFILL_BATCH);
 *   - large objects come from the same bump pointer;
 *   - the collector's ioctls succeed and do nothing, the stats are minimal.
 * One mutex serialises the calls; they are rare (one per span). It is an
 * adaptive one, which spins a while before it sleeps, as the module's heap
 * mutex does (optimistic spinning): a plain one put threads to sleep for
 * a microsecond-long section, which cost kgc's 2-thread ring rows 10-15%
 * (8.3 ns against 7.3 ns a call, medians of 5) and odd 20 ns runs.
 *
 * What it does not measure: the cost of the ioctl itself and of the
 * kernel's page heap, which the VM rows include (and bench/heap_bench.c
 * times on its own).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "native_kernel.h"

#define NK_FD		0x4b47
#define NK_HEAP_MAX	(64ULL << 30)

static const uint32_t nk_class_size[] = KGC_CLASS_SIZES;
static const uint32_t nk_class_pages[] = KGC_CLASS_NPAGES;

/* A span given back, waiting to be handed out again (recycling on). */
struct nk_span {
	uint64_t base;
	uint64_t stamp;		/* nk.returned when it was given back */
};

/* Per span class: given-back spans, oldest first (a growing ring). */
struct nk_fifo {
	struct nk_span *s;
	size_t cap, head, n;
};

static struct {
	pthread_mutex_t lock;
	int open;
	uint64_t heap_base, heap_len, next;
	uint64_t refills, large, ioctls;
	uint64_t recycle;	/* 0: never hand a span out again */
	uint64_t returned;	/* bytes of spans given back so far */
	struct nk_fifo fifo[KGC_NR_SPANCLASSES];
	/* span base -> span class, for spans given back */
	uint32_t *class_of_page;
} nk = { .lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP };

static int nk_fifo_push(struct nk_fifo *f, uint64_t base, uint64_t stamp)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64, i;
		struct nk_span *s = malloc(cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		for (i = 0; i < f->n; i++)
			s[i] = f->s[(f->head + i) % f->cap];
		free(f->s);
		f->s = s;
		f->cap = cap;
		f->head = 0;
	}
	f->s[(f->head + f->n) % f->cap] = (struct nk_span){ base, stamp };
	f->n++;
	return 0;
}

static int nk_open(const char *path, int flags)
{
	(void)path;
	(void)flags;
	if (nk.open) {
		errno = EBUSY;
		return -1;
	}
	nk.open = 1;
	return NK_FD;
}

static int nk_close(int fd)
{
	if (fd != NK_FD || !nk.open) {
		errno = EBADF;
		return -1;
	}
	nk.open = 0;
	return 0;
}

static void *nk_mmap(void *addr, size_t len, int prot, int flags, int fd,
		     off_t off)
{
	void *p;

	(void)prot;
	if (fd != NK_FD) {
		errno = EBADF;
		return MAP_FAILED;
	}
	/* The library places the control area at a fixed address. */
	p = mmap(addr, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		 (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)), -1, 0);
	if (p != MAP_FAILED && off == 0) {
		nk.heap_base = (uintptr_t)p;
		nk.heap_len = len;
		nk.next = 0;
	}
	return p;
}

static int nk_munmap(void *addr, size_t len)
{
	if ((uintptr_t)addr == nk.heap_base)
		nk.heap_base = 0;
	return munmap(addr, len);
}

/* Bump-allocate @npages heap pages; 0 when the heap is full. */
static uint64_t nk_pages(uint64_t npages)
{
	uint64_t bytes = npages * KGC_PAGE_SIZE, base;

	if (!nk.heap_base || nk.next + bytes > nk.heap_len)
		return 0;
	base = nk.heap_base + nk.next;
	nk.next += bytes;
	return base;
}

/* The span class of the span at @base (recorded at hand-out). */
static uint32_t *nk_class_slot(uint64_t base)
{
	return &nk.class_of_page[(base - nk.heap_base) / KGC_PAGE_SIZE];
}

/* Take back the span at @base (recycling on: queue it for reuse). */
static int nk_put(uint64_t base)
{
	uint32_t psc, psz;

	if (!nk.recycle || !base)
		return 0;
	psc = *nk_class_slot(base);
	psz = KGC_SPANCLASS_SIZECLASS(psc);
	if (nk_fifo_push(&nk.fifo[psc], base, nk.returned))
		return -ENOMEM;
	nk.returned += (uint64_t)nk_class_pages[psz] * KGC_PAGE_SIZE;
	return 0;
}

/* Hand out a span of @spanclass (valid) into @d. */
static int nk_get(uint32_t spanclass, struct kgc_span_desc *d)
{
	uint32_t sc = KGC_SPANCLASS_SIZECLASS(spanclass), i, n;
	struct nk_fifo *f = &nk.fifo[spanclass];
	uint64_t base = 0;

	memset(d, 0, sizeof(*d));
	if (f->n && nk.returned - f->s[f->head].stamp >= nk.recycle) {
		base = f->s[f->head].base;
		f->head = (f->head + 1) % f->cap;
		f->n--;
		d->flags = KGC_SPAN_NEEDZERO;
	} else {
		base = nk_pages(nk_class_pages[sc]);
	}
	if (!base)
		return -ENOMEM;
	if (nk.recycle)
		*nk_class_slot(base) = spanclass;
	n = nk_class_pages[sc] * KGC_PAGE_SIZE / nk_class_size[sc];
	d->base = base;
	d->spanclass = spanclass;
	d->elemsize = nk_class_size[sc];
	d->nelems = n;
	d->npages = nk_class_pages[sc];
	for (i = 0; i < KGC_ALLOC_WORDS; i++) {
		uint32_t first = i * 64;

		if (first >= n)
			d->allocbits[i] = ~0ULL;
		else if (n - first < 64)
			d->allocbits[i] = ~0ULL << (n - first);
	}
	return 0;
}

/*
 * KGC_IOC_REFILL, batches included. The module keeps a batch within
 * 1/64 of the heap goal; with recycling the goal is about twice the
 * working set, so the same share of that applies here.
 */
static int nk_refill(struct kgc_refill *r)
{
	const struct kgc_span_mark *m = (const void *)(uintptr_t)r->puts;
	struct kgc_span_desc *more = (void *)(uintptr_t)r->more;
	uint32_t sc = KGC_SPANCLASS_SIZECLASS(r->spanclass), i, want;
	uint64_t span;
	int ret;

	memset(&r->span, 0, sizeof(r->span));
	r->more_count = 0;
	nk.refills++;
	for (i = 0; i < r->nputs; i++) {
		ret = nk_put(m[i].base);
		if (ret)
			return ret;
	}
	ret = nk_put(r->put_base);
	if (ret)
		return ret;
	if (r->spanclass == KGC_NO_SPANCLASS)
		return 0;
	if (r->spanclass >= KGC_NR_SPANCLASSES || !sc ||
	    r->more_max > KGC_REFILL_MORE_MAX)
		return -EINVAL;
	ret = nk_get(r->spanclass, &r->span);
	if (ret)
		return ret;
	span = (uint64_t)nk_class_pages[sc] * KGC_PAGE_SIZE;
	want = r->more_max;
	if (nk.recycle && 2 * nk.recycle / 64 / span < want)
		want = (uint32_t)(2 * nk.recycle / 64 / span);
	for (i = 0; i < want && !nk_get(r->spanclass, &more[i]); i++)
		;
	r->more_count = i;
	return 0;
}

static int nk_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = 0;

	if (fd != NK_FD || !nk.open) {
		errno = EBADF;
		return -1;
	}
	pthread_mutex_lock(&nk.lock);
	nk.ioctls++;
	if (cmd == KGC_IOC_API) {
		struct kgc_api *a = arg;
		memset(a, 0, sizeof(*a));
		a->api = KGC_API;
		a->features = KGC_FEATURES_ALL;
		a->ioctls = (1ULL << (KGC_IOC_NR_GC_STATS + 1)) - 1;
		a->heap_offset = 0;
		a->bitmap_offset = 1ULL << 40;
		a->ctl_offset = 2ULL << 40;
		a->max_heap_size = NK_HEAP_MAX;
		a->page_size = KGC_PAGE_SIZE;
		a->nr_size_classes = KGC_NR_SIZE_CLASSES;
	} else if (cmd == KGC_IOC_REFILL) {
		ret = nk_refill(arg);
	} else if (cmd == KGC_IOC_LARGE_ALLOC) {
		struct kgc_large *l = arg;
		uint64_t np = (l->size + KGC_PAGE_SIZE - 1) / KGC_PAGE_SIZE;

		l->addr = nk_pages(np);
		l->npages = np;
		nk.large++;
		ret = l->addr ? 0 : -ENOMEM;
	} else if (cmd == KGC_IOC_STATS) {
		struct kgc_stats *st = arg;

		memset(st, 0, sizeof(*st));
		st->heap_inuse = nk.next;
		st->refills = nk.refills;
	} else if (cmd == KGC_IOC_THREAD_ATTACH) {
		struct kgc_thread_attach *t = arg;
		static uint32_t slot;

		t->slot = slot++ % KGC_MAX_THREADS;
	} else if (cmd == KGC_IOC_GC_STATS) {
		memset(arg, 0, sizeof(struct kgc_gc_stats));
	} else if (cmd == KGC_IOC_FREE || cmd == KGC_IOC_THREAD_DETACH ||
		   cmd == KGC_IOC_SAFEPOINT || cmd == KGC_IOC_ROOTS ||
		   cmd == KGC_IOC_GC) {
		ret = 0;
	} else {
		ret = -ENOTTY;
	}
	pthread_mutex_unlock(&nk.lock);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

static const struct kgc_sys nk_sys = {
	.open = nk_open,
	.close = nk_close,
	.ioctl = nk_ioctl,
	.mmap = nk_mmap,
	.munmap = nk_munmap,
};

void native_kernel_install(void)
{
	kgc_heap.sys = &nk_sys;
}

int native_kernel_recycle(uint64_t bytes)
{
	if (!nk.heap_base)
		return -EINVAL;
	if (!nk.class_of_page) {
		nk.class_of_page = calloc(nk.heap_len / KGC_PAGE_SIZE,
					  sizeof(*nk.class_of_page));
		if (!nk.class_of_page)
			return -ENOMEM;
	}
	nk.recycle = bytes ? bytes : 1;
	return 0;
}
