// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_pages.c - libFuzzer target for the page heap (kmod/pages.c).
 *
 * The input is a program: two bytes pick the reservation (up to three
 * arenas and a bit, so chunk, arena and limit edges all come up), then each
 * operation takes an opcode byte and two 16-bit arguments: allocate, free a
 * held run (whole or its upper part), grow (optionally with an allocation
 * failure injected), find resident pages and scavenge them (optionally through
 * the reserve-release protocol), allocate a given range, or free a run that
 * is not allocated (which must warn and change nothing). The same operations
 * run on a naive one-byte-per-page model; any difference, a failed
 * kgc_pageheap_check() or an unexpected warning aborts.
 *
 *	make -C tests/core fuzz-run FUZZ_SECONDS=60
 */
#include "pages.h"

#define ARENA	KGC_ARENA_PAGES
#define CHUNK	KGC_CHUNK_PAGES

enum { M_USED, M_RES, M_SCAV };

struct held {
	unsigned long base, n;
};

static struct {
	struct kgc_pageheap ph;
	unsigned long max, limit;
	unsigned char *st;
	struct held held[256];
	unsigned long nheld;
	int warnings;
} f;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_pages: %s:%d: %s\n", __FILE__,	\
			__LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static unsigned long count(unsigned long base, unsigned long n, int state)
{
	unsigned long i, c = 0;

	for (i = base; i < base + n; i++)
		c += f.st[i] == state;
	return c;
}

static bool valid(unsigned long base, unsigned long n)
{
	return n && base < f.limit && n <= f.limit - base;
}

static long model_alloc(unsigned long n, unsigned long *nscav)
{
	unsigned long p, run = 0;

	for (p = 0; p < f.limit; p++) {
		run = f.st[p] == M_USED ? 0 : run + 1;
		if (run == n) {
			*nscav = count(p + 1 - n, n, M_SCAV);
			memset(f.st + p + 1 - n, M_USED, n);
			return p + 1 - n;
		}
	}
	return -ENOMEM;
}

static long model_find_resident(unsigned long maxn, unsigned long *n)
{
	unsigned long p = f.limit, top;

	*n = 0;
	while (p && f.st[p - 1] != M_RES)
		p--;
	if (!p || !maxn)
		return -ENOENT;
	top = p - 1;
	while (p && f.st[p - 1] == M_RES && (p - 1) / CHUNK == top / CHUNK &&
	       *n < maxn) {
		p--;
		(*n)++;
	}
	return top + 1 - *n;
}

static void compare(bool full)
{
	unsigned long p, run = 0, best = 0, nfree = 0, nscav = 0, tail;

	for (p = 0; p < f.limit; p++) {
		run = f.st[p] == M_USED ? 0 : run + 1;
		best = max(best, run);
		nfree += f.st[p] != M_USED;
		nscav += f.st[p] == M_SCAV;
		if (full)
			CHECK(kgc_pageheap_is_free(&f.ph, p, 1) ==
			      (f.st[p] != M_USED));
	}
	for (tail = 0; tail < f.limit && f.st[f.limit - 1 - tail] != M_USED;)
		tail++;
	CHECK(kgc_pageheap_limit(&f.ph) == f.limit);
	CHECK(kgc_pageheap_largest_free(&f.ph) == best);
	CHECK(kgc_pageheap_tail_free(&f.ph) == tail);
	CHECK(kgc_pageheap_free_pages(&f.ph) == nfree);
	CHECK(kgc_pageheap_scav_pages(&f.ph) == nscav);
	CHECK(host_warnings == f.warnings);
	if (full)
		CHECK(kgc_pageheap_check(&f.ph) == 0);
}

static void op_alloc(unsigned int a, unsigned int b)
{
	unsigned long n, nscav = 0, mscav = 0;
	long got, want;

	/* Mostly small runs, sometimes up to the whole reservation. */
	n = b & 1 ? 1 + a % f.max : 1 + a % 64;
	got = kgc_pageheap_alloc(&f.ph, n, &nscav);
	want = model_alloc(n, &mscav);
	CHECK(got == want);
	CHECK(nscav == mscav);
	if (got < 0)
		return;
	if (f.nheld < ARRAY_SIZE(f.held)) {
		f.held[f.nheld++] = (struct held){ got, n };
	} else {
		kgc_pageheap_free(&f.ph, got, n);
		memset(f.st + got, M_RES, n);
	}
}

static void op_free(unsigned int a, unsigned int b)
{
	struct held *h;
	unsigned long keep = 0;

	if (!f.nheld)
		return;
	h = &f.held[a % f.nheld];
	if (b & 1 && h->n > 1)
		keep = 1 + (b >> 1) % (h->n - 1);
	kgc_pageheap_free(&f.ph, h->base + keep, h->n - keep);
	memset(f.st + h->base + keep, M_RES, h->n - keep);
	if (keep)
		h->n = keep;
	else
		*h = f.held[--f.nheld];
}

static void op_grow(unsigned int a, unsigned int b)
{
	unsigned long limit = f.limit + a % (f.max / 2 + 2);
	int ret, want = 0;

	if (limit > f.max)
		want = -ENOSPC;
	if (b & 1)
		host_fail_alloc_after = (b >> 1) % 3;
	ret = kgc_pageheap_grow(&f.ph, limit);
	host_fail_alloc_after = -1;
	if (ret == -ENOMEM && want == 0 && b & 1)
		return;			/* injected: nothing may have changed */
	CHECK(ret == want);
	if (ret)
		return;
	memset(f.st + f.limit, M_SCAV, limit - f.limit);
	f.limit = limit;
}

static void op_scavenge(unsigned int a, unsigned int b)
{
	unsigned long n, mn, maxn = a % 1100;
	long got, want;

	got = kgc_pageheap_find_resident(&f.ph, maxn, &n);
	want = model_find_resident(maxn, &mn);
	CHECK(got == want);
	CHECK(n == mn);
	if (got < 0)
		return;
	if (b & 1) {
		/* Reserve, (release the memory unlocked), free, then mark. */
		CHECK(kgc_pageheap_alloc_range(&f.ph, got, n, NULL) == 0);
		memset(f.st + got, M_USED, n);
		compare(false);
		kgc_pageheap_free(&f.ph, got, n);
		memset(f.st + got, M_RES, n);
	}
	if (b & 2)
		n = 1 + (b >> 2) % n;	/* only part of it */
	CHECK(kgc_pageheap_scavenge(&f.ph, got, n) == n);
	memset(f.st + got, M_SCAV, n);
}

static void op_alloc_range(unsigned int a, unsigned int b)
{
	unsigned long base = a % (f.limit + 8), n = b % 1200, nscav = 0;
	int ret = kgc_pageheap_alloc_range(&f.ph, base, n, &nscav);

	if (!valid(base, n)) {
		CHECK(ret == -EINVAL);
	} else if (count(base, n, M_USED)) {
		CHECK(ret == -EBUSY);
	} else {
		CHECK(ret == 0);
		CHECK(nscav == count(base, n, M_SCAV));
		memset(f.st + base, M_USED, n);
		if (f.nheld < ARRAY_SIZE(f.held)) {
			f.held[f.nheld++] = (struct held){ base, n };
		} else {
			kgc_pageheap_free(&f.ph, base, n);
			memset(f.st + base, M_RES, n);
		}
	}
}

/* Free or scavenge a run that is not (wholly) allocated / free: a bug. */
static void op_bad(unsigned int a, unsigned int b)
{
	unsigned long base = a % (f.limit + 8), n = b % 700;

	if (b & 0x8000) {
		if (valid(base, n) && !count(base, n, M_USED))
			return;		/* a legal scavenge; not this op */
		CHECK(kgc_pageheap_scavenge(&f.ph, base, n) == 0);
	} else {
		if (valid(base, n) && count(base, n, M_USED) == n)
			return;		/* a legal free; not this op */
		kgc_pageheap_free(&f.ph, base, n);
	}
	f.warnings++;
}

/* libFuzzer's entry point; its name and signature are fixed. */
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	unsigned long ops = 0;

	if (size < 2)
		return 0;
	memset(&f, 0, sizeof(f));
	host_warnings = 0;
	host_fail_alloc_after = -1;
	f.max = 1 + (data[0] | data[1] << 8) % (3 * ARENA + 100);
	data += 2;
	size -= 2;
	CHECK(kgc_pageheap_init(&f.ph, f.max) == 0);
	f.st = calloc(f.max, 1);
	CHECK(f.st);

	for (; size >= 5; data += 5, size -= 5, ops++) {
		unsigned int a = data[1] | data[2] << 8;
		unsigned int b = data[3] | data[4] << 8;

		switch (data[0] % 10) {
		case 0: case 1: case 2:
			op_alloc(a, b);
			break;
		case 3: case 4:
			op_free(a, b);
			break;
		case 5:
			op_grow(a, b);
			break;
		case 6: case 7:
			op_scavenge(a, b);
			break;
		case 8:
			op_alloc_range(a, b);
			break;
		default:
			op_bad(a, b);
			break;
		}
		compare(ops % 32 == 31);
	}
	compare(true);
	kgc_pageheap_destroy(&f.ph);
	free(f.st);
	return 0;
}
