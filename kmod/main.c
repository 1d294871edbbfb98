// SPDX-License-Identifier: GPL-2.0
/*
 * kgc - kernel-assisted garbage-collected heaps.
 *
 * A process opens /dev/kgc and gets a heap modelled on Go's runtime: 8 KiB
 * pages, 64 MiB arenas, spans of size-classed objects handed to a user-space
 * mcache (libkgc). See README.md and the comment at the top of each file:
 *
 *   dev.c        the device and its ioctls
 *   heap.c       a process's heap: mm binding, mappings, pages
 *   mheap.c      page heap + span map + mcentrals of one heap
 *   pages.c      the page allocator (runs of free pages)
 *   span.c       spans and their bitmaps
 *   central.c    mcentral lists
 *   sizeclass.c  the size-class table
 *   gc.c         the collector: threads, handshakes, marker thread, pacer
 *   mark.c       tri-colour marking;  sweep.c  sweeping;  pacer.c  pacing
 *   debugfs.c    /sys/kernel/debug/kgc: per-heap stats and size classes
 *   scavenge.c   which free pages to give back first, and how much
 *   reclaim.c    giving them back: shrinker, background scavenger, explicit
 *   objstate.c   which addresses are allocated objects (heap profile)
 *
 * Lock order (outermost first):
 *   mmap_lock -> kgc_heap.setup_lock -> kgc_mheap.lock
 *   kgc_gc.roots_lock -> mmap_lock (the marker reads roots holding it)
 *   kgc_gc.shade_sem (read) -> kgc_mheap.lock -> kgc_mark.lock
 *   kgc_debugfs_lock -> kgc_mheap.lock -> kgc_gc.lock (module-wide debugfs
 *   files visiting each heap)
 *   kgc_mheap.lock -> kgc_scav.lock (a spinlock, innermost)
 *   kgc_gc.lock, kgc_heaps_lock and the xarray lock of kgc_heap.pages
 *   are leaves.
 *   The scavenger (reclaim.c) holds no kgc lock while it unmaps and frees
 *   pages (i_mmap_rwsem, page-table locks): it reserves the run under
 *   kgc_mheap.lock, drops it, gives the memory back, takes it again. The
 *   shrinker runs inside memory reclaim, which may be entered with any
 *   kgc lock held: it only ever mutex_trylock()s kgc_mheap.lock, and
 *   list_lru's lock is held only by callbacks that take references.
 *   kgc_mheap.lock and kgc_gc.lock are never held across a user memory
 *   access; shade_sem (read) and roots_lock may be.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>

#include "debugfs.h"
#include "dev.h"
#include "heap.h"
#include "span.h"

module_param_named(max_heap_mb, kgc_max_heap_mb, ulong, 0644);
MODULE_PARM_DESC(max_heap_mb,
		 "Largest heap a process may reserve, in MiB (default 65536)");
module_param_named(mark_workers, kgc_mark_workers, uint, 0644);
MODULE_PARM_DESC(mark_workers,
		 "Mark threads per heap, the marker included (1-8, default 1)");
module_param_named(handshake_grace_us, kgc_handshake_grace_us, uint, 0644);
MODULE_PARM_DESC(handshake_grace_us,
		 "How long a GC handshake waits for a thread before signalling it, in microseconds (default 250)");
module_param_named(term_defer_ms, kgc_term_defer_ms, uint, 0644);
MODULE_PARM_DESC(term_defer_ms,
		 "How long mark termination waits for a thread to come to a safepoint by itself before it is raised, in milliseconds (0: at once; default 20)");
module_param_named(idle_ms, kgc_idle_ms, uint, 0644);
MODULE_PARM_DESC(idle_ms,
		 "After this long without a refill a process counts as idle: one collection, and its free heap pages go back (0: never; default 1000)");
module_param_named(scavenge_cpu_percent, kgc_scav_cpu_percent, uint, 0644);
MODULE_PARM_DESC(scavenge_cpu_percent,
		 "Share of a CPU each heap's background scavenger may use, 0 to switch it off (default 1)");

static int __init kgc_init(void)
{
	int ret;

	BUILD_BUG_ON(BITS_PER_LONG != 64);
	BUILD_BUG_ON(sizeof(struct kgc_api) != KGC_API_SIZE_VER1);
	BUILD_BUG_ON(sizeof(struct kgc_refill) != KGC_REFILL_SIZE_VER1);
	BUILD_BUG_ON(sizeof(struct kgc_large) != KGC_LARGE_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kgc_free) != KGC_FREE_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kgc_stats) != KGC_STATS_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kgc_thread_attach) !=
		     KGC_THREAD_ATTACH_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kgc_safepoint) != KGC_SAFEPOINT_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kgc_roots) != KGC_ROOTS_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kgc_gc_ctl) != KGC_GC_CTL_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kgc_gc_stats) != KGC_GC_STATS_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kgc_ctl) > KGC_CTL_SIZE);
	BUILD_BUG_ON(sizeof(struct kgc_scavenge) != KGC_SCAVENGE_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct kgc_obj_state) != KGC_OBJ_STATE_SIZE_VER0);

	ret = kgc_span_cache_get();
	if (ret)
		return ret;
	ret = kgc_reclaim_init();
	if (ret) {
		pr_err("cannot register the shrinker: %d\n", ret);
		kgc_span_cache_put();
		return ret;
	}
	kgc_debugfs_init();
	ret = kgc_dev_init();
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", KGC_DEVICE_NAME, ret);
		kgc_debugfs_exit();
		kgc_reclaim_exit();
		kgc_span_cache_put();
		return ret;
	}
	pr_info("ready: /dev/%s, api %#llx\n", KGC_DEVICE_NAME, KGC_API);
	return 0;
}

static void __exit kgc_exit(void)
{
	kgc_dev_exit();
	kgc_debugfs_exit();
	kgc_reclaim_exit();
	kgc_span_cache_put();
}

module_init(kgc_init);
module_exit(kgc_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The kgc authors");
MODULE_DESCRIPTION("Kernel-assisted garbage-collected heaps (Go-style allocator and collector)");
