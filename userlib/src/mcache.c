// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * mcache.c - per-thread span cache (Go's mcache) and how it finds free
 * objects (Go's nextFreeFast / nextFreeIndex / refill).
 *
 * The kernel owns the heap: its pages, its spans and which span is where
 * (mheap, mcentral). A thread allocates small objects without asking it:
 * each attached thread has an mcache with at most one span per span class
 * (size class x scan/noscan, KGC_NR_SPANCLASSES of them), handed to it by
 * the kernel with KGC_IOC_REFILL as a struct kgc_span_desc. While the span
 * is cached, only that thread allocates from it, so allocation needs no
 * lock, no atomic and no system call.
 *
 * Finding a free object
 * ---------------------
 * A span of n objects has n allocation bits (allocbits, 1 = allocated; the
 * bits at and beyond n are 1 too, so a 0 is always a real object) and an
 * index, freeindex: every object below it is allocated. The next free
 * object is the first 0 bit at or above freeindex. To find it in one
 * instruction, the mcache keeps
 *
 *	alloccache = ~allocbits[freeindex / 64] >> (freeindex % 64)
 *
 * the inverted bits of the 64-bit word holding freeindex, shifted so that
 * bit 0 is object freeindex. Then ctz(alloccache) is the distance to the
 * next free object:
 *
 *	fast path (mspan_take(), inlined into every allocation):
 *		if alloccache == 0: slow path
 *		bit = ctz(alloccache); obj = freeindex + bit
 *		alloccache >>= bit + 1; freeindex = obj + 1
 *		return base + obj * elemsize
 *
 * It needs no other test: mspan_load() sets the bits at and beyond n, so
 * the cache never shows an object past the span's end. Taking the last
 * object of a word leaves alloccache 0 and freeindex at the start of the
 * next word, not yet loaded. (Go's nextFreeFast gives up on that object
 * instead, so that its slow path takes it and loads the next word; here
 * the fast path keeps it and the slow path loads the word one call
 * later, which saves the fast path two tests.) The slow path,
 * mspan_nextfreeindex(), loads the word at freeindex when the cache is 0
 * there, then walks the following words of allocbits, reloading
 * alloccache from each, until it finds a free object or reaches nelems:
 * the span is full.
 *
 * A full span goes back to the kernel in the same ioctl that brings the next
 * one (KGC_IOC_REFILL: put_base + put_freeindex, spanclass). put_freeindex
 * is the final freeindex: it tells the kernel that every free object below
 * it has been handed out. The kernel keeps the span it was given even when
 * it has no new one for us (ENOMEM), so then the mcache drops its copy too.
 *
 * Batches: with KGC_FEATURE_REFILL_BATCH a refill system call also brings
 * further spans of the class (struct kgc_refill.more): 1, then 3, 7 and 15
 * as the class keeps needing spans, as many as the kernel allows (it keeps
 * a batch to a small share of the heap goal). They wait untouched in the
 * mcache's stash, shared by all classes (KGC_STASH_SLOTS), and the next
 * refills of the class take them without a system call. A used-up span then
 * waits in @puts and goes back with the next system call, whichever class
 * makes it. Stashed and waiting spans are still the thread's: a safepoint
 * reports the stashed ones like the cached ones (where black allocation
 * starts in them: nothing was allocated from them yet), thread exit gives
 * all of them back.
 *
 * Invariants (for each cached span s, between calls):
 *  I1. s->freeindex <= s->nelems; every object below s->freeindex is
 *      allocated in allocbits or was handed out by this mcache.
 *  I2. If s->freeindex < s->nelems, bit k of s->alloccache is 1 exactly when
 *      object s->freeindex + k is free in allocbits and lies in the same
 *      64-object word as s->freeindex (higher bits are 0); except that
 *      when s->freeindex is a multiple of 64, s->alloccache may be 0 with
 *      that word not loaded yet.
 *  I3. An mspan with base 0 is "no span": all fields 0, so the fast path
 *      fails at once (alloccache 0) and the slow path sees a full span
 *      (freeindex == nelems == 0) and refills. This is also how a reset
 *      mcache (kgc_shutdown(), fork child) makes every thread take the
 *      slow path, which checks that the heap still exists.
 *  I4. allocbits are never written by user space: the kernel's copy is
 *      authoritative and learns about our allocations only through
 *      put_freeindex.
 *
 * Memory: the free objects of spans flagged KGC_SPAN_NEEDZERO may hold old
 * data; other spans are fresh zero pages. mspan_load() zeroes the free
 * objects of a scan span when it is cached (one pass per run of free
 * objects), so every scan object is zero when handed out and the marker
 * never reads stale pointers. A noscan span keeps the flag instead: the
 * first zeroed allocation from it clears the object and every free object
 * after it at once (mspan_zero_rest()), while kgc_alloc_uninit(), which
 * promises no contents, takes objects from it without zeroing anything.
 * A program that never asks for uninitialised memory thus zeroes each
 * span once, as before; one that does skips the zeroing altogether.
 */
#include <sched.h>
#include <string.h>

#include "internal.h"

typedef uint64_t kgc_v16 __attribute__((vector_size(16), aligned(16)));

/*
 * Zero objects [@first, @end) of @s. Short runs go to memset(); long ones
 * to a loop of 16-byte stores (after one 8-byte store when the run starts
 * at an odd object of the 8-byte class: every other object is 16-byte
 * aligned). memset() clears long runs with "rep stosb", which is fast on
 * hardware but, under emulation such as QEMU's TCG, a byte at a time,
 * dozens of times slower than the loop; on hardware the loop is about as
 * fast. The attribute keeps GCC from turning it back into memset().
 */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
static void zero_run(const struct mspan *s, uint32_t first, uint32_t end)
{
	size_t n = (size_t)(end - first) * s->elemsize;
	uintptr_t p = s->base + (uintptr_t)first * s->elemsize;
	kgc_v16 *v, *e;

	if (n < 256) {
		if (n)
			memset((void *)p, 0, n);
		return;
	}
	if (p % 16) {
		*(uint64_t *)p = 0;
		p += 8;
		n -= 8;
	}
	v = (kgc_v16 *)p;
	e = (kgc_v16 *)(p + (n & ~(size_t)63));
	for (; v < e; v += 4) {
		v[0] = (kgc_v16){ 0, 0 };
		v[1] = (kgc_v16){ 0, 0 };
		v[2] = (kgc_v16){ 0, 0 };
		v[3] = (kgc_v16){ 0, 0 };
	}
	if (n & 63)
		memset((void *)e, 0, n & 63);
}

/**
 * mspan_zero_free() - zero every free object of a span, at once
 * @s: a cached span flagged KGC_SPAN_NEEDZERO
 *
 * A span the sweeper handed out again holds the old contents of its freed
 * objects. Zeroing them one by one as they are allocated (what Go does)
 * puts a memset() of cold memory on every allocation; here each run of
 * free objects (1 bits of ~allocbits from freeindex on) is cleared in one
 * pass (zero_run()) when the span is loaded (a noscan span: at its first
 * zeroed allocation), which for the usual mostly-free span is a few long
 * sequential runs of stores. The fast path then has no zeroing at all.
 * The span is only this thread's until it is given back, so nothing
 * writes the free objects in between.
 */
static void mspan_zero_free(struct mspan *s)
{
	uint32_t w = s->freeindex / 64, first = 0, end = 0;

	for (; w * 64 < s->nelems; w++) {
		uint64_t free = ~s->allocbits[w];

		if (w == s->freeindex / 64)
			free &= ~0ULL << (s->freeindex % 64);
		while (free) {
			unsigned int b = kgc_ctz64(free);
			uint64_t rest = ~(free >> b);
			unsigned int len = rest ? kgc_ctz64(rest) : 64;

			/* Bits at and beyond nelems are 1: runs end in time. */
			if (w * 64 + b != end) {
				zero_run(s, first, end);
				first = w * 64 + b;
				end = first;
			}
			end += len;
			free = b + len >= 64 ? 0 : free & ~0ULL << (b + len);
		}
	}
	zero_run(s, first, end);
	s->flags &= ~(uint32_t)KGC_SPAN_NEEDZERO;
}

/**
 * mspan_zero_rest() - zero a noscan span from object @v on
 * @s: the cached span, flagged KGC_SPAN_NEEDZERO
 * @v: the object just taken from it (the fast path moved freeindex past it)
 *
 * Called for the first zeroed allocation from a noscan span that may hold
 * old data: clears @v and every free object after it (mspan_zero_free())
 * and drops the flag, so that the following allocations need nothing.
 * Objects handed out before @v (by kgc_alloc_uninit()) are left alone.
 */
void mspan_zero_rest(struct mspan *s, void *v)
{
	memset(v, 0, s->elemsize);
	mspan_zero_free(s);
}

/**
 * mspan_load() - cache a span the kernel handed out
 * @s: the mcache's slot
 * @d: the kernel's description of the span (validated)
 *
 * Zeroes the free objects of a scan span if the kernel says they may hold
 * old data (KGC_SPAN_NEEDZERO); a noscan span keeps the flag, and its
 * objects are zeroed when a zeroed allocation first takes one.
 */
void mspan_load(struct mspan *s, const struct kgc_span_desc *d)
{
	s->base = (uintptr_t)d->base;
	s->freeindex = d->freeindex;
	s->loadindex = (uint16_t)d->freeindex;	/* <= nelems */
	s->nelems = d->nelems;
	s->elemsize = d->elemsize;
	s->spanclass = d->spanclass;
	s->flags = d->flags;
	s->painted = 0;
	s->paintbits = 0;
	memcpy(s->allocbits, d->allocbits, sizeof(s->allocbits));
	/*
	 * The fast path has no bound test: objects beyond nelems must look
	 * allocated (the kernel sets these bits; this makes sure). nelems
	 * <= KGC_SPAN_MAX_OBJS, the bitmap's size (mspan_validate()).
	 */
	if (s->nelems % 64)
		s->allocbits[s->nelems / 64] |= ~0ULL << (s->nelems % 64);
	if (s->freeindex < s->nelems)
		s->alloccache = ~s->allocbits[s->freeindex / 64] >>
				(s->freeindex % 64);
	else
		s->alloccache = 0;
	/* Noscan spans are zeroed by the first zeroed allocation. */
	if ((s->flags & KGC_SPAN_NEEDZERO) &&
	    !KGC_SPANCLASS_NOSCAN(s->spanclass))
		mspan_zero_free(s);
}

/* Snapshots mcache_read_counts() tries before it leaves the cache out. */
#define KGC_READ_TRIES		(64 * 1024)

_Static_assert(KGC_SPAN_MAX_OBJS <= UINT16_MAX,
	       "struct mspan.loadindex is 16 bits");

/* The zero bits of @word in [@lo, @hi) (0 <= lo <= hi <= 64). */
static unsigned int free_in_word(uint64_t word, unsigned int lo,
				 unsigned int hi)
{
	uint64_t mask = hi == 64 ? ~0ULL : (1ULL << hi) - 1;

	mask &= ~0ULL << lo;
	return (unsigned int)__builtin_popcountll(~word & mask);
}

/**
 * mspan_taken() - objects the mcache handed out from a cached span
 * @s: cached span (or an empty slot: 0)
 *
 * Every object below @freeindex is allocated, and the ones that were free
 * when the span came (zero in @allocbits) are the ones taken since: the
 * count costs the fast path nothing. Relaxed loads: another thread's
 * statistics read a slot its owner may be moving (mcache_read_counts()).
 *
 * Return: that count.
 */
uint32_t mspan_taken(const struct mspan *s)
{
	uint32_t i = __atomic_load_n(&s->loadindex, __ATOMIC_RELAXED);
	uint32_t end = __atomic_load_n(&s->freeindex, __ATOMIC_RELAXED);
	uint32_t n = 0;

	end = MIN(end, (uint32_t)KGC_SPAN_MAX_OBJS);
	while (i < end) {
		uint32_t w = i / 64, hi = MIN(w * 64 + 64, end);

		n += free_in_word(__atomic_load_n(&s->allocbits[w],
						  __ATOMIC_RELAXED),
				  i % 64, hi - w * 64);
		i = hi;
	}
	return n;
}

/* Owner only: @c's slots change; other threads' snapshots retry. */
static void mcache_write_begin(struct mcache *c)
{
	__atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void mcache_write_end(struct mcache *c)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_RELAXED);
}

/*
 * Count the objects of slot @s (not empty) in @c's counters; the caller
 * empties it in the same write section.
 */
static void mspan_account(struct mcache *c, const struct mspan *s)
{
	uint32_t n = mspan_taken(s);

	STAT_ADD(c->stats.small_objs, n);
	STAT_ADD(c->stats.bytes_allocated, (uint64_t)n * s->elemsize);
}

/* Cache the span @d describes in the empty slot @s of @c. */
static void slot_load(struct mcache *c, struct mspan *s,
		      const struct kgc_span_desc *d)
{
	mcache_write_begin(c);
	mspan_load(s, d);
	mcache_write_end(c);
}

/* The span of slot @s leaves @c: count its objects, empty the slot. */
static void slot_retire(struct mcache *c, struct mspan *s)
{
	mcache_write_begin(c);
	if (s->base)
		mspan_account(c, s);
	memset(s, 0, sizeof(*s));
	mcache_write_end(c);
}

/**
 * mcache_read_counts() - small objects an mcache handed out, and bytes
 * @c: any thread's mcache (its owner keeps allocating)
 * @objs: set to its span-counted objects, the cached spans' included
 * @bytes: set to its bytes_allocated, the cached spans' included
 *
 * A consistent snapshot under @c->seq: a span counted when it left the
 * cache is never counted again as cached. For kgc_read_stats(), holding
 * kgc_heap.lock (the thread stays attached meanwhile). A write section
 * lasts a few stores; should one never end (a thread cancelled inside
 * the library), the counts without the cached spans are returned after
 * KGC_READ_TRIES attempts rather than waiting forever.
 */
void mcache_read_counts(const struct mcache *c, uint64_t *objs,
			uint64_t *bytes)
{
	unsigned int tries = 0, i;

	for (;;) {
		uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		uint64_t o, b;

		if (++tries > KGC_READ_TRIES) {
			*objs = STAT_READ(c->stats.small_objs);
			*bytes = STAT_READ(c->stats.bytes_allocated);
			return;
		}
		if (!(seq & 1)) {
			o = STAT_READ(c->stats.small_objs);
			b = STAT_READ(c->stats.bytes_allocated);
			for (i = 0; i < KGC_NR_SPANCLASSES; i++) {
				const struct mspan *s = &c->alloc[i];
				uint32_t n;

				if (!__atomic_load_n(&s->base, __ATOMIC_RELAXED))
					continue;
				n = mspan_taken(s);
				o += n;
				b += (uint64_t)n * __atomic_load_n(&s->elemsize,
							   __ATOMIC_RELAXED);
			}
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) == seq) {
				*objs = o;
				*bytes = b;
				return;
			}
		}
		/* The owner is in a slow path for a moment. */
		if (tries % 64 == 0)
			sched_yield();
	}
}

/**
 * mspan_validate() - check a span description from the kernel
 * @d: description
 * @spanclass: the span class asked for
 * @lo: heap start
 * @hi: heap end
 *
 * The kernel is trusted, but a mismatch (another size-class table, a bug)
 * must fail loudly rather than corrupt objects.
 *
 * Return: 0, or -EPROTO with a message.
 */
int mspan_validate(const struct kgc_span_desc *d, uint32_t spanclass,
		   uintptr_t lo, uintptr_t hi)
{
	uint32_t sc = KGC_SPANCLASS_SIZECLASS(spanclass);
	uint64_t bytes = (uint64_t)d->npages * KGC_PAGE_SIZE;

	if (d->spanclass != spanclass || !sc || sc >= KGC_NR_SIZE_CLASSES ||
	    d->elemsize != kgc_class_to_size[sc] ||
	    d->npages != kgc_class_to_npages[sc] ||
	    d->nelems != kgc_class_nelems(sc) ||
	    d->nelems > KGC_SPAN_MAX_OBJS || d->freeindex > d->nelems ||
	    d->base < lo || d->base >= hi || bytes > hi - d->base ||
	    (d->base - lo) % KGC_PAGE_SIZE)
		return kgc_seterr(EPROTO,
			"kgc: kernel handed out a bad span (class %u, base 0x%llx, %u x %u bytes, %u pages, freeindex %u) for span class %u",
			d->spanclass, (unsigned long long)d->base,
			d->nelems, d->elemsize, d->npages, d->freeindex,
			spanclass);
	return 0;
}

/**
 * mspan_nextfreeindex() - find the next free object (Go's nextFreeIndex)
 * @s: cached span
 *
 * Moves freeindex past the object it returns and keeps invariants I1, I2.
 *
 * Return: the index of a free object, now allocated, or s->nelems when the
 * span is full.
 */
uint32_t mspan_nextfreeindex(struct mspan *s)
{
	uint32_t sfreeindex = s->freeindex;
	uint32_t snelems = s->nelems;
	uint64_t cache = s->alloccache;
	uint32_t result;
	unsigned int bit;

	if (sfreeindex >= snelems)
		return snelems;
	/* At a word's start the fast path leaves the word to us (I2). */
	if (cache == 0 && sfreeindex % 64 == 0)
		cache = ~s->allocbits[sfreeindex / 64];
	while (cache == 0) {
		/* Nothing free in this word: move to the start of the next. */
		sfreeindex = (sfreeindex + 64) & ~63U;
		if (sfreeindex >= snelems) {
			__atomic_store_n(&s->freeindex, snelems, __ATOMIC_RELAXED);
			s->alloccache = 0;
			return snelems;
		}
		cache = ~s->allocbits[sfreeindex / 64];
	}
	bit = kgc_ctz64(cache);
	result = sfreeindex + bit;
	if (result >= snelems) {
		__atomic_store_n(&s->freeindex, snelems, __ATOMIC_RELAXED);
		s->alloccache = 0;
		return snelems;
	}
	s->alloccache = (cache >> bit) >> 1;
	sfreeindex = result + 1;
	if (sfreeindex % 64 == 0 && sfreeindex != snelems)
		s->alloccache = ~s->allocbits[sfreeindex / 64];
	__atomic_store_n(&s->freeindex, sfreeindex, __ATOMIC_RELAXED);
	return result;
}

/**
 * mcache_reset() - forget every cached span and the tiny block
 * @c: mcache
 *
 * The spans are not given back (the heap is gone or about to be).
 */
void mcache_reset(struct mcache *c)
{
	uint32_t i;

	mcache_write_begin(c);
	for (i = 0; i < KGC_NR_SPANCLASSES; i++)
		if (c->alloc[i].base)
			mspan_account(c, &c->alloc[i]);
	memset(c->alloc, 0, sizeof(c->alloc));
	mcache_write_end(c);
	memset(c->batch, 0, sizeof(c->batch));
	memset(c->stash_head, 0, sizeof(c->stash_head));
	memset(c->stash_used, 0, sizeof(c->stash_used));
	c->nstash = 0;
	c->nputs = 0;
	c->tiny = 0;
	c->tinyoffset = 0;
}

static bool kgc_batching(void)
{
	return kgc_heap.api.features & KGC_FEATURE_REFILL_BATCH;
}

/* Free stash slots. */
static unsigned int stash_room(const struct mcache *c)
{
	return KGC_STASH_SLOTS - c->nstash;
}

/* Keep a span of @spanclass in reserve (stash_room() said there is room). */
static void stash_push(struct mcache *c, uint32_t spanclass,
		       const struct kgc_span_desc *d)
{
	unsigned int i, slot;

	for (i = 0; ~c->stash_used[i] == 0; i++)
		;
	slot = i * 64 + kgc_ctz64(~c->stash_used[i]);
	c->stash_used[i] |= 1ULL << (slot % 64);
	c->nstash++;
	c->stash[slot] = *d;
	c->stash_next[slot] = c->stash_head[spanclass];
	c->stash_head[spanclass] = (uint8_t)(slot + 1);
}

/* Take a reserve span of @spanclass: its slot, or -1 for none. */
static int stash_pop(struct mcache *c, uint32_t spanclass)
{
	unsigned int slot;

	if (!c->stash_head[spanclass])
		return -1;
	slot = c->stash_head[spanclass] - 1U;
	c->stash_head[spanclass] = c->stash_next[slot];
	c->stash_used[slot / 64] &= ~(1ULL << (slot % 64));
	c->nstash--;
	return (int)slot;
}

/* Queue a span for giving back; the mcache forgets it. */
static void mcache_put(struct mcache *c, uintptr_t base, uint32_t freeindex)
{
	struct kgc_span_mark *m = &c->puts[c->nputs++];

	m->base = base;
	m->freeindex = freeindex;
	m->resv = 0;
}

/*
 * One KGC_IOC_REFILL carrying the queued spans back, and getting a span of
 * @spanclass (KGC_NO_SPANCLASS: none) into @r->span and up to @more_max
 * further ones into @more. The queue is empty afterwards whatever happens.
 */
static int mcache_sys_refill(struct kgc_thread *t, struct kgc_refill *r,
			     uint32_t spanclass, struct kgc_span_desc *more,
			     uint32_t more_max)
{
	struct mcache *c = &t->mcache;
	int err;

	memset(r, 0, sizeof(*r));
	r->spanclass = spanclass;
	r->puts = (uintptr_t)c->puts;
	r->nputs = c->nputs;
	r->more = more_max ? (uintptr_t)more : 0;
	r->more_max = more_max;
	err = kgc_sys_ioctl(t, KGC_IOC_REFILL, r);
	/* Given back unless the request itself was refused. */
	if (!err || err == -ENOMEM)
		STAT_ADD(c->stats.span_returns, c->nputs);
	c->nputs = 0;
	return err;
}

/**
 * mcache_return_puts() - give the used-up spans waiting in @puts back now
 * @t: the calling thread, in a region or in its safepoint handler
 *
 * A used-up span waits in @puts for the next refill system call, and the
 * kernel cannot sweep a span the thread still holds: the garbage in it
 * outlives every cycle until then, and a thread that has gone idle makes
 * no system call at all (up to 64 spans). So the mark-start
 * acknowledgement gives them back first (safepoint.c), and each cycle
 * sweeps them, as Go flushes every mcache once per cycle. Only region code
 * touches @puts and @nputs, never the fast path, so the handler may too.
 * Also how a full queue or thread exit gives the queue back.
 *
 * Return: 0 (also when the queue is empty) or -errno of KGC_IOC_REFILL;
 * the queue is empty afterwards either way.
 */
int mcache_return_puts(struct kgc_thread *t)
{
	struct kgc_refill r;

	if (!t->mcache.nputs)
		return 0;
	return mcache_sys_refill(t, &r, KGC_NO_SPANCLASS, NULL, 0);
}

static int refill_error(uint32_t spanclass, int err)
{
	if (err == -ENOMEM)
		return kgc_seterr(ENOMEM,
			"kgc: out of memory: no span of %u-byte objects left in the %zu MiB heap",
			kgc_class_to_size[KGC_SPANCLASS_SIZECLASS(spanclass)],
			(size_t)((kgc_heap.arena_end - kgc_heap.arena_start) >> 20));
	return kgc_seterr(-err, "kgc: KGC_IOC_REFILL (span class %u) failed: %s",
			  spanclass, strerror(-err));
}

/*
 * mcache_refill_batch() - mcache_refill() with KGC_FEATURE_REFILL_BATCH:
 * the used-up span is queued, a reserve span taken when there is one, else
 * one system call gives the queue back and brings a batch.
 */
static int mcache_refill_batch(struct kgc_thread *t, uint32_t spanclass)
{
	struct mcache *c = &t->mcache;
	struct mspan *s = &c->alloc[spanclass];
	struct kgc_span_desc *more = c->more;
	struct kgc_refill r;
	uint32_t want, i;
	int slot, err;

	if (s->base) {
		/* Room for it: a full queue goes back on its own first. */
		if (c->nputs == KGC_REFILL_PUTS_MAX) {
			err = mcache_return_puts(t);
			if (err)
				return refill_error(spanclass, err);
		}
		mcache_put(c, s->base, s->freeindex);
		slot_retire(c, s);
	}
	slot = stash_pop(c, spanclass);
	if (slot >= 0) {
		slot_load(c, s, &c->stash[slot]);
		return 0;
	}

	want = MIN((uint32_t)c->batch[spanclass], stash_room(c));
	err = mcache_sys_refill(t, &r, spanclass, more, want);
	if (err)
		return refill_error(spanclass, err);
	STAT_ADD(c->stats.refills, 1 + (uint64_t)r.more_count);
	if (r.more_count > want)
		return kgc_seterr(EPROTO,
			"kgc: kernel handed out %u spans for a batch of %u",
			r.more_count, want);
	err = mspan_validate(&r.span, spanclass, kgc_heap.arena_start,
			     kgc_heap.arena_end);
	for (i = 0; i < r.more_count && !err; i++)
		err = mspan_validate(&more[i], spanclass, kgc_heap.arena_start,
				     kgc_heap.arena_end);
	if (err)
		return err;
	slot_load(c, s, &r.span);
	/* Last first: the stash is a stack, so spans go out in order. */
	for (i = r.more_count; i-- > 0;)
		stash_push(c, spanclass, &more[i]);
	c->batch[spanclass] = (uint8_t)MIN(2U * c->batch[spanclass] + 1,
					   (unsigned int)KGC_REFILL_MORE_MAX);
	return 0;
}

/*
 * mcache_refill() - give the cached span of @spanclass back and get a fresh
 * one (Go's mcache.refill): one KGC_IOC_REFILL, or with batches often none
 */
static int mcache_refill(struct kgc_thread *t, uint32_t spanclass)
{
	struct mcache *c = &t->mcache;
	struct mspan *s = &c->alloc[spanclass];
	struct kgc_counters *st = &c->stats;
	struct kgc_refill r;
	int err;

	/*
	 * The tiny block lives in the tiny span, which goes back now (also
	 * when a 16-byte noscan allocation refills it): drop the block, whose
	 * span the kernel may free and reuse.
	 */
	if (spanclass == KGC_TINY_SPANCLASS && s->base) {
		t->mcache.tiny = 0;
		t->mcache.tinyoffset = 0;
	}
	if (kgc_batching())
		return mcache_refill_batch(t, spanclass);

	memset(&r, 0, sizeof(r));
	r.put_base = s->base;
	r.put_freeindex = s->base ? s->freeindex : 0;
	r.spanclass = spanclass;
	err = kgc_sys_ioctl(t, KGC_IOC_REFILL, &r);
	if (err == -ENOMEM && s->base) {
		/* The kernel keeps what it was given even without a new span. */
		STAT_INC(st->span_returns);
		slot_retire(c, s);
	}
	if (err)
		return refill_error(spanclass, err);
	if (s->base) {
		STAT_INC(st->span_returns);
		slot_retire(c, s);
	}
	STAT_INC(st->refills);
	err = mspan_validate(&r.span, spanclass, kgc_heap.arena_start,
			     kgc_heap.arena_end);
	if (err)
		return err;
	slot_load(c, s, &r.span);
	return 0;
}

/**
 * mcache_nextfree() - the allocation slow path (Go's mcache.nextFree)
 * @t: the calling thread, attached
 * @spanclass: span class
 *
 * Called when mspan_nextfreefast() failed: finds the next free object in
 * the cached span, or refills the span from the kernel. Every call is a
 * safepoint, and a refill once more after the kernel call; all of it runs
 * in a library region: the signal handler must not read a half-replaced
 * span.
 *
 * Return: an object, or NULL with errno and a message.
 */
void *mcache_nextfree(struct kgc_thread *t, uint32_t spanclass)
{
	struct mspan *s = &t->mcache.alloc[spanclass];
	void *v = NULL;
	uint32_t idx;
	int tries;

	kgc_enter(t);
	/*
	 * A safepoint every cache word (64 objects at most), not only every
	 * span: a thread that allocates notices a handshake within tens of
	 * microseconds under emulation rather than one span's worth of
	 * allocations later. Two loads when none is raised.
	 */
	kgc_safepoint_check(t);
	idx = mspan_nextfreeindex(s);
	/* A span with no free object is a kernel bug: retry once, then fail. */
	for (tries = 0; idx == s->nelems && tries < 2; tries++) {
		if (mcache_refill(t, spanclass))
			goto out;
		kgc_safepoint_check(t);
		idx = mspan_nextfreeindex(s);
	}
	if (idx == s->nelems) {
		kgc_seterr(EPROTO, "kgc: kernel handed out full spans of class %u",
			   spanclass);
		goto out;
	}
	v = (void *)(s->base + (uintptr_t)idx * s->elemsize);
out:
	kgc_leave(t);
	return v;
}

/* mcache_release_all() without batches: one system call per span. */
static int release_one(struct kgc_thread *t, uintptr_t base,
		       uint32_t freeindex)
{
	struct kgc_refill r;
	int err;

	memset(&r, 0, sizeof(r));
	r.put_base = base;
	r.put_freeindex = freeindex;
	r.spanclass = KGC_NO_SPANCLASS;
	err = kgc_sys_ioctl(t, KGC_IOC_REFILL, &r);
	if (err)
		return kgc_seterr(-err,
			"kgc: giving back the span at 0x%llx failed: %s",
			(unsigned long long)base, strerror(-err));
	STAT_INC(t->mcache.stats.span_returns);
	return 0;
}

/* Give back, or queue to give back, one span; the first error is kept. */
static void release_span(struct kgc_thread *t, uintptr_t base,
			 uint32_t freeindex, int *ret)
{
	struct mcache *c = &t->mcache;
	int err;

	if (!kgc_batching()) {
		err = release_one(t, base, freeindex);
		if (err && !*ret)
			*ret = err;
		return;
	}
	if (c->nputs == KGC_REFILL_PUTS_MAX) {
		err = mcache_return_puts(t);
		if (err && !*ret)
			*ret = kgc_seterr(-err,
				"kgc: giving back %u spans failed: %s",
				KGC_REFILL_PUTS_MAX, strerror(-err));
	}
	mcache_put(c, base, freeindex);
}

/**
 * mcache_release_all() - give every span of the thread back to the kernel
 * @t: the calling thread, attached, in a library region
 *
 * The cached spans go back with their final freeindex, reserve spans as
 * they came, in KGC_IOC_REFILL calls with spanclass KGC_NO_SPANCLASS; the
 * mcache is empty afterwards whatever happens.
 *
 * Return: 0, or the first -errno.
 */
int mcache_release_all(struct kgc_thread *t)
{
	struct mcache *c = &t->mcache;
	int ret = 0, slot, err;
	uint32_t i;

	for (i = 0; i < KGC_NR_SPANCLASSES; i++) {
		struct mspan *s = &c->alloc[i];

		if (s->base)
			release_span(t, s->base, s->freeindex, &ret);
		slot_retire(c, s);
		while ((slot = stash_pop(c, i)) >= 0)
			release_span(t, (uintptr_t)c->stash[slot].base,
				     c->stash[slot].freeindex, &ret);
	}
	err = mcache_return_puts(t);
	if (err && !ret)
		ret = kgc_seterr(-err,
			"kgc: giving back the thread's spans failed: %s",
			strerror(-err));
	mcache_reset(c);
	return ret;
}
