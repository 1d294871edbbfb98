// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * roots.c - registered root ranges (globals and other non-heap memory that
 * holds pointers to heap objects).
 *
 * The table is kept by the library, sorted by start address, in one array
 * (binary search for overlaps and removal; ranges are few and registered
 * rarely). Each range is either precise (a private copy of the caller's
 * bitmap, one bit per 8-byte word) or conservative (ptrmap NULL: every word
 * may be a pointer). The collector will hand the table to the marker
 * (kgc_roots_foreach()); thread stacks are not in it, they come from the
 * thread list.
 *
 * Locking: roots_lock protects the table; it nests inside kgc_heap.lock
 * (kgc_shutdown() clears the table while holding it).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/**
 * struct kgc_root - one registered range
 * @start: first byte, 8-byte aligned
 * @len: bytes, multiple of 8
 * @ptrmap: one bit per word (copy), or NULL for conservative
 */
struct kgc_root {
	uintptr_t start;
	size_t len;
	uint64_t *ptrmap;
};

static pthread_mutex_t roots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kgc_root *roots;
static size_t nroots, roots_cap;

/* Index of the first range starting at or above @start. Lock held. */
static size_t roots_search(uintptr_t start)
{
	size_t lo = 0, hi = nroots;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (roots[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool ranges_overlap(uintptr_t a, size_t alen, uintptr_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

KGC_EXPORT int kgc_add_roots(void *start, size_t len, const uint64_t *ptrmap)
{
	uintptr_t s = (uintptr_t)start;
	uint64_t *map = NULL;
	size_t i, words;
	int err;

	if (!kgc_heap_ready())
		return kgc_err_noheap("kgc_add_roots");
	if (!start || !len || s % KGC_WORD_SIZE || len % KGC_WORD_SIZE ||
	    s + len < s)
		return kgc_seterr(EINVAL,
			"kgc: kgc_add_roots(%p, %zu): a root range must be 8-byte aligned and a non-zero multiple of 8 bytes long",
			start, len);
	if (ranges_overlap(s, len, kgc_heap.arena_start,
			   kgc_heap.arena_end - kgc_heap.arena_start) ||
	    ranges_overlap(s, len, (uintptr_t)kgc_heap.bitmap,
			   kgc_heap.bitmap_len))
		return kgc_seterr(EINVAL,
			"kgc: kgc_add_roots(%p, %zu): the range is inside the kgc heap, whose objects are scanned by their own pointer bits",
			start, len);
	if (ptrmap) {
		size_t nw = len / KGC_WORD_SIZE;

		words = (nw + 63) / 64;
		map = malloc(words * sizeof(*map));
		if (!map)
			return kgc_seterr(ENOMEM,
				"kgc: kgc_add_roots: no memory for a %zu-word bitmap",
				words);
		memcpy(map, ptrmap, words * sizeof(*map));
		if (nw % 64)
			map[words - 1] &= (1ULL << (nw % 64)) - 1;
	}

	pthread_mutex_lock(&roots_lock);
	i = roots_search(s);
	if ((i > 0 && ranges_overlap(roots[i - 1].start, roots[i - 1].len,
				     s, len)) ||
	    (i < nroots && ranges_overlap(roots[i].start, roots[i].len,
					  s, len))) {
		err = kgc_seterr(EEXIST,
			"kgc: kgc_add_roots(%p, %zu): overlaps a registered root range",
			start, len);
		goto err_unlock;
	}
	if (nroots == roots_cap) {
		size_t cap = roots_cap ? roots_cap * 2 : 16;
		struct kgc_root *r = realloc(roots, cap * sizeof(*r));

		if (!r) {
			err = kgc_seterr(ENOMEM,
				"kgc: kgc_add_roots: no memory for %zu root ranges",
				cap);
			goto err_unlock;
		}
		roots = r;
		roots_cap = cap;
	}
	memmove(&roots[i + 1], &roots[i], (nroots - i) * sizeof(*roots));
	roots[i].start = s;
	roots[i].len = len;
	roots[i].ptrmap = map;
	nroots++;
	pthread_mutex_unlock(&roots_lock);
	return 0;

err_unlock:
	pthread_mutex_unlock(&roots_lock);
	free(map);
	return err;
}

KGC_EXPORT int kgc_remove_roots(void *start)
{
	uintptr_t s = (uintptr_t)start;
	size_t i;

	if (!kgc_heap_ready())
		return kgc_err_noheap("kgc_remove_roots");
	pthread_mutex_lock(&roots_lock);
	i = roots_search(s);
	if (i == nroots || roots[i].start != s) {
		pthread_mutex_unlock(&roots_lock);
		return kgc_seterr(ENOENT,
			"kgc: kgc_remove_roots(%p): no root range starts there",
			start);
	}
	free(roots[i].ptrmap);
	memmove(&roots[i], &roots[i + 1], (nroots - i - 1) * sizeof(*roots));
	nroots--;
	pthread_mutex_unlock(&roots_lock);
	return 0;
}

/**
 * kgc_roots_foreach() - call @fn for each range, in address order
 * @fn: callback; a non-zero return stops the walk
 * @arg: passed to @fn
 *
 * Return: the first non-zero return of @fn, or 0.
 */
int kgc_roots_foreach(int (*fn)(uintptr_t start, size_t len,
				const uint64_t *ptrmap, void *arg),
		      void *arg)
{
	int ret = 0;
	size_t i;

	pthread_mutex_lock(&roots_lock);
	for (i = 0; i < nroots && !ret; i++)
		ret = fn(roots[i].start, roots[i].len, roots[i].ptrmap, arg);
	pthread_mutex_unlock(&roots_lock);
	return ret;
}

void kgc_roots_count(uint64_t *nr, uint64_t *bytes)
{
	size_t i;

	pthread_mutex_lock(&roots_lock);
	*nr = nroots;
	*bytes = 0;
	for (i = 0; i < nroots; i++)
		*bytes += roots[i].len;
	pthread_mutex_unlock(&roots_lock);
}

/* Free every range. roots_lock held. */
static void roots_free_all(void)
{
	size_t i;

	for (i = 0; i < nroots; i++)
		free(roots[i].ptrmap);
	free(roots);
	roots = NULL;
	nroots = 0;
	roots_cap = 0;
}

/* Forget every range (kgc_shutdown()). */
void kgc_roots_clear(void)
{
	pthread_mutex_lock(&roots_lock);
	roots_free_all();
	pthread_mutex_unlock(&roots_lock);
}

void kgc_roots_atfork_prepare(void)
{
	pthread_mutex_lock(&roots_lock);
}

void kgc_roots_atfork_parent(void)
{
	pthread_mutex_unlock(&roots_lock);
}

/* In the child: @forget the parent's ranges when its heap is gone. */
void kgc_roots_atfork_child(bool forget)
{
	if (forget)
		roots_free_all();
	pthread_mutex_unlock(&roots_lock);
}
