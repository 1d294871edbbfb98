// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * fake_kernel.c - see fake_kernel.h.
 *
 * Pages are handed out by a bump pointer and never reused for new spans;
 * a span returned with free objects (or, with sweep_all, any returned span)
 * is handed out again to the next refill of its class when reuse is on,
 * with its free objects scribbled over and KGC_SPAN_NEEDZERO set, and with
 * freeindex where the last user left it. Every span and large object
 * handed out gets garbage in its pointer bitmap, so a library that leaves
 * stale bits is caught.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "fake_kernel.h"
#include "internal.h"

struct fake_kernel fk;

static int fake_open(const char *path, int flags)
{
	(void)path;
	(void)flags;
	if (fk.open_errno) {
		errno = fk.open_errno;
		return -1;
	}
	if (fk.open) {
		errno = EBUSY;
		return -1;
	}
	fk.open = true;
	return FAKE_FD;
}

static int fake_close(int fd)
{
	if (fd != FAKE_FD || !fk.open) {
		errno = EBADF;
		return -1;
	}
	fk.open = false;
	fk.api_done = false;
	return 0;
}

static void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	void *p;

	(void)addr;
	if (fd != FAKE_FD || !fk.open || !(flags & MAP_SHARED) ||
	    prot != (PROT_READ | PROT_WRITE)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	if ((uint64_t)off == FAKE_HEAP_OFFSET) {
		if (fk.mmap_heap_errno) {
			errno = fk.mmap_heap_errno;
			return MAP_FAILED;
		}
		if (!len || len % KGC_ARENA_SIZE || len > fk.max_heap_size ||
		    fk.heap_base) {
			errno = EINVAL;
			return MAP_FAILED;
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return p;
		fk.heap_base = (uintptr_t)p;
		fk.heap_len = len;
		fk.next_page = 0;
		return p;
	}
	if ((uint64_t)off == FAKE_BITMAP_OFFSET) {
		if (fk.mmap_bitmap_errno) {
			errno = fk.mmap_bitmap_errno;
			return MAP_FAILED;
		}
		if (!fk.heap_base || len != fk.heap_len / 64 || fk.bitmap) {
			errno = EINVAL;
			return MAP_FAILED;
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED)
			fk.bitmap = p;
		return p;
	}
	errno = EINVAL;
	return MAP_FAILED;
}

static int fake_munmap(void *addr, size_t len)
{
	if ((uintptr_t)addr == fk.heap_base) {
		fk.heap_base = 0;
		fk.nspans = 0;
		fk.nputs = 0;
	} else if (addr == fk.bitmap) {
		fk.bitmap = NULL;
	}
	return munmap(addr, len);
}

struct fake_span *fake_span_of(uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < fk.nspans; i++) {
		struct fake_span *s = &fk.spans[i];

		if (addr >= s->base &&
		    addr < s->base + (uint64_t)s->npages * KGC_PAGE_SIZE)
			return s;
	}
	return NULL;
}

unsigned int fake_spans_cached(void)
{
	unsigned int i, n = 0;

	pthread_mutex_lock(&fk.lock);
	for (i = 0; i < fk.nspans; i++)
		n += fk.spans[i].cached;
	pthread_mutex_unlock(&fk.lock);
	return n;
}

/* Garbage into the pointer bits of [base, base + bytes). */
static void scribble_bitmap(uint64_t base, uint64_t bytes)
{
	uint64_t w = (base - fk.heap_base) / 8 / 64;
	uint64_t n = bytes / 8 / 64, i;

	for (i = 0; i < n; i++)
		fk.bitmap[w + i] = 0x5a5a5a5a5a5a5a5aULL ^ (w + i);
}

static bool bit_set(const uint64_t *bits, uint32_t i)
{
	return bits[i / 64] >> (i % 64) & 1;
}

static struct fake_span *new_span(uint32_t npages)
{
	uint64_t budget = fk.max_pages ? fk.max_pages :
			  fk.heap_len / KGC_PAGE_SIZE;
	struct fake_span *s;

	if (fk.next_page + npages > budget || fk.nspans == FAKE_MAX_SPANS)
		return NULL;
	s = &fk.spans[fk.nspans++];
	memset(s, 0, sizeof(*s));
	s->base = fk.heap_base + fk.next_page * KGC_PAGE_SIZE;
	s->npages = npages;
	fk.next_page += npages;
	scribble_bitmap(s->base, (uint64_t)npages * KGC_PAGE_SIZE);
	return s;
}

static void describe(const struct fake_span *s, struct kgc_span_desc *d,
		     bool needzero)
{
	uint32_t i;

	memset(d, 0, sizeof(*d));
	d->base = s->base;
	d->spanclass = s->spanclass;
	d->elemsize = fk.bad_span ? s->elemsize + 8 : s->elemsize;
	d->nelems = s->nelems;
	d->freeindex = s->freeindex;
	d->npages = s->npages;
	d->flags = needzero ? KGC_SPAN_NEEDZERO : 0;
	for (i = 0; i < KGC_ALLOC_WORDS; i++) {
		uint64_t w = s->allocbits[i];
		uint32_t first = i * 64;

		if (first >= s->nelems)
			w = ~0ULL;
		else if (s->nelems - first < 64)
			w |= ~0ULL << (s->nelems - first);
		d->allocbits[i] = w;
	}
}

static int fake_refill(struct kgc_refill *r)
{
	bool put = r->put_base != 0, get = r->spanclass != KGC_NO_SPANCLASS;
	uint32_t sc, i;
	struct fake_span *s;
	bool needzero = false;

	if (r->flags & ~KGC_REFILL_FLAGS || r->resv[0] || r->resv[1] ||
	    r->resv[2])
		return -EINVAL;
	sc = KGC_SPANCLASS_SIZECLASS(r->spanclass);
	if (get && (r->spanclass >= KGC_NR_SPANCLASSES || !sc))
		return -EINVAL;
	if (!put && (r->flags || r->put_freeindex || !get))
		return -EINVAL;
	memset(&r->span, 0, sizeof(r->span));
	fk.refills++;

	if (put) {
		s = fake_span_of(r->put_base);
		if (!s || !s->cached || s->large || s->base != r->put_base ||
		    r->put_freeindex < s->freeindex ||
		    r->put_freeindex > s->nelems)
			return -EINVAL;
		for (i = s->freeindex; i < r->put_freeindex; i++)
			s->allocbits[i / 64] |= 1ULL << (i % 64);
		s->freeindex = r->put_freeindex;
		s->cached = false;
		if (fk.sweep_all || (r->flags & KGC_REFILL_DISCARD)) {
			memset(s->allocbits, 0, sizeof(s->allocbits));
			s->freeindex = 0;
		}
		if (fk.nputs < FAKE_MAX_PUTS) {
			struct fake_put *p = &fk.puts[fk.nputs++];

			p->base = r->put_base;
			p->freeindex = r->put_freeindex;
			p->spanclass = s->spanclass;
			p->thread = pthread_self();
		}
	}
	if (!get)
		return 0;

	s = NULL;
	if (fk.reuse) {
		for (i = 0; i < fk.nspans; i++) {
			struct fake_span *c = &fk.spans[i];
			uint32_t k;

			if (c->cached || c->large || c->spanclass != r->spanclass)
				continue;
			for (k = c->freeindex; k < c->nelems; k++)
				if (!bit_set(c->allocbits, k))
					break;
			if (k == c->nelems)
				continue;
			s = c;
			needzero = true;
			break;
		}
	}
	if (!s) {
		s = new_span(kgc_class_to_npages[sc]);
		if (!s) {
			fk.enomem++;
			return -ENOMEM;
		}
		s->spanclass = r->spanclass;
		s->elemsize = kgc_class_to_size[sc];
		s->nelems = kgc_class_nelems(sc);
		if (fk.prealloc) {
			for (i = 0; i < KGC_ALLOC_WORDS; i++)
				s->allocbits[i] = fk.prealloc;
			needzero = true;
		}
		if (fk.full_spans) {
			memset(s->allocbits, 0xff, sizeof(s->allocbits));
			s->freeindex = s->nelems;
		}
	}
	if (needzero) {
		/* Old data in every free object. */
		for (i = s->freeindex; i < s->nelems; i++)
			if (!bit_set(s->allocbits, i))
				memset((void *)(uintptr_t)(s->base +
					(uint64_t)i * s->elemsize),
				       FAKE_SCRIBBLE, s->elemsize);
		scribble_bitmap(s->base, (uint64_t)s->npages * KGC_PAGE_SIZE);
	}
	s->cached = true;
	describe(s, &r->span, needzero);
	return 0;
}

static int fake_large(struct kgc_large *l)
{
	struct fake_span *s;
	uint64_t npages;

	if (l->flags & ~KGC_LARGE_FLAGS || l->resv)
		return -EINVAL;
	if (l->size <= KGC_MAX_SMALL_SIZE)
		return -EINVAL;
	if (l->size > fk.heap_len)
		return -E2BIG;
	npages = (l->size + KGC_PAGE_SIZE - 1) / KGC_PAGE_SIZE;
	s = new_span((uint32_t)npages);
	if (!s) {
		fk.enomem++;
		return -ENOMEM;
	}
	s->spanclass = KGC_SPANCLASS(0, l->flags & KGC_LARGE_NOSCAN);
	s->large = true;
	s->live = true;
	s->nelems = 1;
	l->addr = s->base;
	l->npages = npages;
	fk.large_allocs++;
	return 0;
}

static int fake_free(struct kgc_free *f)
{
	struct fake_span *s;

	if (f->resv)
		return -EINVAL;
	s = fake_span_of(f->addr);
	if (!s || !s->large || !s->live || s->base != f->addr)
		return -EINVAL;
	s->live = false;
	fk.frees++;
	return 0;
}

static void fake_stats(struct kgc_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	st->heap_sys = ROUND_UP(fk.next_page * KGC_PAGE_SIZE,
				(uint64_t)KGC_ARENA_SIZE);
	for (i = 0; i < fk.nspans; i++) {
		const struct fake_span *s = &fk.spans[i];

		if (s->large && !s->live)
			continue;
		st->spans_inuse++;
		st->heap_inuse += (uint64_t)s->npages * KGC_PAGE_SIZE;
		st->spans_cached += s->cached;
		if (s->large) {
			st->large_objects++;
			st->large_bytes += (uint64_t)s->npages * KGC_PAGE_SIZE;
		}
	}
	st->refills = fk.refills;
	st->arenas = st->heap_sys / KGC_ARENA_SIZE;
	fk.stats_calls++;
}

static int fake_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = 0;

	if (fd != FAKE_FD || !fk.open) {
		errno = EBADF;
		return -1;
	}
	pthread_mutex_lock(&fk.lock);
	fk.ioctls++;
	if (cmd == KGC_IOC_API) {
		struct kgc_api *a = arg;

		if (fk.api_errno) {
			ret = -fk.api_errno;
		} else if (a->api != KGC_API || a->features & ~KGC_FEATURES_ALL ||
			   a->resv[0] || a->resv[1] || fk.api_done) {
			ret = -EINVAL;
		} else {
			fk.api_done = true;
			memset(a, 0, sizeof(*a));
			a->api = fk.api_answer;
			a->features = fk.features_answer;
			a->ioctls = fk.ioctls_answer;
			a->heap_offset = FAKE_HEAP_OFFSET;
			a->bitmap_offset = FAKE_BITMAP_OFFSET;
			a->max_heap_size = fk.max_heap_size;
			a->page_size = fk.page_size;
			a->nr_size_classes = fk.nr_size_classes;
		}
	} else if (!fk.api_done || !fk.heap_base) {
		ret = -EINVAL;
	} else if (cmd == KGC_IOC_REFILL) {
		ret = fake_refill(arg);
	} else if (cmd == KGC_IOC_LARGE_ALLOC) {
		ret = fake_large(arg);
	} else if (cmd == KGC_IOC_FREE) {
		ret = fake_free(arg);
	} else if (cmd == KGC_IOC_STATS) {
		fake_stats(arg);
	} else {
		ret = -ENOTTY;
	}
	pthread_mutex_unlock(&fk.lock);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

static const struct kgc_sys fake_sys = {
	.open = fake_open,
	.close = fake_close,
	.ioctl = fake_ioctl,
	.mmap = fake_mmap,
	.munmap = fake_munmap,
};

void fake_kernel_install(void)
{
	if (fk.heap_base)
		munmap((void *)(uintptr_t)fk.heap_base, fk.heap_len);
	if (fk.bitmap)
		munmap(fk.bitmap, fk.heap_len / 64);
	memset(&fk, 0, sizeof(fk));
	pthread_mutex_init(&fk.lock, NULL);
	fk.api_answer = KGC_API;
	fk.features_answer = KGC_FEATURES_ALL;
	fk.ioctls_answer = (1ULL << KGC_IOC_NR_API) |
			   (1ULL << KGC_IOC_NR_REFILL) |
			   (1ULL << KGC_IOC_NR_LARGE_ALLOC) |
			   (1ULL << KGC_IOC_NR_FREE) |
			   (1ULL << KGC_IOC_NR_STATS);
	fk.max_heap_size = 256ULL << 20;
	fk.page_size = KGC_PAGE_SIZE;
	fk.nr_size_classes = KGC_NR_SIZE_CLASSES;
	kgc_heap.sys = &fake_sys;
}

void fake_kernel_uninstall(void)
{
	kgc_heap.sys = &kgc_sys_default;
}

int fake_heap_init(void)
{
	KGC_OPTS(opts, .heap_reserve = KGC_ARENA_SIZE,
		 .flags = KGC_INIT_NOENV);

	kgc_shutdown();
	fake_kernel_install();
	return kgc_init(&opts);
}
