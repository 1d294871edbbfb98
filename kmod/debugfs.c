// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs.c - /sys/kernel/debug/kgc: the heaps seen from the inside.
 *
 *   kgc/totals              module-wide sums over every heap
 *   kgc/heaps               one row per heap
 *   kgc/<tgid>/stats        one heap's struct kgc_stats and struct
 *                           kgc_gc_stats, one "name value" per line
 *   kgc/<tgid>/sizeclasses  one row per span class in use (spans, objects,
 *                           bytes), like zsmalloc's "classes" file
 *
 * docs/debugfs.md describes every file and column.
 *
 * A heap's directory is named after the thread-group id (global pid
 * namespace) of the process that opened /dev/kgc; when that name is taken
 * (a heap kept alive by an fd that outlived its process or survived an
 * exec, while a new heap is opened under the same tgid) it is
 * "<tgid>.<heap id>".
 *
 * When: the directory is made when the heap is created (open of /dev/kgc),
 * not when it is mapped, because mmap runs under the mmap_lock, and
 * creating a debugfs entry takes the debugfs directory's i_rwsem, which
 * readdir of that directory holds while it copies to user memory (a fault:
 * mmap_lock). Until the heap is mapped its files show only what exists
 * ("mapped 0"). The directory is removed first thing in
 * kgc_heap_destroy(), before anything of the heap is freed.
 *
 * Lifetimes: the files are created with debugfs_create_file() (not the
 * _unsafe variant), so debugfs wraps every file operation in
 * debugfs_file_get()/debugfs_file_put(), and debugfs_remove() waits for
 * operations in progress to finish; afterwards an fd still open on a file
 * gets -EIO. A show function therefore never runs on a heap being freed.
 *
 * Locking: the show functions take the heap's own locks the way the stats
 * ioctls do (kgc_heap.setup_lock, then kgc_mheap.lock, then kgc_gc.lock,
 * never more than one at a time except in this order). kgc_debugfs_lock
 * protects the list of heaps (kgc_debugfs_heaps) and is held by the
 * module-wide files while they visit each heap, so it is taken before the
 * heap locks; it is never held while a debugfs entry is created or
 * removed. Nothing is held across a copy to user space (seq_file copies
 * after show returns).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "debugfs.h"
#include "heap.h"
#include "sizeclass.h"

/**
 * struct kgc_debugfs_heap - a heap as debugfs knows it
 * @heap: the heap; valid while the entry is in kgc_debugfs_heaps
 * @dir: its directory (an ERR_PTR when it could not be made)
 * @tgid: thread-group id of the process that created the heap
 * @name: the directory's name
 */
struct kgc_debugfs_heap {
	struct kgc_heap *heap;
	struct dentry *dir;
	pid_t tgid;
	char name[24];
};

static struct dentry *kgc_debugfs_root;

/* Protects kgc_debugfs_heaps (entries by heap id); see the top comment. */
static DEFINE_MUTEX(kgc_debugfs_lock);
static DEFINE_XARRAY(kgc_debugfs_heaps);

/*
 * The heap's header lines, valid whether or not it is mapped. Returns
 * whether the heap is mapped, i.e. whether its mheap may be looked at.
 */
static bool kgc_debugfs_show_header(struct seq_file *m, struct kgc_heap *heap)
{
	bool mapped;

	mutex_lock(&heap->setup_lock);
	mapped = heap->mapped;
	seq_printf(m, "heap_id %d\n", heap->id);
	seq_printf(m, "mapped %d\n", mapped);
	seq_printf(m, "features %#llx\n", heap->api_done ? heap->features : 0);
	seq_printf(m, "heap_base %#llx\n", mapped ? heap->mheap.base : 0);
	seq_printf(m, "heap_size %lu\n", heap->size);
	seq_printf(m, "bitmap_mapped %d\n", heap->bitmap_mapped);
	mutex_unlock(&heap->setup_lock);
	return mapped;
}

/* struct kgc_stats, filled as KGC_IOC_STATS does. */
static void kgc_debugfs_heap_stats(struct kgc_heap *heap, struct kgc_stats *st)
{
	memset(st, 0, sizeof(*st));
	kgc_mheap_stats(&heap->mheap, st);
	st->heap_resident = (u64)atomic_long_read(&heap->resident) << PAGE_SHIFT;
	st->faults = atomic_long_read(&heap->faults);
}

static int kgc_heap_stats_show(struct seq_file *m, void *unused)
{
	struct kgc_heap *heap = m->private;
	struct kgc_gc *gc = &heap->gc;
	struct kgc_gc_stats *gs;
	struct kgc_stats st;
	u64 npause, i;
	u32 phase, nthreads, nroots;

	if (!kgc_debugfs_show_header(m, heap))
		return 0;
	gs = kzalloc(sizeof(*gs), GFP_KERNEL);
	if (!gs)
		return -ENOMEM;

	kgc_debugfs_heap_stats(heap, &st);
	seq_printf(m, "heap_sys %llu\n", st.heap_sys);
	seq_printf(m, "heap_inuse %llu\n", st.heap_inuse);
	seq_printf(m, "heap_idle %llu\n", st.heap_idle);
	seq_printf(m, "heap_released %llu\n", st.heap_released);
	seq_printf(m, "heap_resident %llu\n", st.heap_resident);
	seq_printf(m, "spans_inuse %llu\n", st.spans_inuse);
	seq_printf(m, "spans_cached %llu\n", st.spans_cached);
	seq_printf(m, "large_objects %llu\n", st.large_objects);
	seq_printf(m, "large_bytes %llu\n", st.large_bytes);
	seq_printf(m, "refills %llu\n", st.refills);
	seq_printf(m, "faults %llu\n", st.faults);
	seq_printf(m, "arenas %llu\n", st.arenas);

	kgc_gc_stats(gc, gs);
	seq_printf(m, "num_gc %llu\n", gs->num_gc);
	seq_printf(m, "num_forced_gc %llu\n", gs->num_forced_gc);
	seq_printf(m, "pause_total_ns %llu\n", gs->pause_total_ns);
	seq_printf(m, "last_gc_ns %llu\n", gs->last_gc_ns);
	seq_printf(m, "next_gc %llu\n", gs->next_gc);
	seq_printf(m, "heap_live %llu\n", gs->heap_live);
	seq_printf(m, "heap_marked %llu\n", gs->heap_marked);
	seq_printf(m, "gc_cpu_ns %llu\n", gs->gc_cpu_ns);
	seq_printf(m, "uptime_ns %llu\n", gs->uptime_ns);
	seq_printf(m, "heap_objects %llu\n", gs->heap_objects);
	/* KGC_GC_OFF (all ones) reads as -1. */
	seq_printf(m, "gc_percent %lld\n", (s64)gs->gc_percent);
	seq_printf(m, "memory_limit %lld\n", (s64)gs->memory_limit);
	seq_printf(m, "checkmark_errors %llu\n", gs->checkmark_errors);
	seq_printf(m, "signals %llu\n", gs->signals);

	spin_lock(&gc->lock);
	phase = gc->phase;
	nthreads = gc->nthreads;
	npause = gc->npause;
	spin_unlock(&gc->lock);
	mutex_lock(&gc->roots_lock);
	nroots = gc->nroots;
	mutex_unlock(&gc->roots_lock);
	seq_printf(m, "gc_phase %u\n", phase);
	seq_printf(m, "gc_threads %u\n", nthreads);
	seq_printf(m, "gc_roots %u\n", nroots);

	/*
	 * The pauses as recorded when kgc_gc_stats() copied them, oldest
	 * first (at most the last 256).
	 */
	seq_puts(m, "pause_ns");
	i = npause > ARRAY_SIZE(gs->pause_ns) ?
	    npause - ARRAY_SIZE(gs->pause_ns) : 0;
	for (; i < npause; i++)
		seq_printf(m, " %llu",
			   gs->pause_ns[i % ARRAY_SIZE(gs->pause_ns)]);
	seq_putc(m, '\n');
	kfree(gs);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kgc_heap_stats);

/**
 * struct kgc_debugfs_class - one row of the sizeclasses file
 * @partial: spans on the mcentral's partial lists
 * @full: spans on its full lists
 * @cached: spans held by mcaches
 * @objects: object slots in those spans
 * @inuse: objects allocated (cached spans: as of hand-out)
 */
struct kgc_debugfs_class {
	unsigned long partial;
	unsigned long full;
	unsigned long cached;
	u64 objects;
	u64 inuse;
};

static void kgc_debugfs_count(struct kgc_debugfs_class *row,
			      const struct list_head *list)
{
	const struct kgc_span *s;

	list_for_each_entry(s, list, list) {
		row->objects += s->nelems;
		row->inuse += s->alloccount;
	}
}

/*
 * Walk the heap's spans once, under the heap lock, so that a span moving
 * between lists is never counted twice or missed.
 */
static void kgc_debugfs_classes(struct kgc_mheap *h,
				struct kgc_debugfs_class *rows)
{
	const struct kgc_span *s;
	unsigned int sc, set;

	mutex_lock(&h->lock);
	for (sc = 0; sc < KGC_NR_SPANCLASSES; sc++) {
		struct kgc_central *c = &h->central[sc];

		rows[sc].partial = c->nr_partial;
		rows[sc].full = c->nr_full;
		rows[sc].cached = c->nr_cached;
		for (set = 0; set < KGC_SWEEP_SETS; set++) {
			kgc_debugfs_count(&rows[sc], &c->partial[set]);
			kgc_debugfs_count(&rows[sc], &c->full[set]);
		}
	}
	list_for_each_entry(s, &h->cached, list) {
		if (s->spanclass >= KGC_NR_SPANCLASSES)
			continue;
		rows[s->spanclass].objects += s->nelems;
		rows[s->spanclass].inuse += s->alloccount;
	}
	mutex_unlock(&h->lock);
}

static int kgc_heap_sizeclasses_show(struct seq_file *m, void *unused)
{
	struct kgc_heap *heap = m->private;
	struct kgc_debugfs_class *rows;
	unsigned int sc;

	seq_printf(m, "%9s %5s %5s %6s %5s %7s %7s %6s %9s %9s %9s %12s\n",
		   "spanclass", "class", "size", "noscan", "pages", "partial",
		   "full", "cached", "objects", "inuse", "free", "bytes");
	if (!kgc_heap_ready(heap))
		return 0;
	rows = kcalloc(KGC_NR_SPANCLASSES, sizeof(*rows), GFP_KERNEL);
	if (!rows)
		return -ENOMEM;
	kgc_debugfs_classes(&heap->mheap, rows);
	for (sc = 0; sc < KGC_NR_SPANCLASSES; sc++) {
		const struct kgc_debugfs_class *r = &rows[sc];
		u32 class = KGC_SPANCLASS_SIZECLASS(sc);
		unsigned long spans = r->partial + r->full + r->cached;

		if (!class || !spans)
			continue;
		seq_printf(m, "%9u %5u %5u %6u %5u %7lu %7lu %6lu %9llu %9llu %9llu %12llu\n",
			   sc, class, kgc_class_size[class],
			   KGC_SPANCLASS_NOSCAN(sc), kgc_class_npages[class],
			   r->partial, r->full, r->cached, r->objects, r->inuse,
			   r->objects - r->inuse,
			   (u64)spans * kgc_class_npages[class] * KGC_PAGE_SIZE);
	}
	kfree(rows);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kgc_heap_sizeclasses);

/**
 * struct kgc_debugfs_sum - one heap's figures for the module-wide files
 * @mapped: the heap is mapped (everything else is zero when not)
 * @st: its struct kgc_stats
 * @num_gc: GC cycles completed
 * @num_forced: of which forced
 * @pause_total_ns: sum of its pauses
 * @cpu_ns: CPU time of its collector
 */
struct kgc_debugfs_sum {
	bool mapped;
	struct kgc_stats st;
	u64 num_gc;
	u64 num_forced;
	u64 pause_total_ns;
	u64 cpu_ns;
};

static void kgc_debugfs_sum(struct kgc_heap *heap, struct kgc_debugfs_sum *s)
{
	memset(s, 0, sizeof(*s));
	s->mapped = kgc_heap_ready(heap);
	if (!s->mapped)
		return;
	kgc_debugfs_heap_stats(heap, &s->st);
	spin_lock(&heap->gc.lock);
	s->num_gc = heap->gc.num_gc;
	s->num_forced = heap->gc.num_forced;
	s->pause_total_ns = heap->gc.pause_total_ns;
	s->cpu_ns = heap->gc.cpu_ns;
	spin_unlock(&heap->gc.lock);
}

static int kgc_totals_show(struct seq_file *m, void *unused)
{
	struct kgc_debugfs_sum one, all = { };
	struct kgc_debugfs_heap *e;
	unsigned long nheaps = 0, nmapped = 0, idx;

	mutex_lock(&kgc_debugfs_lock);
	xa_for_each(&kgc_debugfs_heaps, idx, e) {
		kgc_debugfs_sum(e->heap, &one);
		nheaps++;
		nmapped += one.mapped;
		all.st.heap_sys += one.st.heap_sys;
		all.st.heap_inuse += one.st.heap_inuse;
		all.st.heap_idle += one.st.heap_idle;
		all.st.heap_released += one.st.heap_released;
		all.st.heap_resident += one.st.heap_resident;
		all.st.spans_inuse += one.st.spans_inuse;
		all.st.spans_cached += one.st.spans_cached;
		all.st.large_objects += one.st.large_objects;
		all.st.large_bytes += one.st.large_bytes;
		all.st.refills += one.st.refills;
		all.st.faults += one.st.faults;
		all.st.arenas += one.st.arenas;
		all.num_gc += one.num_gc;
		all.num_forced += one.num_forced;
		all.pause_total_ns += one.pause_total_ns;
		all.cpu_ns += one.cpu_ns;
		cond_resched();
	}
	mutex_unlock(&kgc_debugfs_lock);

	seq_printf(m, "heaps %lu\n", nheaps);
	seq_printf(m, "heaps_mapped %lu\n", nmapped);
	seq_printf(m, "heap_sys %llu\n", all.st.heap_sys);
	seq_printf(m, "heap_inuse %llu\n", all.st.heap_inuse);
	seq_printf(m, "heap_idle %llu\n", all.st.heap_idle);
	seq_printf(m, "heap_released %llu\n", all.st.heap_released);
	seq_printf(m, "heap_resident %llu\n", all.st.heap_resident);
	seq_printf(m, "resident_pages %llu\n", all.st.heap_resident >> PAGE_SHIFT);
	seq_printf(m, "spans_inuse %llu\n", all.st.spans_inuse);
	seq_printf(m, "spans_cached %llu\n", all.st.spans_cached);
	seq_printf(m, "large_objects %llu\n", all.st.large_objects);
	seq_printf(m, "large_bytes %llu\n", all.st.large_bytes);
	seq_printf(m, "refills %llu\n", all.st.refills);
	seq_printf(m, "faults %llu\n", all.st.faults);
	seq_printf(m, "arenas %llu\n", all.st.arenas);
	seq_printf(m, "num_gc %llu\n", all.num_gc);
	seq_printf(m, "num_forced_gc %llu\n", all.num_forced);
	seq_printf(m, "pause_total_ns %llu\n", all.pause_total_ns);
	seq_printf(m, "gc_cpu_ns %llu\n", all.cpu_ns);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kgc_totals);

static int kgc_heaps_show(struct seq_file *m, void *unused)
{
	struct kgc_debugfs_heap *e;
	struct kgc_debugfs_sum s;
	unsigned long idx;

	seq_printf(m, "%-16s %7s %7s %6s %14s %12s %9s %9s\n", "dir", "id",
		   "tgid", "mapped", "heap_sys", "resident", "spans",
		   "num_gc");
	mutex_lock(&kgc_debugfs_lock);
	xa_for_each(&kgc_debugfs_heaps, idx, e) {
		kgc_debugfs_sum(e->heap, &s);
		seq_printf(m, "%-16s %7d %7d %6d %14llu %12llu %9llu %9llu\n",
			   e->name, e->heap->id, e->tgid, s.mapped,
			   s.st.heap_sys, s.st.heap_resident, s.st.spans_inuse,
			   s.num_gc);
		cond_resched();
	}
	mutex_unlock(&kgc_debugfs_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kgc_heaps);

/**
 * kgc_debugfs_heap_add() - make a heap's directory
 * @heap: a heap just created by the calling process
 *
 * Best effort, as debugfs is: a heap without a directory works the same.
 * Called with no lock of kgc held.
 */
void kgc_debugfs_heap_add(struct kgc_heap *heap)
{
	struct kgc_debugfs_heap *e;
	struct dentry *old;

	if (IS_ERR_OR_NULL(kgc_debugfs_root))
		return;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return;
	e->heap = heap;
	e->tgid = task_tgid_nr(current);
	snprintf(e->name, sizeof(e->name), "%d", e->tgid);
	/* Asked first: debugfs logs an error for a name that exists. */
	old = debugfs_lookup(e->name, kgc_debugfs_root);
	if (old) {
		dput(old);
		snprintf(e->name, sizeof(e->name), "%d.%d", e->tgid, heap->id);
	}
	e->dir = debugfs_create_dir(e->name, kgc_debugfs_root);
	if (!IS_ERR(e->dir)) {
		debugfs_create_file("stats", 0444, e->dir, heap,
				    &kgc_heap_stats_fops);
		debugfs_create_file("sizeclasses", 0444, e->dir, heap,
				    &kgc_heap_sizeclasses_fops);
	}
	mutex_lock(&kgc_debugfs_lock);
	if (xa_err(xa_store(&kgc_debugfs_heaps, heap->id, e, GFP_KERNEL))) {
		mutex_unlock(&kgc_debugfs_lock);
		debugfs_remove(e->dir);
		kfree(e);
		return;
	}
	mutex_unlock(&kgc_debugfs_lock);
}

/**
 * kgc_debugfs_heap_remove() - remove a heap's directory
 * @heap: heap about to be destroyed
 *
 * Waits for every read of the heap's files in progress to finish; files
 * still open return -EIO from then on. Called with no lock of kgc held,
 * before anything of the heap is freed.
 */
void kgc_debugfs_heap_remove(struct kgc_heap *heap)
{
	struct kgc_debugfs_heap *e;

	mutex_lock(&kgc_debugfs_lock);
	e = xa_erase(&kgc_debugfs_heaps, heap->id);
	mutex_unlock(&kgc_debugfs_lock);
	if (!e)
		return;
	debugfs_remove(e->dir);
	kfree(e);
}

/**
 * kgc_debugfs_init() - make /sys/kernel/debug/kgc and its module-wide files
 *
 * Best effort: without debugfs (e.g. debugfs=off) kgc works the same.
 */
void kgc_debugfs_init(void)
{
	kgc_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	if (IS_ERR(kgc_debugfs_root))
		return;
	debugfs_create_file("totals", 0444, kgc_debugfs_root, NULL,
			    &kgc_totals_fops);
	debugfs_create_file("heaps", 0444, kgc_debugfs_root, NULL,
			    &kgc_heaps_fops);
}

/**
 * kgc_debugfs_exit() - remove /sys/kernel/debug/kgc
 *
 * Called after the device is gone; no heap is left by then.
 */
void kgc_debugfs_exit(void)
{
	debugfs_remove(kgc_debugfs_root);
	kgc_debugfs_root = NULL;
	WARN_ON(!xa_empty(&kgc_debugfs_heaps));
	xa_destroy(&kgc_debugfs_heaps);
}
