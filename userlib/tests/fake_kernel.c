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
 *
 * The collector's side: the control area is anonymous shared memory mapped
 * where the library asks (MAP_FIXED over kgc_write_barrier_enabled); tests
 * raise handshakes by writing its phase and epoch (fake_handshake()).
 * Thread attach/detach, safepoint calls (recorded with their pointers and
 * span marks), root ranges (with the kernel's overlap rule), GC runs and
 * settings are kept for the tests to look at.
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
	/* The heap, its threads and roots go with the last close. */
	memset(fk.threads, 0, sizeof(fk.threads));
	fk.nroots = 0;
	return 0;
}

static void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	void *p;

	if (fd != FAKE_FD || !fk.open || !(flags & MAP_SHARED) ||
	    prot != (PROT_READ | PROT_WRITE)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	if ((uint64_t)off == FAKE_CTL_OFFSET) {
		if (fk.no_ctl || len != KGC_CTL_SIZE || !fk.heap_base ||
		    !(flags & MAP_FIXED) || !addr) {
			errno = EINVAL;
			return MAP_FAILED;
		}
		p = mmap(addr, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p != MAP_FAILED)
			fk.ctl = p;
		return p;
	}
	(void)addr;
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

/* Take back one span (the kernel's uncache). */
static int fake_put(uint64_t base, uint32_t freeindex, uint32_t flags)
{
	struct fake_span *s = fake_span_of(base);
	uint32_t i;

	if (!s || !s->cached || s->large || s->base != base ||
	    freeindex < s->freeindex || freeindex > s->nelems)
		return -EINVAL;
	for (i = s->freeindex; i < freeindex; i++)
		s->allocbits[i / 64] |= 1ULL << (i % 64);
	s->freeindex = freeindex;
	s->cached = false;
	if (fk.sweep_all || (flags & KGC_REFILL_DISCARD)) {
		memset(s->allocbits, 0, sizeof(s->allocbits));
		s->freeindex = 0;
	}
	if (fk.nputs < FAKE_MAX_PUTS) {
		struct fake_put *p = &fk.puts[fk.nputs++];

		p->base = base;
		p->freeindex = freeindex;
		p->spanclass = s->spanclass;
		p->thread = pthread_self();
	}
	return 0;
}

/* Hand out one span of @spanclass (valid). */
static int fake_get(uint32_t spanclass, struct kgc_span_desc *d)
{
	uint32_t sc = KGC_SPANCLASS_SIZECLASS(spanclass), i;
	struct fake_span *s;
	bool needzero = false;

	memset(d, 0, sizeof(*d));
	s = NULL;
	if (fk.reuse) {
		for (i = 0; i < fk.nspans; i++) {
			struct fake_span *c = &fk.spans[i];
			uint32_t k;

			if (c->cached || c->large || c->spanclass != spanclass)
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
		s->spanclass = spanclass;
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
	describe(s, d, needzero);
	return 0;
}


static int fake_refill(struct kgc_refill *r)
{
	bool put = r->put_base || r->nputs;
	bool get = r->spanclass != KGC_NO_SPANCLASS;
	const struct kgc_span_mark *m = (const void *)(uintptr_t)r->puts;
	struct kgc_span_desc *more = (void *)(uintptr_t)r->more;
	uint32_t sc, i, want;
	int ret;

	if (r->flags & ~KGC_REFILL_FLAGS || r->resv[0] || r->resv[1] ||
	    r->resv[2] || r->resv2)
		return -EINVAL;
	sc = KGC_SPANCLASS_SIZECLASS(r->spanclass);
	if (get && (r->spanclass >= KGC_NR_SPANCLASSES || !sc))
		return -EINVAL;
	if ((!r->put_base && r->put_freeindex) || (!put && (r->flags || !get)))
		return -EINVAL;
	if (r->more_max > KGC_REFILL_MORE_MAX || (r->more_max && !more) ||
	    (r->more_max && !get) || r->nputs > KGC_REFILL_PUTS_MAX ||
	    (r->nputs && !m))
		return -EINVAL;
	memset(&r->span, 0, sizeof(r->span));
	r->more_count = 0;
	fk.refills++;

	for (i = 0; i < r->nputs; i++) {
		ret = m[i].resv ? -EINVAL :
		      fake_put(m[i].base, m[i].freeindex, r->flags);
		if (ret)
			return ret;
	}
	if (r->put_base) {
		ret = fake_put(r->put_base, r->put_freeindex, r->flags);
		if (ret)
			return ret;
	}
	if (!get)
		return 0;
	ret = fake_get(r->spanclass, &r->span);
	if (ret)
		return ret;
	want = r->more_max < fk.more_cap ? r->more_max : fk.more_cap;
	for (i = 0; i < want && !fake_get(r->spanclass, &more[i]); i++)
		;
	r->more_count = i;
	fk.more_spans += i;
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

static struct fake_thread *fake_current(void)
{
	unsigned int i;

	for (i = 0; i < FAKE_MAX_THREADS; i++)
		if (fk.threads[i].live &&
		    pthread_equal(fk.threads[i].thread, pthread_self()))
			return &fk.threads[i];
	return NULL;
}

/* Threads attached now. Caller holds fk.lock. */
static unsigned int threads_attached(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < FAKE_MAX_THREADS; i++)
		n += fk.threads[i].live;
	return n;
}

unsigned int fake_threads_attached(void)
{
	unsigned int n;

	pthread_mutex_lock(&fk.lock);
	n = threads_attached();
	pthread_mutex_unlock(&fk.lock);
	return n;
}

static int fake_attach(struct kgc_thread_attach *a)
{
	unsigned int i;

	if (fk.attach_errno)
		return -fk.attach_errno;
	if (a->flags || a->resv[0] || a->resv[1] || a->resv2 ||
	    a->signo < 1 || a->signo > 64 || a->stack_lo >= a->stack_hi)
		return -EINVAL;
	if (fake_current())
		return -EBUSY;
	for (i = 0; i < FAKE_MAX_THREADS; i++) {
		struct fake_thread *t = &fk.threads[i];

		if (t->live)
			continue;
		memset(t, 0, sizeof(*t));
		t->thread = pthread_self();
		t->stack_lo = a->stack_lo;
		t->stack_hi = a->stack_hi;
		t->signo = a->signo;
		t->slot = i;
		t->live = true;
		a->slot = i;
		if (fk.ctl)
			fk.ctl->slots[i] = 0;
		return 0;
	}
	return -ENOSPC;
}

static int fake_detach(void)
{
	struct fake_thread *t = fake_current();

	if (!t)
		return -EINVAL;
	t->live = false;
	return 0;
}

static int fake_safepoint(struct kgc_safepoint *sp)
{
	struct fake_thread *t = fake_current();
	struct fake_spcall *c;

	if (sp->flags & ~KGC_SP_FLAGS || sp->resv[0] || sp->resv[1] ||
	    sp->resv2 || sp->nptrs > KGC_SP_MAX_PTRS ||
	    sp->nspans > KGC_SP_MAX_SPANS)
		return -EINVAL;
	if ((sp->flags & KGC_SP_ACK) && !t)
		return -EPERM;
	if (fk.nspcalls < FAKE_MAX_SPCALLS) {
		c = &fk.spcalls[fk.nspcalls];
		c->thread = pthread_self();
		c->flags = sp->flags;
		c->epoch = sp->epoch;
		c->nptrs = sp->nptrs;
		c->nspans = sp->nspans;
		if (sp->nptrs)
			memcpy(c->ptrs, (void *)(uintptr_t)sp->ptrs,
			       MIN(sp->nptrs, (uint32_t)FAKE_SP_PTRS) *
			       sizeof(uint64_t));
		if (sp->nspans)
			memcpy(c->spans, (void *)(uintptr_t)sp->spans,
			       sp->nspans * sizeof(struct kgc_span_mark));
	}
	fk.nspcalls++;
	/*
	 * The only thread's barrier acknowledgment is the last: mark start
	 * is raised, and with the stack it is acknowledged too (kmod/gc.c).
	 */
	if ((sp->flags & KGC_SP_ACK) && fk.ctl && sp->epoch == fk.ctl->epoch &&
	    fk.ctl->phase == KGC_PHASE_BARRIER && threads_attached() == 1) {
		t->acked = sp->epoch;
		fake_handshake(KGC_PHASE_MARK);
		if (!(sp->flags & KGC_SP_STACK))
			goto out;
		sp->epoch = fk.ctl->epoch;
	}
	if ((sp->flags & KGC_SP_ACK) && fk.ctl && sp->epoch == fk.ctl->epoch)
		t->acked = sp->epoch;
out:
	sp->phase = fk.ctl ? fk.ctl->phase : 0;
	return 0;
}

static int fake_roots(struct kgc_roots *r)
{
	unsigned int i;

	if (r->flags & ~KGC_ROOTS_FLAGS || r->resv[0] || r->resv[1] ||
	    r->resv[2] || r->start % 8)
		return -EINVAL;
	if (r->flags & KGC_ROOTS_REMOVE) {
		if (r->len || r->bitmap)
			return -EINVAL;
		for (i = 0; i < fk.nroots; i++)
			if (fk.roots[i].start == r->start) {
				fk.roots[i] = fk.roots[--fk.nroots];
				return 0;
			}
		return -EINVAL;
	}
	if (!r->len || r->len % 8 || r->len > KGC_MAX_ROOT_BYTES)
		return -EINVAL;
	for (i = 0; i < fk.nroots; i++)
		if (r->start < fk.roots[i].start + fk.roots[i].len &&
		    fk.roots[i].start < r->start + r->len)
			return -EINVAL;
	if (fk.nroots == FAKE_MAX_ROOTS)
		return -ENOSPC;
	fk.roots[fk.nroots].start = r->start;
	fk.roots[fk.nroots].len = r->len;
	fk.roots[fk.nroots].precise = r->bitmap != 0;
	fk.roots[fk.nroots].map0 = r->bitmap ?
				   *(const uint64_t *)(uintptr_t)r->bitmap : 0;
	fk.nroots++;
	return 0;
}

bool fake_root_covers(uint64_t start, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < fk.nroots; i++)
		if (fk.roots[i].start <= start &&
		    start + len <= fk.roots[i].start + fk.roots[i].len)
			return true;
	return false;
}

static int fake_gc(struct kgc_gc_ctl *c)
{
	if (c->resv0 || c->resv1 || c->resv[0] || c->resv[1])
		return -EINVAL;
	if (c->op != KGC_GC_RUN && (c->ptrs || c->nptrs))
		return -EINVAL;
	switch (c->op) {
	case KGC_GC_RUN:
		if (fk.gc_eintr) {
			fk.gc_eintr--;
			return -EINTR;
		}
		fk.gc_runs++;
		fk.gc_run_nptrs = c->nptrs;
		if (c->nptrs)
			memcpy(fk.gc_run_ptrs, (void *)(uintptr_t)c->ptrs,
			       MIN(c->nptrs, (uint32_t)FAKE_SP_PTRS) *
			       sizeof(uint64_t));
		if (fk.ctl) {
			struct kgc_cycle *cy;
			uint64_t n = fk.ctl->num_gc + 1;

			cy = &fk.ctl->cycles[n % KGC_CYCLE_RING];
			memset(cy, 0, sizeof(*cy));
			cy->num = n;
			cy->start_ns = 1;
			cy->end_ns = 2;
			cy->forced = 1;
			cy->threads = 1;
			cy->heap_before = 8 << 20;
			cy->heap_marked = 2 << 20;
			cy->heap_goal = 4 << 20;
			__atomic_store_n(&fk.ctl->num_gc, n, __ATOMIC_RELEASE);
		}
		break;
	case KGC_GC_SET_PERCENT:
		if (c->value != KGC_GC_OFF && c->value > 1000000)
			return -EINVAL;
		fk.gc_percent = c->value;
		break;
	case KGC_GC_SET_LIMIT:
		if (c->value != KGC_GC_OFF && (int64_t)c->value < 0)
			return -EINVAL;
		fk.memory_limit = c->value;
		break;
	case KGC_GC_SET_DEBUG:
		if (c->value & ~KGC_GCDEBUG_ALL)
			return -EINVAL;
		fk.debug = c->value;
		break;
	default:
		return -EINVAL;
	}
	c->num_gc = fk.ctl ? fk.ctl->num_gc : 0;
	return 0;
}

static void fake_gc_stats(struct kgc_gc_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->num_gc = fk.ctl ? fk.ctl->num_gc : 0;
	st->num_forced_gc = fk.gc_runs;
	st->pause_total_ns = 3000 * st->num_gc;
	st->pause_ns[0] = 1000;
	st->pause_ns[1] = 2000;
	st->gc_cpu_ns = 250;
	st->uptime_ns = 1000;
	st->gc_percent = fk.gc_percent;
	st->memory_limit = fk.memory_limit;
	st->next_gc = 4 << 20;
	st->signals = 7;
}

uint32_t fake_handshake(uint32_t phase)
{
	uint32_t e = fk.ctl->epoch + 1;

	__atomic_store_n(&fk.ctl->epoch, e, __ATOMIC_RELEASE);
	__atomic_store_n(&fk.ctl->phase, phase, __ATOMIC_RELEASE);
	return e;
}

void fake_cycle_done(void)
{
	struct kgc_gc_ctl c;

	memset(&c, 0, sizeof(c));
	__atomic_store_n(&fk.ctl->phase, KGC_PHASE_OFF, __ATOMIC_RELEASE);
	c.op = KGC_GC_RUN;
	pthread_mutex_lock(&fk.lock);
	fake_gc(&c);
	fk.gc_runs--;	/* not a KGC_GC_RUN of the library */
	pthread_mutex_unlock(&fk.lock);
}

bool fake_sp_has(int i, uint64_t ptr)
{
	unsigned int k, lo = i < 0 ? 0 : (unsigned int)i;
	unsigned int hi = i < 0 ? MIN(fk.nspcalls, FAKE_MAX_SPCALLS) : lo + 1;
	uint32_t j;

	for (k = lo; k < hi; k++)
		for (j = 0; j < MIN(fk.spcalls[k].nptrs, (uint32_t)FAKE_SP_PTRS);
		     j++)
			if (fk.spcalls[k].ptrs[j] == ptr)
				return true;
	return false;
}

void fake_sp_reset(void)
{
	fk.nspcalls = 0;
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
			a->ctl_offset = FAKE_CTL_OFFSET;
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
	} else if (cmd == KGC_IOC_THREAD_ATTACH) {
		ret = fake_attach(arg);
	} else if (cmd == KGC_IOC_THREAD_DETACH) {
		ret = fake_detach();
	} else if (cmd == KGC_IOC_SAFEPOINT) {
		ret = fake_safepoint(arg);
	} else if (cmd == KGC_IOC_ROOTS) {
		ret = fake_roots(arg);
	} else if (cmd == KGC_IOC_GC) {
		ret = fake_gc(arg);
	} else if (cmd == KGC_IOC_GC_STATS) {
		fake_gc_stats(arg);
#ifdef KGC_IOC_SCAVENGE
	} else if (cmd == KGC_IOC_SCAVENGE &&
		   (fk.ioctls_answer & (1ULL << KGC_IOC_NR_SCAVENGE))) {
		struct kgc_scavenge *sc = arg;

		if (sc->op != KGC_SCAV_RELEASE || sc->flags || sc->value) {
			ret = -EINVAL;
		} else {
			fk.scavenges++;
			sc->released = 12345;
		}
#endif
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
			   (1ULL << KGC_IOC_NR_STATS) |
			   (1ULL << KGC_IOC_NR_THREAD_ATTACH) |
			   (1ULL << KGC_IOC_NR_THREAD_DETACH) |
			   (1ULL << KGC_IOC_NR_SAFEPOINT) |
			   (1ULL << KGC_IOC_NR_ROOTS) |
			   (1ULL << KGC_IOC_NR_GC) |
			   (1ULL << KGC_IOC_NR_GC_STATS);
	fk.max_heap_size = 256ULL << 20;
	fk.memory_limit = KGC_GC_OFF;	/* no cgroup memory.max */
	fk.more_cap = KGC_REFILL_MORE_MAX;
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
		 .flags = KGC_INIT_NOENV | KGC_INIT_NOAUTOROOTS);

	kgc_shutdown();
	fake_kernel_install();
	return kgc_init(&opts);
}
