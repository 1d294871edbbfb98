// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * malloc.c - the allocation entry points (Go's mallocgc), the tiny
 * allocator and large objects.
 *
 * Every allocation takes one of three routes by size:
 *
 *  - tiny (noscan and < 16 bytes): several objects share one 16-byte block
 *    of the 16-byte noscan class (Go's tiny allocator). Each is placed at
 *    the block's current offset aligned by the low bits of its size (8 if
 *    size % 8 == 0, else 4, else 2, else 1), so a pointer-free object is
 *    still naturally aligned. When it does not fit, a fresh block is taken
 *    and kept as the current one if it has more room left than the old
 *    one. A block is freed by the collector only when none of its objects
 *    is reachable: the marker must take interior pointers into tiny blocks.
 *    Tiny objects cost no bitmap writes (noscan) and no per-object slot.
 *
 *  - small (up to 32 KiB): the size's class from the lookup table, the
 *    span class from it and the scan bit, then the mcache fast path
 *    (mcache.c). Scan objects are zero (their spans are cleared when
 *    cached) and get their pointer bits (heapbits.c), written into the
 *    object's slot or, for a precise object, painted into its span's free
 *    slots by the span's first precise object. Noscan objects come
 *    zeroed too, except from kgc_alloc_uninit(): a noscan span with old
 *    data is cleared by its first zeroed allocation, one test of the
 *    span's flag on that path.
 *
 *  - large (above 32 KiB): one KGC_IOC_LARGE_ALLOC per object; the kernel
 *    gives whole zeroed pages. kgc_free() can give them back early.
 *
 * Scan or noscan: kgc_alloc_noscan(), kgc_alloc_uninit() (tiny ones are
 * zeroed all the same: they share zeroed blocks) and precise types without
 * pointers (ptrmap NULL) go to noscan spans, which the marker never scans
 * and whose objects need no pointer bits; precise and conservative objects
 * go to scan spans.
 *
 * Errors: size 0 or a bad type is EINVAL; a size larger than the heap, or
 * no memory left, ENOMEM; n * size overflowing EOVERFLOW; no heap EINVAL.
 */
#include <string.h>

#include "internal.h"
#include "profile.h"

enum kgc_kind {
	KGC_KIND_PRECISE,
	KGC_KIND_CONSERVATIVE,
	KGC_KIND_NOSCAN,
	KGC_KIND_UNINIT,	/* noscan, contents unspecified */
};

/* Next free object of @spanclass: fast path, then slow path. */
static inline void *mcache_alloc(struct kgc_thread *t, uint32_t spanclass)
{
	void *v = mspan_nextfreefast(&t->mcache.alloc[spanclass]);

	if (unlikely(!v))
		v = mcache_nextfree(t, spanclass);
	return v;
}

/*
 * A zeroed object of noscan @spanclass: the first one taken from a span
 * that may hold old data zeroes the rest of the span (mcache.c).
 */
static inline void *mcache_alloc_zeroed(struct kgc_thread *t,
					uint32_t spanclass)
{
	void *v = mcache_alloc(t, spanclass);
	struct mspan *s = &t->mcache.alloc[spanclass];

	if (unlikely(v && (s->flags & KGC_SPAN_NEEDZERO)))
		mspan_zero_rest(s, v);
	return v;
}

/* Where in the tiny block an object of @size goes: @off aligned for it. */
static inline uintptr_t tiny_offset(uintptr_t off, size_t size)
{
	if ((size & 7) == 0)
		return ROUND_UP(off, 8);
	if ((size & 3) == 0)
		return ROUND_UP(off, 4);
	if ((size & 1) == 0)
		return ROUND_UP(off, 2);
	return off;
}

/*
 * Count an allocation of @kind in @st: precise and conservative objects
 * here, noscan ones by their spans (mspan_account()).
 */
static inline void count_alloc(struct kgc_counters *st, enum kgc_kind kind)
{
	if (kind == KGC_KIND_PRECISE)
		STAT_INC(st->alloc_precise);
	else if (kind == KGC_KIND_CONSERVATIVE)
		STAT_INC(st->alloc_conservative);
}

/* The tiny allocator: noscan objects of 1 to 15 bytes. */
static inline void *tiny_alloc(struct kgc_thread *t, size_t size)
{
	struct mcache *c = &t->mcache;
	uintptr_t off = tiny_offset(c->tinyoffset, size);
	void *x;

	if (off + size <= KGC_TINY_SIZE && c->tiny) {
		x = (void *)(c->tiny + off);
		c->tinyoffset = off + size;
		return x;
	}
	/* A new block, zeroed: its later objects share it. */
	x = mcache_alloc_zeroed(t, KGC_TINY_SPANCLASS);
	if (unlikely(!x))
		return NULL;
	STAT_INC(c->stats.tiny_blocks);
	/*
	 * Keep whichever block has more room left, but never one outside
	 * the cached tiny span: a safepoint names the current block by its
	 * index in that span, so the collector counts its later sub-objects
	 * as black (safepoint.c).
	 */
	if (size < c->tinyoffset || !c->tiny ||
	    c->tiny - c->alloc[KGC_TINY_SPANCLASS].base >=
	    (uintptr_t)c->alloc[KGC_TINY_SPANCLASS].nelems * KGC_TINY_SIZE) {
		c->tiny = (uintptr_t)x;
		c->tinyoffset = size;
	}
	return x;
}

static void *large_alloc(struct kgc_thread *t, size_t size,
			 const struct kgc_type *type, bool noscan,
			 bool conservative)
{
	struct kgc_large l;
	uint64_t bytes;
	int err;

	memset(&l, 0, sizeof(l));
	l.size = size;
	l.flags = noscan ? KGC_LARGE_NOSCAN : 0;
	/* A safepoint before and after the kernel call, as for refills. */
	kgc_enter(t);
	kgc_safepoint_check(t);
	err = kgc_sys_ioctl(t, KGC_IOC_LARGE_ALLOC, &l);
	if (!err)
		kgc_safepoint_check(t);
	kgc_leave(t);
	if (err == -ENOMEM || err == -E2BIG)
		return kgc_seterr_null(ENOMEM,
			"kgc: out of memory: no room for a %zu-byte object in the %zu MiB heap",
			size, (size_t)((kgc_heap.arena_end -
					kgc_heap.arena_start) >> 20));
	if (err)
		return kgc_seterr_null(-err,
			"kgc: KGC_IOC_LARGE_ALLOC of %zu bytes failed: %s",
			size, strerror(-err));
	bytes = l.npages * KGC_PAGE_SIZE;
	if (!kgc_in_heap(l.addr) || (l.addr - kgc_heap.arena_start) %
	    KGC_PAGE_SIZE || l.npages > (kgc_heap.arena_end - l.addr) /
	    KGC_PAGE_SIZE || bytes < size)
		return kgc_seterr_null(EPROTO,
			"kgc: kernel returned a bad large object (0x%llx, %llu pages) for %zu bytes",
			(unsigned long long)l.addr,
			(unsigned long long)l.npages, size);
	if (!noscan)
		heapbits_set(l.addr, bytes, size, type, conservative);
	STAT_INC(t->mcache.stats.alloc_large);
	STAT_ADD(t->mcache.stats.bytes_allocated, bytes);
	return (void *)(uintptr_t)l.addr;
}

/* The slot bits of one precise object of @type, of at most 64 words. */
static inline uint64_t one_bits(const struct kgc_type *type)
{
	return type->ptrmap[0] & lowmask((unsigned int)(type->size / 8));
}

/*
 * Whether the pointer bits of a precise single object of @size are the
 * ones its cached span @s is painted with (heapbits.c): then its slot has
 * them already. @size <= @s->elemsize.
 */
static inline bool painted_for(const struct mspan *s, size_t size,
			       const struct kgc_type *type)
{
	/* painted: elemsize <= 64 words, so the type has 1..64 */
	return s->painted && size == type->size &&
	       s->paintbits == one_bits(type);
}

/*
 * The pointer bits of scan object @v of @size just taken from @s: none to
 * write when the span is painted with them; the first precise single
 * object of a span of small slots paints it; others write their own slot.
 */
static void scan_bits(struct mspan *s, void *v, size_t size,
		      const struct kgc_type *type, enum kgc_kind kind)
{
	if (kind == KGC_KIND_PRECISE && size == type->size &&
	    s->elemsize <= 64 * KGC_WORD_SIZE) {
		if (!s->painted) {
			mspan_paint(s, v, one_bits(type));
			return;
		}
		if (painted_for(s, size, type))
			return;
	}
	heapbits_set_fast((uintptr_t)v, s->elemsize, size, type,
			  kind == KGC_KIND_CONSERVATIVE);
}

/* Whether objects of @kind (and @type) go to noscan spans. */
static inline bool kind_noscan(const struct kgc_type *type, enum kgc_kind kind)
{
	return kind == KGC_KIND_NOSCAN || kind == KGC_KIND_UNINIT ||
	       (kind == KGC_KIND_PRECISE && !type->ptrmap);
}

/* The entry point of an allocation of @kind, for messages. */
static const char *kind_fn(enum kgc_kind kind)
{
	switch (kind) {
	case KGC_KIND_PRECISE:
		return "kgc_alloc";
	case KGC_KIND_CONSERVATIVE:
		return "kgc_alloc_conservative";
	case KGC_KIND_NOSCAN:
		return "kgc_alloc_noscan";
	case KGC_KIND_UNINIT:
		break;
	}
	return "kgc_alloc_uninit";
}

/*
 * Go's mallocgc, every case, out of line: mallocgc() below handles the
 * common ones and tail-calls this for the rest (refills, new tiny blocks,
 * large objects, bitmaps over 64 words, a thread not attached yet, size
 * 0). @type valid when precise; @site as for mallocgc().
 */
static __attribute__((noinline)) void *
mallocgc_slow(size_t size, const struct kgc_type *type, enum kgc_kind kind,
	      uintptr_t site)
{
	bool conservative = kind == KGC_KIND_CONSERVATIVE;
	bool noscan = kind_noscan(type, kind);
	struct kgc_counters *st;
	struct kgc_thread *t;
	void *v;

	if (unlikely(!size))
		return kgc_seterr_null(EINVAL, "kgc: %s: size is 0",
				       kind_fn(kind));
	t = kgc_thread_get();
	if (unlikely(!t))
		return NULL;
	st = &t->mcache.stats;

	if (likely(size <= KGC_MAX_SMALL_SIZE)) {
		if (noscan && size < KGC_TINY_SIZE) {
			v = tiny_alloc(t, size);
			if (unlikely(!v))
				return NULL;
			STAT_INC(st->alloc_tiny);
		} else {
			uint32_t spc = KGC_SPANCLASS(kgc_size_to_sizeclass(size),
						     noscan);
			struct mspan *s = &t->mcache.alloc[spc];

			/* Scan spans are zero already (mspan_load()). */
			if (noscan && kind != KGC_KIND_UNINIT)
				v = mcache_alloc_zeroed(t, spc);
			else
				v = mcache_alloc(t, spc);
			if (unlikely(!v))
				return NULL;
			if (!noscan)
				scan_bits(s, v, size, type, kind);
		}
	} else {
		if (unlikely(size > kgc_heap.arena_end - kgc_heap.arena_start))
			return kgc_seterr_null(ENOMEM,
				"kgc: out of memory: %zu bytes is more than the whole %zu MiB heap",
				size, (size_t)((kgc_heap.arena_end -
						kgc_heap.arena_start) >> 20));
		v = large_alloc(t, size, type, noscan, conservative);
		if (unlikely(!v))
			return NULL;
	}

	count_alloc(st, kind);
	/* Heap profile: sample about one allocation per rate bytes. */
	return kgc_profile_malloc(v, size, site);
}

/*
 * mallocgc() - the allocation fast path: an attached thread, a small
 * object of at least 16 bytes (or a tiny one that fits the current
 * block), the cached span has a free object in its cache word and needs
 * no zeroing first. A thread that is not attached has an empty mcache
 * (thread.c), so the cached span or tiny block tests that too; size 0
 * fails the size test (size - 1 wraps around). Noscan objects are counted
 * when their span leaves the mcache (mspan_account()), so the fast path
 * stores only the cache word, the free index and the profile's
 * countdown. Every other case is a tail call to mallocgc_slow(),
 * and the only other call is the heap profile's sampler on a cold branch,
 * so the noscan entry points save no registers (as mimalloc's mi_malloc()
 * does). A precise object takes it only when its span is painted with its
 * pointer bits (heapbits.c), so it writes none and saves one register;
 * conservative objects write their bits here. Same result as
 * mallocgc_slow() in every case. @site, the entry point's return address,
 * tells the profile where the caller's frames begin.
 */
/* The entry point's return address, read where it is needed only. */
#define KGC_SITE()	((uintptr_t)__builtin_return_address(0))

static inline __attribute__((always_inline)) void *
mallocgc(size_t size, const struct kgc_type *type, enum kgc_kind kind)
{
	bool conservative = kind == KGC_KIND_CONSERVATIVE;
	bool noscan = kind_noscan(type, kind);
	struct kgc_thread *t = kgc_curthread;
	struct kgc_counters *st;
	struct mcache *c;
	struct mspan *s;
	void *v;

	if (unlikely(!t || size - 1 >= KGC_MAX_SMALL_SIZE))
		return mallocgc_slow(size, type, kind, KGC_SITE());
	c = &t->mcache;
	st = &c->stats;
	if (noscan && size < KGC_TINY_SIZE) {
		/* The current tiny block, when the object fits. */
		uintptr_t off = tiny_offset(c->tinyoffset, size);

		if (unlikely(off + size > KGC_TINY_SIZE || !c->tiny))
			return mallocgc_slow(size, type, kind, KGC_SITE());
		v = (void *)(c->tiny + off);
		c->tinyoffset = off + size;
		STAT_INC(st->alloc_tiny);
	} else {
		s = &c->alloc[KGC_SPANCLASS(kgc_size_to_sizeclass(size),
					    noscan)];
		/* Old data to clear first (mcache_alloc_zeroed()). */
		if (noscan && kind != KGC_KIND_UNINIT &&
		    unlikely(s->flags & KGC_SPAN_NEEDZERO))
			return mallocgc_slow(size, type, kind, KGC_SITE());
		/* Precise: only into a span painted with the object's bits. */
		if (kind == KGC_KIND_PRECISE && !noscan &&
		    unlikely(!painted_for(s, size, type)))
			return mallocgc_slow(size, type, kind, KGC_SITE());
		if (conservative && unlikely(s->elemsize > 64 * KGC_WORD_SIZE))
			return mallocgc_slow(size, type, kind, KGC_SITE());
		if (unlikely(!s->alloccache))
			return mallocgc_slow(size, type, kind, KGC_SITE());
		v = mspan_take(s);
		if (conservative)
			heapbits_set_fast((uintptr_t)v, s->elemsize, size,
					  type, true);
	}
	count_alloc(st, kind);
	return kgc_profile_malloc(v, size, KGC_SITE());
}

static __attribute__((cold, noinline)) int
bad_type(const char *fn, const struct kgc_type *type)
{
	if (unlikely(!type))
		return kgc_seterr(EINVAL, "kgc: %s: type is NULL", fn);
	if (unlikely(!type->size || type->size % KGC_WORD_SIZE))
		return kgc_seterr(EINVAL,
			"kgc: %s: type \"%s\" has size %zu: it must be a non-zero multiple of 8",
			fn, type->name ? type->name : "?", type->size);
	if (unlikely(type->flags || type->resv))
		return kgc_seterr(EINVAL,
			"kgc: %s: type \"%s\" has unknown flags 0x%x or reserved bits set",
			fn, type->name ? type->name : "?", type->flags);
	return 0;
}

/*
 * 0 for a usable type, else -1 with errno and the message set. The field
 * tests are or-ed into one word: two branches on the allocation path
 * instead of five (each branch ends a translation block under emulation).
 */
static inline int check_type(const char *fn, const struct kgc_type *type)
{
	if (likely(type)) {
		uint64_t bad = (type->size % KGC_WORD_SIZE) | type->flags |
			       type->resv | (uint64_t)(type->size == 0);

		if (likely(!bad))
			return 0;
	}
	return bad_type(fn, type);
}

KGC_EXPORT void *kgc_alloc(size_t size, const struct kgc_type *type)
{
	if (unlikely(check_type("kgc_alloc", type)))
		return NULL;
	/* One test for the usual single object (type->size is not 0). */
	if (unlikely(size != type->size)) {
		if (!size)
			return kgc_seterr_null(EINVAL,
					       "kgc: kgc_alloc: size is 0");
		if (size % type->size)
			return kgc_seterr_null(EINVAL,
				"kgc: kgc_alloc: size %zu is not a multiple of the size %zu of type \"%s\"",
				size, type->size,
				type->name ? type->name : "?");
	}
	return mallocgc(size, type, KGC_KIND_PRECISE);
}

KGC_EXPORT void *kgc_alloc_array(const struct kgc_type *type, size_t n)
{
	size_t size;

	if (unlikely(check_type("kgc_alloc_array", type)))
		return NULL;
	if (unlikely(!n))
		return kgc_seterr_null(EINVAL,
				       "kgc: kgc_alloc_array: 0 elements");
	if (unlikely(__builtin_mul_overflow(n, type->size, &size)))
		return kgc_seterr_null(EOVERFLOW,
			"kgc: kgc_alloc_array: %zu elements of %zu bytes overflow a size_t",
			n, type->size);
	return mallocgc(size, type, KGC_KIND_PRECISE);
}

/* Size 0 takes mallocgc()'s slow path, which fails it. */
KGC_EXPORT void *kgc_alloc_noscan(size_t size)
{
	return mallocgc(size, NULL, KGC_KIND_NOSCAN);
}

KGC_EXPORT void *kgc_alloc_uninit(size_t size)
{
	return mallocgc(size, NULL, KGC_KIND_UNINIT);
}

KGC_EXPORT void *kgc_alloc_conservative(size_t size)
{
	return mallocgc(size, NULL, KGC_KIND_CONSERVATIVE);
}

KGC_EXPORT int kgc_free(void *p)
{
	uintptr_t a = (uintptr_t)p;
	struct kgc_thread *t;
	struct kgc_free f;
	int err;

	if (!p)
		return 0;
	t = kgc_thread_get();
	if (!t)
		return -errno;
	if (!kgc_in_heap(a))
		return kgc_seterr(EINVAL,
			"kgc: kgc_free(%p): not an address in the kgc heap", p);
	if ((a - kgc_heap.arena_start) % KGC_PAGE_SIZE)
		return kgc_seterr(EINVAL,
			"kgc: kgc_free(%p): not a large object (objects of 32 KiB or less are reclaimed by the collector and cannot be freed)",
			p);
	memset(&f, 0, sizeof(f));
	f.addr = a;
	err = kgc_sys_ioctl(t, KGC_IOC_FREE, &f);
	if (err == -EINVAL)
		return kgc_seterr(EINVAL,
			"kgc: kgc_free(%p): not a live large object (a small object, or freed already)",
			p);
	if (err)
		return kgc_seterr(-err, "kgc: kgc_free(%p): %s", p,
				  strerror(-err));
	STAT_INC(t->mcache.stats.frees_large);
	kgc_profile_free(p);	/* heap profile: a sample may have died */
	return 0;
}
