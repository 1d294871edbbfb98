// SPDX-License-Identifier: GPL-2.0
/*
 * fake_heap.c - the heap in plain memory of the host tests and benchmarks
 * (see fake_heap.h).
 */
#include "fake_heap.h"

u8 *mem;		/* the heap's bytes; address = base + offset */
u64 *bitmap;	/* one bit per heap word */
u64 base;
bool conservative;

/* Bumped to invalidate every marker's cached pages, like a page drop. */
atomic_long_t fake_gen;

/*
 * Like the module: words within one page in place, with the page cached
 * for the marker's next reads of it; words across pages as a copy.
 */
static const u64 *fake_words(struct kgc_mark_cache *c, int kind,
			     const u8 *space, u64 off, u64 *buf, size_t len)
{
	if (off % PAGE_SIZE + len <= PAGE_SIZE) {
		kgc_mark_cache_set(c, kind, space + (off & PAGE_MASK),
				   off & PAGE_MASK, &fake_gen,
				   atomic_long_read_acquire(&fake_gen));
		return (const u64 *)(space + off);
	}
	memcpy(buf, space + off, len);
	return buf;
}

static const u64 *fake_read(void *ctx, struct kgc_mark_cache *cache,
			    u64 addr, u64 *buf, size_t len)
{
	(void)ctx;
	return fake_words(cache, KGC_READ_DATA, mem, addr - base, buf, len);
}

static const u64 *fake_read_bits(void *ctx, struct kgc_mark_cache *cache,
				 u64 word, u64 *buf, size_t n)
{
	(void)ctx;
	if (conservative) {
		memset(buf, 0xff, n * 8);
		return buf;
	}
	return fake_words(cache, KGC_READ_BITS, (const u8 *)bitmap, word * 8,
			  buf, n * 8);
}

static void fake_release(void *ctx, struct kgc_mark_cache *cache)
{
	(void)ctx;
	memset(cache->kaddr, 0, sizeof(cache->kaddr));
}

const struct kgc_mark_ops fake_ops = {
	.read = fake_read,
	.read_bits = fake_read_bits,
	.release = fake_release,
};

struct kgc_mheap h;
struct kgc_mark m;
struct kgc_marker w;

void setup(void)
{
	mem = calloc(1, FAKE_HEAPSZ);
	bitmap = calloc(1, FAKE_HEAPSZ / 64);
	base = (u64)(uintptr_t)mem;
	conservative = false;
	if (kgc_mheap_init(&h, base, FAKE_ARENAS * KGC_ARENA_PAGES))
		abort();
	kgc_mark_init(&m, &h, &fake_ops, NULL);
	if (kgc_marker_init(&w, &m))
		abort();
}

void teardown(void)
{
	kgc_marker_destroy(&w);
	kgc_mark_destroy(&m);
	kgc_mheap_destroy(&h);
	free(mem);
	free(bitmap);
}


void cache_get(struct cache *c, u32 spanclass)
{
	memset(c, 0, sizeof(*c));
	c->r.spanclass = spanclass;
	if (kgc_mheap_refill(&h, &c->r))
		abort();
	c->next = c->r.span.freeindex;
}

/* Allocate the next object; @ptrmask says which of its words are pointers. */
u64 cache_alloc(struct cache *c, u64 ptrmask)
{
	u32 spanclass;
	u64 obj, word;
	u32 i;

	for (;;) {
		while (c->next < c->r.span.nelems &&
		       (c->r.span.allocbits[c->next / 64] &
			(1ULL << (c->next % 64))))
			c->next++;
		if (c->next < c->r.span.nelems)
			break;
		/* Used up: give the span back, take another of the class. */
		spanclass = c->r.spanclass;
		cache_put(c);
		cache_get(c, spanclass);
	}
	obj = c->r.span.base + (u64)c->next * c->r.span.elemsize;
	c->next++;
	memset(mem + (obj - base), 0, c->r.span.elemsize);
	word = (obj - base) / 8;
	for (i = 0; i < c->r.span.elemsize / 8; i++) {
		if (ptrmask & (1ULL << (i % 64)))
			bitmap[(word + i) / 64] |= 1ULL << ((word + i) % 64);
		else
			bitmap[(word + i) / 64] &= ~(1ULL << ((word + i) % 64));
	}
	return obj;
}

void cache_put(struct cache *c)
{
	struct kgc_refill r = {
		.put_base = c->r.span.base, .put_freeindex = c->next,
		.spanclass = KGC_NO_SPANCLASS,
	};

	if (kgc_mheap_refill(&h, &r))
		abort();
}

void store(u64 obj, unsigned int word, u64 val)
{
	memcpy(mem + (obj - base) + word * 8, &val, 8);
}

/* The mark (or alloc) bit of the object @p points into. */
static bool span_bit(u64 p, bool mark)
{
	struct kgc_span *s;
	bool ret;

	mutex_lock(&h.lock);
	s = kgc_mheap_span_of(&h, p);
	ret = s && test_bit((p - kgc_span_base(s, base)) / s->elemsize,
			    mark ? s->markbits : s->allocbits);
	mutex_unlock(&h.lock);
	return ret;
}

bool marked(u64 p)
{
	return span_bit(p, true);
}

bool allocated(u64 p)
{
	return span_bit(p, false);
}

/*
 * Mark start for the thread owning @c: its safepoint says that the
 * objects it allocates from here on are black. Returns the span.
 */
struct kgc_span *mark_start(const struct cache *c)
{
	struct kgc_span *s;

	h.marking = true;
	mutex_lock(&h.lock);
	s = kgc_mheap_span_of(&h, c->r.span.base);
	s->black_from = c->next;
	mutex_unlock(&h.lock);
	return s;
}

/* End a cycle as the module does: flip sweepgen, sweep everything. */
void finish_cycle(void)
{
	mutex_lock(&h.lock);
	h.marking = false;
	h.sweepgen += 2;
	mutex_unlock(&h.lock);
	kgc_sweep_all(&h);
}

