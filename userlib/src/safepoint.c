// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * safepoint.c - meeting the collector: handshakes, stack scans, the
 * safepoint signal handler, gctrace.
 *
 * The collector in kgc.ko raises handshakes: it publishes a phase (BARRIER
 * then MARK at mark start, MARK_TERM at mark termination) and a new epoch
 * in the control area (ctlarea.c), and waits until every attached thread
 * has acknowledged that epoch with KGC_IOC_SAFEPOINT. In a BARRIER
 * handshake a thread acknowledges only that its stores see the barrier on,
 * after sending any kgc_store() it was caught in back to its test
 * (ack_barrier(), barrier.c). In the others it acknowledges (kgc_ack()):
 *
 *  (a) its write-barrier buffer: KGC_IOC_SAFEPOINT, flags 0, the values
 *      (at mark start right after the acknowledgement: the shades are
 *      due by mark termination, and the pause is shorter without them);
 *  (b) its stack: spill the callee-saved registers into the current frame
 *      (__builtin_unwind_init()), then take every 8-byte word from the
 *      stack pointer to the top of the stack that points into the heap
 *      (the kernel validates each against its span map; the filter only
 *      saves copying). Words go in calls of at most KGC_SCANBUF_WORDS with
 *      KGC_SP_STACK, the last one with KGC_SP_STACK | KGC_SP_ACK and the
 *      epoch. A stack is scanned once per cycle (the hybrid barrier): the
 *      mark termination acknowledgement carries no stack unless the thread
 *      has not delivered one this cycle. Not even for checkmark: a
 *      conservative scan at termination also finds stale words (dead slots
 *      of frames pushed since the first scan, old vector registers in the
 *      signal frame) pointing to objects that were garbage when marking
 *      started, which checkmark would report as missed. So checkmark
 *      starts from the words of the mark-start scans (the kernel keeps
 *      them), the roots and the heap;
 *  (c) in the mark-start acknowledgement, one struct kgc_span_mark per
 *      span in its mcache: the span's freeindex, from which its
 *      allocations are black. Before it, the used-up spans that wait to
 *      go back with the next refill go back now (mcache_return_puts()):
 *      the cycle then sweeps them, even when the thread is idle. For the tiny allocator's span, the index of
 *      the current tiny block: sub-objects carved from it later are
 *      allocated after the safepoint, so the whole block must count as
 *      black (malloc.c keeps the block inside the cached tiny span);
 *  (d) it remembers the epoch. In mark termination the ACK call blocks
 *      until the marker is done: that is the stop-the-world pause.
 *
 * Where: at safepoints (kgc_safepoint_check(): allocation slow paths
 * before and after each kernel call, barrier buffer flushes,
 * kgc_blocking_end(), kgc_safepoint()), and in the handler of the
 * safepoint signal (SIGURG by default), which the kernel sends to threads
 * that do not come to a safepoint within its grace period, and at once to
 * threads parked in a blocking region.
 *
 * The handler is async-signal-safe: it allocates nothing (the scan buffer
 * is preallocated at attach), takes no lock, and never modifies the mcache
 * (but for its queue of used-up spans, which only region code touches)
 * or the barrier buffer: it sends a copy of the buffer's entries [0, next)
 * (they may be sent again later: duplicates are harmless) and reads the
 * mcache's freeindexes (a stale, lower one only makes more objects black).
 * It scans from its own frame, which lies below the interrupted context
 * (the kernel's signal frame with the saved registers, the red zone) on
 * the same stack, and adds the ucontext's general registers explicitly.
 * When the thread is inside the library's own non-reentrant code (its
 * region depth is non-zero: refills, flushes, attach, detach, kgc_gc()),
 * the handler only sets a pending flag; the library runs the handshake
 * when it leaves that code (kgc_leave()). So that the thread can always be
 * acknowledged one way or the other, no lock is ever waited for inside a
 * region (see internal.h).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "internal.h"

/* One ioctl on the heap's fd, uncounted: also for the signal handler. */
static int sys_ioctl_raw(unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = kgc_heap.sys->ioctl(kgc_heap.fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

static int sp_call(struct kgc_thread *t, struct kgc_safepoint *sp,
		   bool handler)
{
	if (t && !handler)
		STAT_INC(t->mcache.stats.syscalls);
	return sys_ioctl_raw(KGC_IOC_SAFEPOINT, sp);
}

static int shade_chunks(struct kgc_thread *t, const uint64_t *ptrs, size_t n,
			bool handler)
{
	int err = 0;

	while (n && !err) {
		struct kgc_safepoint sp;
		size_t k = MIN(n, (size_t)KGC_SP_MAX_PTRS);

		memset(&sp, 0, sizeof(sp));
		sp.ptrs = (uintptr_t)ptrs;
		sp.nptrs = (uint32_t)k;
		err = sp_call(t, &sp, handler);
		ptrs += k;
		n -= k;
	}
	return err;
}

/**
 * kgc_shade() - have the marker shade some heap pointers now
 * @t: the calling thread (for counting), or NULL
 * @ptrs: candidate pointers
 * @n: how many
 *
 * Return: 0 or -errno of KGC_IOC_SAFEPOINT.
 */
int kgc_shade(struct kgc_thread *t, const uint64_t *ptrs, size_t n)
{
	return shade_chunks(t, ptrs, n, false);
}

/* ---- stack scans ---- */

/**
 * struct scan - heap pointers found by a scan, sent in chunks
 * @t: the thread scanning
 * @buf: where they go
 * @cap: its capacity
 * @n: words in it
 * @total: words found
 * @flush: empties @buf (sends it) when full; NULL: a full buffer is an
 *	error (kgc_gc() sends everything in one call)
 * @handler: running in the signal handler
 * @err: first error
 */
struct scan {
	struct kgc_thread *t;
	uint64_t *buf;
	size_t cap;
	size_t n;
	size_t total;
	int (*flush)(struct scan *s);
	bool handler;
	int err;
};

static inline void scan_push(struct scan *s, uint64_t w)
{
	if (s->n == s->cap) {
		int err = s->flush ? s->flush(s) : -E2BIG;

		if (err) {
			if (!s->err)
				s->err = err;
			return;
		}
		s->n = 0;
	}
	s->buf[s->n++] = w;
	s->total++;
}

/*
 * Every 8-byte aligned word of [lo, hi) that points into the heap. Reads
 * memory that the sanitizers consider off limits (other frames' redzones),
 * so it is not instrumented.
 */
__attribute__((no_sanitize_address, noinline))
static void scan_words(struct scan *s, uintptr_t lo, uintptr_t hi)
{
	uintptr_t heap_lo = kgc_heap.arena_start, heap_hi = kgc_heap.arena_end;
	uintptr_t p;

	for (p = ROUND_UP(lo, (uintptr_t)8); p + 8 <= hi; p += 8) {
		uint64_t w = *(volatile const uint64_t *)p;

		if (w >= heap_lo && w < heap_hi)
			scan_push(s, w);
	}
}

/* From a local of this frame (below every caller's) to the stack top. */
__attribute__((noinline))
static void scan_from_here(struct scan *s)
{
	volatile uintptr_t here = 0;

	scan_words(s, (uintptr_t)&here, s->t->stack_hi);
	__asm__ volatile("" : : "r"(&here) : "memory");
}

/*
 * Scan the calling thread's stack and registers: the callee-saved
 * registers are forced into this frame by __builtin_unwind_init() (the
 * caller-saved ones hold nothing live across a call), and into a jmp_buf
 * too, for good measure.
 */
__attribute__((noinline))
static void scan_own_stack(struct scan *s)
{
	jmp_buf regs;

	__builtin_unwind_init();
	if (setjmp(regs) == 0)
		scan_from_here(s);
	__asm__ volatile("" : : "r"(regs) : "memory");
}

/* Whether the stack pointer is on the thread's own stack. */
static bool on_own_stack(const struct kgc_thread *t)
{
	volatile uintptr_t here = 0;
	uintptr_t sp = (uintptr_t)&here;

	return sp >= t->stack_lo && sp < t->stack_hi;
}

static void scan_ucontext(struct scan *s, const void *ucv)
{
	const ucontext_t *uc = ucv;
	size_t i;

	if (!uc)
		return;
#if defined(__x86_64__)
	for (i = 0; i < NGREG; i++) {
		uint64_t w = (uint64_t)uc->uc_mcontext.gregs[i];

		if (kgc_in_heap(w))
			scan_push(s, w);
	}
#elif defined(__aarch64__)
	for (i = 0; i < 31; i++) {
		uint64_t w = uc->uc_mcontext.regs[i];

		if (kgc_in_heap(w))
			scan_push(s, w);
	}
#else
	(void)i;	/* the registers are in the signal frame, scanned */
#endif
}

_Static_assert(KGC_NR_SPANCLASSES + KGC_STASH_SLOTS <= KGC_SP_MAX_SPANS,
	       "a safepoint reports every span of an mcache");
_Static_assert(KGC_STASH_SLOTS < 256 && KGC_STASH_SLOTS % 64 == 0,
	       "stash slots + 1 must fit a uint8_t, whole bitmap words");

/**
 * kgc_span_marks() - where each cached span's black allocations start
 * @t: thread
 * @m: KGC_NR_SPANCLASSES + KGC_STASH_SLOTS entries
 *
 * Return: the number of entries filled.
 */
size_t kgc_span_marks(const struct kgc_thread *t, struct kgc_span_mark *m)
{
	const struct mcache *c = &t->mcache;
	size_t n = 0;
	uint32_t i;

	for (i = 0; i < KGC_NR_SPANCLASSES; i++) {
		const struct mspan *s = &c->alloc[i];
		uintptr_t base = *(volatile const uintptr_t *)&s->base;
		uint32_t idx;

		if (!base)
			continue;
		idx = *(volatile const uint32_t *)&s->freeindex;
		if (i == KGC_TINY_SPANCLASS) {
			uintptr_t tiny = *(volatile const uintptr_t *)&c->tiny;

			/* The block's later sub-objects must count as black. */
			if (tiny >= base && tiny < base +
			    (uintptr_t)s->nelems * s->elemsize)
				idx = (uint32_t)((tiny - base) / s->elemsize);
		}
		m[n].base = base;
		m[n].freeindex = idx;
		m[n].resv = 0;
		n++;
	}
	/* Reserve spans: black from where they were handed out. */
	for (i = 0; i < KGC_STASH_SLOTS; i++) {
		if (!(c->stash_used[i / 64] & (1ULL << (i % 64))))
			continue;
		m[n].base = c->stash[i].base;
		m[n].freeindex = c->stash[i].freeindex;
		m[n].resv = 0;
		n++;
	}
	return n;
}

static int scan_send_chunk(struct scan *s)
{
	struct kgc_safepoint sp;

	memset(&sp, 0, sizeof(sp));
	sp.flags = KGC_SP_STACK;
	sp.ptrs = (uintptr_t)s->buf;
	sp.nptrs = (uint32_t)s->n;
	return sp_call(s->t, &sp, s->handler);
}

/*
 * The barrier buffer's shades, for an acknowledgement: in the handler a
 * copy of its entries (in the scan buffer, free again), never the buffer.
 */
static void ack_flush(struct kgc_thread *t, bool handler)
{
	unsigned int n, i;

	if (!handler) {
		wbbuf_flush(t);
		return;
	}
	n = *(volatile unsigned int *)&t->wbbuf.next;
	kgc_signal_fence();
	for (i = 0; i < n && i < KGC_WBBUF_ENTRIES; i++)
		t->scanbuf[i] = t->wbbuf.buf[i];
	n = (unsigned int)wbbuf_filter(t->scanbuf, i, kgc_heap.arena_start,
				       kgc_heap.arena_end);
	if (n)
		shade_chunks(t, t->scanbuf, n, true);
}

/* The signal return trampoline of our handler's frames (barrier.c). */
static uintptr_t kgc_sig_restorer;

/* kgc_restart_frames() from a local of this frame to the stack top. */
__attribute__((noinline))
static unsigned int restart_frames_from_here(const struct kgc_thread *t)
{
	volatile uintptr_t here = 0;
	unsigned int n;

	n = kgc_restart_frames((uintptr_t)&here, t->stack_hi,
			       __atomic_load_n(&kgc_sig_restorer,
					       __ATOMIC_RELAXED));
	__asm__ volatile("" : : "r"(&here) : "memory");
	return n;
}

/*
 * Before a barrier acknowledgment: any kgc_store() this thread was caught
 * in between the test and the store goes back to the test, the
 * interrupted context @uc (in the handler, else NULL) and the signal
 * frames on its stack (see barrier.c).
 */
static void restart_stores(struct kgc_thread *t, void *uc)
{
	unsigned int n = 0;

	if (uc)
		n += kgc_restart_context(uc);
	if (on_own_stack(t))
		n += restart_frames_from_here(t);
	STAT_ADD(t->mcache.stats.barrier_restarts, n);
}

/* @t acknowledged @epoch: remember it, and count it where it was made. */
static void acked(struct kgc_thread *t, uint32_t epoch, bool handler)
{
	t->acked = epoch;
	if (handler)
		STAT_INC(t->mcache.stats.signal_handshakes);
	else
		STAT_INC(t->mcache.stats.handshakes);
}

/*
 * ack_barrier() - acknowledge barrier handshake @epoch: every store of
 * this thread from now on sees the barrier on (restart_stores() first).
 * Nothing else: no stack, no buffer.
 */
static int ack_barrier(struct kgc_thread *t, uint32_t epoch, void *uc)
{
	struct kgc_safepoint sp;
	int err;

	memset(&sp, 0, sizeof(sp));
	sp.epoch = epoch;
	sp.flags = KGC_SP_ACK;
	err = sp_call(t, &sp, uc != NULL);
	if (!err)
		acked(t, epoch, uc != NULL);
	return err;
}

/*
 * kgc_ack() - acknowledge handshake @epoch of @phase (see the top of this
 * file). @uc is the interrupted context when called from the handler,
 * else NULL. The thread is in a region. Return 0 or -errno.
 *
 * A barrier handshake: when the thread is the only one attached, its
 * acknowledgment will be the last, which raises mark start in the kernel;
 * it then carries the mark-start acknowledgment too (the whole stack in
 * one call, and the span marks), and the kernel takes both (@epoch comes
 * back one higher). Else, or if the stack does not fit one call, it
 * acknowledges the barrier alone.
 */
static int kgc_ack(struct kgc_thread *t, uint32_t epoch, uint32_t phase,
		   void *uc)
{
	struct kgc_ctl *ctl = kgc_ctl();
	uint64_t cycle = __atomic_load_n(&ctl->num_gc, __ATOMIC_RELAXED) + 1;
	bool handler = uc != NULL;
	struct kgc_safepoint sp;
	struct scan s = {
		.t = t, .buf = t->scanbuf, .cap = KGC_SCANBUF_WORDS,
		.flush = scan_send_chunk, .handler = handler,
	};
	bool barrier = phase == KGC_PHASE_BARRIER;
	bool stack;
	int err;

	if (barrier) {
		restart_stores(t, uc);
		if (__atomic_load_n(&kgc_heap.nthreads, __ATOMIC_RELAXED) != 1)
			return ack_barrier(t, epoch, uc);
		s.flush = NULL;		/* one call, or E2BIG */
		phase = KGC_PHASE_MARK;
	}
	stack = phase == KGC_PHASE_MARK || t->scanned != cycle;

	/*
	 * (a) the barrier buffer. Its shades are due by mark termination:
	 * there they go before the acknowledgement, at mark start after it,
	 * outside the pause (what the barrier recorded since it came on
	 * took the mark-start pause 0.5-1 ms under TCG).
	 */
	if (phase != KGC_PHASE_MARK)
		ack_flush(t, handler);

	/* (b) the stack, in chunks. */
	if (stack) {
		if (handler) {
			scan_ucontext(&s, uc);
			scan_from_here(&s);
		} else {
			scan_own_stack(&s);
		}
		if (s.err && barrier)
			return ack_barrier(t, epoch, uc);
		if (s.err)
			return s.err;
	}

	/* (c) used-up spans go back before marking starts. */
	if (phase == KGC_PHASE_MARK)
		mcache_return_puts(t);

	/* (b, c, d) the last words, the span marks, the epoch. */
	memset(&sp, 0, sizeof(sp));
	sp.epoch = epoch;
	sp.flags = KGC_SP_ACK | (stack ? KGC_SP_STACK : 0);
	sp.ptrs = (uintptr_t)t->scanbuf;
	sp.nptrs = (uint32_t)s.n;
	if (phase == KGC_PHASE_MARK) {
		sp.spans = (uintptr_t)t->marks;
		sp.nspans = (uint32_t)kgc_span_marks(t, t->marks);
	}
	err = sp_call(t, &sp, handler);
	if (err)
		return err;
	if (barrier && sp.epoch == epoch) {
		/* Not the last after all: the barrier only. */
		acked(t, epoch, handler);
		return 0;
	}
	epoch = sp.epoch;
	if (phase == KGC_PHASE_MARK_TERM && sp.phase == KGC_PHASE_OFF) {
		/* Released: the heap as the pause ended, for gctrace. */
		uint64_t n = __atomic_load_n(&ctl->num_gc, __ATOMIC_ACQUIRE);
		uint64_t live = __atomic_load_n(&ctl->heap_live,
						__ATOMIC_RELAXED);

		if (__atomic_load_n(&kgc_heap.term_cycle[n % KGC_CYCLE_RING],
				    __ATOMIC_RELAXED) != n) {
			__atomic_store_n(&kgc_heap.term_live[n % KGC_CYCLE_RING],
					 live, __ATOMIC_RELAXED);
			__atomic_store_n(&kgc_heap.term_cycle[n % KGC_CYCLE_RING],
					 n, __ATOMIC_RELEASE);
		}
	}
	acked(t, epoch, handler);
	if (stack)
		t->scanned = cycle;
	if (phase == KGC_PHASE_MARK)
		ack_flush(t, handler);
	return 0;
}

/*
 * Acknowledge the handshakes pending for @t, at a safepoint (@uc NULL:
 * every one) or in the signal handler (@uc the interrupted context: one,
 * and the mark start that its barrier acknowledgment raised).
 */
static void ack_pending(struct kgc_thread *t, void *uc)
{
	struct kgc_ctl *ctl = kgc_ctl();

	for (;;) {
		uint32_t epoch = __atomic_load_n(&ctl->epoch, __ATOMIC_ACQUIRE);
		uint32_t phase = kgc_ctl_phase(ctl);

		if (phase == KGC_PHASE_OFF || epoch == t->acked ||
		    !__atomic_load_n(&t->attached, __ATOMIC_RELAXED))
			break;
		if (kgc_ack(t, epoch, phase, uc))
			break;	/* the kernel said no: try at the next one */
		if (uc && phase != KGC_PHASE_BARRIER)
			break;
	}
}

/**
 * kgc_safepoint_run() - acknowledge every handshake pending for @t
 * @t: the calling thread, attached, in a region, holding no lock
 *
 * errno is preserved.
 */
void kgc_safepoint_run(struct kgc_thread *t)
{
	int saved_errno = errno;

	ack_pending(t, NULL);
	errno = saved_errno;
}

/**
 * kgc_run_pending() - run the handshake the signal handler deferred
 * @t: the calling thread, just out of its outermost region, no lock held
 */
void kgc_run_pending(struct kgc_thread *t)
{
	while (t->pending) {
		t->pending = 0;
		kgc_signal_fence();
		kgc_enter(t);
		kgc_safepoint_run(t);
		kgc_leave_nosp(t);
	}
}

/* ---- the signal handler ---- */

static struct sigaction kgc_old_action[_NSIG];
static bool kgc_handler_installed[_NSIG];

static void kgc_sighandler(int sig, siginfo_t *info, void *ucv)
{
	struct kgc_thread *t = kgc_curthread;
	int saved_errno = errno;

	if (t && __atomic_load_n(&t->attached, __ATOMIC_RELAXED) &&
	    kgc_heap_ready() && t->gen == kgc_heap.gen) {
		if (t->depth) {
			t->pending = 1;	/* kgc_leave() runs it */
		} else if (!on_own_stack(t)) {
			/* On an alternate stack: we cannot scan ours. */
			t->pending = 1;
		} else {
			t->depth = 1;
			kgc_signal_fence();
			ack_pending(t, ucv);
			kgc_signal_fence();
			t->depth = 0;
		}
	}
	/* A handler the program had for this signal still runs. */
	if (sig > 0 && sig < _NSIG && (kgc_old_action[sig].sa_flags & SA_SIGINFO) &&
	    kgc_old_action[sig].sa_sigaction)
		kgc_old_action[sig].sa_sigaction(sig, info, ucv);
	else if (sig > 0 && sig < _NSIG &&
		 kgc_old_action[sig].sa_handler != SIG_DFL &&
		 kgc_old_action[sig].sa_handler != SIG_IGN &&
		 kgc_old_action[sig].sa_handler)
		kgc_old_action[sig].sa_handler(sig);
	errno = saved_errno;
}

/**
 * kgc_install_handler() - install the safepoint signal handler, once
 * @signo: the signal
 *
 * SA_RESTART (interrupted system calls restart where they can),
 * SA_SIGINFO (the ucontext), no SA_ONSTACK (the handler must run on the
 * thread's stack to scan it). A handler the program had installed before is
 * called after ours. Caller holds kgc_heap.lock.
 *
 * Return: 0 or -errno of sigaction().
 */
int kgc_install_handler(int signo)
{
	struct sigaction sa;

	if (signo <= 0 || signo >= _NSIG)
		return -EINVAL;
	if (kgc_handler_installed[signo])
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = kgc_sighandler;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, &kgc_old_action[signo]))
		return -errno;
	/* What the kernel puts below our frames' ucontext (ack_barrier()). */
	if (!sigaction(signo, NULL, &sa))
		__atomic_store_n(&kgc_sig_restorer, (uintptr_t)sa.sa_restorer,
				 __ATOMIC_RELAXED);
	if (kgc_old_action[signo].sa_sigaction == kgc_sighandler)
		memset(&kgc_old_action[signo], 0, sizeof(kgc_old_action[signo]));
	kgc_handler_installed[signo] = true;
	return 0;
}

/* ---- kgc_gc() ---- */

/**
 * kgc_gc_stack() - the heap pointers on the calling thread's stack, for
 * KGC_GC_RUN (all in one call)
 * @t: thread, in a region
 * @buf: room for @cap words (malloc memory)
 * @cap: at most KGC_SP_MAX_PTRS
 * @n: number of words found
 *
 * Return: 0, or -E2BIG when they do not fit.
 */
int kgc_gc_stack(struct kgc_thread *t, uint64_t *buf, size_t cap, size_t *n)
{
	struct scan s = { .t = t, .buf = buf, .cap = cap };

	scan_own_stack(&s);
	*n = s.n;
	return s.err;
}

/* Words from the stack pointer to the top: an upper bound for a scan. */
size_t kgc_stack_words(const struct kgc_thread *t)
{
	volatile uintptr_t here = 0;
	uintptr_t sp = (uintptr_t)&here;

	return sp < t->stack_hi ? (t->stack_hi - sp) / 8 + 1024 : 1024;
}

static int shade_range_flush(struct scan *s)
{
	return shade_chunks(s->t, s->buf, s->n, false);
}

/**
 * kgc_shade_range() - shade every heap pointer in [@lo, @hi)
 * @t: the calling thread, attached, in a region
 * @lo: start
 * @hi: end
 *
 * For root ranges added or removed while a cycle marks.
 *
 * Return: 0 or -errno.
 */
int kgc_shade_range(struct kgc_thread *t, uintptr_t lo, uintptr_t hi)
{
	struct scan s = {
		.t = t, .buf = t->scanbuf, .cap = KGC_SCANBUF_WORDS,
		.flush = shade_range_flush,
	};

	scan_words(&s, lo, hi);
	if (!s.err && s.n)
		s.err = shade_range_flush(&s);
	return s.err;
}

/* ---- gctrace ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t kgc_now_ns(void)
{
	return now_ns();
}

/* A consistent copy of cycle @n's record, or false if not published yet. */
static bool read_cycle(const struct kgc_ctl *ctl, uint64_t n,
		       struct kgc_cycle *c)
{
	const volatile struct kgc_cycle *src = &ctl->cycles[n % KGC_CYCLE_RING];
	struct kgc_cycle again;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		memcpy(c, (const void *)src, sizeof(*c));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		memcpy(&again, (const void *)src, sizeof(again));
		if (!memcmp(c, &again, sizeof(*c)))
			return c->num == n && c->end_ns;
	}
	return false;
}

static void print_cycle(const struct kgc_ctl *ctl, const struct kgc_cycle *c,
			const struct kgc_gc_stats *gs)
{
	struct kgc_cycle prev;
	uint64_t signals = c->signals;
	double at = c->start_ns > kgc_heap.init_ns ?
		    (double)(c->start_ns - kgc_heap.init_ns) / 1e9 : 0.0;
	double frac = gs && gs->uptime_ns ?
		      100.0 * (double)gs->gc_cpu_ns / (double)gs->uptime_ns : 0.0;
	uint64_t r = c->num % KGC_CYCLE_RING, live;
	static const char *const why[] = { "", " (forced)", " (forced)",
					   " (memory limit)", " (idle)" };

	/*
	 * The heap when the termination pause ended, as a released thread
	 * saw it; else (every thread was parked in kgc_gc()) the larger of
	 * the heap at the start and what was marked.
	 */
	if (__atomic_load_n(&kgc_heap.term_cycle[r], __ATOMIC_ACQUIRE) == c->num)
		live = __atomic_load_n(&kgc_heap.term_live[r], __ATOMIC_RELAXED);
	else
		live = c->heap_before > c->heap_marked ? c->heap_before :
		       c->heap_marked;
	/* The kernel's count is cumulative: per cycle when we can tell. */
	if (c->num > 1 && read_cycle(ctl, c->num - 1, &prev) &&
	    prev.signals <= c->signals)
		signals = c->signals - prev.signals;
	fprintf(stderr,
		"gc %llu @%.3fs %.0f%%: %.3f+%.3f+%.3f ms clock, %llu->%llu->%llu MB, %llu MB goal, %u threads, %llu signals, %llu freed%s\n",
		(unsigned long long)c->num, at, frac,
		(double)c->pause_start_ns / 1e6, (double)c->mark_ns / 1e6,
		(double)c->pause_term_ns / 1e6,
		(unsigned long long)(c->heap_before >> 20),
		(unsigned long long)(live >> 20),
		(unsigned long long)(c->heap_marked >> 20),
		(unsigned long long)(c->heap_goal >> 20), c->threads,
		(unsigned long long)signals,
		(unsigned long long)c->freed_objects,
		why[c->forced < ARRAY_SIZE(why) ? c->forced : 0]);
}

/**
 * kgc_trace_cycles() - gctrace: print the cycles finished since the last
 * line, each once across all threads (claimed with an atomic counter)
 *
 * Called outside regions (it takes the stdio lock) when gctrace is on.
 * errno is preserved.
 */
void kgc_trace_cycles(void)
{
	struct kgc_ctl *ctl = kgc_ctl();
	int saved_errno = errno;
	struct kgc_gc_stats gs;
	bool have_stats = false;
	uint64_t done, printed;

	if (!kgc_heap_ready())
		return;
	done = __atomic_load_n(&ctl->num_gc, __ATOMIC_ACQUIRE);
	printed = __atomic_load_n(&kgc_heap.traced, __ATOMIC_RELAXED);
	while (printed < done) {
		uint64_t n = printed + 1;
		struct kgc_cycle c;

		/* Fallen behind the ring: skip what is overwritten. */
		if (done - n >= KGC_CYCLE_RING - 1)
			n = done - (KGC_CYCLE_RING - 2);
		if (!read_cycle(ctl, n, &c))
			break;	/* published after the sweep: later */
		if (!__atomic_compare_exchange_n(&kgc_heap.traced, &printed, n,
						 false, __ATOMIC_RELAXED,
						 __ATOMIC_RELAXED))
			continue;	/* another thread took it */
		if (!have_stats) {
			memset(&gs, 0, sizeof(gs));
			have_stats = !sys_ioctl_raw(KGC_IOC_GC_STATS, &gs);
		}
		print_cycle(ctl, &c, have_stats ? &gs : NULL);
		printed = n;
	}
	errno = saved_errno;
}
