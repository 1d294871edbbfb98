// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * roots.c - root ranges: memory outside the heap whose pointers keep
 * objects alive (besides the stacks of attached threads).
 *
 * Two kinds, both registered with the kernel (KGC_IOC_ROOTS, which copies
 * the bitmap and reads the ranges itself at every cycle):
 *
 *  - automatic roots (like Boehm's data-segment roots): at kgc_init(), the
 *    writable PT_LOAD segments (.data, .bss) of every loaded object, found
 *    with dl_iterate_phdr(), conservatively, except the library's own
 *    state: the control area (ctlarea.c, which the kernel writes) and
 *    struct kgc_heap (which holds the heap's bounds). KGC_INIT_NOAUTOROOTS
 *    turns them off. Objects loaded later (dlopen()) are not added.
 *
 *  - ranges the program registers with kgc_add_roots(), kept here in a
 *    table sorted by address (overlaps between them are refused with
 *    EEXIST). The kernel refuses overlapping ranges, so the parts of a
 *    range already covered by an automatic root are not sent again: they
 *    stay conservative (the ptrmap is only a hint there). Each range
 *    remembers the pieces it was sent as, to remove them later.
 *
 * Changing roots while a cycle marks: the marker reads the roots once,
 * after every thread has acknowledged mark start. A range added or removed
 * afterwards must not hide an object, just as a pointer store must not
 * (the barrier), so while the phase is not OFF the range's heap pointers
 * are shaded first. The calling thread is attached and does this in a
 * library region, in which it cannot acknowledge a handshake: so if the
 * phase is OFF when it looks, no cycle can get to its root scan before the
 * change is done.
 *
 * Locking: roots_lock protects the table; it nests inside kgc_heap.lock
 * (kgc_shutdown() clears the table while holding it) and is taken outside
 * library regions.
 */
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Parts of a range sent to the kernel, at most (holes of auto roots + 1). */
#define KGC_ROOT_PIECES_MAX	64

/**
 * struct kgc_root - one range registered by the program
 * @start: first byte, 8-byte aligned
 * @len: bytes, multiple of 8
 * @ptrmap: one bit per word (copy), or NULL for conservative
 * @npieces: parts sent to the kernel
 * @pieces: their starts (the kernel's keys for removal)
 */
struct kgc_root {
	uintptr_t start;
	size_t len;
	uint64_t *ptrmap;
	unsigned int npieces;
	uintptr_t *pieces;
};

/* An automatic root: [start, end). */
struct kgc_auto_root {
	uintptr_t start;
	uintptr_t end;
};

static pthread_mutex_t roots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kgc_root *roots;
static size_t nroots, roots_cap;
static struct kgc_auto_root *auto_roots;
static size_t nauto;

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

/**
 * struct piece - a part of a range to send to the kernel
 * @start: first byte
 * @len: bytes
 * @map: its bitmap (a shifted copy), or NULL
 */
struct piece {
	uintptr_t start;
	size_t len;
	uint64_t *map;
};

static int piece_cmp(const void *a, const void *b)
{
	const struct kgc_auto_root *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * The parts of [@s, @s + @len) outside every automatic root, each with its
 * part of @ptrmap. Return the number of pieces, or -ENOMEM / -ENOSPC.
 */
static int roots_pieces(uintptr_t s, size_t len, const uint64_t *ptrmap,
			struct piece *p)
{
	uintptr_t cur = s, end = s + len;
	int n = 0, i;
	size_t a;

	/* auto_roots is sorted and disjoint. */
	for (a = 0; a <= nauto && cur < end; a++) {
		uintptr_t hole_end = a < nauto ? auto_roots[a].start : end;
		uintptr_t next = a < nauto ? auto_roots[a].end : end;

		if (hole_end > end)
			hole_end = end;
		if (hole_end > cur) {
			if (n == KGC_ROOT_PIECES_MAX)
				goto nospc;
			p[n].start = cur;
			p[n].len = hole_end - cur;
			p[n].map = NULL;
			n++;
		}
		if (next > cur)
			cur = next;
	}
	if (!ptrmap)
		return n;
	for (i = 0; i < n; i++) {
		size_t w0 = (p[i].start - s) / 8, nw = p[i].len / 8, w;

		p[i].map = calloc((nw + 63) / 64, sizeof(uint64_t));
		if (!p[i].map) {
			while (i--)
				free(p[i].map);
			return -ENOMEM;
		}
		for (w = 0; w < nw; w++)
			if (ptrmap[(w0 + w) / 64] >> ((w0 + w) % 64) & 1)
				p[i].map[w / 64] |= 1ULL << (w % 64);
	}
	return n;
nospc:
	return -ENOSPC;
}

static int roots_ioctl(struct kgc_thread *t, uintptr_t start, size_t len,
		       const uint64_t *map, bool remove)
{
	struct kgc_roots r;

	memset(&r, 0, sizeof(r));
	r.start = start;
	if (remove) {
		r.flags = KGC_ROOTS_REMOVE;
	} else {
		r.len = len;
		r.bitmap = (uintptr_t)map;
	}
	return kgc_sys_ioctl(t, KGC_IOC_ROOTS, &r);
}

/* While a cycle marks, shade what a root change could hide. In a region. */
static int roots_shade_if_marking(struct kgc_thread *t, uintptr_t s, size_t len)
{
	if (kgc_ctl_phase(kgc_ctl()) == KGC_PHASE_OFF)
		return 0;
	return kgc_shade_range(t, s, s + len);
}

KGC_EXPORT int kgc_add_roots(void *start, size_t len, const uint64_t *ptrmap)
{
	struct piece p[KGC_ROOT_PIECES_MAX];
	uintptr_t s = (uintptr_t)start, *starts = NULL;
	struct kgc_thread *t;
	uint64_t *map = NULL;
	size_t i, words;
	int err, np, k;

	if (!kgc_heap_ready())
		return kgc_err_noheap("kgc_add_roots");
	if (!start || !len || s % KGC_WORD_SIZE || len % KGC_WORD_SIZE ||
	    s + len < s)
		return kgc_seterr(EINVAL,
			"kgc: kgc_add_roots(%p, %zu): a root range must be 8-byte aligned and a non-zero multiple of 8 bytes long",
			start, len);
	if (len > KGC_MAX_ROOT_BYTES)
		return kgc_seterr(EINVAL,
			"kgc: kgc_add_roots(%p, %zu): a root range is at most %llu bytes",
			start, len, (unsigned long long)KGC_MAX_ROOT_BYTES);
	if (ranges_overlap(s, len, kgc_heap.arena_start,
			   kgc_heap.arena_end - kgc_heap.arena_start) ||
	    ranges_overlap(s, len, (uintptr_t)kgc_heap.bitmap,
			   kgc_heap.bitmap_len))
		return kgc_seterr(EINVAL,
			"kgc: kgc_add_roots(%p, %zu): the range is inside the kgc heap, whose objects are scanned by their own pointer bits",
			start, len);
	t = kgc_thread_get();
	if (!t)
		return -errno;
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
	np = roots_pieces(s, len, map, p);
	if (np < 0) {
		err = kgc_seterr(-np, "kgc: kgc_add_roots(%p, %zu): %s", start,
				 len, np == -ENOMEM ? "no memory" :
				 "crosses too many automatic roots");
		goto err_unlock;
	}
	if (np) {
		starts = malloc((size_t)np * sizeof(*starts));
		if (!starts) {
			err = kgc_seterr(ENOMEM, "kgc: kgc_add_roots: no memory");
			goto err_pieces;
		}
	}

	kgc_enter(t);
	err = roots_shade_if_marking(t, s, len);
	for (k = 0; k < np && !err; k++) {
		err = roots_ioctl(t, p[k].start, p[k].len, p[k].map, false);
		starts[k] = p[k].start;
	}
	if (err) {
		int added = k - 1;

		while (added-- > 0)
			roots_ioctl(t, starts[added], 0, NULL, true);
		kgc_leave_nosp(t);
		err = kgc_seterr(-err, "kgc: kgc_add_roots(%p, %zu): %s", start,
				 len, err == -ENOSPC ?
				 "the kernel takes at most 4096 root ranges" :
				 err == -EINVAL ?
				 "the kernel refused the range (overlap?)" :
				 strerror(-err));
		free(starts);
		goto err_pieces;
	}
	kgc_leave_nosp(t);

	memmove(&roots[i + 1], &roots[i], (nroots - i) * sizeof(*roots));
	roots[i].start = s;
	roots[i].len = len;
	roots[i].ptrmap = map;
	roots[i].npieces = (unsigned int)np;
	roots[i].pieces = starts;
	nroots++;
	pthread_mutex_unlock(&roots_lock);
	for (k = 0; k < np; k++)
		free(p[k].map);
	kgc_outside(t);
	return 0;

err_pieces:
	for (k = 0; k < np; k++)
		free(p[k].map);
err_unlock:
	pthread_mutex_unlock(&roots_lock);
	free(map);
	kgc_outside(t);
	return err;
}

KGC_EXPORT int kgc_remove_roots(void *start)
{
	uintptr_t s = (uintptr_t)start;
	struct kgc_thread *t;
	struct kgc_root r;
	unsigned int k;
	size_t i;

	if (!kgc_heap_ready())
		return kgc_err_noheap("kgc_remove_roots");
	t = kgc_thread_get();
	if (!t)
		return -errno;
	pthread_mutex_lock(&roots_lock);
	i = roots_search(s);
	if (i == nroots || roots[i].start != s) {
		pthread_mutex_unlock(&roots_lock);
		return kgc_seterr(ENOENT,
			"kgc: kgc_remove_roots(%p): no root range starts there",
			start);
	}
	r = roots[i];
	kgc_enter(t);
	roots_shade_if_marking(t, r.start, r.len);
	for (k = 0; k < r.npieces; k++)
		roots_ioctl(t, r.pieces[k], 0, NULL, true);
	kgc_leave_nosp(t);
	memmove(&roots[i], &roots[i + 1], (nroots - i - 1) * sizeof(*roots));
	nroots--;
	pthread_mutex_unlock(&roots_lock);
	free(r.ptrmap);
	free(r.pieces);
	kgc_outside(t);
	return 0;
}

/**
 * kgc_roots_foreach() - call @fn for each registered range, in address order
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

/* ---- automatic roots ---- */

struct auto_collect {
	struct kgc_auto_root *r;
	size_t n, cap;
	int err;
};

static int auto_add(struct auto_collect *c, uintptr_t start, uintptr_t end)
{
	start = ROUND_UP(start, (uintptr_t)8);
	end = ROUND_DOWN(end, (uintptr_t)8);
	if (end <= start)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct kgc_auto_root *r = realloc(c->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		c->r = r;
		c->cap = cap;
	}
	c->r[c->n].start = start;
	c->r[c->n].end = end;
	c->n++;
	return 0;
}

/* Add [start, end) minus the library's own objects. */
static int auto_add_excluding(struct auto_collect *c, uintptr_t start,
			      uintptr_t end)
{
	const struct kgc_auto_root excl[] = {
		{ (uintptr_t)kgc_ctl(), (uintptr_t)kgc_ctl() + KGC_CTL_SIZE },
		{ (uintptr_t)&kgc_heap, (uintptr_t)&kgc_heap + sizeof(kgc_heap) },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(excl); i++) {
		if (excl[i].start < end && start < excl[i].end) {
			int err = 0;

			if (start < excl[i].start)
				err = auto_add_excluding(c, start, excl[i].start);
			if (!err && excl[i].end < end)
				err = auto_add_excluding(c, excl[i].end, end);
			return err;
		}
	}
	return auto_add(c, start, end);
}

static int auto_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct auto_collect *c = arg;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum && !c->err; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) ||
		    !ph->p_memsz)
			continue;
		start = info->dlpi_addr + ph->p_vaddr;
		c->err = auto_add_excluding(c, start, start + ph->p_memsz);
	}
	return c->err;
}

/**
 * kgc_roots_auto() - register the automatic roots (kgc_init())
 *
 * Caller holds kgc_heap.lock; no thread is attached yet, no cycle can be
 * marking.
 *
 * Return: 0, or -errno with a message.
 */
int kgc_roots_auto(void)
{
	struct auto_collect c = { 0 };
	size_t i;
	int err;

	dl_iterate_phdr(auto_phdr, &c);
	if (c.err) {
		free(c.r);
		return kgc_seterr(-c.err,
			"kgc: no memory for the automatic root ranges");
	}
	qsort(c.r, c.n, sizeof(*c.r), piece_cmp);
	for (i = 0; i < c.n; i++) {
		uintptr_t at;

		/* The kernel takes at most KGC_MAX_ROOT_BYTES per range. */
		for (at = c.r[i].start; at < c.r[i].end; at += KGC_MAX_ROOT_BYTES) {
			size_t len = MIN((uintptr_t)KGC_MAX_ROOT_BYTES,
					 c.r[i].end - at);

			err = roots_ioctl(NULL, at, len, NULL, false);
			if (!err)
				continue;
			/* Undo: every piece registered so far. */
			for (;;) {
				while (at > c.r[i].start) {
					at -= KGC_MAX_ROOT_BYTES;
					roots_ioctl(NULL, at, 0, NULL, true);
				}
				if (!i--)
					break;
				at = c.r[i].start +
				     ROUND_UP(c.r[i].end - c.r[i].start,
					      (uintptr_t)KGC_MAX_ROOT_BYTES);
			}
			free(c.r);
			return kgc_seterr(-err,
				"kgc: registering the data and bss of the loaded objects as roots failed: %s",
				strerror(-err));
		}
	}
	pthread_mutex_lock(&roots_lock);
	free(auto_roots);
	auto_roots = c.r;
	nauto = c.n;
	pthread_mutex_unlock(&roots_lock);
	return 0;
}

/* Free every range. roots_lock held. */
static void roots_free_all(void)
{
	size_t i;

	for (i = 0; i < nroots; i++) {
		free(roots[i].ptrmap);
		free(roots[i].pieces);
	}
	free(roots);
	roots = NULL;
	nroots = 0;
	roots_cap = 0;
	free(auto_roots);
	auto_roots = NULL;
	nauto = 0;
}

/* Forget every range (kgc_shutdown(): the kernel's went with the heap). */
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
