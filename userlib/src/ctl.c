// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * ctl.c - collector control and statistics.
 *
 * kgc_gc() runs a full cycle (KGC_IOC_GC, KGC_GC_RUN): the calling thread
 * hands over its barrier buffer and the heap pointers on its stack, then
 * waits in the kernel, which counts it as parked and acknowledges the
 * cycle's handshakes for it with those words. A signal interrupts the wait
 * (-EINTR): the call is simply made again, the kernel keeps the target.
 * The settings (GOGC, memory limit) go to the kernel's pacer (KGC_IOC_GC
 * with KGC_GC_SET_*) and are kept here for kgc_read_stats().
 *
 * kgc_read_stats() merges the kernel's struct kgc_stats (KGC_IOC_STATS)
 * and struct kgc_gc_stats (KGC_IOC_GC_STATS) with the library's counters:
 * those of the threads that detached (folded) plus those of every attached
 * thread, read with relaxed loads while they keep counting, so a sum is a
 * consistent-enough snapshot, not an atomic one.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

KGC_EXPORT int kgc_gc(void)
{
	struct kgc_thread *t = kgc_curthread;
	uint64_t *buf = NULL;
	struct kgc_gc_ctl c;
	size_t cap = 0, n = 0;
	int err;

	if (!kgc_heap_ready())
		return kgc_err_noheap("kgc_gc");
	memset(&c, 0, sizeof(c));
	c.op = KGC_GC_RUN;
	if (t && __atomic_load_n(&t->attached, __ATOMIC_RELAXED) && !t->depth) {
		/* Allocated outside the region: malloc takes locks. */
		cap = MIN(kgc_stack_words(t), (size_t)KGC_SP_MAX_PTRS);
		buf = malloc(cap * sizeof(*buf));
		if (!buf)
			return kgc_seterr(ENOMEM,
				"kgc: kgc_gc: no memory to scan the stack");
		kgc_enter(t);
		wbbuf_flush(t);
		err = kgc_gc_stack(t, buf, cap, &n);
		if (err) {
			kgc_leave(t);
			free(buf);
			return kgc_seterr(E2BIG,
				"kgc: kgc_gc: more than %zu heap pointers on the stack",
				cap);
		}
		c.ptrs = (uintptr_t)buf;
		c.nptrs = (uint32_t)n;
		/* Restarted after signals: the kernel keeps the target. */
		err = kgc_sys_ioctl(t, KGC_IOC_GC, &c);
		kgc_leave(t);
		free(buf);
	} else {
		err = kgc_sys_ioctl(t, KGC_IOC_GC, &c);
	}
	if (err)
		return kgc_seterr(-err, "kgc: KGC_IOC_GC (run) failed: %s",
				  strerror(-err));
	if (kgc_heap.cfg.debug & KGC_DEBUG_GCTRACE)
		kgc_trace_cycles();
	return 0;
}

/*
 * kgc_free_os_memory(): Go's debug.FreeOSMemory: a full cycle, then every
 * free heap page goes back to the system (KGC_IOC_SCAVENGE, RELEASE, no
 * limit). A kernel without the scavenger answers ENOSYS.
 */
KGC_EXPORT int kgc_free_os_memory(void)
{
#ifdef KGC_IOC_SCAVENGE
	struct kgc_scavenge sc;
	int err;
#endif

	if (!kgc_heap_ready())
		return kgc_err_noheap("kgc_free_os_memory");
#ifdef KGC_IOC_SCAVENGE
	if (kgc_heap.api.ioctls & (1ULL << KGC_IOC_NR_SCAVENGE)) {
		struct kgc_thread *t = kgc_thread_get();

		if (!t)
			return -errno;
		err = kgc_gc();
		if (err)
			return err;
		memset(&sc, 0, sizeof(sc));
		sc.op = KGC_SCAV_RELEASE;
		err = kgc_sys_ioctl(t, KGC_IOC_SCAVENGE, &sc);
		if (err)
			return kgc_seterr(-err,
				"kgc: kgc_free_os_memory: KGC_IOC_SCAVENGE failed: %s",
				strerror(-err));
		return 0;
	}
#endif
	return kgc_seterr(ENOSYS,
		"kgc: kgc_free_os_memory: this kgc has no scavenger (KGC_IOC_SCAVENGE)");
}

KGC_EXPORT int kgc_set_gc_percent(int percent)
{
	int old, err;

	if (percent < KGC_GOGC_OFF || percent > 1000000)
		return kgc_seterr(EINVAL,
			"kgc: kgc_set_gc_percent(%d): expected 0 to 1000000, or KGC_GOGC_OFF",
			percent);
	pthread_mutex_lock(&kgc_heap.lock);
	if (kgc_heap.state != KGC_HEAP_READY) {
		pthread_mutex_unlock(&kgc_heap.lock);
		return kgc_err_noheap("kgc_set_gc_percent");
	}
	old = kgc_heap.cfg.gc_percent;
	kgc_heap.cfg.gc_percent = percent;
	err = kgc_apply_settings();
	if (err)
		kgc_heap.cfg.gc_percent = old;
	pthread_mutex_unlock(&kgc_heap.lock);
	return err;
}

KGC_EXPORT int kgc_set_memory_limit(int64_t bytes)
{
	bool was_set;
	int64_t old;
	int err;

	if (bytes < 0)
		return kgc_seterr(EINVAL,
			"kgc: kgc_set_memory_limit(%lld): expected 0 or more bytes, or KGC_NO_MEMORY_LIMIT",
			(long long)bytes);
	pthread_mutex_lock(&kgc_heap.lock);
	if (kgc_heap.state != KGC_HEAP_READY) {
		pthread_mutex_unlock(&kgc_heap.lock);
		return kgc_err_noheap("kgc_set_memory_limit");
	}
	old = kgc_heap.cfg.memory_limit;
	was_set = kgc_heap.cfg.memory_limit_set;
	kgc_heap.cfg.memory_limit = bytes;
	kgc_heap.cfg.memory_limit_set = true;
	err = kgc_apply_settings();
	if (err) {
		kgc_heap.cfg.memory_limit = old;
		kgc_heap.cfg.memory_limit_set = was_set;
	}
	pthread_mutex_unlock(&kgc_heap.lock);
	return err;
}

KGC_EXPORT int kgc_read_stats(struct kgc_heap_stats *st)
{
	struct kgc_heap_stats s;
	struct kgc_counters c;
	struct kgc_gc_stats gs;
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
	memset(&gs, 0, sizeof(gs));
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
	err = kgc_sys_ioctl(NULL, KGC_IOC_GC_STATS, &gs);
	if (err) {
		pthread_mutex_unlock(&kgc_heap.lock);
		return kgc_seterr(-err, "kgc: KGC_IOC_GC_STATS failed: %s",
				  strerror(-err));
	}
	kgc_threads_sum_counters(&c);
	s.threads = kgc_heap.nthreads;
	s.gc_percent = kgc_heap.cfg.gc_percent;
	s.debug = kgc_heap.cfg.debug;
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
	s.alloc_noscan = kgc_counters_noscan(&c);
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
	s.handshakes = c.handshakes;
	s.signal_handshakes = c.signal_handshakes;
	s.barrier_restarts = c.barrier_restarts;
	kgc_roots_count(&s.roots, &s.root_bytes);

	/* The limit in effect: the kernel's (its default follows the cgroup). */
	s.memory_limit = gs.memory_limit == KGC_GC_OFF ? KGC_NO_MEMORY_LIMIT :
			 (int64_t)gs.memory_limit;
	s.num_gc = gs.num_gc;
	s.num_forced_gc = gs.num_forced_gc;
	s.pause_total_ns = gs.pause_total_ns;
	s.last_gc_ns = gs.last_gc_ns;
	s.next_gc = gs.next_gc;
	s.heap_live = gs.heap_live;
	s.heap_marked = gs.heap_marked;
	s.gc_cpu_fraction = gs.uptime_ns ?
			    (double)gs.gc_cpu_ns / (double)gs.uptime_ns : 0.0;
	s.checkmark_errors = gs.checkmark_errors;
	s.signals = gs.signals;
	memcpy(s.pause_ns, gs.pause_ns, sizeof(s.pause_ns));

	/* Copy what the caller knows; zero what we do not. */
	s.sz = sz;
	memcpy(st, &s, MIN(sz, sizeof(s)));
	if (sz > sizeof(s))
		memset((char *)st + sizeof(s), 0, sz - sizeof(s));
	return 0;
}
