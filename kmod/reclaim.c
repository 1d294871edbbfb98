// SPDX-License-Identifier: GPL-2.0
/*
 * reclaim.c - the scavenger's kernel side: free heap pages go back to the
 * system through the kernel's own memory reclaim (a shrinker), a background
 * scavenger and an explicit call.
 *
 * What is given back
 * ------------------
 * Free resident heap pages: pages of no span whose memory is still
 * allocated (see scavenge.c, which also picks which ones: the chunk freed
 * into longest ago first). Giving a run back unmaps it from the process and
 * frees its pages; the next touch faults in a zeroed page, so the page heap
 * records the run as scavenged and the allocator knows it needs no
 * clearing.
 *
 * How one run is given back (all three paths)
 * -------------------------------------------
 * The heap lock is never held while memory is unmapped: unmapping takes
 * i_mmap_rwsem and page-table locks and flushes TLBs, and the heap lock is
 * what every span refill waits for. So, like Go's scavengeOne():
 *
 *   1. heap lock: pick a run (kgc_scavidx_find()), reserve it in the page
 *      heap (kgc_pageheap_alloc_range()), count it in scav.inflight;
 *   2. no lock: kgc_heap_drop_pages(): the pages leave the page store, the
 *      run is unmapped, the pages are freed;
 *   3. heap lock: free the run in the page heap and mark it scavenged,
 *      uncount it.
 *
 * While a run is reserved an allocation may find no room that it would
 * otherwise have found; if it cannot grow the heap either, it waits for the
 * scavengers (kgc_scav_wait(), the mheap's scav_wait hook) and tries again;
 * while it waits no scavenger reserves more.
 *
 * The shrinker
 * ------------
 * One module-wide shrinker, memcg aware: each heap has a node on a
 * memcg-aware list_lru, allocated with kmem_cache_alloc_lru() in the
 * owner's context, so the node sits on the list of the owner's memory
 * cgroup and list_lru sets the shrinker's bit in that cgroup (6.1 exports
 * no other way to do that). Reclaim of that cgroup (memory.high,
 * memory.max, or global reclaim walking the cgroups) then calls the
 * shrinker with it, and the shrinker walks that cgroup's heaps only.
 * Objects are base pages: count reports the free resident pages of those
 * heaps; scan gives back runs from one heap after the other (rotating the
 * list) until it has scanned what it was asked to. seeks is 0: a free heap
 * page is garbage, dropping it costs no I/O, and refaulting it costs a zero
 * page, so reclaim may take half of them per pass.
 *
 * Never blocking reclaim: count takes no heap lock (it reads the page
 * heap's WRITE_ONCE counters) and only the list_lru's own spinlock to walk
 * the cgroup's list. Scan takes the heap lock with mutex_trylock(), and
 * returns SHRINK_STOP when every heap it tried was contended and nothing
 * was freed. For step 3 it tries again; if the heap lock is taken it never
 * waits but leaves the run in a slot (struct kgc_scav.runs) for the heap's
 * worker, which runs on a WQ_MEM_RECLAIM workqueue. The work per call is
 * bounded by nr_to_scan (and KGC_SHRINK_MAX_SCAN for debugfs requests).
 *
 * The background scavenger
 * ------------------------
 * A delayed work per heap. It is kicked after refills, large allocations,
 * explicit frees, knob changes and each GC cycle's sweep, and runs while
 * the retained heap (pages in use plus free resident pages) is above the
 * goal (kgc_scav_goal(): 10% over the pacer's heap goal plus the recent
 * overshoot, or over the recent peak when that is more, at most 95% of
 * the memory limit). The overshoot is how far the heap went past its goal
 * while the last cycles marked (a decaying maximum, kgc_scav_overshoot()):
 * the next cycle goes as far, and pages given back below that peak would
 * only be faulted in again, zeroed. The recent peak (kgc_scav_recent_peak())
 * covers a goal that dropped for one cycle while the heap will not.
 * Each run works for at most KGC_SCAV_SLICE_NS, then rests so that it
 * uses kgc_scav_cpu_percent (1%) of a CPU; kicks never wake it before its
 * rest is over. Above the memory-limit goal it does not rest.
 *
 * When the process has gone idle (no refill for kgc_idle_ms, see gc.c) the
 * goal drops to the pages in use: every free resident page goes back, the
 * oldest first, at the same CPU cap. The marker kicks the scavenger when
 * the idle period begins, or collects first when the idle heap holds
 * enough garbage (its sweep then kicks it). Free pages of a busy heap are
 * reused within a cycle or two, so they stay; those of an idle one would
 * otherwise stay until the process allocates again (like jemalloc's decay
 * to zero, but at one idle period rather than ten seconds). The next
 * allocation ends the idle goal; what it needs faults in zeroed.
 *
 * Explicit release
 * ----------------
 * KGC_SCAV_RELEASE gives back every free resident page (or a number of
 * bytes) at once in the caller's context, like Go's debug.FreeOSMemory()
 * (whose collection libkgc runs first).
 *
 * The memory limit
 * ----------------
 * A new heap's memory limit (the pacer's GOMEMLIMIT) defaults to the
 * tightest memory.max of the owner's memory cgroup and its ancestors,
 * read from the page counters directly (kgc_scav_cgroup_limit();
 * get_mem_cgroup_from_mm() is exported, mem_cgroup_get_max() is not).
 * Until the process sets a limit itself, the marker reads it again at the
 * start of every cycle, so a changed memory.max or a move to another
 * cgroup takes effect within one cycle. Heap pages are charged to the
 * cgroup of the task that touches them; a cgroup over memory.max reclaims
 * (this shrinker included) and then OOM kills inside the cgroup: the fault
 * path returns VM_FAULT_OOM, which on 6.1 never invokes the global OOM
 * killer.
 *
 * Locking (see also main.c):
 *   kgc_mheap.lock -> kgc_scav.lock  (spinlock, innermost)
 *   list_lru node lock -> nothing (callbacks only take references)
 *   no kgc lock is held across kgc_heap_drop_pages() (i_mmap_rwsem, PTLs)
 *   reclaim: mutex_trylock(kgc_mheap.lock) only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/list_lru.h>
#include <linux/memcontrol.h>
#include <linux/sched/signal.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/wait_bit.h>

#include "heap.h"
#include "reclaim.h"

#define CREATE_TRACE_POINTS
#include "scavenge_trace.h"

/* Base pages per heap page: the shrinker counts base pages. */
#define KGC_SCAV_RATIO		(KGC_PAGE_SIZE / PAGE_SIZE)
/* Longest stretch of background work before it rests. */
#define KGC_SCAV_SLICE_NS	(1 * NSEC_PER_MSEC)
/* Most base pages one scan call gives back (debugfs may ask for more). */
#define KGC_SHRINK_MAX_SCAN	(64UL << (20 - PAGE_SHIFT))

unsigned int kgc_scav_cpu_percent = 1;

/**
 * struct kgc_scav_node - a heap's entry on the shrinker's list
 * @lru: link in kgc_scav_lru, on the list of the owner's memory cgroup
 * @heap: the heap
 * @users: shrinker calls working on @heap; kgc_scav_destroy() waits for
 *	them after taking the node off the list
 */
struct kgc_scav_node {
	struct list_head lru;
	struct kgc_heap *heap;
	atomic_t users;
};

static struct kmem_cache *kgc_scav_cache;
static struct list_lru kgc_scav_lru;
static struct shrinker *kgc_shrinker;
static struct workqueue_struct *kgc_scav_wq;
/* The list_lru is set up: the shrinker may walk it. */
static bool kgc_scav_ready;

static u64 kgc_scav_clock(void)
{
	return get_jiffies_64();
}

static struct kgc_heap *kgc_scav_heap(struct kgc_scav *sc)
{
	return container_of(sc, struct kgc_heap, scav);
}

/* Heap pages in use or free but resident. */
static unsigned long kgc_scav_retained(struct kgc_heap *heap)
{
	const struct kgc_pageheap *ph = &heap->mheap.pages;
	unsigned long limit = kgc_pageheap_limit(ph);
	unsigned long scav = kgc_pageheap_scav_pages(ph);

	return limit > scav ? limit - scav : 0;
}

/*
 * The background scavenger's goal for the retained heap, in bytes: once the
 * process is idle, the pages in use (none free).
 */
static u64 kgc_scav_goal_now(struct kgc_heap *heap)
{
	if (kgc_gc_idle(&heap->gc)) {
		unsigned long retained = kgc_scav_retained(heap);
		unsigned long free = kgc_pageheap_resident_free(&heap->mheap.pages);

		return (u64)(retained > free ? retained - free : 0) <<
		       KGC_PAGE_SHIFT;
	}
	return kgc_scav_goal(READ_ONCE(heap->gc.heap_goal),
			     READ_ONCE(heap->gc.overshoot),
			     READ_ONCE(heap->gc.recent_peak),
			     READ_ONCE(heap->gc.memory_limit));
}

/* Heap pages over the goal that could be given back now. */
static unsigned long kgc_scav_todo(struct kgc_heap *heap)
{
	unsigned long excess = kgc_scav_excess(kgc_scav_retained(heap),
					       kgc_scav_goal_now(heap));

	return min(excess, kgc_pageheap_resident_free(&heap->mheap.pages));
}

/* Queue the heap's work after @delay jiffies, unless it is being torn down. */
static void kgc_scav_queue(struct kgc_scav *sc, unsigned long delay)
{
	spin_lock(&sc->lock);
	if (sc->attached)
		queue_delayed_work(kgc_scav_wq, &sc->work, delay);
	spin_unlock(&sc->lock);
}

/* Return a given-back run to the page heap. Heap lock held. */
static void kgc_scav_finish(struct kgc_mheap *h, unsigned long base,
			    unsigned long npages)
{
	lockdep_assert_held(&h->lock);
	kgc_pageheap_free(&h->pages, base, npages);
	kgc_pageheap_scavenge(&h->pages, base, npages);
	h->scav.inflight -= npages;
	if (!h->scav.inflight)
		wake_up_var(&h->scav.inflight);
}

/* Finish the runs the shrinker left in slots. Heap lock held. */
static void kgc_scav_finish_ready(struct kgc_heap *heap)
{
	struct kgc_scav *sc = &heap->scav;
	struct kgc_scav_run run;
	unsigned int i;

	lockdep_assert_held(&heap->mheap.lock);
	for (;;) {
		spin_lock(&sc->lock);
		i = sc->ready ? __ffs(sc->ready) : KGC_SCAV_SLOTS;
		if (i < KGC_SCAV_SLOTS) {
			run = sc->runs[i];
			__clear_bit(i, &sc->ready);
			__clear_bit(i, &sc->claimed);
		}
		spin_unlock(&sc->lock);
		if (i >= KGC_SCAV_SLOTS)
			break;
		kgc_scav_finish(&heap->mheap, run.base, run.npages);
	}
}

/* Claim a slot for a shrinker call; -1 when all are in use. */
static int kgc_scav_claim(struct kgc_scav *sc)
{
	int i;

	spin_lock(&sc->lock);
	i = ffz(sc->claimed);
	if (i < KGC_SCAV_SLOTS)
		__set_bit(i, &sc->claimed);
	else
		i = -1;
	spin_unlock(&sc->lock);
	return i;
}

static void kgc_scav_unclaim(struct kgc_scav *sc, int slot)
{
	spin_lock(&sc->lock);
	__clear_bit(slot, &sc->claimed);
	spin_unlock(&sc->lock);
}

/* Bytes given back by one path. */
static u64 kgc_scav_bytes(struct kgc_scav *sc, enum kgc_scav_path path)
{
	return (u64)atomic_long_read(&sc->released[path]) << KGC_PAGE_SHIFT;
}

/* Publish the counters in the control area, for gctrace. */
static void kgc_scav_publish(struct kgc_heap *heap)
{
	struct kgc_ctl *ctl = heap->gc.ctl;
	struct kgc_scav *sc = &heap->scav;

	if (!ctl)
		return;
	WRITE_ONCE(ctl->scav_background,
		   kgc_scav_bytes(sc, KGC_SCAV_BACKGROUND));
	WRITE_ONCE(ctl->scav_shrinker, kgc_scav_bytes(sc, KGC_SCAV_SHRINKER));
	WRITE_ONCE(ctl->scav_explicit, kgc_scav_bytes(sc, KGC_SCAV_EXPLICIT));
}

/**
 * kgc_scav_release_one() - give one run of free resident pages back
 * @heap: heap, attached
 * @path: who asks
 * @max: longest run, in heap pages
 * @freed: if not NULL, set to the base pages actually freed
 *
 * The shrinker (@path KGC_SCAV_SHRINKER) never waits for the heap lock; the
 * other paths sleep for it. See the top of this file for the protocol.
 *
 * Return: heap pages given back, 0 when none is left, -EBUSY when the heap
 * lock was contended (shrinker) or an allocation is waiting for the
 * scavengers.
 */
static long kgc_scav_release_one(struct kgc_heap *heap,
				 enum kgc_scav_path path, unsigned long max,
				 unsigned long *freed)
{
	bool reclaim = path == KGC_SCAV_SHRINKER;
	struct kgc_mheap *h = &heap->mheap;
	struct kgc_scav *sc = &heap->scav;
	unsigned long n, dropped;
	u64 stamp = 0, now;
	int slot = -1;
	long base;

	if (freed)
		*freed = 0;
	if (reclaim) {
		slot = kgc_scav_claim(sc);
		if (slot < 0)
			return -EBUSY;
		if (!mutex_trylock(&h->lock)) {
			kgc_scav_unclaim(sc, slot);
			return -EBUSY;
		}
	} else {
		mutex_lock(&h->lock);
		kgc_scav_finish_ready(heap);
	}
	if (h->scav.waiters) {
		mutex_unlock(&h->lock);
		if (reclaim)
			kgc_scav_unclaim(sc, slot);
		return -EBUSY;
	}
	base = kgc_scavidx_find(&h->scav, &h->pages, max, &n, &stamp);
	if (base < 0 || !n || kgc_pageheap_alloc_range(&h->pages, base, n,
						       NULL)) {
		mutex_unlock(&h->lock);
		if (reclaim)
			kgc_scav_unclaim(sc, slot);
		return 0;
	}
	h->scav.inflight += n;
	now = kgc_scavidx_now(&h->scav);
	mutex_unlock(&h->lock);

	dropped = kgc_heap_drop_pages(heap, base, n);

	if (!reclaim) {
		mutex_lock(&h->lock);
		kgc_scav_finish(h, base, n);
		mutex_unlock(&h->lock);
	} else if (mutex_trylock(&h->lock)) {
		kgc_scav_finish(h, base, n);
		mutex_unlock(&h->lock);
		kgc_scav_unclaim(sc, slot);
	} else {
		/* The worker finishes it: reclaim never waits. */
		spin_lock(&sc->lock);
		sc->runs[slot].base = base;
		sc->runs[slot].npages = n;
		__set_bit(slot, &sc->ready);
		if (sc->attached)
			mod_delayed_work(kgc_scav_wq, &sc->work, 0);
		spin_unlock(&sc->lock);
	}

	atomic_long_add(n, &sc->released[path]);
	atomic_long_inc(&sc->batches);
	kgc_scav_publish(heap);
	trace_kgc_scavenge(task_tgid_nr(heap->gc.owner), path, base, n,
			   dropped, jiffies64_to_msecs(now - stamp));
	if (freed)
		*freed = dropped;
	return n;
}

/**
 * kgc_scav_wait() - the mheap's scav_wait hook: wait for the scavengers
 * @h: heap, lock held; no run fits while some are reserved
 *
 * Finishes the runs left for the worker (we hold the lock it needs), then,
 * if runs are still being given back, drops the lock and waits for them.
 * No scavenger reserves more while an allocation waits.
 */
static void kgc_scav_wait(struct kgc_mheap *h)
{
	struct kgc_heap *heap = container_of(h, struct kgc_heap, mheap);

	lockdep_assert_held(&h->lock);
	kgc_scav_finish_ready(heap);
	if (!h->scav.inflight)
		return;
	h->scav.waiters++;
	mutex_unlock(&h->lock);
	wait_var_event_killable(&h->scav.inflight,
				!READ_ONCE(h->scav.inflight));
	mutex_lock(&h->lock);
	h->scav.waiters--;
}

static void kgc_scav_work_fn(struct work_struct *work)
{
	struct kgc_scav *sc = container_of(to_delayed_work(work),
					   struct kgc_scav, work);
	struct kgc_heap *heap = kgc_scav_heap(sc);
	unsigned long todo, delay;
	u64 t0, ns;
	long ret = 0;

	if (READ_ONCE(sc->ready)) {
		mutex_lock(&heap->mheap.lock);
		kgc_scav_finish_ready(heap);
		mutex_unlock(&heap->mheap.lock);
	}
	if (!READ_ONCE(sc->background) || !kgc_scav_cpu_percent)
		return;
	t0 = ktime_get_ns();
	while ((todo = kgc_scav_todo(heap))) {
		ret = kgc_scav_release_one(heap, KGC_SCAV_BACKGROUND,
					   min_t(unsigned long, todo,
						 KGC_SCAV_BATCH_PAGES), NULL);
		if (ret <= 0 || ktime_get_ns() - t0 >= KGC_SCAV_SLICE_NS)
			break;
		cond_resched();
	}
	ns = kgc_scav_sleep_ns(ktime_get_ns() - t0,
			       min(kgc_scav_cpu_percent, 100U));
	delay = clamp_t(u64, nsecs_to_jiffies64(ns), 1, HZ);
	/* Over the memory limit's goal: no rest. */
	if (READ_ONCE(heap->gc.memory_limit) >= 0 &&
	    (u64)kgc_scav_retained(heap) << KGC_PAGE_SHIFT >
	    (u64)READ_ONCE(heap->gc.memory_limit) / 100 *
	    KGC_SCAV_LIMIT_PERCENT)
		delay = 1;
	WRITE_ONCE(sc->next_run, jiffies + delay);
	if (ret != 0 && kgc_scav_todo(heap))
		kgc_scav_queue(sc, delay);
}

/**
 * kgc_scav_kick() - let the background scavenger look at the heap
 * @heap: heap
 *
 * Cheap and lock-free unless there is work: called after anything that may
 * free pages or lower the goal. The scavenger starts at once, or when its
 * rest is over.
 */
void kgc_scav_kick(struct kgc_heap *heap)
{
	struct kgc_scav *sc = &heap->scav;
	long wait;

	if (!READ_ONCE(sc->attached) || !READ_ONCE(sc->background) ||
	    !kgc_scav_todo(heap))
		return;
	wait = (long)(READ_ONCE(sc->next_run) - jiffies);
	kgc_scav_queue(sc, wait > 0 ? wait : 0);
}

/* Release up to @max heap pages for the caller. */
static int kgc_scav_release_explicit(struct kgc_heap *heap,
				     unsigned long max, unsigned long *done)
{
	unsigned int busy = 0;

	*done = 0;
	while (*done < max) {
		long n = kgc_scav_release_one(heap, KGC_SCAV_EXPLICIT,
					      min_t(unsigned long, max - *done,
						    KGC_SCAV_BATCH_PAGES),
					      NULL);

		if (fatal_signal_pending(current))
			return -EINTR;
		if (n == -EBUSY && ++busy < 100) {
			/* An allocation waits for the scavengers: let it. */
			schedule_timeout_uninterruptible(1);
			continue;
		}
		if (n <= 0)
			break;
		*done += n;
		cond_resched();
	}
	return 0;
}

/**
 * kgc_scav_ioctl() - KGC_IOC_SCAVENGE
 * @heap: heap, mapped
 * @s: request; the counters are filled on success
 *
 * Return: 0, -EINVAL or -EINTR.
 */
int kgc_scav_ioctl(struct kgc_heap *heap, struct kgc_scavenge *s)
{
	struct kgc_scav *sc = &heap->scav;
	struct kgc_mheap *h = &heap->mheap;
	unsigned long done = 0;
	u64 oldest;
	int ret;

	if (s->flags || s->resv[0] || s->resv[1])
		return -EINVAL;
	switch (s->op) {
	case KGC_SCAV_QUERY:
		if (s->value)
			return -EINVAL;
		break;
	case KGC_SCAV_RELEASE:
		ret = kgc_scav_release_explicit(heap, s->value ?
				DIV_ROUND_UP_ULL(s->value, KGC_PAGE_SIZE) :
				ULONG_MAX, &done);
		if (ret)
			return ret;
		break;
	case KGC_SCAV_SET_BACKGROUND:
		if (s->value > 1)
			return -EINVAL;
		WRITE_ONCE(sc->background, s->value);
		kgc_scav_kick(heap);
		break;
	default:
		return -EINVAL;
	}

	mutex_lock(&h->lock);
	oldest = kgc_scavidx_oldest(&h->scav, &h->pages);
	mutex_unlock(&h->lock);
	s->released = (u64)done << KGC_PAGE_SHIFT;
	s->retained = (u64)kgc_scav_retained(heap) << KGC_PAGE_SHIFT;
	s->goal = kgc_scav_goal_now(heap);
	if (s->goal == ~0ULL)
		s->goal = KGC_GC_OFF;
	s->free_resident = (u64)kgc_pageheap_resident_free(&h->pages) <<
			   KGC_PAGE_SHIFT;
	s->scav_background = kgc_scav_bytes(sc, KGC_SCAV_BACKGROUND);
	s->scav_shrinker = kgc_scav_bytes(sc, KGC_SCAV_SHRINKER);
	s->scav_explicit = kgc_scav_bytes(sc, KGC_SCAV_EXPLICIT);
	s->batches = atomic_long_read(&sc->batches);
	s->oldest_free_ms = oldest == KGC_SCAV_NONE ? 0 :
			    jiffies64_to_msecs(get_jiffies_64() - oldest);
	s->background = READ_ONCE(sc->background);
	return 0;
}

/* ---- the shrinker ---- */

static enum lru_status kgc_shrink_count_cb(struct list_head *item,
					   struct list_lru_one *list,
					   spinlock_t *lock, void *arg)
{
	struct kgc_scav_node *node = container_of(item, struct kgc_scav_node,
						  lru);
	unsigned long *total = arg;

	*total += kgc_pageheap_resident_free(&node->heap->mheap.pages) *
		  KGC_SCAV_RATIO;
	return LRU_SKIP;
}

static unsigned long kgc_shrink_count(struct shrinker *s,
				      struct shrink_control *sc)
{
	unsigned long total = 0, heaps = 0;
	int nid;

	/* Pairs with kgc_reclaim_init(): the list_lru is set up. */
	if (!smp_load_acquire(&kgc_scav_ready))
		return 0;
	for_each_node(nid) {
		unsigned long nr = list_lru_count_one(&kgc_scav_lru, nid,
						      sc->memcg);

		if (!nr)
			continue;
		heaps += nr;
		list_lru_walk_one(&kgc_scav_lru, nid, sc->memcg,
				  kgc_shrink_count_cb, &total, &nr);
	}
	/*
	 * SHRINK_EMPTY lets memcg reclaim clear our bit, which only
	 * list_lru_add() of a cgroup's first heap sets again: say it only
	 * when the cgroup has no heap at all.
	 */
	return heaps ? total : SHRINK_EMPTY;
}

/* Take the first heap of the list and move it to the end. */
static enum lru_status kgc_shrink_pick_cb(struct list_head *item,
					  struct list_lru_one *list,
					  spinlock_t *lock, void *arg)
{
	struct kgc_scav_node *node = container_of(item, struct kgc_scav_node,
						  lru);

	atomic_inc(&node->users);
	*(struct kgc_scav_node **)arg = node;
	return LRU_ROTATE;
}

static void kgc_scav_node_put(struct kgc_scav_node *node)
{
	if (atomic_dec_and_test(&node->users))
		wake_up_var(&node->users);
}

static void kgc_shrink_account(unsigned long freed);

static unsigned long kgc_shrink_scan(struct shrinker *s,
				     struct shrink_control *sc)
{
	unsigned long want = min(sc->nr_to_scan, KGC_SHRINK_MAX_SCAN);
	unsigned long scanned = 0, freed = 0;
	bool contended = false;
	int nid;

	/* Pairs with kgc_reclaim_init(): the list_lru is set up. */
	if (!smp_load_acquire(&kgc_scav_ready))
		return SHRINK_STOP;
	for_each_node(nid) {
		unsigned long heaps = list_lru_count_one(&kgc_scav_lru, nid,
							 sc->memcg);

		for (; heaps && scanned < want; heaps--) {
			struct kgc_scav_node *node = NULL;
			unsigned long one = 1;

			list_lru_walk_one(&kgc_scav_lru, nid, sc->memcg,
					  kgc_shrink_pick_cb, &node, &one);
			if (!node)
				break;
			while (scanned < want) {
				unsigned long got, max;
				long n;

				max = DIV_ROUND_UP(want - scanned,
						   KGC_SCAV_RATIO);
				max = min(max, KGC_SCAV_BATCH_PAGES);
				n = kgc_scav_release_one(node->heap,
							 KGC_SCAV_SHRINKER,
							 max, &got);
				if (n == -EBUSY)
					contended = true;
				if (n <= 0)
					break;
				scanned += n * KGC_SCAV_RATIO;
				freed += got;
			}
			kgc_scav_node_put(node);
		}
	}
	if (scanned)
		sc->nr_scanned = scanned;
	kgc_shrink_account(freed);
	if (!freed && contended)
		return SHRINK_STOP;
	return freed;
}

/*
 * The shrinker API changed in 6.7: shrinker_alloc()/shrinker_register()
 * (which came with the SHRINKER_ALLOCATED flag) instead of a caller-owned
 * struct and register_shrinker(). These two keep the difference in one
 * place.
 */
#ifdef SHRINKER_ALLOCATED
static struct shrinker *kgc_shrinker_create(void)
{
	struct shrinker *s = shrinker_alloc(SHRINKER_MEMCG_AWARE |
					    SHRINKER_NONSLAB, "kgc");

	if (!s)
		return NULL;
	s->count_objects = kgc_shrink_count;
	s->scan_objects = kgc_shrink_scan;
	s->seeks = 0;
	shrinker_register(s);
	return s;
}

static void kgc_shrinker_destroy(struct shrinker *s)
{
	shrinker_free(s);
}

static void kgc_shrink_account(unsigned long freed)
{
	mm_account_reclaimed_pages(freed);
}
#else
static struct shrinker kgc_shrinker_61 = {
	.count_objects = kgc_shrink_count,
	.scan_objects = kgc_shrink_scan,
	.seeks = 0,
	.flags = SHRINKER_MEMCG_AWARE | SHRINKER_NONSLAB,
};

static struct shrinker *kgc_shrinker_create(void)
{
	return register_shrinker(&kgc_shrinker_61, "kgc") ? NULL :
							     &kgc_shrinker_61;
}

static void kgc_shrinker_destroy(struct shrinker *s)
{
	unregister_shrinker(s);
}

/* Tell reclaim the pages it got, as slab shrinkers do (6.4+: a helper). */
static void kgc_shrink_account(unsigned long freed)
{
	if (current->reclaim_state)
		current->reclaim_state->reclaimed_slab += freed;
}
#endif

/**
 * kgc_scav_cgroup_limit() - the default memory limit of a heap
 * @mm: the heap owner's address space (held with mmgrab() at least)
 *
 * Return: the tightest memory.max of @mm's memory cgroup and its ancestors
 * in bytes, or -1 when none is set (or memory cgroups are off).
 */
s64 kgc_scav_cgroup_limit(struct mm_struct *mm)
{
	unsigned long max = PAGE_COUNTER_MAX;
	struct mem_cgroup *memcg, *it;

	memcg = get_mem_cgroup_from_mm(mm);
	if (!memcg)
		return -1;
	for (it = memcg; it; it = parent_mem_cgroup(it))
		max = min(max, READ_ONCE(it->memory.max));
	css_put(&memcg->css);
	return max >= PAGE_COUNTER_MAX ? -1 : (s64)max << PAGE_SHIFT;
}

/**
 * kgc_scav_init() - set up the scavenger of a new heap
 * @heap: heap being created, in its owner's context
 *
 * Return: 0 or -ENOMEM.
 */
int kgc_scav_init(struct kgc_heap *heap)
{
	struct kgc_scav *sc = &heap->scav;
	struct kgc_scav_node *node;
	unsigned int i;

	/* Charged to the owner: that puts it on its cgroup's list. */
	node = kmem_cache_alloc_lru(kgc_scav_cache, &kgc_scav_lru, GFP_KERNEL);
	if (!node)
		return -ENOMEM;
	INIT_LIST_HEAD(&node->lru);
	node->heap = heap;
	atomic_set(&node->users, 0);
	sc->node = node;
	INIT_DELAYED_WORK(&sc->work, kgc_scav_work_fn);
	spin_lock_init(&sc->lock);
	sc->background = true;
	sc->next_run = jiffies;
	for (i = 0; i < KGC_SCAV_NR_PATHS; i++)
		atomic_long_set(&sc->released[i], 0);
	atomic_long_set(&sc->batches, 0);
	return 0;
}

/**
 * kgc_scav_attach() - start scavenging a heap that is now mapped
 * @heap: heap whose mheap was just set up (setup_lock held)
 */
void kgc_scav_attach(struct kgc_heap *heap)
{
	struct kgc_scav *sc = &heap->scav;

	heap->mheap.scav.clock = kgc_scav_clock;
	heap->mheap.scav_wait = kgc_scav_wait;
	spin_lock(&sc->lock);
	sc->attached = true;
	spin_unlock(&sc->lock);
	list_lru_add(&kgc_scav_lru, &sc->node->lru);
}

/**
 * kgc_scav_destroy() - stop scavenging a heap and free its state
 * @heap: heap being destroyed; no ioctl is running
 *
 * Called before the collector and the mheap go: afterwards no shrinker
 * call, worker or kick touches the heap.
 */
void kgc_scav_destroy(struct kgc_heap *heap)
{
	struct kgc_scav *sc = &heap->scav;
	struct kgc_scav_node *node = sc->node;

	if (!node)
		return;
	list_lru_del(&kgc_scav_lru, &node->lru);
	wait_var_event(&node->users, !atomic_read(&node->users));
	spin_lock(&sc->lock);
	sc->attached = false;
	spin_unlock(&sc->lock);
	cancel_delayed_work_sync(&sc->work);
	kmem_cache_free(kgc_scav_cache, node);
	sc->node = NULL;
}

/**
 * kgc_reclaim_init() - register the shrinker, at module load
 *
 * Return: 0 or a negative errno.
 */
int kgc_reclaim_init(void)
{
	int ret = -ENOMEM;

	kgc_scav_cache = kmem_cache_create("kgc_scav_node",
					   sizeof(struct kgc_scav_node), 0,
					   SLAB_ACCOUNT, NULL);
	if (!kgc_scav_cache)
		return ret;
	kgc_scav_wq = alloc_workqueue("kgc_scav", WQ_UNBOUND | WQ_MEM_RECLAIM,
				      0);
	if (!kgc_scav_wq)
		goto err_cache;
	kgc_shrinker = kgc_shrinker_create();
	if (!kgc_shrinker)
		goto err_wq;
	/* The shrinker's id exists now: the list_lru sets its bits. */
	ret = list_lru_init_memcg(&kgc_scav_lru, kgc_shrinker);
	if (ret)
		goto err_shrinker;
	/* Pairs with the shrinker's smp_load_acquire(). */
	smp_store_release(&kgc_scav_ready, true);
	return 0;

err_shrinker:
	kgc_shrinker_destroy(kgc_shrinker);
err_wq:
	destroy_workqueue(kgc_scav_wq);
err_cache:
	kmem_cache_destroy(kgc_scav_cache);
	return ret;
}

/** kgc_reclaim_exit() - unregister the shrinker, after the last heap */
void kgc_reclaim_exit(void)
{
	/* Waits for shrinker calls in progress. */
	kgc_shrinker_destroy(kgc_shrinker);
	list_lru_destroy(&kgc_scav_lru);
	destroy_workqueue(kgc_scav_wq);
	kmem_cache_destroy(kgc_scav_cache);
}
