// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * barrier.c - the write barrier (Go's mbarrier.go and mwbbuf.go).
 *
 * While the marker runs concurrently with the program, a pointer store
 * could hide an object from it: the program moves the only pointer to a
 * white object into an object already scanned (black) and erases the
 * original. Go's hybrid barrier prevents both halves of that: it shades
 * the pointer being overwritten (Yuasa deletion barrier: the object stays
 * reachable in the snapshot the marker started from) and, while the
 * storing thread's own stack is still grey, the pointer being written
 * (Dijkstra insertion barrier), so that a stack needs scanning only once
 * per cycle.
 *
 * The second half is the condition of Go's hybrid-barrier proposal (Austin
 * Clements and Rick Hudson, proposal 17503: "shade(ptr) if current stack
 * is grey"), which the Go runtime drops because it cannot tell a stack's
 * colour cheaply. libkgc can: a thread's stack is black from the moment it
 * delivered its scan for the cycle (t->scanned == num_gc + 1, set by the
 * mark-start acknowledgement) to the end of the cycle. A pointer a black
 * stack stores was either on that stack when it was scanned (so shaded),
 * or loaded from the heap since (so reachable in the snapshot, or shaded
 * by the deletion half when its last heap reference went), or allocated
 * since (black: the kernel allocates black for a thread once its stack is
 * scanned, kgc_gc_alloc_black()). Initialising freshly allocated objects,
 * the commonest store during a cycle, then records nothing at all.
 *
 * kgc_store() in kgc.h is the barrier's inline part: when
 * kgc_write_barrier_enabled (the kernel's phase word, ctlarea.c) is 0 it is
 * a load, a predictable branch and the store. Otherwise
 * kgc_barrier_slow() appends the old and the new value, when they are heap
 * pointers, to the thread's buffer (struct wbbuf, KGC_WBBUF_ENTRIES
 * pointers) and stores. Recording costs no lock and no system call; the
 * buffer goes to the kernel (KGC_IOC_SAFEPOINT without flags, which shades
 * every value) when it is full, at each handshake, before a blocking
 * region and at detach. A full buffer is also a safepoint.
 *
 * The signal handler may interrupt a recording at any instruction: it
 * sends a copy of the entries [0, next) and never modifies the buffer, so
 * entries are written before next covers them and the store comes after
 * (signal fences order them for the compiler; the handler runs on the same
 * thread, so nothing else is needed). An interrupted recording is either
 * counted (the handler sends it) or its store has not happened yet.
 *
 * KGC_DEBUG=nobarrier=1 turns recording off: a deliberately broken
 * collector, which the torture test must catch.
 *
 * Known gap: kgc_store() tests the flag, then stores, and the mark-start
 * handshake is ragged. A thread that read 0 just before the kernel
 * published MARK and is preempted before its store (or interrupted there
 * by the safepoint signal, whose handler acknowledges) stores without
 * shading the old value after other threads have acknowledged, scanned
 * their stacks and started allocating black. An object whose last heap
 * reference it overwrites, and which such a thread had copied into a black
 * object or kept on its scanned stack, is then missed. Go closes this by
 * turning the barrier on with the world stopped and by never preempting
 * inside a barrier sequence. Here it needs a two-step mark start in the
 * kernel (first every thread acknowledges that the barrier is on, only then
 * stacks are scanned and allocation turns black) plus a restartable
 * kgc_store() sequence that the handler rolls back, rseq style.
 */
#include <string.h>

#include "internal.h"

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
 * @t: the thread (attached), in a library region
 *
 * Outside a cycle the values are stale (the cycle they were recorded for
 * is over) and are dropped without a system call.
 *
 * Return: 0, or the -errno of KGC_IOC_SAFEPOINT (the buffer is emptied
 * all the same).
 */
int wbbuf_flush(struct kgc_thread *t)
{
	struct wbbuf *b = &t->wbbuf;
	struct kgc_counters *st = &t->mcache.stats;
	size_t n;
	int err = 0;

	if (!b->next)
		return 0;
	n = wbbuf_filter(b->buf, b->next, kgc_heap.arena_start,
			 kgc_heap.arena_end);
	if (n && kgc_ctl_phase(kgc_ctl()) != KGC_PHASE_OFF) {
		err = kgc_shade(t, b->buf, n);
		STAT_ADD(st->barrier_shaded, n);
	}
	STAT_INC(st->barrier_flushes);
	kgc_signal_fence();
	b->next = 0;
	return err;
}

/**
 * wbbuf_stack_black() - whether the thread's stack is black in this cycle
 * @t: the thread
 *
 * Return: true once @t delivered its stack scan for the cycle in progress
 * (a stale answer is "grey": the cycle count only grows).
 */
static inline bool wbbuf_stack_black(const struct kgc_thread *t)
{
	uint64_t cycle = __atomic_load_n(&kgc_ctl()->num_gc,
					 __ATOMIC_RELAXED) + 1;

	return t->scanned == cycle;
}

/**
 * wbbuf_record() - record one pointer store
 * @t: the thread (attached); its buffer has room for two entries
 * @old: the value overwritten
 * @val: the value stored: recorded only while the thread's stack is grey
 */
static inline __attribute__((always_inline))
void wbbuf_record(struct kgc_thread *t, void *old, void *val)
{
	struct wbbuf *b = &t->wbbuf;
	uintptr_t o = (uintptr_t)old, v = (uintptr_t)val;
	unsigned int n0 = b->next, n = n0;

	if (kgc_in_heap(o))
		b->buf[n++] = o;
	if (kgc_in_heap(v) && !wbbuf_stack_black(t))
		b->buf[n++] = v;
	/*
	 * Nothing to record is the common case: initialising a fresh
	 * object's fields (old NULL) from a black stack.
	 */
	if (n == n0)
		return;
	kgc_signal_fence();	/* entries before the count covering them */
	STAT_ADD(t->mcache.stats.barrier_records, n - n0);
	b->next = n;
	kgc_signal_fence();	/* the count before the caller's store */
}

/*
 * The rare cases of kgc_barrier_slow(), out of line so that the common one
 * needs no stack frame: no thread state yet, a full buffer, the broken
 * barrier of the tests.
 */
static __attribute__((noinline)) void barrier_slower(void **slot, void *val)
{
	struct kgc_thread *t = kgc_curthread;
	int saved_errno;

	if (unlikely(kgc_heap.cfg.debug & KGC_DEBUG_NOBARRIER)) {
		*slot = val;	/* broken on purpose (tests only) */
		return;
	}
	saved_errno = errno;	/* a store never changes errno */
	if (unlikely(!t || !__atomic_load_n(&t->attached, __ATOMIC_RELAXED)))
		t = kgc_heap_ready() ? kgc_thread_get_slow() : NULL;
	if (likely(t)) {
		if (unlikely(t->wbbuf.next + 2 > KGC_WBBUF_ENTRIES)) {
			/* Full: hand it over; a safepoint. */
			kgc_enter(t);
			wbbuf_flush(t);
			kgc_safepoint_check(t);
			kgc_leave(t);
		}
		/* The old value is read after any safepoint. */
		wbbuf_record(t, *slot, val);
	} else if (kgc_heap_ready()) {
		/* No thread state (no memory): shade both now. */
		uint64_t pair[2] = { (uintptr_t)*slot, (uintptr_t)val };
		size_t n = wbbuf_filter(pair, 2, kgc_heap.arena_start,
					kgc_heap.arena_end);

		if (n)
			kgc_shade(NULL, pair, n);
	}
	*slot = val;
	errno = saved_errno;
}

KGC_EXPORT void kgc_barrier_slow(void **slot, void *val)
{
	struct kgc_thread *t = kgc_curthread;

	/*
	 * The common case: an attached thread with room in its buffer, the
	 * barrier not broken on purpose (KGC_DEBUG_NOBARRIER); wbbuf.limit
	 * is 0 in the other cases.
	 */
	if (likely(t && t->wbbuf.next + 2 <=
		   __atomic_load_n(&t->wbbuf.limit, __ATOMIC_RELAXED))) {
		wbbuf_record(t, *slot, val);
		*slot = val;
		return;
	}
	barrier_slower(slot, val);
}
