// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * thread.c - attaching threads to the heap and detaching them.
 *
 * A thread's kgc state (struct kgc_thread: mcache, write-barrier buffer,
 * stack bounds, counters, the stack-scan buffer the signal handler uses)
 * is allocated at its first allocation or explicit kgc_thread_attach() and
 * reached through one initial-exec TLS pointer, kgc_curthread (safe to
 * read in a signal handler). Attaching registers the thread with the
 * collector (KGC_IOC_THREAD_ATTACH: its stack bounds and the safepoint
 * signal; the kernel answers with the thread's slot in the control area).
 * The state is freed by kgc_thread_detach() or, at thread exit, by the
 * destructor of a pthread key, which first flushes the barrier buffer,
 * gives the cached spans back to the kernel (KGC_IOC_REFILL with spanclass
 * KGC_NO_SPANCLASS) so that other threads can allocate from them, and
 * unregisters the thread (KGC_IOC_THREAD_DETACH).
 *
 * kgc_shutdown() cannot free other threads' state (their TLS still points
 * to it), so it orphans it instead: the mcache is emptied (so the fast path
 * fails and the slow path runs), the thread is unlinked and marked not
 * attached. An orphan is revived in place by its next kgc call once a new
 * heap exists, or freed at thread exit.
 *
 * The thread list (kgc_heap.threads) is protected by kgc_heap.lock;
 * kgc_read_stats() walks it for the counters. The collector keeps its own
 * list in the kernel.
 *
 * Blocking regions: kgc_blocking_begin() flushes the barrier buffer and
 * sets KGC_SLOT_PARKED in the thread's slot of the control area; the
 * kernel then signals the thread at once in a handshake instead of waiting
 * its grace period, and the handler acknowledges with the frozen stack.
 * kgc_blocking_end() clears the bit and runs a safepoint.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

__thread struct kgc_thread *kgc_curthread
	__attribute__((tls_model("initial-exec")));

static pthread_key_t kgc_thread_key;
static pthread_once_t kgc_thread_key_once = PTHREAD_ONCE_INIT;
static int kgc_thread_key_err;

static void kgc_thread_exit(void *arg);

static void kgc_thread_key_create(void)
{
	kgc_thread_key_err = pthread_key_create(&kgc_thread_key,
						kgc_thread_exit);
}

/* Link @t into the thread list. Caller holds kgc_heap.lock. */
static void thread_link(struct kgc_thread *t)
{
	t->prev = NULL;
	t->next = kgc_heap.threads;
	if (t->next)
		t->next->prev = t;
	kgc_heap.threads = t;
	/* Read without the lock by kgc_ack(), as a hint. */
	__atomic_fetch_add(&kgc_heap.nthreads, 1, __ATOMIC_RELAXED);
	t->gen = kgc_heap.gen;
	__atomic_store_n(&t->attached, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&t->wbbuf.limit,
			 kgc_heap.cfg.debug & KGC_DEBUG_NOBARRIER ?
			 0 : KGC_WBBUF_ENTRIES, __ATOMIC_RELAXED);
}

/* Unlink @t from the thread list. Caller holds kgc_heap.lock. */
static void thread_unlink(struct kgc_thread *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		kgc_heap.threads = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = NULL;
	t->prev = NULL;
	__atomic_fetch_sub(&kgc_heap.nthreads, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&t->wbbuf.limit, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&t->attached, 0, __ATOMIC_RELAXED);
}

static void thread_stack_bounds(struct kgc_thread *t)
{
	pthread_attr_t attr;
	size_t size;
	void *addr;

	t->stack_lo = 0;
	t->stack_hi = 0;
	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	if (!pthread_attr_getstack(&attr, &addr, &size)) {
		t->stack_lo = (uintptr_t)addr;
		t->stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&attr);
}

void kgc_counters_add(struct kgc_counters *sum, const struct kgc_counters *c)
{
	const uint64_t *src = (const uint64_t *)c;
	uint64_t *dst = (uint64_t *)sum;
	size_t i;

	for (i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/**
 * kgc_threads_sum_counters() - counters of the whole process
 * @sum: folded counters plus every attached thread's
 *
 * The objects the threads' cached spans handed out so far are counted
 * too (mcache_read_counts()).
 *
 * Caller holds kgc_heap.lock.
 */
void kgc_threads_sum_counters(struct kgc_counters *sum)
{
	struct kgc_thread *t;

	*sum = kgc_heap.folded;
	for (t = kgc_heap.threads; t; t = t->next) {
		struct kgc_counters c = { 0 };
		uint64_t objs, bytes;

		kgc_counters_add(&c, &t->mcache.stats);
		mcache_read_counts(&t->mcache, &objs, &bytes);
		c.small_objs = objs;
		c.bytes_allocated = bytes;
		kgc_counters_add(sum, &c);
	}
}

/**
 * kgc_threads_orphan_all() - detach every thread without its help
 *
 * For kgc_shutdown() and the fork child: the heap goes away, so the spans
 * are dropped, not given back. Caller holds kgc_heap.lock.
 */
void kgc_threads_orphan_all(void)
{
	struct kgc_thread *t, *next;

	for (t = kgc_heap.threads; t; t = next) {
		next = t->next;
		thread_unlink(t);
		mcache_reset(&t->mcache);
		t->wbbuf.next = 0;
	}
	kgc_heap.threads = NULL;
	kgc_heap.nthreads = 0;
}

/* Free a thread's state; it is no longer reachable from its handler. */
static void thread_free(struct kgc_thread *t)
{
	if (kgc_curthread == t)
		kgc_curthread = NULL;
	kgc_signal_fence();
	free(t->scanbuf);
	free(t);
}

/**
 * kgc_thread_get_slow() - attach the calling thread, or revive it
 *
 * Return: the thread, attached to the current heap, or NULL with errno and
 * a message (no heap, no memory, no stack bounds, too many threads).
 */
struct kgc_thread *kgc_thread_get_slow(void)
{
	struct kgc_thread *t = kgc_curthread;
	struct kgc_thread_attach a;
	int err;

	if (!kgc_heap_ready())
		return (void)kgc_err_noheap("cannot attach the thread"), NULL;
	pthread_once(&kgc_thread_key_once, kgc_thread_key_create);
	if (kgc_thread_key_err)
		return kgc_seterr_null(kgc_thread_key_err,
				       "kgc: cannot create the thread key: %s",
				       strerror(kgc_thread_key_err));
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (t)
			t->scanbuf = malloc(KGC_SCANBUF_WORDS *
					    sizeof(*t->scanbuf));
		if (!t || !t->scanbuf) {
			free(t);
			return kgc_seterr_null(ENOMEM,
				"kgc: no memory for the state of thread %d",
				(int)gettid());
		}
		if (pthread_setspecific(kgc_thread_key, t)) {
			free(t->scanbuf);
			free(t);
			return kgc_seterr_null(ENOMEM,
				"kgc: cannot register thread %d for its exit",
				(int)gettid());
		}
		kgc_signal_fence();
		kgc_curthread = t;
	}
	if (__atomic_load_n(&t->attached, __ATOMIC_RELAXED))
		return t;
	t->tid = gettid();
	thread_stack_bounds(t);
	if (!t->stack_hi)
		return kgc_seterr_null(EIO,
			"kgc: cannot find the stack of thread %d (pthread_getattr_np failed): it cannot be scanned",
			(int)t->tid);

	/*
	 * Register with the collector. This may wait for a mark termination
	 * pause to end, so no lock is held; the region makes the handler
	 * defer a handshake that arrives before the thread is linked.
	 */
	/* New, or orphaned by the shutdown of an earlier heap. */
	mcache_reset(&t->mcache);
	memset(&t->mcache.stats, 0, sizeof(t->mcache.stats));
	t->wbbuf.next = 0;
	t->blocking = 0;
	t->acked = 0;
	t->scanned = 0;
	t->pending = 0;
	kgc_enter(t);
	memset(&a, 0, sizeof(a));
	a.stack_lo = t->stack_lo;
	a.stack_hi = t->stack_hi;
	a.signo = (uint32_t)kgc_heap.cfg.signo;
	err = kgc_sys_ioctl(t, KGC_IOC_THREAD_ATTACH, &a);
	if (err) {
		kgc_leave_nosp(t);
		t->pending = 0;
		if (err == -ENOSPC)
			return kgc_seterr_null(ENOSPC,
				"kgc: cannot attach thread %d: the collector takes at most %d threads",
				(int)t->tid, KGC_MAX_THREADS);
		return kgc_seterr_null(-err,
			"kgc: KGC_IOC_THREAD_ATTACH of thread %d failed: %s",
			(int)t->tid, strerror(-err));
	}

	pthread_mutex_lock(&kgc_heap.lock);
	if (kgc_heap.state != KGC_HEAP_READY) {
		pthread_mutex_unlock(&kgc_heap.lock);
		kgc_leave_nosp(t);
		t->pending = 0;
		return (void)kgc_err_noheap("cannot attach the thread"), NULL;
	}
	t->slot = a.slot;
	thread_link(t);
	pthread_mutex_unlock(&kgc_heap.lock);
	/* A handshake in progress needs us too. */
	kgc_safepoint_check(t);
	kgc_leave(t);
	return t;
}

/*
 * Detach @t (the calling thread): flush its barrier buffer, give its spans
 * back, unregister it, fold its counters. Safe on an orphan (does
 * nothing). Return 0 or the first -errno.
 */
static int thread_release(struct kgc_thread *t)
{
	int err = 0, err2;

	pthread_mutex_lock(&kgc_heap.lock);
	if (t->attached && t->gen == kgc_heap.gen &&
	    kgc_heap.state == KGC_HEAP_READY) {
		kgc_enter(t);
		wbbuf_flush(t);
		err = mcache_release_all(t);
		__atomic_store_n(&kgc_ctl()->slots[t->slot], 0,
				 __ATOMIC_RELEASE);
		err2 = kgc_sys_ioctl(t, KGC_IOC_THREAD_DETACH, NULL);
		if (err2 && !err)
			err = kgc_seterr(-err2,
				"kgc: KGC_IOC_THREAD_DETACH failed: %s",
				strerror(-err2));
		kgc_counters_add(&kgc_heap.folded, &t->mcache.stats);
		thread_unlink(t);
		kgc_leave_nosp(t);
		t->pending = 0;	/* no longer part of any handshake */
	}
	pthread_mutex_unlock(&kgc_heap.lock);
	return err;
}

/* pthread key destructor: the thread is exiting. */
static void kgc_thread_exit(void *arg)
{
	struct kgc_thread *t = arg;

	thread_release(t);
	thread_free(t);
}

KGC_EXPORT int kgc_thread_attach(void)
{
	return kgc_thread_get() ? 0 : -errno;
}

KGC_EXPORT int kgc_thread_detach(void)
{
	struct kgc_thread *t = kgc_curthread;
	int err;

	if (!t)
		return 0;
	err = thread_release(t);
	pthread_setspecific(kgc_thread_key, NULL);
	thread_free(t);
	return err;
}

static bool thread_ready(struct kgc_thread *t)
{
	return t && __atomic_load_n(&t->attached, __ATOMIC_RELAXED) &&
	       !t->depth && kgc_heap_ready();
}

KGC_EXPORT void kgc_safepoint(void)
{
	struct kgc_thread *t = kgc_curthread;
	int saved_errno = errno;

	if (!thread_ready(t))
		return;
	kgc_enter(t);
	kgc_safepoint_check(t);
	kgc_leave(t);
	errno = saved_errno;
}

KGC_EXPORT void kgc_blocking_begin(void)
{
	struct kgc_thread *t = kgc_curthread;
	int saved_errno = errno;

	if (!thread_ready(t))
		return;
	if (!t->blocking) {
		/* Parked threads are acknowledged by the handler: flush now. */
		kgc_enter(t);
		wbbuf_flush(t);
		__atomic_fetch_or(&kgc_ctl()->slots[t->slot], KGC_SLOT_PARKED,
				  __ATOMIC_SEQ_CST);
		/*
		 * The collector signals parked threads when it looks at them;
		 * a handshake raised before it could see the flag is ours to
		 * acknowledge (it does not look again for a while).
		 */
		kgc_safepoint_check(t);
		kgc_leave(t);
	}
	t->blocking++;
	errno = saved_errno;
}

KGC_EXPORT void kgc_blocking_end(void)
{
	struct kgc_thread *t = kgc_curthread;
	int saved_errno = errno;

	if (!t || !t->blocking)
		return;
	if (--t->blocking || !thread_ready(t))
		return;
	/*
	 * Sequentially consistent: the kernel acknowledges a barrier
	 * handshake for a parked thread, so the phase read below (and by
	 * every kgc_store() after it) must not be older than the bit.
	 */
	__atomic_fetch_and(&kgc_ctl()->slots[t->slot], ~KGC_SLOT_PARKED,
			   __ATOMIC_SEQ_CST);
	kgc_enter(t);
	kgc_safepoint_check(t);
	kgc_leave(t);
	errno = saved_errno;
}
