// SPDX-License-Identifier: GPL-2.0
/*
 * test_gc.c - host tests of marking and sweeping (mark.c, sweep.c) over the
 * fake heap of fake_heap.c: plain memory for the objects and for the
 * pointer bitmap, read through struct kgc_mark_ops as the module reads its
 * pages.
 */
#include "tap.h"
#include "fake_heap.h"

/*
 * A linked list from one root is marked to its end through the pointer
 * bitmap; a second list nobody points to stays white and is swept away.
 */
static void test_list_reachable_and_garbage(void)
{
	struct cache c;
	u64 a[20], g[20];
	int i;

	setup();
	cache_get(&c, KGC_SPANCLASS(2, 0));	/* 32-byte objects */
	for (i = 0; i < 20; i++) {
		a[i] = cache_alloc(&c, 0x1);
		g[i] = cache_alloc(&c, 0x1);
		if (i) {
			store(a[i - 1], 0, a[i]);
			store(g[i - 1], 0, g[i]);
		}
	}
	cache_put(&c);
	h.marking = true;
	EXPECT(kgc_mark_shade(&w, a[0]));
	EXPECT(!kgc_mark_shade(&w, a[0]));	/* already grey */
	EXPECT(kgc_mark_drain(&w, -1));
	for (i = 0; i < 20; i++) {
		EXPECT(marked(a[i]));
		EXPECT(!marked(g[i]));
	}
	EXPECT_EQ(w.objects, 20);
	finish_cycle();
	for (i = 0; i < 20; i++) {
		EXPECT(allocated(a[i]));
		EXPECT(!allocated(g[i]));
		EXPECT(!marked(a[i]));	/* mark bits cleared by sweep */
	}
	teardown();
}

/*
 * Only words the bitmap calls pointers are followed; noscan objects are
 * never scanned; conservative scanning (no bitmap) follows every word.
 */
static void test_bitmap_noscan_and_conservative(void)
{
	struct cache c, n;
	u64 root, hidden, viaword1, ns, child;

	setup();
	cache_get(&c, KGC_SPANCLASS(3, 0));	/* 48 bytes, scan */
	cache_get(&n, KGC_SPANCLASS(3, 1));	/* 48 bytes, noscan */
	root = cache_alloc(&c, 0x2);		/* word 1 is a pointer */
	hidden = cache_alloc(&c, 0);
	viaword1 = cache_alloc(&c, 0);
	ns = cache_alloc(&n, 0);
	child = cache_alloc(&c, 0);
	store(root, 0, hidden);		/* not a pointer word */
	store(root, 1, viaword1);
	store(viaword1, 0, ns);		/* pointer-free object's "pointer" */
	store(ns, 0, child);		/* inside a noscan object */
	cache_put(&c);
	cache_put(&n);
	h.marking = true;
	kgc_mark_shade(&w, root);
	kgc_mark_drain(&w, -1);
	EXPECT(marked(root));
	EXPECT(marked(viaword1));
	EXPECT(!marked(hidden));
	EXPECT(!marked(ns));	/* viaword1 has no pointer words */
	EXPECT(!marked(child));
	/* Keep the rest alive through other roots for the next cycle. */
	kgc_mark_shade(&w, hidden);
	kgc_mark_shade(&w, ns);
	kgc_mark_shade(&w, child);
	kgc_mark_drain(&w, -1);
	finish_cycle();
	/* Conservatively every word counts, but noscan stays unscanned. */
	conservative = true;
	h.marking = true;
	kgc_mark_shade(&w, root);
	kgc_mark_drain(&w, -1);
	EXPECT(marked(hidden));
	EXPECT(marked(ns));
	EXPECT(!marked(child));
	finish_cycle();
	teardown();
}

/*
 * Candidates are validated: interior pointers mark their object; values
 * outside the heap, in free pages or in a span's tail mark nothing.
 */
static void test_candidates_are_validated(void)
{
	struct cache c;
	u64 a, b;

	setup();
	cache_get(&c, KGC_SPANCLASS(4, 0));	/* 48-byte objects, 170 */
	a = cache_alloc(&c, 0);
	b = cache_alloc(&c, 0);
	cache_put(&c);
	h.marking = true;
	EXPECT(kgc_mark_shade(&w, a + 47));
	EXPECT(marked(a));
	EXPECT(!marked(b));
	EXPECT(!kgc_mark_shade(&w, 0));
	EXPECT(!kgc_mark_shade(&w, base - 8));
	EXPECT(!kgc_mark_shade(&w, base + FAKE_HEAPSZ + 64));
	EXPECT(!kgc_mark_shade(&w, base + KGC_ARENA_SIZE + 8));	/* free */
	EXPECT(!kgc_mark_shade(&w, c.r.span.base + 170 * 48 + 8)); /* tail */
	EXPECT(!kgc_mark_shade(&w, ~0ULL));
	kgc_mark_drain(&w, -1);
	finish_cycle();
	teardown();
}

/*
 * A large array of pointers is scanned in oblets: all of its 20000
 * children are found, and an interior oblet pointer marks the array.
 */
static void test_large_object_oblets(void)
{
	struct kgc_large l = { .size = 20000 * 8 };
	struct cache c;
	u64 kids[20000];
	bool nz;
	int i, all = 1;

	setup();
	EXPECT_EQ(kgc_mheap_alloc_large(&h, &l, &nz, true), 0);
	cache_get(&c, KGC_SPANCLASS(1, 0));
	for (i = 0; i < 20000; i++) {
		if (c.next >= c.r.span.nelems) {
			cache_put(&c);
			cache_get(&c, KGC_SPANCLASS(1, 0));
		}
		kids[i] = cache_alloc(&c, 0);
		store(l.addr, i, kids[i]);
	}
	cache_put(&c);
	for (i = 0; i < 20000; i++)
		bitmap[(l.addr - base) / 8 / 64 + i / 64] |= 1ULL << (i % 64);
	h.marking = true;
	EXPECT(kgc_mark_shade(&w, l.addr + 150000));	/* interior */
	kgc_mark_drain(&w, -1);
	for (i = 0; i < 20000; i++)
		all &= marked(kids[i]);
	EXPECT(all);
	finish_cycle();
	EXPECT_EQ(h.nr_large, 1);
	/* Next cycle: nothing marks it, sweep frees it. */
	finish_cycle();
	EXPECT_EQ(h.nr_large, 0);
	teardown();
}

/*
 * No memory for work buffers: marking overflows, and the rescan still
 * reaches everything (a 3000-object chain needs many buffers only when
 * breadth-first, so use a wide tree).
 */
static void test_overflow_rescan(void)
{
	struct cache c;
	u64 root, mid[64], leaf[64 * 8];
	int i, j, all = 1;

	setup();
	cache_get(&c, KGC_SPANCLASS(6, 0));	/* 80 bytes: 10 words */
	root = cache_alloc(&c, 0x3ff);
	for (i = 0; i < 64; i++) {
		if (c.next >= c.r.span.nelems) {
			cache_put(&c);
			cache_get(&c, KGC_SPANCLASS(6, 0));
		}
		mid[i] = cache_alloc(&c, 0x3ff);
	}
	for (i = 0; i < 64 * 8; i++) {
		if (c.next >= c.r.span.nelems) {
			cache_put(&c);
			cache_get(&c, KGC_SPANCLASS(6, 0));
		}
		leaf[i] = cache_alloc(&c, 0);
	}
	cache_put(&c);
	/* root -> 10 mids (words 0..9); each mid -> 8 leaves. */
	for (i = 0; i < 10; i++)
		store(root, i, mid[i]);
	for (i = 0; i < 10; i++)
		for (j = 0; j < 8; j++)
			store(mid[i], j, leaf[i * 8 + j]);
	kgc_marker_destroy(&w);
	kgc_mark_destroy(&m);
	kgc_mark_init(&m, &h, &fake_ops, NULL);
	EXPECT_EQ(kgc_marker_init(&w, &m), 0);
	h.marking = true;
	host_fail_alloc_after = 0;	/* every work buffer allocation fails */
	kgc_mark_shade(&w, root);
	kgc_mark_drain(&w, -1);
	EXPECT(m.overflow);
	EXPECT(marked(root));
	EXPECT(!marked(mid[0]));
	host_fail_alloc_after = -1;
	while (m.overflow) {
		kgc_mark_rescan(&w);
		kgc_mark_drain(&w, -1);
	}
	for (i = 0; i < 10; i++)
		all &= marked(mid[i]);
	for (i = 0; i < 80; i++)
		all &= marked(leaf[i]);
	EXPECT(all);
	finish_cycle();
	teardown();
}

/*
 * Allocate-black and spans cached across a cycle: objects an mcache takes
 * after its safepoint survive the cycle unmarked; white objects it took
 * before are freed when unmarked, also when the span only comes back after
 * the cycle ended.
 */
static void test_cached_span_across_cycle(void)
{
	struct cache c;
	u64 before_live, before_dead, after;
	struct kgc_span *s;

	setup();
	cache_get(&c, KGC_SPANCLASS(2, 0));
	before_live = cache_alloc(&c, 0);
	before_dead = cache_alloc(&c, 0);
	s = mark_start(&c);
	after = cache_alloc(&c, 0);
	kgc_mark_shade(&w, before_live);
	kgc_mark_drain(&w, -1);
	finish_cycle();		/* the span is still cached: partly swept */
	/* A dead object the mcache took was freed: the span needs zeroing. */
	mutex_lock(&h.lock);
	EXPECT(s->needzero);
	mutex_unlock(&h.lock);
	cache_put(&c);		/* and comes back now */
	EXPECT(allocated(before_live));
	EXPECT(!allocated(before_dead));
	EXPECT(allocated(after));
	teardown();
}

/*
 * A span held across mark termination and given back before the
 * background sweep reached it is swept on return: the objects its mcache
 * allocated black, and those allocated after the cycle, must survive.
 * (Recording the mcache's allocations before that sweep freed them all.)
 */
static void test_cached_span_returned_before_sweep(void)
{
	struct cache c;
	u64 white_live, white_dead, black, after;

	setup();
	cache_get(&c, KGC_SPANCLASS(2, 0));
	white_live = cache_alloc(&c, 0);
	white_dead = cache_alloc(&c, 0);
	mark_start(&c);
	black = cache_alloc(&c, 0);
	kgc_mark_shade(&w, white_live);
	kgc_mark_drain(&w, -1);
	/* Mark termination without the background sweep. */
	mutex_lock(&h.lock);
	h.marking = false;
	h.sweepgen += 2;
	mutex_unlock(&h.lock);
	after = cache_alloc(&c, 0);
	cache_put(&c);
	EXPECT(allocated(white_live));
	EXPECT(!allocated(white_dead));
	EXPECT(allocated(black));
	EXPECT(allocated(after));
	kgc_sweep_all(&h);
	EXPECT(allocated(black));
	EXPECT(allocated(after));
	teardown();
}

/*
 * Spans handed out while marking allocate black; returned during the
 * cycle, their new objects carry mark bits and survive the sweep.
 */
static void test_allocate_black_span(void)
{
	struct cache c;
	u64 a, b;

	setup();
	h.marking = true;
	cache_get(&c, KGC_SPANCLASS(5, 1));
	a = cache_alloc(&c, 0);
	b = cache_alloc(&c, 0);
	cache_put(&c);
	EXPECT(marked(a));
	EXPECT(marked(b));
	finish_cycle();
	EXPECT(allocated(a));
	EXPECT(allocated(b));
	/* Next cycle nothing references them. */
	finish_cycle();
	EXPECT(!allocated(a));
	EXPECT_EQ(h.nr_spans, 0);
	teardown();
}

/*
 * An object the mcache allocated black is black already: shading it takes
 * no scan (what it points to was shaded when stored, or is reachable in
 * the snapshot), so a white object only it points to stays white.
 */
static void test_black_alloc_not_scanned(void)
{
	struct cache old, c;
	u64 x, b;

	setup();
	cache_get(&old, KGC_SPANCLASS(2, 0));
	x = cache_alloc(&old, 0);
	cache_put(&old);
	h.marking = true;
	cache_get(&c, KGC_SPANCLASS(3, 0));	/* after the stack scan */
	b = cache_alloc(&c, 0x1);
	store(b, 0, x);
	EXPECT(!kgc_mark_shade(&w, b));		/* black: nothing to do */
	EXPECT(kgc_mark_drain(&w, -1));
	EXPECT_EQ(w.objects, 0);
	EXPECT(!marked(x));
	EXPECT(kgc_mark_is_marked(kgc_mheap_span_of(&h, b),
				  (b - c.r.span.base) / c.r.span.elemsize,
				  false));
	cache_put(&c);
	EXPECT(marked(b));			/* its return marks it */
	teardown();
}

/*
 * A span from the partial set holds older objects above the index from
 * which its mcache allocates black. They are not black: shaded, they are
 * scanned like any white object. (Taking every object from black_from on
 * as black lost what they point to.)
 */
static void test_old_object_in_black_span_is_scanned(void)
{
	struct cache c;
	u64 a[10];
	struct kgc_span *s;
	int i;

	setup();
	cache_get(&c, KGC_SPANCLASS(2, 0));
	for (i = 0; i < 10; i++)
		a[i] = cache_alloc(&c, 0x1);
	store(a[5], 0, a[7]);
	cache_put(&c);
	h.marking = true;
	EXPECT(kgc_mark_shade(&w, a[5]));
	EXPECT(kgc_mark_drain(&w, -1));
	finish_cycle();				/* a[5] and a[7] survive */
	EXPECT(allocated(a[5]) && allocated(a[7]) && !allocated(a[6]));

	h.marking = true;
	cache_get(&c, KGC_SPANCLASS(2, 0));	/* the partial span, black */
	EXPECT_EQ(c.r.span.base, a[0]);
	mutex_lock(&h.lock);
	s = kgc_mheap_span_of(&h, a[0]);
	EXPECT_EQ(s->black_from, 0);
	mutex_unlock(&h.lock);
	EXPECT(!kgc_mark_is_marked(s, 5, false));
	EXPECT(kgc_mark_shade(&w, a[5]));
	EXPECT(kgc_mark_drain(&w, -1));
	EXPECT(marked(a[5]));
	EXPECT(marked(a[7]));			/* found through a[5] */
	cache_put(&c);
	finish_cycle();
	EXPECT(allocated(a[5]) && allocated(a[7]));
	teardown();
}

/*
 * A span handed out while marking to a thread whose stack is not scanned
 * yet allocates white: the scan (or the barrier) finds what is live, and
 * what is not is swept.
 */
static void test_white_span_before_stack_scan(void)
{
	struct cache c;
	u64 live, dead;
	struct kgc_span *s;

	setup();
	h.marking = true;
	memset(&c, 0, sizeof(c));
	c.r.spanclass = KGC_SPANCLASS(2, 0);
	EXPECT_EQ(kgc_mheap_refill_for(&h, &c.r, NULL, false), 0);
	c.next = c.r.span.freeindex;
	mutex_lock(&h.lock);
	s = kgc_mheap_span_of(&h, c.r.span.base);
	EXPECT_EQ(s->black_from, KGC_NO_BLACK);
	mutex_unlock(&h.lock);
	live = cache_alloc(&c, 0);
	dead = cache_alloc(&c, 0);
	EXPECT(kgc_mark_shade(&w, live));	/* the stack scan finds it */
	EXPECT(kgc_mark_drain(&w, -1));
	cache_put(&c);
	EXPECT(marked(live));
	EXPECT(!marked(dead));
	finish_cycle();
	EXPECT(allocated(live));
	EXPECT(!allocated(dead));
	teardown();
}

/*
 * The marker reads span states without the heap lock while mcaches give
 * spans back and take them again: a span holding objects must never look
 * dead to it, or the shades of its objects are dropped (kgc_span_live()).
 * One thread returns and retakes the span of some live objects over and
 * over; this one shades them and checks that every shade marks.
 */
struct churn {
	u64 base;
	u32 freeindex;
	volatile bool stop;
};

static void *churn_fn(void *arg)
{
	struct churn *ch = arg;

	while (!ch->stop) {
		struct kgc_refill r = {
			.put_base = ch->base, .put_freeindex = ch->freeindex,
			.spanclass = KGC_SPANCLASS(2, 0),
		};

		if (kgc_mheap_refill(&h, &r) || r.span.base != ch->base)
			abort();
		ch->freeindex = r.span.freeindex;
	}
	return NULL;
}

static void test_shade_while_span_returns(void)
{
	struct churn ch = { 0 };
	struct cache c;
	u64 a[16];
	unsigned int round, missed = 0;
	pthread_t t;
	int i;

	setup();
	cache_get(&c, KGC_SPANCLASS(2, 0));
	for (i = 0; i < 16; i++)
		a[i] = cache_alloc(&c, 0);
	ch.base = c.r.span.base;
	ch.freeindex = c.next;
	h.marking = true;
	if (pthread_create(&t, NULL, churn_fn, &ch))
		abort();
	for (round = 0; round < 200000; round++) {
		mutex_lock(&h.lock);
		bitmap_zero(kgc_mheap_span_of(&h, a[0])->markbits,
			    KGC_SPAN_MAX_OBJS);
		mutex_unlock(&h.lock);
		for (i = 0; i < 16; i++)
			kgc_mark_shade(&w, a[i]);
		for (i = 0; i < 16; i++)
			missed += !marked(a[i]);
		kgc_mark_drain(&w, -1);
	}
	ch.stop = true;
	pthread_join(t, NULL);
	EXPECT_EQ(missed, 0);
	teardown();
}

#define TEST(name, warnings)	{ #name, test_##name, warnings }
static const struct tap_test tests[] = {
	TEST(list_reachable_and_garbage, 0),
	TEST(bitmap_noscan_and_conservative, 0),
	TEST(candidates_are_validated, 0),
	TEST(large_object_oblets, 0),
	TEST(overflow_rescan, 0),
	TEST(cached_span_across_cycle, 0),
	TEST(cached_span_returned_before_sweep, 0),
	TEST(allocate_black_span, 0),
	TEST(black_alloc_not_scanned, 0),
	TEST(old_object_in_black_span_is_scanned, 0),
	TEST(white_span_before_stack_scan, 0),
	TEST(shade_while_span_returns, 0),
};

int main(void)
{
	return tap_main(tests, ARRAY_SIZE(tests));
}
