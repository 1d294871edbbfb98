// SPDX-License-Identifier: GPL-2.0
/*
 * mark.c - tri-colour marking (Go's mgcmark.go and mgcwork.go).
 *
 * White objects have a clear mark bit, grey ones a set bit and an entry in
 * a work buffer, black ones a set bit and no entry. Shading a candidate
 * pointer validates it against the heap's own span map first: a value that
 * does not point into an object of a span in use is ignored, so user space
 * can hand the marker any garbage (conservative stacks, corrupted objects)
 * and at worst keep some of its own objects alive.
 *
 * Grey objects wait in fixed-size work buffers (4 KiB, no recursion, no
 * unbounded stack); workers keep one buffer locally and exchange full ones
 * through the grey set's list. When no buffer can be allocated the object
 * stays marked but unqueued and the grey set records an overflow;
 * kgc_mark_rescan() then scans every marked object again (Boehm's mark
 * stack overflow strategy), so marking never fails for lack of memory.
 *
 * Scanning an object reads its pointer bitmap (one bit per 8-byte word,
 * written by libkgc at allocation) and then only the words marked as
 * pointers, both in place where they lie within one page (the reader keeps
 * a reference to the page each kind of read hit last, and the marker reads
 * further words of that page without calling the reader), else from a
 * copy. Objects of up to 64 words take their pointer bits as one mask and
 * shade only its set bits. Objects larger than KGC_OBLET_SIZE are split
 * into oblets that are queued separately, so one huge array does not hold
 * a worker for long.
 * Noscan spans are never scanned: their objects go straight to black.
 *
 * The heap is read through struct kgc_mark_ops: in the module from the
 * heap's own pages, in the host tests from plain memory.
 *
 * Cost per object: spans are looked up without the heap lock, under RCU
 * (they are freed after a grace period). A drain scans a batch of up to
 * KGC_MARK_BATCH grey objects (and KGC_MARK_BATCH_BYTES) in one read-side
 * section and reschedules between batches; the section is left early only to get a new work
 * buffer, which may sleep. The object index of a pointer comes from the
 * span's reciprocal (kgc_span_objindex()), not a division, and a mark bit
 * already set is seen without an atomic operation.
 */

/* What a drain scans per RCU read-side section and reschedule, at most. */
#define KGC_MARK_BATCH		64
#define KGC_MARK_BATCH_BYTES	(64 * 1024)
#include "mark.h"

/**
 * kgc_mark_init() - set up an empty grey set
 * @m: grey set
 * @h: heap
 * @ops: how to read the heap
 * @ctx: argument of @ops
 */
void kgc_mark_init(struct kgc_mark *m, struct kgc_mheap *h,
		   const struct kgc_mark_ops *ops, void *ctx)
{
	m->h = h;
	m->ops = ops;
	m->ctx = ctx;
	spin_lock_init(&m->lock);
	INIT_LIST_HEAD(&m->full);
	INIT_LIST_HEAD(&m->empty);
	m->nfull = 0;
	m->nempty = 0;
	m->overflow = false;
	m->check = false;
	atomic_long_set(&m->work, 0);
}

/**
 * kgc_mark_destroy() - free every work buffer
 * @m: grey set, no worker left
 */
void kgc_mark_destroy(struct kgc_mark *m)
{
	struct kgc_workbuf *b, *n;

	list_for_each_entry_safe(b, n, &m->full, list)
		kfree(b);
	list_for_each_entry_safe(b, n, &m->empty, list)
		kfree(b);
	INIT_LIST_HEAD(&m->full);
	INIT_LIST_HEAD(&m->empty);
	m->nfull = 0;
	m->nempty = 0;
}

/**
 * kgc_marker_init() - set up a worker
 * @w: worker
 * @m: grey set it works on
 *
 * Return: 0 or -ENOMEM.
 */
int kgc_marker_init(struct kgc_marker *w, struct kgc_mark *m)
{
	memset(w, 0, sizeof(*w));
	w->m = m;
	w->scratch = kmalloc(KGC_SCAN_CHUNK, GFP_KERNEL);
	return w->scratch ? 0 : -ENOMEM;
}

/**
 * kgc_marker_flush() - hand the worker's local grey objects to the set
 * @w: worker
 */
void kgc_marker_flush(struct kgc_marker *w)
{
	struct kgc_mark *m = w->m;
	struct kgc_workbuf *b = w->wbuf;

	if (!b)
		return;
	w->wbuf = NULL;
	spin_lock(&m->lock);
	if (b->n) {
		list_add_tail(&b->list, &m->full);
		m->nfull++;
	} else {
		list_add(&b->list, &m->empty);
		m->nempty++;
	}
	spin_unlock(&m->lock);
}

/**
 * kgc_marker_destroy() - flush and free a worker
 * @w: worker
 */
void kgc_marker_destroy(struct kgc_marker *w)
{
	kgc_marker_flush(w);
	kfree(w->scratch);
	w->scratch = NULL;
}

/* Swap the worker's full local buffer for an empty one. */
static struct kgc_workbuf *kgc_mark_getempty(struct kgc_marker *w)
{
	struct kgc_mark *m = w->m;
	struct kgc_workbuf *b = NULL;

	kgc_marker_flush(w);
	spin_lock(&m->lock);
	if (m->nempty) {
		b = list_first_entry(&m->empty, struct kgc_workbuf, list);
		list_del(&b->list);
		m->nempty--;
	}
	spin_unlock(&m->lock);
	if (!b) {
		b = kmalloc(sizeof(*b), GFP_KERNEL | __GFP_NOWARN |
			    __GFP_NORETRY);
		if (!b)
			return NULL;
	}
	b->n = 0;
	w->wbuf = b;
	return b;
}

static void kgc_mark_push(struct kgc_marker *w, u64 obj)
{
	struct kgc_workbuf *b = w->wbuf;

	if (!b || b->n == KGC_WORKBUF_OBJS) {
		b = kgc_mark_getempty(w);
		if (!b) {
			spin_lock(&w->m->lock);
			w->m->overflow = true;
			spin_unlock(&w->m->lock);
			return;
		}
	}
	b->obj[b->n++] = obj;
}

/* Take a grey object; false when the worker and the set have none. */
static bool kgc_mark_pop(struct kgc_marker *w, u64 *obj)
{
	struct kgc_mark *m = w->m;
	struct kgc_workbuf *b = w->wbuf;

	if (b && b->n) {
		*obj = b->obj[--b->n];
		return true;
	}
	spin_lock(&m->lock);
	if (!m->nfull) {
		spin_unlock(&m->lock);
		return false;
	}
	if (b) {
		list_add(&b->list, &m->empty);
		m->nempty++;
	}
	b = list_first_entry(&m->full, struct kgc_workbuf, list);
	list_del(&b->list);
	m->nfull--;
	spin_unlock(&m->lock);
	w->wbuf = b;
	*obj = b->obj[--b->n];
	return true;
}

/*
 * Whether object @idx of @s was allocated black by the mcache caching @s:
 * from @s->black_from on (set while marking when the span was handed out
 * after its owner's stack scan, or at the owner's mark-start safepoint),
 * and not one the kernel counts as allocated: those are older objects the
 * mcache skips over (a span from the partial set holds them anywhere), as
 * white as any. Read without the heap lock: a stale answer errs towards
 * white (one more scan), as the span's return sets the mark bits of its
 * black objects before it records them and clears black_from.
 */
static inline bool kgc_mark_black_alloc(struct kgc_span *s, u32 idx)
{
	u32 from = READ_ONCE(s->black_from);

	return READ_ONCE(s->state) == KGC_SPAN_CACHED &&
	       from != KGC_NO_BLACK && idx >= from &&
	       !test_bit(idx, s->allocbits);
}

/*
 * kgc_mark_shade() inside an RCU read-side section: the object to queue
 * for scanning goes to @push (0 for none), for the caller to push once it
 * may sleep (or now, when the local buffer has room).
 */
static __always_inline bool __kgc_mark_shade(struct kgc_marker *w, u64 p,
					     u64 *push)
{
	struct kgc_mheap *h = w->m->h;
	unsigned long *bits;
	struct kgc_span *s;
	u64 base;
	u32 idx;

	*push = 0;
	s = kgc_mheap_span_of_rcu(h, p);
	if (!s || !kgc_span_in_use(s))
		return false;
	base = h->base + ((u64)s->start << KGC_PAGE_SHIFT);
	idx = kgc_span_objindex(s, p - base);
	if (idx >= s->nelems)
		return false;
	bits = w->m->check ? s->checkbits : s->markbits;
	/* Marked already: the common case, without a locked operation. */
	if (test_bit(idx, bits))
		return false;
	/*
	 * Allocated black by its mcache: already black, nothing to scan
	 * (kgc_mheap_uncache() gives it a mark bit when the span goes back).
	 * Checkmark traces through such objects too.
	 */
	if (!w->m->check && kgc_mark_black_alloc(s, idx))
		return false;
	if (test_and_set_bit(idx, bits))
		return false;
	w->marked_bytes += s->elemsize;
	w->objects++;
	if (!KGC_SPANCLASS_NOSCAN(s->spanclass))
		*push = base + (u64)idx * s->elemsize;
	return true;
}

/*
 * kgc_mark_push() inside the caller's RCU read-side section (one level
 * deep): left only while a full local buffer is swapped, which may sleep.
 * The caller keeps no RCU-protected pointer across the call.
 */
static void kgc_mark_push_rcu(struct kgc_marker *w, u64 obj)
{
	if (likely(w->wbuf && w->wbuf->n < KGC_WORKBUF_OBJS)) {
		w->wbuf->obj[w->wbuf->n++] = obj;
		return;
	}
	rcu_read_unlock();
	kgc_mark_push(w, obj);
	rcu_read_lock();
}

/*
 * Shade the words of @words whose bit in @mask is set (bit i for word i).
 * The words may be the heap's own, which user space writes concurrently:
 * each is read once. RCU read side held (one level).
 */
static __always_inline void kgc_mark_shade_mask(struct kgc_marker *w,
						const u64 *words, u64 mask)
{
	u64 obj;

	while (mask) {
		unsigned int i = __ffs64(mask);

		mask &= mask - 1;
		if (__kgc_mark_shade(w, READ_ONCE(words[i]), &obj) && obj)
			kgc_mark_push_rcu(w, obj);
	}
}

/* The 64 bits of @bits (@nbits words long) from bit @pos on. */
static u64 kgc_bits64(const u64 *bits, size_t nbits, size_t pos)
{
	size_t i = pos / 64, sh = pos % 64;
	u64 v = bits[i] >> sh;

	if (sh && i + 1 < nbits)
		v |= bits[i + 1] << (64 - sh);
	return v;
}

/*
 * Shade the words of @words (@n of them) whose bit in @bits, counted from
 * bit @shift, is set (every word when @bits is NULL). RCU read side held
 * (one level).
 */
static void kgc_mark_shade_words(struct kgc_marker *w, const u64 *words,
				 const u64 *bits, size_t shift, size_t n)
{
	size_t nbits = DIV_ROUND_UP(shift + n, 64), g;

	for (g = 0; g < n; g += 64) {
		u64 mask = bits ? kgc_bits64(bits, nbits, shift + g) : ~0ULL;

		if (n - g < 64)
			mask &= (1ULL << (n - g)) - 1;
		kgc_mark_shade_mask(w, words + g, mask);
	}
}

/**
 * kgc_mark_shade() - grey the object a candidate pointer points into
 * @w: worker
 * @p: any value
 *
 * Interior pointers count. Values outside the heap, into free pages or past
 * a span's last object are ignored.
 *
 * Return: true when an object went from white to grey (or black, noscan).
 */
bool kgc_mark_shade(struct kgc_marker *w, u64 p)
{
	bool shaded;
	u64 obj;

	rcu_read_lock();
	shaded = __kgc_mark_shade(w, p, &obj);
	rcu_read_unlock();
	if (obj)
		kgc_mark_push(w, obj);
	return shaded;
}

/**
 * kgc_mark_scan_words() - shade the pointers among some words
 * @w: worker
 * @words: the words (a copy of a root range or of heap memory)
 * @bits: which words are pointers, bit i for @words[i]; NULL: all
 * @n: number of words
 */
void kgc_mark_scan_words(struct kgc_marker *w, const u64 *words,
			 const u64 *bits, size_t n)
{
	rcu_read_lock();
	kgc_mark_shade_words(w, words, bits, 0, n);
	rcu_read_unlock();
}

/*
 * @len bytes at @off of a kind's space (see struct kgc_mark_cache) in
 * place, when they lie within the page the worker's cache holds for that
 * kind and it is still good; else NULL (ask the reader).
 */
static __always_inline const u64 *kgc_mark_cached(struct kgc_marker *w,
						  int kind, u64 off,
						  size_t len)
{
	const struct kgc_mark_cache *c = &w->cache;

	if (likely(c->kaddr[kind] && c->off[kind] == (off & PAGE_MASK) &&
		   off % PAGE_SIZE + len <= PAGE_SIZE &&
		   c->gen[kind] == atomic_long_read_acquire(c->genp)))
		return (const u64 *)(c->kaddr[kind] + off % PAGE_SIZE);
	return NULL;
}

/* The words of the pointer bitmap from bitmap word @word (see ops). */
static __always_inline const u64 *kgc_mark_read_bits(struct kgc_marker *w,
						     u64 word, size_t nwords)
{
	const u64 *p = kgc_mark_cached(w, KGC_READ_BITS, word * 8, nwords * 8);

	return p ?: w->m->ops->read_bits(w->m->ctx, &w->cache, word, w->bits,
					 nwords);
}

/* @len bytes of heap at @addr (see ops). */
static __always_inline const u64 *kgc_mark_read(struct kgc_marker *w,
						u64 addr, size_t len)
{
	const u64 *p = kgc_mark_cached(w, KGC_READ_DATA, addr - w->m->h->base,
				       len);

	return p ?: w->m->ops->read(w->m->ctx, &w->cache, addr, w->scratch,
				    len);
}

/*
 * Scan a small object (@len <= 64 words) at @addr: its pointer bits fit
 * in one 64-bit mask, read once. RCU read side held (one level).
 */
static void kgc_mark_scan_small(struct kgc_marker *w, u64 addr, size_t len)
{
	u64 word = (addr - w->m->h->base) / 8, mask;
	size_t nwords = len / 8, shift = word % 64;
	bool two = shift + nwords > 64;
	const u64 *bits, *words;

	bits = kgc_mark_read_bits(w, word / 64, two ? 2 : 1);
	if (!bits)
		return;
	mask = READ_ONCE(bits[0]) >> shift;
	if (two)	/* then shift > 0 */
		mask |= READ_ONCE(bits[1]) << (64 - shift);
	if (nwords < 64)
		mask &= (1ULL << nwords) - 1;
	if (!mask)
		return;
	words = kgc_mark_read(w, addr, len);
	if (!words)
		return;
	w->scanned_bytes += len;
	kgc_mark_shade_mask(w, words, mask);
}

/*
 * Scan @len bytes (<= KGC_SCAN_CHUNK, 8-aligned) of heap at @addr. RCU
 * read side held (one level).
 */
static void kgc_mark_scan_chunk(struct kgc_marker *w, u64 addr, size_t len)
{
	struct kgc_mark *m = w->m;
	u64 word = (addr - m->h->base) / 8;
	size_t nwords = len / 8, shift = word % 64, i;
	size_t nbits = DIV_ROUND_UP(shift + nwords, 64);
	const u64 *bits, *words;
	bool any = false;

	bits = kgc_mark_read_bits(w, word / 64, nbits);
	if (!bits)
		return;
	for (i = 0; i < nbits; i++)
		any |= bits[i] != 0;
	if (!any)
		return;
	/* In place, bits can change under us: use the copy from now on. */
	if (bits != w->bits) {
		memcpy(w->bits, bits, nbits * sizeof(u64));
		bits = w->bits;
	}
	words = kgc_mark_read(w, addr, len);
	if (!words)
		return;
	w->scanned_bytes += len;
	kgc_mark_shade_words(w, words, bits, shift, nwords);
}

/*
 * Scan a grey entry: a whole object, or one oblet of a large object. The
 * first oblet of a large object queues the others. Returns bytes covered.
 * RCU read side held (one level).
 */
static size_t kgc_mark_scan(struct kgc_marker *w, u64 e)
{
	struct kgc_mheap *h = w->m->h;
	u64 base, objbase, size, o, len, off;
	struct kgc_span *s;

	s = kgc_mheap_span_of_rcu(h, e);
	if (!s || !kgc_span_in_use(s))
		return 0;	/* freed while grey: nothing to scan */
	base = h->base + ((u64)s->start << KGC_PAGE_SHIFT);
	size = s->elemsize;
	objbase = base + (u64)kgc_span_objindex(s, e - base) * size;
	/* s is not used past this point: the section may be left. */

	if (size > KGC_OBLET_SIZE) {
		if (e == objbase)
			for (o = e + KGC_OBLET_SIZE; o < objbase + size;
			     o += KGC_OBLET_SIZE)
				kgc_mark_push_rcu(w, o);
		len = min_t(u64, KGC_OBLET_SIZE, objbase + size - e);
	} else {
		e = objbase;
		len = size;
		if (len <= 64 * 8) {
			kgc_mark_scan_small(w, e, len);
			return len;
		}
	}
	for (off = 0; off < len; off += KGC_SCAN_CHUNK)
		kgc_mark_scan_chunk(w, e + off,
				    min_t(u64, KGC_SCAN_CHUNK, len - off));
	return len;
}

/**
 * kgc_mark_drain() - scan grey objects until none is left or out of budget
 * @w: worker
 * @budget: bytes to scan at most; negative: no limit
 *
 * Return: true when the worker found no more grey objects.
 */
bool kgc_mark_drain(struct kgc_marker *w, long budget)
{
	const struct kgc_mark_ops *ops = w->m->ops;
	bool limited = budget >= 0, done = false;
	u64 obj;

	while (!done && !(limited && budget <= 0)) {
		size_t bytes = 0;
		long work = 0;
		unsigned int n;

		rcu_read_lock();
		for (n = 0; n < KGC_MARK_BATCH; n++) {
			size_t len;

			if (bytes >= KGC_MARK_BATCH_BYTES)
				break;
			if (!kgc_mark_pop(w, &obj)) {
				done = true;
				break;
			}
			len = kgc_mark_scan(w, obj);
			bytes += len;
			work += len + 1;
			if (limited && budget - work <= 0)
				break;
		}
		rcu_read_unlock();
		budget -= work;
		/* For the pacer: what everybody marked, batch by batch. */
		atomic_long_add(work, &w->m->work);
		cond_resched();
	}
	if (ops->release)
		ops->release(w->m->ctx, &w->cache);
	return done;
}

/**
 * kgc_mark_has_work() - whether the set holds grey objects
 * @m: grey set
 *
 * Return: true when full work buffers wait (local buffers not counted).
 */
bool kgc_mark_has_work(struct kgc_mark *m)
{
	return READ_ONCE(m->nfull) != 0;
}

/**
 * kgc_mark_is_marked() - whether an object counts as marked
 * @s: span
 * @idx: object index
 * @check: ask the checkmark bits instead of the mark bits
 *
 * Objects an mcache allocated after its owner's stack scan (from
 * @s->black_from on, not counted in the kernel's alloc bits) are black
 * without a mark bit.
 *
 * Return: true when marked.
 */
bool kgc_mark_is_marked(struct kgc_span *s, u32 idx, bool check)
{
	if (test_bit(idx, check ? s->checkbits : s->markbits))
		return true;
	return !check && kgc_mark_black_alloc(s, idx);
}

/**
 * kgc_mark_rescan() - recover from an overflow: scan every marked object
 * @w: worker; the caller then drains again and repeats while overflowing
 */
void kgc_mark_rescan(struct kgc_marker *w)
{
	struct kgc_mark *m = w->m;
	struct kgc_mheap *h = m->h;
	unsigned long a, p;

	spin_lock(&m->lock);
	m->overflow = false;
	spin_unlock(&m->lock);
	/* Pairs with kgc_mheap_grow(): the arena tables are there. */
	for (a = 0; a < smp_load_acquire(&h->narenas); a++) {
		/* The heap lock keeps the arena's spans from being freed. */
		mutex_lock(&h->lock);
		for (p = 0; p < KGC_ARENA_PAGES; p++) {
			struct kgc_span *s = h->spanmap[a][p];
			u64 base;
			u32 i;

			if (!s || s->start != a * KGC_ARENA_PAGES + p ||
			    !kgc_span_in_use(s) ||
			    KGC_SPANCLASS_NOSCAN(s->spanclass))
				continue;
			base = h->base + ((u64)s->start << KGC_PAGE_SHIFT);
			for (i = 0; i < s->nelems; i++)
				if (test_bit(i, m->check ? s->checkbits :
					     s->markbits))
					kgc_mark_push(w, base +
						      (u64)i * s->elemsize);
		}
		mutex_unlock(&h->lock);
		kgc_mark_drain(w, -1);
	}
}
