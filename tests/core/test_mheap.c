// SPDX-License-Identifier: GPL-2.0
/*
 * test_mheap.c - host tests of the heap's span life cycle (mheap.c,
 * central.c, span.c, sizeclass.c) under ASan/UBSan.
 *
 * The centrepiece is a random walk against a model: thousands of refills,
 * partial and full returns, discards, large allocations and frees, with bad
 * requests mixed in. After every step the test checks what user space relies
 * on: no two live spans or large objects overlap, a span comes back with
 * exactly the objects that were allocated in it, every bad request fails
 * with EINVAL and changes nothing, and the stats add up.
 */
#include "tap.h"
#include "mheap.h"
#include "sizeclass.h"

#define BASE	0x7f0000000000ULL
#define MAXLIVE	256

/* What the model remembers of a span or large object user space holds. */
struct live {
	u64 base;
	u64 len;
	u32 spanclass;		/* KGC_NO_SPANCLASS for a large object */
	u32 freeindex;
	u32 nelems;
	u64 allocbits[KGC_ALLOC_WORDS];
};

static struct live live[MAXLIVE];
static int nlive;

static int get(struct kgc_mheap *h, u32 sc, struct kgc_refill *r)
{
	memset(r, 0, sizeof(*r));
	r->spanclass = sc;
	return kgc_mheap_refill(h, r);
}

static int put(struct kgc_mheap *h, u64 base, u32 fi, u32 flags)
{
	struct kgc_refill r = {
		.put_base = base, .put_freeindex = fi,
		.spanclass = KGC_NO_SPANCLASS, .flags = flags,
	};

	return kgc_mheap_refill(h, &r);
}

static bool overlaps_live(u64 base, u64 len)
{
	int i;

	for (i = 0; i < nlive; i++)
		if (base < live[i].base + live[i].len &&
		    live[i].base < base + len)
			return true;
	return false;
}

static void check_stats(struct kgc_mheap *h)
{
	struct kgc_stats st = { 0 };
	u64 inuse = 0, cached = 0, large = 0;

	kgc_mheap_stats(h, &st);
	EXPECT_EQ(st.heap_inuse + st.heap_idle, st.heap_sys);
	EXPECT(st.heap_released <= st.heap_idle);
	for (int i = 0; i < nlive; i++) {
		if (live[i].spanclass == KGC_NO_SPANCLASS) {
			large++;
			inuse += live[i].len;
		} else {
			cached++;
		}
	}
	EXPECT_EQ(st.spans_cached, cached);
	EXPECT_EQ(st.large_objects, large);
	EXPECT(st.heap_inuse >= inuse);
}

/* The sizes the kernel reports match the shared table, for every class. */
static void test_class_geometry(void)
{
	struct kgc_mheap h;
	struct kgc_refill r;
	u32 sc;

	ASSERT(!kgc_mheap_init(&h, BASE, 4 * KGC_ARENA_PAGES));
	for (sc = 2; sc < KGC_NR_SPANCLASSES; sc++) {
		u32 c = KGC_SPANCLASS_SIZECLASS(sc);

		EXPECT_EQ(get(&h, sc, &r), 0);
		EXPECT_EQ(r.span.elemsize, kgc_class_size[c]);
		EXPECT_EQ(r.span.npages, kgc_class_npages[c]);
		EXPECT_EQ(r.span.nelems, kgc_class_nelems(c));
		EXPECT_EQ(r.span.base % KGC_PAGE_SIZE, 0);
	}
	kgc_mheap_destroy(&h);
}

/* A put of a span twice, or of a span handed to nobody, is refused. */
static void test_double_and_foreign_put(void)
{
	struct kgc_mheap h, other;
	struct kgc_refill r;

	ASSERT(!kgc_mheap_init(&h, BASE, KGC_ARENA_PAGES));
	ASSERT(!kgc_mheap_init(&other, BASE + (1ULL << 32), KGC_ARENA_PAGES));
	ASSERT(get(&other, KGC_SPANCLASS(3, 0), &r) == 0);
	EXPECT_EQ(put(&h, r.span.base, 0, 0), -EINVAL);
	ASSERT(get(&h, KGC_SPANCLASS(3, 0), &r) == 0);
	EXPECT_EQ(put(&h, r.span.base, 1, 0), 0);
	EXPECT_EQ(put(&h, r.span.base, 1, 0), -EINVAL);
	kgc_mheap_destroy(&other);
	kgc_mheap_destroy(&h);
}

/*
 * The batched refill's entry points: kgc_mheap_take() hands out distinct
 * spans of the class until the heap is full, kgc_mheap_untake() makes one
 * as if never handed out, kgc_mheap_put() gives a batch back and stops at
 * the first bad entry (keeping what came before it), and
 * kgc_mheap_refill_valid() refuses every malformed batch.
 */
static const struct batch_case {
	u32 spanclass, more_max, nputs, resv2;
	u64 more, puts;
	int want;
} batch_cases[] = {
	{ KGC_SPANCLASS(5, 0), 0, 0, 0, 0, 0, 0 },
	{ KGC_SPANCLASS(5, 0), KGC_REFILL_MORE_MAX + 1, 0, 0, 0x1000, 0,
	  -EINVAL },
	{ KGC_SPANCLASS(5, 0), 1, 0, 0, 0, 0, -EINVAL },	/* no buffer */
	{ KGC_SPANCLASS(5, 0), 1, 0, 0, 0x1000, 0, 0 },
	{ KGC_SPANCLASS(5, 0), 1, KGC_REFILL_PUTS_MAX + 1, 0, 0x1000, 0x2000,
	  -EINVAL },
	{ KGC_SPANCLASS(5, 0), 1, 1, 0, 0x1000, 0, -EINVAL },	/* no buffer */
	{ KGC_SPANCLASS(5, 0), 1, 1, 0, 0x1000, 0x2000, 0 },
	{ KGC_SPANCLASS(5, 0), 1, 1, 1, 0x1000, 0x2000, -EINVAL },
	/* More spans of no class; puts alone are fine. */
	{ KGC_NO_SPANCLASS, 1, 1, 0, 0x1000, 0x2000, -EINVAL },
	{ KGC_NO_SPANCLASS, 0, 1, 0, 0, 0x2000, 0 },
};

static void test_batch_take_untake_put(void)
{
	const u32 sc = KGC_SPANCLASS(5, 0);
	struct kgc_span_mark m[4];
	struct kgc_span_desc d[8], again;
	struct kgc_refill r;
	struct kgc_stats st = { 0 };
	struct kgc_mheap h;
	int i, j, n;

	ASSERT(!kgc_mheap_init(&h, BASE, KGC_ARENA_PAGES));
	for (i = 0; i < 8; i++) {
		ASSERT(kgc_mheap_take(&h, sc, NULL, false, &d[i]) == 0);
		EXPECT_EQ(d[i].nelems, kgc_class_nelems(5));
		EXPECT_EQ(d[i].freeindex, 0);
		for (j = 0; j < i; j++)
			EXPECT(d[j].base != d[i].base);
	}
	kgc_mheap_stats(&h, &st);
	EXPECT_EQ(st.spans_cached, 8);

	/* Untaken: not cached any more, and handed out again. */
	kgc_mheap_untake(&h, d[7].base, d[7].freeindex);
	kgc_mheap_stats(&h, &st);
	EXPECT_EQ(st.spans_cached, 7);
	ASSERT(kgc_mheap_take(&h, sc, NULL, false, &again) == 0);
	EXPECT_EQ(again.base, d[7].base);
	EXPECT_EQ(again.freeindex, 0);

	/* A batch with a bad third entry: the first two go back. */
	m[0] = (struct kgc_span_mark){ .base = d[0].base, .freeindex = 3 };
	m[1] = (struct kgc_span_mark){ .base = d[1].base,
				       .freeindex = d[1].nelems };
	m[2] = (struct kgc_span_mark){ .base = d[2].base,
				       .freeindex = d[2].nelems + 1 };
	m[3] = (struct kgc_span_mark){ .base = d[3].base, .freeindex = 1 };
	EXPECT_EQ(kgc_mheap_put(&h, m, 4, false), -EINVAL);
	kgc_mheap_stats(&h, &st);
	EXPECT_EQ(st.spans_cached, 6);
	/* A given-back span cannot be given back twice; reserved must be 0. */
	EXPECT_EQ(kgc_mheap_put(&h, m, 1, false), -EINVAL);
	m[2].freeindex = 0;
	m[2].resv = 1;
	EXPECT_EQ(kgc_mheap_put(&h, &m[2], 1, false), -EINVAL);
	m[2].resv = 0;
	EXPECT_EQ(kgc_mheap_put(&h, &m[2], 2, false), 0);
	kgc_mheap_stats(&h, &st);
	EXPECT_EQ(st.spans_cached, 4);

	/* The partly used span comes back with its 3 objects allocated. */
	for (n = 0; n < 16; n++) {
		ASSERT(kgc_mheap_take(&h, sc, NULL, false, &again) == 0);
		if (again.base == d[0].base)
			break;
	}
	EXPECT_EQ(again.base, d[0].base);
	EXPECT_EQ(again.freeindex, 3);

	/* Batch fields, each case from a zeroed request. */
	for (i = 0; i < (int)ARRAY_SIZE(batch_cases); i++) {
		const struct batch_case *c = &batch_cases[i];

		memset(&r, 0, sizeof(r));
		r.spanclass = c->spanclass;
		r.more_max = c->more_max;
		r.more = c->more;
		r.nputs = c->nputs;
		r.puts = c->puts;
		r.resv2 = c->resv2;
		EXPECT_EQ(kgc_mheap_refill_valid(&r), c->want);
	}
	kgc_mheap_destroy(&h);
}

/* Init refuses bad sizes and unwinds cleanly when allocation fails. */
static void test_init_errors(void)
{
	struct kgc_mheap h;
	int i, ret = -ENOMEM;

	EXPECT_EQ(kgc_mheap_init(&h, BASE, 0), -EINVAL);
	EXPECT_EQ(kgc_mheap_init(&h, BASE, KGC_ARENA_PAGES + 1), -EINVAL);
	for (i = 0; i < 8 && ret; i++) {
		host_fail_alloc_after = i;
		ret = kgc_mheap_init(&h, BASE, KGC_ARENA_PAGES);
		host_fail_alloc_after = -1;
		if (!ret)
			kgc_mheap_destroy(&h);
		else
			EXPECT_EQ(ret, -ENOMEM);
	}
	EXPECT_EQ(ret, 0);
}

/* Allocation failure while growing: ENOMEM, and the heap stays usable. */
static void test_grow_failure(void)
{
	struct kgc_mheap h;
	struct kgc_refill r;

	ASSERT(!kgc_mheap_init(&h, BASE, 2 * KGC_ARENA_PAGES));
	host_fail_alloc_after = 1;	/* the span succeeds, the arena fails */
	EXPECT_EQ(get(&h, KGC_SPANCLASS(1, 0), &r), -ENOMEM);
	host_fail_alloc_after = -1;
	EXPECT_EQ(h.narenas, 0);
	EXPECT_EQ(get(&h, KGC_SPANCLASS(1, 0), &r), 0);
	EXPECT_EQ(h.narenas, 1);
	kgc_mheap_destroy(&h);
}

static void random_step(struct kgc_mheap *h)
{
	unsigned long long op = rnd() % 100;
	struct kgc_refill r;
	int i, ret;

	if (op < 35 && nlive < MAXLIVE) {
		u32 sc = 2 + rnd() % (KGC_NR_SPANCLASSES - 2);

		ret = get(h, sc, &r);
		if (ret) {
			EXPECT_EQ(ret, -ENOMEM);
			return;
		}
		EXPECT(!overlaps_live(r.span.base,
				      (u64)r.span.npages * KGC_PAGE_SIZE));
		live[nlive] = (struct live){
			.base = r.span.base,
			.len = (u64)r.span.npages * KGC_PAGE_SIZE,
			.spanclass = sc, .freeindex = r.span.freeindex,
			.nelems = r.span.nelems,
		};
		memcpy(live[nlive].allocbits, r.span.allocbits,
		       sizeof(r.span.allocbits));
		/* Everything below freeindex is allocated. */
		for (u32 k = 0; k < r.span.freeindex; k++)
			EXPECT(r.span.allocbits[k / 64] & (1ULL << (k % 64)));
		nlive++;
	} else if (op < 70 && nlive) {
		struct live *l;
		u32 fi, flags = 0;

		i = rnd() % nlive;
		l = &live[i];
		if (l->spanclass == KGC_NO_SPANCLASS) {
			EXPECT_EQ(kgc_mheap_free(h, l->base), 0);
		} else {
			fi = l->freeindex + rnd() % (l->nelems - l->freeindex + 1);
			if (rnd() % 8 == 0)
				flags = KGC_REFILL_DISCARD;
			/* Bad variants first: they must change nothing. */
			if (l->freeindex)
				EXPECT_EQ(put(h, l->base, l->freeindex - 1, 0),
					  -EINVAL);
			EXPECT_EQ(put(h, l->base, l->nelems + 1, 0), -EINVAL);
			EXPECT_EQ(put(h, l->base + 16, fi, 0), -EINVAL);
			EXPECT_EQ(put(h, l->base, fi, flags), 0);
			EXPECT_EQ(put(h, l->base, fi, flags), -EINVAL);
		}
		live[i] = live[--nlive];
	} else if (op < 85 && nlive < MAXLIVE) {
		struct kgc_large lg = {
			.size = KGC_MAX_SMALL_SIZE + 1 + rnd() % (4 << 20),
			.flags = rnd() & 1,
		};
		bool nz;

		ret = kgc_mheap_alloc_large(h, &lg, &nz, true);
		if (ret) {
			EXPECT_EQ(ret, -ENOMEM);
			return;
		}
		EXPECT_EQ(lg.npages, DIV_ROUND_UP(lg.size, KGC_PAGE_SIZE));
		EXPECT(!overlaps_live(lg.addr, lg.npages * KGC_PAGE_SIZE));
		live[nlive++] = (struct live){
			.base = lg.addr, .len = lg.npages * KGC_PAGE_SIZE,
			.spanclass = KGC_NO_SPANCLASS,
		};
	} else {
		/* Garbage from user space. */
		u64 addr = BASE + rnd() % (64ULL << 20);

		for (i = 0; i < nlive; i++)
			if (live[i].base == addr)
				return;
		EXPECT_EQ(put(h, addr, 0, 0), -EINVAL);
		EXPECT_EQ(kgc_mheap_free(h, addr), -EINVAL);
		EXPECT_EQ(get(h, (u32)rnd() % 2, &r), -EINVAL);
	}
}

/* The random walk against the model (seed: KGC_SEED). */
static void test_random_walk_matches_model(void)
{
	struct kgc_mheap h;
	int step;

	nlive = 0;
	ASSERT(!kgc_mheap_init(&h, BASE, 3 * KGC_ARENA_PAGES));
	for (step = 0; step < 20000 && !tap_failures; step++) {
		random_step(&h);
		if (step % 97 == 0)
			check_stats(&h);
	}
	check_stats(&h);
	printf("# %d steps, %d objects live at the end, %lu arenas\n", step,
	       nlive, h.narenas);
	/* Destroy with spans still cached: ASan checks nothing leaks. */
	kgc_mheap_destroy(&h);
}

#define TEST(name, warnings)	{ #name, test_##name, warnings }
static const struct tap_test tests[] = {
	TEST(class_geometry, 0),
	TEST(double_and_foreign_put, 0),
	TEST(batch_take_untake_put, 0),
	TEST(init_errors, 0),
	TEST(grow_failure, 0),
	TEST(random_walk_matches_model, 0),
};

int main(void)
{
	tap_seed(0x9e3779b97f4a7c15ULL);
	return tap_main(tests, ARRAY_SIZE(tests));
}
