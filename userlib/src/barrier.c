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
 * Turning the barrier on. kgc_store() tests the flag, then stores. A
 * thread that read 0 just before the kernel published the barrier, and is
 * preempted or interrupted before its store, must not store unseen after
 * other threads' stacks were scanned or their allocation turned black: an
 * object whose last heap reference it overwrites, and which such a thread
 * had copied onto its scanned stack or into a black object, would be lost.
 * Go turns the barrier on with the world stopped and never preempts
 * inside a barrier sequence. kgc does it in two steps: the kernel first
 * raises a BARRIER handshake in which every thread only acknowledges that
 * its stores see the barrier on, and scans nothing and allocates nothing
 * black until all have (kmod/gc.c). A thread that acknowledges at one of
 * the library's own safepoints is not inside a store. One that
 * acknowledges from the signal handler may be: kgc_store() (kgc.h) is
 * therefore a restartable sequence of fixed instructions on x86-64,
 *
 *	S:    cmpl $0, (%rcx)		rcx = &kgc_write_barrier_enabled
 *	S+3:  jne  slow			rel32
 *	S+9:  movq %rax, (%rdx)		rax = the value, rdx = the slot
 *
 * and before acknowledging, the handler moves a context stopped at S+3
 * with ZF set (the test read 0) or at S+9 back to S (kgc_store_restart()):
 * the thread tests again when it resumes, and takes the barrier. rseq(2)
 * aborts a sequence the same way, but would cost a store per kgc_store().
 * The context the handler gets is the innermost one; a store interrupted
 * by a handler of the program, inside which the safepoint signal (or a
 * safepoint the program calls from there) arrives, is in an outer signal
 * frame on the same stack. The acknowledgement therefore also finds the
 * signal frames on the thread's stack (a word holding the signal return
 * trampoline, followed by a plausible ucontext) and moves them back too
 * (kgc_restart_frames()). Not covered: frames on an alternate signal stack
 * (the handler itself defers to the next safepoint when it runs on one),
 * and other architectures, where kgc_store() is plain C.
 */
#include <string.h>
#include <ucontext.h>

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

/* ---- restarting an interrupted kgc_store() ---- */

#if defined(__x86_64__) && !defined(KGC_STORE_PLAIN_C)
#define EFLAGS_ZF	0x40UL

_Static_assert(_Alignof(ucontext_t) <= 16, "frames are 16-byte aligned");

static bool code_is(const unsigned char *p, const unsigned char *want,
		    size_t n)
{
	size_t i;

	/* One byte at a time: stop at the first that differs. */
	for (i = 0; i < n; i++)
		if (p[i] != want[i])
			return false;
	return true;
}

/**
 * kgc_store_restart() - move a context inside kgc_store()'s window back
 * @ip: the context's instruction pointer; moved back to the test if needed
 * @rcx: its rcx
 * @rflags: its rflags
 *
 * The window is the test and the jump of a test that read 0: the thread
 * stopped at the jne with ZF set, or at the store. The code is read only
 * after rcx matched, and forwards from @ip first: each byte read is one
 * that the instructions before it imply exists.
 *
 * Return: true when @ip was moved.
 */
__attribute__((no_sanitize_address))
bool kgc_store_restart(uint64_t *ip, uint64_t rcx, uint64_t rflags)
{
	static const unsigned char test[] = { 0x83, 0x39, 0x00 };
	static const unsigned char jne[] = { 0x0f, 0x85 };
	static const unsigned char store[] = { 0x48, 0x89, 0x02 };
	const unsigned char *p = (const unsigned char *)(uintptr_t)*ip;

	if (rcx != (uintptr_t)kgc_ctl() || !(rflags & EFLAGS_ZF) || !p)
		return false;
	if (code_is(p, jne, sizeof(jne)) && code_is(p + 6, store, 3) &&
	    code_is(p - 3, test, 3)) {
		*ip -= 3;
		return true;
	}
	if (code_is(p, store, sizeof(store)) && code_is(p - 6, jne, 2) &&
	    code_is(p - 9, test, 3)) {
		*ip -= 9;
		return true;
	}
	return false;
}

/**
 * kgc_restart_context() - kgc_store_restart() on a signal's ucontext
 * @ucv: the ucontext_t the handler was given
 *
 * Return: true when it was moved.
 */
bool kgc_restart_context(void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t ip = (uint64_t)g[REG_RIP];

	if (!kgc_store_restart(&ip, (uint64_t)g[REG_RCX],
			       (uint64_t)g[REG_EFL]))
		return false;
	g[REG_RIP] = (greg_t)ip;
	return true;
}

/**
 * kgc_restart_frames() - restart the stores of the signal frames on a stack
 * @lo: lowest address to search (the caller's frame)
 * @hi: the top of the stack
 * @restorer: the signal return trampoline (struct sigaction.sa_restorer),
 *	which the kernel puts right below each frame's ucontext
 *
 * A frame counts when the word after @restorer starts a ucontext whose
 * stack pointer lies above it (signal frames are pushed below the
 * interrupted context's stack pointer) and whose instruction pointer is
 * in a kgc_store() window, rcx and ZF included.
 *
 * Return: the number of contexts moved back.
 */
__attribute__((no_sanitize_address, noinline))
unsigned int kgc_restart_frames(uintptr_t lo, uintptr_t hi,
				uintptr_t restorer)
{
	unsigned int n = 0;
	uintptr_t p;

	if (!restorer)
		return 0;
	/* The kernel aligns each frame's ucontext to 16 bytes. */
	for (p = ROUND_UP(lo + 8, (uintptr_t)16) - 8;
	     p + 8 + sizeof(ucontext_t) <= hi; p += 16) {
		ucontext_t *uc;

		if (*(volatile const uintptr_t *)p != restorer)
			continue;
		uc = (ucontext_t *)(p + 8);
		if ((uintptr_t)uc->uc_mcontext.gregs[REG_RSP] <= p)
			continue;
		n += kgc_restart_context(uc);
	}
	return n;
}
#else
bool kgc_store_restart(uint64_t *ip, uint64_t rcx, uint64_t rflags)
{
	(void)ip;
	(void)rcx;
	(void)rflags;
	return false;
}

bool kgc_restart_context(void *ucv)
{
	(void)ucv;
	return false;
}

unsigned int kgc_restart_frames(uintptr_t lo, uintptr_t hi,
				uintptr_t restorer)
{
	(void)lo;
	(void)hi;
	(void)restorer;
	return 0;
}
#endif
