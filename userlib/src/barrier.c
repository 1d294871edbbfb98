// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * barrier.c - the write barrier (Go's mbarrier.go and mwbbuf.go).
 *
 * While the marker runs concurrently with the program, a pointer store
 * could hide an object from it: the program moves the only pointer to a
 * white object into an object already scanned (black) and erases the
 * original. Go's hybrid barrier prevents both halves of that: it shades
 * the pointer being overwritten (Yuasa deletion barrier: the object stays
 * reachable in the snapshot the marker started from) and the pointer being
 * written (Dijkstra insertion barrier), so that stacks need no re-scan.
 *
 * kgc_store() in kgc.h is the barrier's inline part: when
 * kgc_write_barrier_enabled is 0 (no mark phase), it is a load, a
 * predictable branch and the store. Otherwise kgc_barrier_slow() appends
 * the old and the new value to the thread's buffer (struct wbbuf,
 * KGC_WBBUF_ENTRIES pointers) and stores. Recording costs no lock and no
 * system call; the work is batched in wbbuf_flush(), which runs when the
 * buffer is full, at safepoints, before blocking calls and at detach:
 *
 *  - wbbuf_filter() drops what the marker cannot use: NULL and every value
 *    outside the heap (pointers to globals, stack, malloc memory, small
 *    integers in conservative words), and repeats of the previous value
 *    (list and array walks store the same pointer over and over);
 *  - the rest goes to kgc_heap.wb_sink, the hand-off to the marker (set by
 *    the collector; none before it exists), and is counted.
 *
 * The flag is only turned on or off at a handshake, when every attached
 * thread is at a safepoint, so a thread never sees it change in the middle
 * of a store.
 */
#include "internal.h"

KGC_EXPORT volatile unsigned int kgc_write_barrier_enabled;

/**
 * wbbuf_filter() - keep the heap pointers of a barrier buffer
 * @ptrs: recorded values, compacted in place
 * @n: how many
 * @lo: heap start
 * @hi: heap end
 *
 * Return: the number of values kept: each in [@lo, @hi), none equal to the
 * one before it, in their original order.
 */
size_t wbbuf_filter(uint64_t *ptrs, size_t n, uintptr_t lo, uintptr_t hi)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		uint64_t p = ptrs[i];

		if (p < lo || p >= hi)
			continue;
		if (k && ptrs[k - 1] == p)
			continue;
		ptrs[k++] = p;
	}
	return k;
}

/**
 * wbbuf_flush() - hand a thread's recorded pointers to the marker
 * @t: the thread (attached)
 */
void wbbuf_flush(struct kgc_thread *t)
{
	struct wbbuf *b = &t->wbbuf;
	struct kgc_counters *st = &t->mcache.stats;
	size_t n;

	if (!b->next)
		return;
	n = wbbuf_filter(b->buf, b->next, kgc_heap.arena_start,
			 kgc_heap.arena_end);
	if (n && kgc_heap.wb_sink)
		kgc_heap.wb_sink(b->buf, n);
	STAT_INC(st->barrier_flushes);
	STAT_ADD(st->barrier_shaded, n);
	b->next = 0;
}

/**
 * wbbuf_record() - record one pointer store
 * @t: the thread (attached)
 * @old: the value overwritten
 * @val: the value stored
 */
void wbbuf_record(struct kgc_thread *t, void *old, void *val)
{
	struct wbbuf *b = &t->wbbuf;

	if (b->next + 2 > KGC_WBBUF_ENTRIES)
		wbbuf_flush(t);
	b->buf[b->next++] = (uintptr_t)old;
	b->buf[b->next++] = (uintptr_t)val;
	STAT_ADD(t->mcache.stats.barrier_records, 2);
}

KGC_EXPORT void kgc_barrier_slow(void **slot, void *val)
{
	struct kgc_thread *t = kgc_curthread;
	void *old = *slot;
	int saved_errno;

	if (unlikely(!t || !__atomic_load_n(&t->attached, __ATOMIC_RELAXED))) {
		/* A store must never fail or change errno. */
		saved_errno = errno;
		t = kgc_heap_ready() ? kgc_thread_get_slow() : NULL;
		if (!t && kgc_heap_ready()) {
			uint64_t pair[2] = { (uintptr_t)old, (uintptr_t)val };
			size_t n = wbbuf_filter(pair, 2, kgc_heap.arena_start,
						kgc_heap.arena_end);

			/* No buffer (no memory for the thread): hand over now. */
			if (n && kgc_heap.wb_sink)
				kgc_heap.wb_sink(pair, n);
		}
		errno = saved_errno;
	}
	if (t)
		wbbuf_record(t, old, val);
	*slot = val;
}
