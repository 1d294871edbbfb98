// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * ctl.c - collector control and statistics.
 *
 * The collector (marker, sweeper, pacer, scavenger) lives in kgc.ko and is
 * not there yet in this version: kgc_gc() and kgc_free_os_memory() answer
 * -ENOSYS, and the settings (GOGC, memory limit) are validated, kept and
 * reported by kgc_read_stats() so that a program can already set them, but
 * the setters still answer -ENOSYS to say that nothing acts on them.
 *
 * kgc_read_stats() merges the kernel's struct kgc_stats (KGC_IOC_STATS)
 * with the library's counters: those of the threads that detached (folded)
 * plus those of every attached thread, read with relaxed loads while they
 * keep counting, so a sum is a consistent-enough snapshot, not an atomic
 * one.
 */
#include <string.h>

#include "internal.h"

KGC_EXPORT int kgc_gc(void)
{
	if (!kgc_heap_ready())
		return kgc_err_noheap("kgc_gc");
	return kgc_seterr(ENOSYS,
		"kgc: kgc_gc: this kgc has no collector yet");
}

KGC_EXPORT int kgc_free_os_memory(void)
{
	if (!kgc_heap_ready())
		return kgc_err_noheap("kgc_free_os_memory");
	return kgc_seterr(ENOSYS,
		"kgc: kgc_free_os_memory: this kgc has no collector or scavenger yet");
}

KGC_EXPORT int kgc_set_gc_percent(int percent)
{
	if (percent < KGC_GOGC_OFF)
		return kgc_seterr(EINVAL,
			"kgc: kgc_set_gc_percent(%d): expected 0 or more, or KGC_GOGC_OFF",
			percent);
	pthread_mutex_lock(&kgc_heap.lock);
	if (kgc_heap.state != KGC_HEAP_READY) {
		pthread_mutex_unlock(&kgc_heap.lock);
		return kgc_err_noheap("kgc_set_gc_percent");
	}
	kgc_heap.cfg.gc_percent = percent;
	pthread_mutex_unlock(&kgc_heap.lock);
	return kgc_seterr(ENOSYS,
		"kgc: kgc_set_gc_percent(%d): stored, but this kgc has no collector yet",
		percent);
}

KGC_EXPORT int kgc_set_memory_limit(int64_t bytes)
{
	if (bytes < 0)
		return kgc_seterr(EINVAL,
			"kgc: kgc_set_memory_limit(%lld): expected 0 or more bytes, or KGC_NO_MEMORY_LIMIT",
			(long long)bytes);
	pthread_mutex_lock(&kgc_heap.lock);
	if (kgc_heap.state != KGC_HEAP_READY) {
		pthread_mutex_unlock(&kgc_heap.lock);
		return kgc_err_noheap("kgc_set_memory_limit");
	}
	kgc_heap.cfg.memory_limit = bytes;
	pthread_mutex_unlock(&kgc_heap.lock);
	return kgc_seterr(ENOSYS,
		"kgc: kgc_set_memory_limit(%lld): stored, but this kgc has no collector yet",
		(long long)bytes);
}

KGC_EXPORT int kgc_read_stats(struct kgc_heap_stats *st)
{
	struct kgc_heap_stats s;
	struct kgc_counters c;
	struct kgc_stats ks;
	size_t sz;
	int err;

	if (!st)
		return kgc_seterr(EINVAL, "kgc: kgc_read_stats: st is NULL");
	sz = st->sz;
	if (sz < offsetofend(struct kgc_heap_stats, sz))
		return kgc_seterr(EINVAL,
			"kgc: kgc_read_stats: st->sz is %zu: set it to sizeof(struct kgc_heap_stats)",
			sz);

	memset(&s, 0, sizeof(s));
	memset(&ks, 0, sizeof(ks));
	pthread_mutex_lock(&kgc_heap.lock);
	if (kgc_heap.state != KGC_HEAP_READY) {
		pthread_mutex_unlock(&kgc_heap.lock);
		return kgc_err_noheap("kgc_read_stats");
	}
	err = kgc_sys_ioctl(NULL, KGC_IOC_STATS, &ks);
	if (err) {
		pthread_mutex_unlock(&kgc_heap.lock);
		return kgc_seterr(-err, "kgc: KGC_IOC_STATS failed: %s",
				  strerror(-err));
	}
	kgc_threads_sum_counters(&c);
	s.threads = kgc_heap.nthreads;
	s.gc_percent = kgc_heap.cfg.gc_percent;
	s.debug = kgc_heap.cfg.debug;
	s.memory_limit = kgc_heap.cfg.memory_limit;
	s.heap_reserved = kgc_heap.arena_end - kgc_heap.arena_start;
	pthread_mutex_unlock(&kgc_heap.lock);

	s.heap_sys = ks.heap_sys;
	s.heap_inuse = ks.heap_inuse;
	s.heap_idle = ks.heap_idle;
	s.heap_released = ks.heap_released;
	s.heap_resident = ks.heap_resident;
	s.spans_inuse = ks.spans_inuse;
	s.spans_cached = ks.spans_cached;
	s.large_objects = ks.large_objects;
	s.large_bytes = ks.large_bytes;
	s.kernel_refills = ks.refills;
	s.faults = ks.faults;
	s.arenas = ks.arenas;

	s.alloc_precise = c.alloc_precise;
	s.alloc_conservative = c.alloc_conservative;
	s.alloc_noscan = c.alloc_noscan;
	s.alloc_tiny = c.alloc_tiny;
	s.alloc_large = c.alloc_large;
	s.bytes_allocated = c.bytes_allocated;
	s.frees_large = c.frees_large;
	s.refills = c.refills;
	s.span_returns = c.span_returns;
	s.syscalls = c.syscalls;
	s.barrier_records = c.barrier_records;
	s.barrier_flushes = c.barrier_flushes;
	s.barrier_shaded = c.barrier_shaded;
	kgc_roots_count(&s.roots, &s.root_bytes);

	/* Copy what the caller knows; zero what we do not. */
	s.sz = sz;
	memcpy(st, &s, MIN(sz, sizeof(s)));
	if (sz > sizeof(s))
		memset((char *)st + sizeof(s), 0, sz - sizeof(s));
	return 0;
}
