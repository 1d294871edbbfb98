/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gc.h - the collector of one heap: threads, roots, marker, pacer.
 */
#ifndef _KGC_GC_H
#define _KGC_GC_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "mark.h"

struct kgc_heap;

/* Why a cycle ran (struct kgc_cycle.forced). */
enum kgc_gc_reason {
	KGC_REASON_PACER = 0,
	KGC_REASON_MANUAL = 1,
	KGC_REASON_FORCED = 2,
	KGC_REASON_LIMIT = 3,
	KGC_REASON_IDLE = 4,
};

/**
 * struct kgc_thread - an attached thread of the heap's process
 * @node: link in struct kgc_gc.threads
 * @pid: the thread (a reference is held)
 * @slot: index in struct kgc_ctl.slots
 * @signo: signal that brings it to a safepoint
 * @acked: last handshake epoch it acknowledged
 * @signalled: epoch for which it was last sent the signal
 * @signal_ns: when
 * @parked_roots: stack words it left when it blocked in KGC_GC_RUN; while
 *	blocked there it acknowledges handshakes itself with these (NULL: not
 *	parked), so it is never signalled
 * @nparked: number of @parked_roots
 * @gc_target: the cycle count a blocked KGC_GC_RUN waits for
 * @scanned_cycle: the last cycle whose stack scan this thread delivered
 * @w: its marker state, for shading and assists in its ioctls
 *
 * @acked, @signalled, @signal_ns, @parked_roots, @nparked and @scanned_cycle
 * are protected by struct kgc_gc.lock; @w and @gc_target are used only by
 * the thread itself. The thread's own assist reads @acked without the lock
 * (READ_ONCE; writers use WRITE_ONCE) to see a handshake it owes.
 */
struct kgc_thread {
	struct list_head node;
	struct pid *pid;
	u32 slot;
	int signo;
	u32 acked;
	u32 signalled;
	u64 signal_ns;
	u64 *parked_roots;
	u32 nparked;
	u64 gc_target;
	u64 scanned_cycle;
	struct kgc_marker w;
};

/**
 * struct kgc_root - a registered root range
 * @node: link in struct kgc_gc.roots
 * @start: user address
 * @len: bytes
 * @bitmap: one bit per word (1 = pointer), or NULL: every word
 */
struct kgc_root {
	struct list_head node;
	u64 start;
	u64 len;
	u64 *bitmap;
};

/* Most mark worker threads per heap (module parameter mark_workers). */
#define KGC_MAX_MARK_WORKERS	8

/**
 * struct kgc_gc - the collector of one heap
 * @heap: the heap
 * @marker: the marker kernel thread ("kgc-mark/<pid>")
 * @workers: extra mark workers ("kgc-markw/<pid>"), mark_workers - 1 of them
 * @nworkers: how many
 * @active: mark workers (the marker included) inside a drain right now
 * @workers_marked: bytes the extra mark workers marked this cycle
 * @work_wait: idle mark workers wait here for grey objects
 * @idle_wait: the marker waits here for the workers to go idle
 * @owner: the task that created the heap (cgroup of the marker thread)
 * @lock: protects @phase, @epoch, @hs_start_ns, @barrier_ns, @term_pending,
 *	@term_claimed, @run_waiters, @threads and what the threads say about
 *	themselves, @requested, @reason and the statistics below
 *	(@term_pending may be peeked at without it, and is then checked
 *	again under it); a spinlock
 *	taken inside the heap lock and the roots lock, never around them
 * @phase: KGC_PHASE_*
 * @epoch: current handshake
 * @last_ack_ns: when the last acknowledgment of @epoch came (or a thread
 *	left it), for the mark-start pause
 * @hs_start_ns: when the handshake @epoch was raised
 * @barrier_ns: when this cycle's barrier handshake was raised: the
 *	mark-start pause runs from there
 * @term_pending: marking ran out of work and mark termination waits to be
 *	raised: by the first thread that comes into the kernel on its own
 *	(kgc_gc_term_kick()), or by the marker when kgc_term_defer_ms ends
 * @term_claimed: the marker or a thread took on ending this cycle's
 *	marking (kgc_gc_term_claim())
 * @cyc: the cycle under way, as it will be published in the control area;
 *	written by the marker, and in mark termination by whoever claimed it
 * @marker_w: the marker's own marker state (idle during mark termination)
 * @run_waiters: KGC_GC_RUN callers waiting for a cycle (they want it
 *	finished: mark termination is not deferred while there are any)
 * @released: last mark-termination epoch whose threads were released;
 *	stored with release semantics after the cycle record is complete
 * @threads: attached threads
 * @nthreads: their number
 * @slots: used slots of struct kgc_ctl.slots
 * @shade_sem: shading holds it for reading and checks the phase; the marker
 *	takes it for writing to end marking, so no mark bit is set after
 *	sweeping starts
 * @roots_lock: protects @roots (sleeping: the marker reads user memory
 *	while holding it)
 * @roots: registered root ranges
 * @nroots: their number
 * @hs_wait: the marker waits here for acknowledgements
 * @release_wait: threads wait here in mark termination
 * @done_wait: KGC_GC_RUN callers wait here for cycles to complete
 * @kick: the marker sleeps here between cycles
 * @requested: a cycle was asked for
 * @reason: why (&enum kgc_gc_reason)
 * @mark: the grey set
 * @ctl: the control area (kernel mapping of @ctl_pages)
 * @ctl_pages: its pages (owned by the heap's page store)
 * @gc_percent: GOGC, or -1 for no pacer
 * @memory_limit: soft limit of heap memory in bytes, or -1
 * @limit_auto: @memory_limit follows the owner's cgroup memory.max (until
 *	KGC_GC_SET_LIMIT sets it)
 * @heap_goal: live bytes at which the current/next cycle should end
 * @trigger: live bytes at which the next cycle starts
 * @heap_marked: bytes marked by the last cycle, the objects allocated
 *	black during it included (Go's heapMarked)
 * @heap_black: the part of @heap_marked allocated black (handed out while
 *	the last cycle marked), for the idle collection (kgc_pacer_idle_gc())
 * @overshoot: how far the heap recently went past its goal while a cycle
 *	marked (kgc_scav_overshoot()), for the scavenger's goal
 * @recent_peak: the most heap pages recently in use at a mark termination,
 *	in bytes (kgc_scav_recent_peak()), for the scavenger's goal
 * @debug: KGC_GCDEBUG_* bits
 * @num_gc: cycles completed
 * @num_forced: cycles started by KGC_GC_RUN or the two-minute rule
 * @pause_total_ns: sum of the pauses
 * @pause_ns: the last 256 pauses
 * @npause: pauses recorded
 * @last_gc_ns: when the last cycle ended
 * @cpu_ns: CPU time of marking, assists and sweeping
 * @assist_ns: CPU time of assists in the current cycle
 * @mark_live0: live bytes when the current cycle's marking started
 * @work_expected: mark work the current cycle is expected to take: the
 *	last cycle's (&struct kgc_mark.work), the whole live heap for the
 *	first (set before @draining, read by assists without the lock)
 * @last_work: mark work the last cycle took (marker only)
 * @signals: signals sent
 * @checkmark_errors: objects checkmark found reachable but unmarked
 * @draining: every thread acknowledged mark start: the write barrier is
 *	on everywhere, so objects may now be scanned (blackened); until then
 *	stacks and barrier buffers only grey objects and nobody assists
 * @created_ns: when the heap was created
 * @stack_roots: stack words of the mark-start scans (checkmark)
 * @nstack_roots: their number
 * @last_alloc: jiffies of the last refill or large allocation
 * @idle_seen: the @last_alloc whose idle period the marker has handled
 *	(marker only)
 * @idle_sleep: the marker sleeps until the next allocation; a refill that
 *	sees it set clears it and wakes the marker
 */
struct kgc_gc {
	struct kgc_heap *heap;
	struct task_struct *marker;
	struct task_struct *workers[KGC_MAX_MARK_WORKERS];
	unsigned int nworkers;
	atomic_t active;
	atomic64_t workers_marked;
	wait_queue_head_t work_wait;
	wait_queue_head_t idle_wait;
	struct task_struct *owner;
	spinlock_t lock;	/* phase, epoch, threads, pacer, stats */
	u32 phase;
	u32 epoch;
	u64 last_ack_ns;
	u64 hs_start_ns;
	u64 barrier_ns;
	bool term_pending;
	bool term_claimed;
	struct kgc_cycle cyc;
	struct kgc_marker *marker_w;
	unsigned int run_waiters;
	u32 released;
	struct list_head threads;
	unsigned int nthreads;
	unsigned long *slots;
	struct rw_semaphore shade_sem;
	struct mutex roots_lock;	/* roots, nroots */
	struct list_head roots;
	unsigned int nroots;
	wait_queue_head_t hs_wait;
	wait_queue_head_t release_wait;
	wait_queue_head_t done_wait;
	wait_queue_head_t kick;
	bool requested;
	u32 reason;
	struct kgc_mark mark;
	struct kgc_ctl *ctl;
	struct page *ctl_pages[KGC_CTL_SIZE / PAGE_SIZE];
	s64 gc_percent;
	s64 memory_limit;
	bool limit_auto;
	u64 heap_goal;
	u64 trigger;
	u64 heap_marked;
	u64 heap_black;
	u64 overshoot;
	u64 recent_peak;
	u64 debug;
	u64 num_gc;
	u64 num_forced;
	u64 pause_total_ns;
	u64 pause_ns[256];
	u64 npause;
	u64 last_gc_ns;
	u64 cpu_ns;
	u64 assist_ns;
	u64 mark_live0;
	u64 work_expected;
	u64 last_work;
	u64 signals;
	u64 checkmark_errors;
	bool draining;
	u64 created_ns;
	u64 *stack_roots;
	u32 nstack_roots;
	unsigned long last_alloc;
	unsigned long idle_seen;
	bool idle_sleep;
};

int kgc_gc_init(struct kgc_gc *gc, struct kgc_heap *heap);
int kgc_gc_start(struct kgc_gc *gc);
void kgc_gc_destroy(struct kgc_gc *gc);
int kgc_gc_thread_attach(struct kgc_gc *gc, struct kgc_thread_attach *a);
int kgc_gc_thread_detach(struct kgc_gc *gc);
int kgc_gc_safepoint(struct kgc_gc *gc, struct kgc_safepoint *sp);
int kgc_gc_roots(struct kgc_gc *gc, struct kgc_roots *r);
int kgc_gc_ctl(struct kgc_gc *gc, struct kgc_gc_ctl *c);
void kgc_gc_stats(struct kgc_gc *gc, struct kgc_gc_stats *st);
bool kgc_gc_alloc_black(struct kgc_gc *gc);
void kgc_gc_after_refill(struct kgc_gc *gc, unsigned int nspans);
bool kgc_gc_idle(struct kgc_gc *gc);

extern unsigned int kgc_handshake_grace_us;
extern unsigned int kgc_term_defer_ms;
extern unsigned int kgc_mark_workers;
extern unsigned int kgc_idle_ms;

#endif /* _KGC_GC_H */
