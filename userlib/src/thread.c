// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * thread.c - attaching threads to the heap and detaching them.
 *
 * A thread's kgc state (struct kgc_thread: mcache, write-barrier buffer,
 * stack bounds, counters) is allocated at its first allocation or explicit
 * kgc_thread_attach() and reached through one initial-exec TLS pointer,
 * kgc_curthread. It is freed by kgc_thread_detach() or, at thread exit, by
 * the destructor of a pthread key, which first gives the cached spans back
 * to the kernel (KGC_IOC_REFILL with spanclass KGC_NO_SPANCLASS) so that
 * other threads can allocate from them.
 *
 * kgc_shutdown() cannot free other threads' state (their TLS still points
 * to it), so it orphans it instead: the mcache is emptied (so the fast path
 * fails and the slow path runs), the thread is unlinked and marked not
 * attached. An orphan is revived in place by its next kgc call once a new
 * heap exists, or freed at thread exit.
 *
 * The thread list (kgc_heap.threads) is what the collector will walk for
 * stack roots and handshakes; kgc_read_stats() walks it for the counters.
 * It is protected by kgc_heap.lock.
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
	kgc_heap.nthreads++;
	t->gen = kgc_heap.gen;
	__atomic_store_n(&t->attached, 1, __ATOMIC_RELAXED);
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
	kgc_heap.nthreads--;
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
 * Caller holds kgc_heap.lock.
 */
void kgc_threads_sum_counters(struct kgc_counters *sum)
{
	struct kgc_thread *t;

	*sum = kgc_heap.folded;
	for (t = kgc_heap.threads; t; t = t->next)
		kgc_counters_add(sum, &t->mcache.stats);
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
		mcache_reset(&t->mcache);
		t->wbbuf.next = 0;
		thread_unlink(t);
	}
	kgc_heap.threads = NULL;
	kgc_heap.nthreads = 0;
}

/**
 * kgc_thread_get_slow() - attach the calling thread, or revive it
 *
 * Return: the thread, attached to the current heap, or NULL with errno and
 * a message (no heap, no memory).
 */
struct kgc_thread *kgc_thread_get_slow(void)
{
	struct kgc_thread *t = kgc_curthread;

	if (!kgc_heap_ready())
		return (void)kgc_err_noheap("cannot attach the thread"), NULL;
	pthread_once(&kgc_thread_key_once, kgc_thread_key_create);
	if (kgc_thread_key_err)
		return kgc_seterr_null(kgc_thread_key_err,
				       "kgc: cannot create the thread key: %s",
				       strerror(kgc_thread_key_err));
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return kgc_seterr_null(ENOMEM,
				"kgc: no memory for the state of thread %d",
				(int)gettid());
		if (pthread_setspecific(kgc_thread_key, t)) {
			free(t);
			return kgc_seterr_null(ENOMEM,
				"kgc: cannot register thread %d for its exit",
				(int)gettid());
		}
		kgc_curthread = t;
	}
	t->tid = gettid();
	thread_stack_bounds(t);

	pthread_mutex_lock(&kgc_heap.lock);
	if (kgc_heap.state != KGC_HEAP_READY) {
		pthread_mutex_unlock(&kgc_heap.lock);
		return (void)kgc_err_noheap("cannot attach the thread"), NULL;
	}
	if (!t->attached) {
		/* New, or orphaned by the shutdown of an earlier heap. */
		mcache_reset(&t->mcache);
		memset(&t->mcache.stats, 0, sizeof(t->mcache.stats));
		t->wbbuf.next = 0;
		t->blocking = 0;
		thread_link(t);
	}
	pthread_mutex_unlock(&kgc_heap.lock);
	return t;
}

/*
 * Detach @t: flush its barrier buffer, give its spans back, fold its
 * counters. Safe on an orphan (does nothing). Return 0 or the first -errno.
 */
static int thread_release(struct kgc_thread *t)
{
	int err = 0;

	pthread_mutex_lock(&kgc_heap.lock);
	if (t->attached && t->gen == kgc_heap.gen &&
	    kgc_heap.state == KGC_HEAP_READY) {
		wbbuf_flush(t);
		err = mcache_release_all(t);
		kgc_counters_add(&kgc_heap.folded, &t->mcache.stats);
		thread_unlink(t);
	}
	pthread_mutex_unlock(&kgc_heap.lock);
	return err;
}

/* pthread key destructor: the thread is exiting. */
static void kgc_thread_exit(void *arg)
{
	struct kgc_thread *t = arg;

	thread_release(t);
	if (kgc_curthread == t)
		kgc_curthread = NULL;
	free(t);
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
	kgc_curthread = NULL;
	pthread_setspecific(kgc_thread_key, NULL);
	free(t);
	return err;
}

KGC_EXPORT void kgc_safepoint(void)
{
	struct kgc_thread *t = kgc_curthread;

	if (t && __atomic_load_n(&t->attached, __ATOMIC_RELAXED))
		wbbuf_flush(t);
}

KGC_EXPORT void kgc_blocking_begin(void)
{
	struct kgc_thread *t = kgc_curthread;

	if (!t || !__atomic_load_n(&t->attached, __ATOMIC_RELAXED))
		return;
	/* Parked threads are not waited for: hand the marker what we have. */
	if (!t->blocking)
		wbbuf_flush(t);
	__atomic_store_n(&t->blocking, t->blocking + 1, __ATOMIC_RELEASE);
}

KGC_EXPORT void kgc_blocking_end(void)
{
	struct kgc_thread *t = kgc_curthread;

	if (!t || !t->blocking)
		return;
	__atomic_store_n(&t->blocking, t->blocking - 1, __ATOMIC_RELEASE);
}
