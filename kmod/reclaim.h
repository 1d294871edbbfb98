/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reclaim.h - giving free heap memory back to the system: the shrinker, the
 * background scavenger and explicit release (the kernel side of the
 * scavenger; its index and arithmetic are scavenge.c).
 */
#ifndef _KGC_RECLAIM_H
#define _KGC_RECLAIM_H

#include <linux/atomic.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

struct kgc_heap;
struct kgc_scavenge;
struct kgc_scav_node;
struct mm_struct;

/**
 * enum kgc_scav_path - who gave pages back
 * @KGC_SCAV_BACKGROUND: the background scavenger, toward its goal
 * @KGC_SCAV_SHRINKER: the kernel's memory reclaim, through the shrinker
 * @KGC_SCAV_EXPLICIT: KGC_SCAV_RELEASE
 * @KGC_SCAV_NR_PATHS: number of paths
 */
enum kgc_scav_path {
	KGC_SCAV_BACKGROUND,
	KGC_SCAV_SHRINKER,
	KGC_SCAV_EXPLICIT,
	KGC_SCAV_NR_PATHS,
};

/* Runs the shrinker may leave for the worker to finish, per heap. */
#define KGC_SCAV_SLOTS	4

/**
 * struct kgc_scav_run - a run of heap pages whose memory was given back but
 * that is still reserved in the page heap
 * @base: first heap page
 * @npages: heap pages
 */
struct kgc_scav_run {
	unsigned long base;
	unsigned long npages;
};

/**
 * struct kgc_scav - the scavenger's state of one heap
 * @node: the heap's entry in the shrinker's memcg-aware list (allocated in
 *	the owner's context, so it sits on the list of the owner's memory
 *	cgroup)
 * @work: the background scavenger; also finishes the runs in @runs
 * @lock: protects @attached, @runs, @claimed and @ready, and orders the
 *	queueing of @work against kgc_scav_destroy(); a spinlock, innermost
 * @attached: the heap is mapped and the scavenger may run
 * @background: the background scavenger is on (KGC_SCAV_SET_BACKGROUND)
 * @runs: runs the shrinker gave back but could not return to the page heap
 *	because the heap lock was taken (it never waits for it)
 * @claimed: bit i set while slot i of @runs belongs to a shrinker call
 * @ready: bit i set when slot i of @runs waits for the worker
 * @next_run: jiffies before which the background scavenger rests (its CPU
 *	cap); kicks do not wake it earlier
 * @released: heap pages given back, per &enum kgc_scav_path
 * @batches: runs given back
 */
struct kgc_scav {
	struct kgc_scav_node *node;
	struct delayed_work work;
	spinlock_t lock;	/* see above */
	bool attached;
	bool background;
	struct kgc_scav_run runs[KGC_SCAV_SLOTS];
	unsigned long claimed;
	unsigned long ready;
	unsigned long next_run;
	atomic_long_t released[KGC_SCAV_NR_PATHS];
	atomic_long_t batches;
};

int kgc_reclaim_init(void);
void kgc_reclaim_exit(void);
int kgc_scav_init(struct kgc_heap *heap);
void kgc_scav_attach(struct kgc_heap *heap);
void kgc_scav_destroy(struct kgc_heap *heap);
void kgc_scav_kick(struct kgc_heap *heap);
int kgc_scav_ioctl(struct kgc_heap *heap, struct kgc_scavenge *s);
s64 kgc_scav_cgroup_limit(struct mm_struct *mm);

extern unsigned int kgc_scav_cpu_percent;

#endif /* _KGC_RECLAIM_H */
