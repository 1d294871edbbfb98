// SPDX-License-Identifier: GPL-2.0
/*
 * gc.c - the collector of one heap: a concurrent tri-colour mark-sweep
 * driven by a kernel thread (Go's mgc.go, moved into the kernel).
 *
 * A cycle, run by the heap's marker thread "kgc-mark/<pid>":
 *
 *  1. Sweep termination: every span still carrying the last cycle's mark
 *     bits is swept, so all mark bits are clear.
 *  2. Mark start, in two handshakes, each under a new epoch published in
 *     the control area, each acknowledged by every attached thread at its
 *     next safepoint (allocation slow path, barrier flush, kgc_safepoint(),
 *     or the signal handler). No thread is ever stopped here: these
 *     handshakes are ragged, like Go's stack scans.
 *     a. Phase BARRIER: the write barrier comes on, and each thread only
 *        acknowledges that its stores see it. Nothing is scanned and
 *        nothing turns black until the last one has: a thread that read
 *        the barrier as off just before, and stores after its signal
 *        handler acknowledged, would otherwise overwrite a pointer unseen
 *        after other threads' stacks were scanned (libkgc's handler sends
 *        such a thread back to the start of its store, barrier.c). Go
 *        turns the barrier on with the world stopped for the same reason.
 *        The last acknowledgment raises b. at once (kgc_gc_acked()).
 *        Threads parked in a blocking region are not in a store: the
 *        marker acknowledges for them.
 *     b. Phase MARK: each thread passes the words of its own stack and
 *        registers, which the kernel shades, and the freeindex of each span
 *        it caches, from which its allocations are black.
 *     Threads that do not acknowledge within kgc_handshake_grace_us, and in
 *     b. at once those that say they are parked in a blocking region, are
 *     sent their safepoint signal. Threads blocked in KGC_GC_RUN left their
 *     stack words behind and are acknowledged by the marker. The mark-start
 *     pause runs from the request of a. to the last acknowledgment of b.
 *  3. Concurrent mark: the marker reads the registered roots (through the
 *     process's mm, kthread_use_mm()) and drains the grey set, reading heap
 *     objects and their pointer bitmaps from the heap's own pages. Write
 *     barrier buffers arrive through KGC_IOC_SAFEPOINT; threads that
 *     allocate while the heap is past the pacer's trigger assist.
 *  4. Mark termination: phase MARK_TERM, second handshake. Each thread
 *     flushes its barrier buffer, acknowledges and waits in the kernel; when
 *     all have, the marker drains what is left, optionally verifies the
 *     marking (checkmark), advances sweepgen, turns the phase OFF and
 *     releases them. This is kgc's one stop-the-world pause; its length is
 *     recorded (request to release).
 *     The request is lazy. When marking runs out of work, the threads go on
 *     as they were (barrier on, allocating black) and the first of them to
 *     enter the kernel on its own (a refill, a large allocation, a barrier
 *     flush, KGC_GC_RUN) raises mark termination there, and acknowledges
 *     it on its way back (kgc_gc_term_kick()); the marker raises it only
 *     after kgc_term_defer_ms. A thread that does not allocate does not
 *     need its garbage collected, and one that does comes by soon: this
 *     way a thread in a loop without safepoints is rarely interrupted by
 *     a signal, which takes milliseconds to deliver under load.
 *  5. Sweep: the marker sweeps in the background; refills sweep on demand.
 *
 * When cycles run: the pacer starts one when the live heap reaches its
 * trigger (kgc_gc_after_refill()), the memory limit when the resident heap
 * nears it, KGC_GC_RUN on request, and the marker itself two minutes after
 * the last cycle (Go's forced GC) and when the process has gone idle: no
 * refill and no large allocation for kgc_idle_ms, while what was handed out
 * since the last cycle began marking could be garbage worth collecting
 * (kgc_pacer_idle_gc()). An idle process makes no refills, so the pacer
 * would never collect what it dropped before it went idle, and the heap
 * would keep its last cycle's garbage for up to two minutes; with the
 * collection, and the scavenger's idle goal (reclaim.c), its memory goes
 * back to about its live data within a second or two. The marker wakes
 * for this at most once per idle period: while it waits for the next
 * allocation it sleeps with @idle_sleep set, which the next refill clears
 * (and wakes it).
 *
 * Why it is sound: with the hybrid barrier (the old and the new value of
 * every pointer store are shaded while the phase is not OFF) a thread's
 * stack needs scanning only once per cycle, at its first safepoint; objects
 * allocated after it are black; everything else reachable at termination
 * was reachable from a root, a scanned stack or a shaded pointer. The mark
 * bits are never touched outside a cycle: shading holds shade_sem for
 * reading and checks the phase, and marking ends under shade_sem for
 * writing.
 *
 * Trust: every value user space passes is a candidate only, validated by
 * the mark code against the heap's span map; user-supplied lengths are
 * bounded; the control area is written by the kernel and only ever read
 * back for the advisory "parked" bit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/kthread.h>
#include <linux/mmu_context.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "gc.h"
#include "heap.h"
#include "pacer.h"
#include "sweep.h"
#include "trace.h"

/*
 * A thread in a loop without safepoints is signalled after this long. Go
 * signals a running goroutine at once when it stops the world; a short
 * grace keeps the signalled pause short (measured under TCG, GCBench:
 * 1000 us gave pauses of 1.6-5.4 ms, 250 us at most 0.9 ms) while most
 * threads still come by themselves, without a signal's cost.
 */
unsigned int kgc_handshake_grace_us = 250;
/*
 * How long mark termination waits to be raised by a thread (step 4 above).
 * GCBench under TCG walks trees for up to a few milliseconds between
 * allocations; waiting costs no memory, as nothing is allocated meanwhile
 * but from the threads' cached spans.
 */
unsigned int kgc_term_defer_ms = 20;
unsigned int kgc_mark_workers = 1;
unsigned int kgc_idle_ms = 1000;

/* Words copied from user space at a time. */
#define KGC_COPY_WORDS	512

static bool kgc_gc_term_claim(struct kgc_gc *gc, bool by_thread);
static void kgc_gc_terminate(struct kgc_gc *gc, struct kgc_marker *w,
			     bool by_thread);

static u64 kgc_now(void)
{
	return ktime_get_ns();
}

static void kgc_gc_publish(struct kgc_gc *gc)
{
	struct kgc_ctl *ctl = gc->ctl;

	WRITE_ONCE(ctl->epoch, gc->epoch);
	smp_wmb();	/* epoch before phase: readers check phase first */
	WRITE_ONCE(ctl->phase, gc->phase);
	WRITE_ONCE(ctl->num_gc, gc->num_gc);
	WRITE_ONCE(ctl->heap_goal, gc->heap_goal);
}

/**
 * kgc_gc_init() - set up the collector of a new heap
 * @gc: zeroed collector
 * @heap: its heap
 *
 * Return: 0 or -ENOMEM.
 */
int kgc_gc_init(struct kgc_gc *gc, struct kgc_heap *heap)
{
	unsigned int i;

	gc->heap = heap;
	spin_lock_init(&gc->lock);
	INIT_LIST_HEAD(&gc->threads);
	INIT_LIST_HEAD(&gc->roots);
	init_rwsem(&gc->shade_sem);
	mutex_init(&gc->roots_lock);
	init_waitqueue_head(&gc->hs_wait);
	init_waitqueue_head(&gc->release_wait);
	init_waitqueue_head(&gc->done_wait);
	init_waitqueue_head(&gc->kick);
	init_waitqueue_head(&gc->work_wait);
	init_waitqueue_head(&gc->idle_wait);
	atomic_set(&gc->active, 0);
	atomic64_set(&gc->workers_marked, 0);
	gc->gc_percent = 100;
	/* GOMEMLIMIT's default: the owner's cgroup memory.max, if any. */
	gc->memory_limit = kgc_scav_cgroup_limit(current->mm);
	gc->limit_auto = true;
	gc->created_ns = kgc_now();
	gc->last_alloc = jiffies;
	gc->idle_seen = gc->last_alloc;
	gc->slots = bitmap_zalloc(KGC_MAX_THREADS, GFP_KERNEL_ACCOUNT);
	if (!gc->slots)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(gc->ctl_pages); i++) {
		gc->ctl_pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!gc->ctl_pages[i])
			goto err;
	}
	gc->ctl = vmap(gc->ctl_pages, ARRAY_SIZE(gc->ctl_pages), VM_MAP,
		       PAGE_KERNEL);
	if (!gc->ctl)
		goto err;
	kgc_pacer_goal(0, gc->gc_percent, gc->memory_limit, &gc->heap_goal,
		       &gc->trigger);
	kgc_gc_publish(gc);
	gc->owner = get_task_struct(current);
	return 0;
err:
	while (i--)
		__free_page(gc->ctl_pages[i]);
	memset(gc->ctl_pages, 0, sizeof(gc->ctl_pages));
	bitmap_free(gc->slots);
	return -ENOMEM;
}

static void kgc_thread_free(struct kgc_thread *t)
{
	kgc_marker_destroy(&t->w);
	put_pid(t->pid);
	kvfree(t->parked_roots);
	kfree(t);
}

/**
 * kgc_gc_destroy() - stop the marker and free the collector
 * @gc: collector of a heap being destroyed (no caller is left in an ioctl)
 *
 * The control pages themselves belong to the heap's page store.
 */
void kgc_gc_destroy(struct kgc_gc *gc)
{
	struct kgc_thread *t, *tn;
	struct kgc_root *r, *rn;
	unsigned int i;

	for (i = 0; i < gc->nworkers; i++)
		kthread_stop(gc->workers[i]);
	if (gc->marker)
		kthread_stop(gc->marker);
	list_for_each_entry_safe(t, tn, &gc->threads, node)
		kgc_thread_free(t);
	list_for_each_entry_safe(r, rn, &gc->roots, node) {
		kvfree(r->bitmap);
		kfree(r);
	}
	if (gc->heap->mapped)
		kgc_mark_destroy(&gc->mark);
	kvfree(gc->stack_roots);
	if (gc->ctl)
		vunmap(gc->ctl);
	bitmap_free(gc->slots);
	if (gc->owner)
		put_task_struct(gc->owner);
}

/* The calling thread's record, or NULL. Caller holds gc->lock. */
static struct kgc_thread *kgc_gc_current(struct kgc_gc *gc)
{
	struct pid *pid = task_pid(current);
	struct kgc_thread *t;

	lockdep_assert_held(&gc->lock);
	list_for_each_entry(t, &gc->threads, node)
		if (t->pid == pid)
			return t;
	return NULL;
}

static struct kgc_thread *kgc_gc_current_locked(struct kgc_gc *gc)
{
	struct kgc_thread *t;

	spin_lock(&gc->lock);
	t = kgc_gc_current(gc);
	spin_unlock(&gc->lock);
	return t;
}

/* Whether the handshakes of @phase take stacks (not the barrier's). */
static bool kgc_phase_scans(u32 phase)
{
	return phase == KGC_PHASE_MARK || phase == KGC_PHASE_MARK_TERM;
}

/**
 * kgc_gc_alloc_black() - whether the calling thread allocates black now
 * @gc: collector
 *
 * Allocation turns black for a thread when its stack has been scanned in
 * the cycle being marked (at its mark-start safepoint): from then on its
 * new objects are only reachable from that black stack or through stores
 * the barrier sees. Before, they stay white and the scan finds them. A
 * caller that is not attached has no stack scan at all: black while
 * marking. The answer cannot go stale during the caller's ioctl: the cycle
 * cannot end before the caller acknowledges mark termination.
 *
 * Return: true when the caller's allocations are to be black (if the heap
 * is marking).
 */
bool kgc_gc_alloc_black(struct kgc_gc *gc)
{
	struct kgc_thread *t;
	bool black;

	spin_lock(&gc->lock);
	t = kgc_gc_current(gc);
	black = !t || (gc->phase != KGC_PHASE_OFF &&
		       t->scanned_cycle == gc->num_gc + 1);
	spin_unlock(&gc->lock);
	return black;
}

/**
 * kgc_gc_thread_attach() - KGC_IOC_THREAD_ATTACH
 * @gc: collector
 * @a: request; @a->slot filled on success
 *
 * A thread attaching while a cycle marks must acknowledge the current
 * handshake like the others (its stack is scanned at its first safepoint);
 * during mark termination it waits for the end of the pause.
 *
 * Return: 0, -EINVAL, -EBUSY (already attached), -ENOSPC, -ENOMEM or
 * -EINTR.
 */
int kgc_gc_thread_attach(struct kgc_gc *gc, struct kgc_thread_attach *a)
{
	struct kgc_thread *t;
	unsigned long slot;
	int ret;

	if (a->flags || a->resv[0] || a->resv[1] || a->resv2 ||
	    a->signo < 1 || a->signo > _NSIG || a->stack_lo >= a->stack_hi)
		return -EINVAL;
	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	ret = kgc_marker_init(&t->w, &gc->mark);
	if (ret)
		goto err_free;
	t->pid = get_task_pid(current, PIDTYPE_PID);
	t->signo = a->signo;

	for (;;) {
		ret = wait_event_killable(gc->release_wait,
					  READ_ONCE(gc->phase) !=
					  KGC_PHASE_MARK_TERM);
		if (ret)
			goto err_pid;
		spin_lock(&gc->lock);
		if (gc->phase != KGC_PHASE_MARK_TERM)
			break;
		spin_unlock(&gc->lock);
	}
	if (kgc_gc_current(gc)) {
		ret = -EBUSY;
		goto err_unlock;
	}
	slot = find_first_zero_bit(gc->slots, KGC_MAX_THREADS);
	if (slot >= KGC_MAX_THREADS) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	__set_bit(slot, gc->slots);
	t->slot = slot;
	/*
	 * In the call, this thread is not in a store, and it reads the
	 * barrier on when it returns: it has acknowledged a barrier
	 * handshake. Any other it acknowledges like the others.
	 */
	t->acked = gc->phase == KGC_PHASE_BARRIER ? gc->epoch : 0;
	list_add_tail(&t->node, &gc->threads);
	gc->nthreads++;
	WRITE_ONCE(gc->ctl->slots[slot], 0);
	spin_unlock(&gc->lock);
	a->slot = slot;
	return 0;

err_unlock:
	spin_unlock(&gc->lock);
err_pid:
	put_pid(t->pid);
	kgc_marker_destroy(&t->w);
err_free:
	kfree(t);
	return ret;
}

/* Unlink a thread. Caller holds gc->lock; the caller frees it. */
static void kgc_gc_unlink(struct kgc_gc *gc, struct kgc_thread *t)
{
	list_del(&t->node);
	__clear_bit(t->slot, gc->slots);
	gc->nthreads--;
}

/* Whether every attached thread acknowledged the current handshake. */
static bool kgc_gc_all_acked_locked(struct kgc_gc *gc)
{
	struct kgc_thread *t;

	lockdep_assert_held(&gc->lock);
	list_for_each_entry(t, &gc->threads, node) {
		if (t->acked != gc->epoch)
			return false;
	}
	return true;
}

/*
 * Raise the handshake for @phase: a new epoch, published in the control
 * area. Caller holds gc->lock, and wakes @done_wait after dropping it
 * (threads blocked in KGC_GC_RUN acknowledge from there).
 */
static void kgc_gc_raise(struct kgc_gc *gc, u32 phase)
{
	lockdep_assert_held(&gc->lock);
	gc->epoch++;
	gc->phase = phase;
	gc->hs_start_ns = kgc_now();
	gc->last_ack_ns = gc->hs_start_ns;
	gc->term_pending = false;
	if (phase == KGC_PHASE_BARRIER)
		gc->barrier_ns = gc->hs_start_ns;
	kgc_gc_publish(gc);
}

/*
 * @t acknowledged @epoch, the current handshake: the pause it ends lasts
 * until now if @t is the last (kgc_gc_handshake()). The last to acknowledge
 * the barrier handshake raises the mark-start handshake at once: no one
 * else needs to see it done. Caller holds gc->lock; when this returns true
 * (raised), it wakes @done_wait after dropping it.
 */
static bool kgc_gc_acked(struct kgc_gc *gc, struct kgc_thread *t, u32 epoch)
{
	WRITE_ONCE(t->acked, epoch);
	gc->last_ack_ns = kgc_now();
	if (gc->phase != KGC_PHASE_BARRIER || !kgc_gc_all_acked_locked(gc))
		return false;
	kgc_gc_raise(gc, KGC_PHASE_MARK);
	return true;
}

/**
 * kgc_gc_thread_detach() - KGC_IOC_THREAD_DETACH
 * @gc: collector
 *
 * The library gives back the thread's spans and flushes its barrier buffer
 * first; a detached thread takes part in no further handshake.
 *
 * Return: 0, or -EINVAL when the caller is not attached.
 */
int kgc_gc_thread_detach(struct kgc_gc *gc)
{
	struct kgc_thread *t;

	spin_lock(&gc->lock);
	t = kgc_gc_current(gc);
	if (t) {
		kgc_gc_unlink(gc, t);
		gc->last_ack_ns = kgc_now();
	}
	spin_unlock(&gc->lock);
	if (!t)
		return -EINVAL;
	wake_up(&gc->hs_wait);
	kgc_thread_free(t);
	return 0;
}

/*
 * Keep the stack words of a mark-start scan for checkmark: the stacks as
 * the snapshot the hybrid barrier preserves saw them. Words of a later
 * handshake would add stale slots (dead frames pushed since, old vector
 * registers) pointing to objects that were garbage when marking started.
 */
static void kgc_gc_keep_stack(struct kgc_gc *gc, const u64 *words, u32 n)
{
	u32 i;

	spin_lock(&gc->lock);
	for (i = 0; i < n && gc->stack_roots &&
	     gc->nstack_roots < KGC_SP_MAX_PTRS; i++)
		gc->stack_roots[gc->nstack_roots++] = words[i];
	spin_unlock(&gc->lock);
}

/*
 * Copy @n candidate pointers from user space in chunks and shade them, with
 * @keep set also keep them for checkmark. Caller holds shade_sem for
 * reading and checked the phase.
 */
static int kgc_gc_shade_user(struct kgc_gc *gc, struct kgc_marker *w,
			     u64 uptr, u32 n, bool keep)
{
	u32 done, k;
	u64 *buf;
	int ret = 0;

	buf = kmalloc_array(KGC_COPY_WORDS, sizeof(u64), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (done = 0; done < n; done += k) {
		k = min_t(u32, n - done, KGC_COPY_WORDS);
		if (copy_from_user(buf, u64_to_user_ptr(uptr + done * 8ULL),
				   k * sizeof(u64))) {
			ret = -EFAULT;
			break;
		}
		if (keep)
			kgc_gc_keep_stack(gc, buf, k);
		kgc_mark_scan_words(w, buf, NULL, k);
		cond_resched();
	}
	kfree(buf);
	return ret;
}

/* Record where each cached span's black allocations start. */
static int kgc_gc_span_marks(struct kgc_gc *gc, u64 uptr, u32 n)
{
	struct kgc_mheap *h = &gc->heap->mheap;
	struct kgc_span_mark *m;
	u32 i;

	m = kmalloc_array(n, sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	if (copy_from_user(m, u64_to_user_ptr(uptr), n * sizeof(*m))) {
		kfree(m);
		return -EFAULT;
	}
	mutex_lock(&h->lock);
	for (i = 0; i < n; i++) {
		struct kgc_span *s = kgc_mheap_span_of(h, m[i].base);

		/*
		 * Only the thread whose mcache holds the span knows where its
		 * black allocations start; a stale report from another thread
		 * (one that gave the span back) must not move that point.
		 */
		if (m[i].resv || !s || s->state != KGC_SPAN_CACHED ||
		    s->owner != task_pid(current) ||
		    kgc_span_base(s, h->base) != m[i].base ||
		    m[i].freeindex < s->freeindex ||
		    m[i].freeindex > s->nelems)
			continue;
		if (s->black_from == KGC_NO_BLACK ||
		    m[i].freeindex < s->black_from)
			s->black_from = m[i].freeindex;
	}
	mutex_unlock(&h->lock);
	kfree(m);
	return 0;
}

/*
 * @t acknowledges handshake @epoch, if it is still the current one, and
 * wakes whoever waits for that. Caller does not hold gc->lock. Returns the
 * phase of the handshake acknowledged, KGC_PHASE_OFF when it was stale.
 */
static u32 kgc_gc_ack(struct kgc_gc *gc, struct kgc_thread *t, u32 epoch)
{
	u32 phase = KGC_PHASE_OFF;
	bool raised = false;

	spin_lock(&gc->lock);
	if (gc->epoch == epoch && gc->phase != KGC_PHASE_OFF) {
		phase = gc->phase;
		raised = kgc_gc_acked(gc, t, epoch);
	}
	spin_unlock(&gc->lock);
	wake_up(&gc->hs_wait);
	if (raised)
		wake_up_all(&gc->done_wait);
	return phase;
}

/*
 * A thread came into the kernel on its own while mark termination waits to
 * be raised: raise it from here, so that the thread acknowledges it at its
 * next safepoint check, on its way back to user space, and the marker
 * (woken through @hs_wait) finds the handshake under way.
 */
static void kgc_gc_term_kick(struct kgc_gc *gc)
{
	bool raised = false;

	if (!READ_ONCE(gc->term_pending))
		return;
	spin_lock(&gc->lock);
	if (gc->term_pending) {
		kgc_gc_raise(gc, KGC_PHASE_MARK_TERM);
		raised = true;
	}
	spin_unlock(&gc->lock);
	if (raised) {
		wake_up(&gc->hs_wait);
		wake_up_all(&gc->done_wait);
	}
}

/**
 * kgc_gc_safepoint() - KGC_IOC_SAFEPOINT
 * @gc: collector
 * @sp: request; @sp->phase filled
 *
 * Return: 0, -EINVAL, -EPERM (acknowledging without being attached),
 * -EFAULT, -ENOMEM, or -EINTR when killed while waiting in mark termination.
 */
int kgc_gc_safepoint(struct kgc_gc *gc, struct kgc_safepoint *sp)
{
	bool ack = sp->flags & KGC_SP_ACK, stack = sp->flags & KGC_SP_STACK;
	struct kgc_thread *t;
	struct kgc_marker tmp;
	bool term = false, scan_stack = false;
	u32 phase, epoch;
	u64 cycle;
	int ret = 0;

	if (sp->flags & ~KGC_SP_FLAGS || sp->resv[0] || sp->resv[1] ||
	    sp->resv2 || sp->nptrs > KGC_SP_MAX_PTRS ||
	    sp->nspans > KGC_SP_MAX_SPANS)
		return -EINVAL;
	kgc_gc_term_kick(gc);
	spin_lock(&gc->lock);
	t = kgc_gc_current(gc);
	phase = gc->phase;
	epoch = gc->epoch;
	cycle = gc->num_gc + 1;
	spin_unlock(&gc->lock);
	if (ack && !t)
		return -EPERM;

	/*
	 * A barrier acknowledgment takes nothing but the epoch, unless mark
	 * start is raised by then (by this one, the last, or meanwhile):
	 * then the stack and span marks it may carry (the whole stack, in
	 * this one call) are the thread's mark-start acknowledgment, made
	 * after every barrier was on. A thread alone saves a round this way.
	 */
	if (ack && phase == KGC_PHASE_BARRIER && sp->epoch == epoch) {
		kgc_gc_ack(gc, t, epoch);
		spin_lock(&gc->lock);
		phase = gc->phase;
		epoch = gc->epoch;
		spin_unlock(&gc->lock);
		/* Still the barrier's: the others have not all come. */
		if (stack && epoch == sp->epoch) {
			sp->phase = phase;
			return 0;
		}
		if (stack)
			sp->epoch = epoch;
		else
			ack = false;
	}
	ack = ack && sp->epoch == epoch && phase != KGC_PHASE_OFF;

	if (ack && sp->nspans && phase == KGC_PHASE_MARK) {
		ret = kgc_gc_span_marks(gc, sp->spans, sp->nspans);
		if (ret)
			return ret;
	}

	/*
	 * A stack is scanned once per cycle: the words of a large stack may
	 * come in several calls, the last one with KGC_SP_ACK, which
	 * completes the scan (even when it carries no word, and whether or
	 * not its epoch is current: libkgc takes its stack as black from
	 * then on, and so must kgc_gc_alloc_black()).
	 */
	if (stack && t && kgc_phase_scans(phase)) {
		spin_lock(&gc->lock);
		scan_stack = t->scanned_cycle != cycle;
		spin_unlock(&gc->lock);
	}
	if (sp->nptrs && phase != KGC_PHASE_OFF) {
		struct kgc_marker *w = t ? &t->w : &tmp;
		bool checkmark = gc->debug & KGC_GCDEBUG_CHECKMARK;

		if (!t) {
			memset(&tmp, 0, sizeof(tmp));
			tmp.m = &gc->mark;
		}
		down_read(&gc->shade_sem);
		if (READ_ONCE(gc->phase) == KGC_PHASE_OFF)
			;
		else if (!stack)
			ret = kgc_gc_shade_user(gc, w, sp->ptrs, sp->nptrs,
						false);
		else if (scan_stack && !(gc->debug & KGC_GCDEBUG_NOROOTS))
			ret = kgc_gc_shade_user(gc, w, sp->ptrs, sp->nptrs,
						checkmark);
		up_read(&gc->shade_sem);
		kgc_marker_flush(w);
		if (ret)
			return ret;
	}
	if (scan_stack && (sp->flags & KGC_SP_ACK)) {
		spin_lock(&gc->lock);
		t->scanned_cycle = cycle;
		spin_unlock(&gc->lock);
	}

	if (ack) {
		term = kgc_gc_ack(gc, t, sp->epoch) == KGC_PHASE_MARK_TERM;
		if (term && kgc_gc_term_claim(gc, true))
			kgc_gc_terminate(gc, &t->w, true);
		else if (term && wait_event_killable(gc->release_wait,
						     READ_ONCE(gc->released) >=
						     sp->epoch))
			return -EINTR;
	}
	sp->phase = READ_ONCE(gc->phase);
	return 0;
}

/*
 * True when handshake @epoch is over: every attached thread acknowledged
 * it, or the next one was raised (by the last to acknowledge a barrier
 * handshake).
 */
static bool kgc_gc_hs_done(struct kgc_gc *gc, u32 epoch)
{
	bool done;

	spin_lock(&gc->lock);
	done = gc->epoch != epoch || kgc_gc_all_acked_locked(gc);
	spin_unlock(&gc->lock);
	return done;
}

/* A signalled thread that still has not acknowledged is signalled again. */
#define KGC_RESIGNAL_NS		(100 * NSEC_PER_MSEC)

/*
 * Bring laggards to a safepoint: signal threads that are parked at once and
 * the others after the grace period (again every KGC_RESIGNAL_NS). Parked
 * threads are acknowledged here in a barrier handshake instead: they are in
 * kgc_blocking_begin()'s region, not in a store, and read the phase after
 * they leave it. Threads that are gone are dropped. Threads blocked in
 * KGC_GC_RUN acknowledge by themselves, with the stack words they left.
 */
static void kgc_gc_nudge(struct kgc_gc *gc, u64 start)
{
	struct kgc_thread *t, *tn;
	u64 now = kgc_now();
	bool raised = false;
	LIST_HEAD(dead);

	/*
	 * The epoch was published before: a thread that sets
	 * KGC_SLOT_PARKED after we read its slot sees the handshake and
	 * acknowledges it by itself (kgc_blocking_begin()).
	 */
	smp_mb();
	spin_lock(&gc->lock);
	list_for_each_entry_safe(t, tn, &gc->threads, node) {
		struct task_struct *task;
		u32 slot;
		bool due;

		/* Blocked in KGC_GC_RUN: it acknowledges by itself. */
		if (t->acked == gc->epoch || t->parked_roots)
			continue;
		slot = READ_ONCE(gc->ctl->slots[t->slot]);
		if ((slot & KGC_SLOT_PARKED) &&
		    gc->phase == KGC_PHASE_BARRIER) {
			/* The next handshake may be raised: let it begin. */
			raised = kgc_gc_acked(gc, t, gc->epoch);
			if (raised)
				break;
			continue;
		}
		if (t->signalled == gc->epoch)
			due = now - t->signal_ns > KGC_RESIGNAL_NS;
		else
			due = (slot & KGC_SLOT_PARKED) ||
			      now - start >= kgc_handshake_grace_us * 1000ULL;
		if (!due)
			continue;
		rcu_read_lock();
		task = pid_task(t->pid, PIDTYPE_PID);
		if (task && !(task->flags & PF_EXITING) &&
		    !send_sig_info(t->signo, SEND_SIG_PRIV, task)) {
			t->signalled = gc->epoch;
			t->signal_ns = now;
			gc->signals++;
		} else {
			/* The thread is gone without detaching. */
			kgc_gc_unlink(gc, t);
			gc->last_ack_ns = now;
			list_add(&t->node, &dead);
		}
		rcu_read_unlock();
	}
	spin_unlock(&gc->lock);
	if (raised)
		wake_up_all(&gc->done_wait);
	list_for_each_entry_safe(t, tn, &dead, node)
		kgc_thread_free(t);
}

/*
 * In mark termination the threads wait for the marker: it watches for the
 * last acknowledgment this long before it sleeps (every microsecond the
 * marker takes to wake up is pause; Go's stop-the-world spins as well).
 */
#define KGC_TERM_SPIN_NS	(200 * NSEC_PER_USEC)

/* Watch for handshake @epoch to end until @until; true when it did. */
static bool kgc_gc_spin_acked(struct kgc_gc *gc, u32 epoch, u64 until)
{
	while (kgc_now() < until) {
		if (kgc_gc_hs_done(gc, epoch))
			return true;
		if (need_resched() || kthread_should_stop())
			break;
		cpu_relax();
	}
	return kgc_gc_hs_done(gc, epoch);
}

/* The phase a handshake for @phase is raised from. */
static u32 kgc_phase_before(u32 phase)
{
	switch (phase) {
	case KGC_PHASE_BARRIER:
		return KGC_PHASE_OFF;
	case KGC_PHASE_MARK:
		return KGC_PHASE_BARRIER;
	default:
		return KGC_PHASE_MARK;
	}
}

/*
 * Raise a handshake for @phase and wait until every thread acknowledged it.
 * Returns the time of the last acknowledgment (as the threads made it, not
 * as the marker woke up to see it), or 0 when the marker is told to stop.
 */
static u64 kgc_gc_handshake(struct kgc_gc *gc, u32 phase)
{
	u64 start, grace = kgc_handshake_grace_us * 1000ULL;
	u64 last;
	u32 epoch;

	spin_lock(&gc->lock);
	/*
	 * A thread may have raised it already (the last acknowledgment of
	 * the barrier raises mark start; a thread raises a deferred mark
	 * termination), and mark termination may even be over
	 * (kgc_gc_term_claim()): then we wait for what is left, or nothing.
	 */
	if (gc->phase == kgc_phase_before(phase))
		kgc_gc_raise(gc, phase);
	start = gc->hs_start_ns;
	epoch = gc->epoch;
	spin_unlock(&gc->lock);
	/* Threads blocked in KGC_GC_RUN acknowledge from there. */
	wake_up_all(&gc->done_wait);

	while (!kgc_gc_hs_done(gc, epoch)) {
		u64 now, wait;

		if (kthread_should_stop())
			return 0;
		kgc_gc_nudge(gc, start);
		if (phase == KGC_PHASE_MARK_TERM &&
		    kgc_gc_spin_acked(gc, epoch, min(start + grace,
						     start + KGC_TERM_SPIN_NS)))
			break;
		/*
		 * Every acknowledgment wakes us. Else the next nudge is due
		 * when the grace ends (an hrtimer: a jiffy, 4 ms at HZ=250,
		 * would signal long after it), then when the signalled are
		 * to be signalled again. No polling: under emulation every
		 * wake-up of the marker took host CPU time from the threads
		 * it waited for.
		 */
		now = kgc_now();
		wait = now - start < grace ? start + grace - now :
		       KGC_RESIGNAL_NS;
		wait_event_interruptible_hrtimeout(gc->hs_wait,
						   kgc_gc_hs_done(gc, epoch) ||
						   kthread_should_stop(),
						   ns_to_ktime(wait));
	}
	spin_lock(&gc->lock);
	last = gc->epoch == epoch ? gc->last_ack_ns : gc->hs_start_ns;
	spin_unlock(&gc->lock);
	return last;
}

/* Whether every attached thread says it is parked. gc->lock held. */
static bool kgc_gc_all_parked(struct kgc_gc *gc)
{
	struct kgc_thread *t;

	lockdep_assert_held(&gc->lock);
	list_for_each_entry(t, &gc->threads, node) {
		if (!(READ_ONCE(gc->ctl->slots[t->slot]) & KGC_SLOT_PARKED))
			return false;
	}
	return true;
}

/*
 * Marking ran out of work: let the first thread that enters the kernel by
 * itself raise mark termination (kgc_gc_term_kick()), for up to
 * kgc_term_defer_ms. Not when nobody would come: no thread attached, all
 * of them parked, or one blocked in KGC_GC_RUN waiting for this cycle.
 */
static void kgc_gc_term_defer(struct kgc_gc *gc)
{
	u64 defer = (u64)READ_ONCE(kgc_term_defer_ms) * NSEC_PER_MSEC;
	bool pending = false;

	spin_lock(&gc->lock);
	if (defer && gc->nthreads && !gc->run_waiters &&
	    !kgc_gc_all_parked(gc)) {
		gc->term_pending = true;
		pending = true;
	}
	spin_unlock(&gc->lock);
	if (!pending)
		return;
	trace_kgc_term_defer(task_tgid_nr(gc->owner), false);
	wait_event_interruptible_hrtimeout(gc->hs_wait,
					   !READ_ONCE(gc->term_pending) ||
					   kthread_should_stop(),
					   ns_to_ktime(defer));
	/* Still pending: kgc_gc_handshake() raises it. */
	if (READ_ONCE(gc->term_pending))
		trace_kgc_term_defer(task_tgid_nr(gc->owner), true);
}

/* Scan the registered roots through the process's address space. */
static void kgc_gc_scan_roots(struct kgc_gc *gc, struct kgc_marker *w)
{
	struct mm_struct *mm = gc->heap->mm;
	struct kgc_root *r;
	u64 *buf, off;

	if (gc->debug & KGC_GCDEBUG_NOROOTS)
		return;
	buf = kmalloc_array(KGC_COPY_WORDS, sizeof(u64), GFP_KERNEL);
	if (!buf)
		return;
	if (!mmget_not_zero(mm)) {
		kfree(buf);
		return;
	}
	kthread_use_mm(mm);
	mutex_lock(&gc->roots_lock);
	list_for_each_entry(r, &gc->roots, node) {
		for (off = 0; off < r->len; off += KGC_COPY_WORDS * 8) {
			u64 n = min_t(u64, r->len - off, KGC_COPY_WORDS * 8);

			if (fatal_signal_pending(current) ||
			    kthread_should_stop())
				goto out;
			/* An unmapped part of a root holds no pointer. */
			if (copy_from_user(buf, u64_to_user_ptr(r->start + off),
					   n))
				continue;
			kgc_mark_scan_words(w, buf, r->bitmap ?
					    r->bitmap + off / 8 / 64 : NULL,
					    n / 8);
			cond_resched();
		}
	}
out:
	mutex_unlock(&gc->roots_lock);
	kthread_unuse_mm(mm);
	mmput_async(mm);
	kfree(buf);
}

static bool kgc_gc_workers_idle(struct kgc_gc *gc)
{
	return !atomic_read(&gc->active) || kgc_mark_has_work(&gc->mark);
}

/*
 * Whether marking is done for now: no full work buffer and nobody (mark
 * worker or assisting mutator) holding grey objects in a local buffer.
 * The grey set is read first: a drainer raises @active before it takes a
 * buffer (kgc_gc_drain_begin()), so a buffer taken after the check was
 * put there after it, by a barrier flush, which mark termination covers.
 */
static bool kgc_gc_mark_idle(struct kgc_gc *gc)
{
	if (kgc_mark_has_work(&gc->mark) || READ_ONCE(gc->mark.overflow))
		return false;
	smp_rmb();	/* pairs with smp_mb__after_atomic() in drain_begin */
	return !atomic_read(&gc->active);
}

static void kgc_gc_drain_begin(struct kgc_gc *gc)
{
	atomic_inc(&gc->active);
	/* Raised before any buffer is taken: pairs with kgc_gc_mark_idle(). */
	smp_mb__after_atomic();
}

static void kgc_gc_drain_end(struct kgc_gc *gc, struct kgc_marker *w)
{
	kgc_marker_flush(w);
	/* The local buffer is back on the list before we count as idle. */
	smp_mb__before_atomic();
	atomic_dec(&gc->active);
	wake_up(&gc->idle_wait);
}

/*
 * Drain until the grey set is empty, recovering from overflows. The set is
 * only empty when it holds no buffer and no worker or assist is scanning
 * (they hold grey objects in their local buffers): Go's "all workers idle
 * and no work" termination rule.
 */
static void kgc_gc_drain(struct kgc_gc *gc, struct kgc_marker *w)
{
	if (gc->nworkers)
		wake_up_all(&gc->work_wait);
	for (;;) {
		kgc_gc_drain_begin(gc);
		while (!kgc_mark_drain(w, -1))
			;
		kgc_gc_drain_end(gc, w);
		if (gc->mark.overflow) {
			kgc_mark_rescan(w);
			continue;
		}
		if (kgc_mark_has_work(&gc->mark))
			continue;
		wait_event(gc->idle_wait, kgc_gc_workers_idle(gc));
		if (kgc_gc_mark_idle(gc))
			break;
	}
}

/* An extra mark worker: drains the grey set whenever marking is on. */
static int kgc_gc_worker_fn(void *data)
{
	struct kgc_gc *gc = data;
	struct kgc_marker w;

	if (cgroup_attach_task_all(gc->owner, current))
		pr_warn_once("mark worker not in the owner's cgroups\n");
	if (kgc_marker_init(&w, &gc->mark))
		return -ENOMEM;
	while (!kthread_should_stop()) {
		wait_event_interruptible(gc->work_wait,
					 kthread_should_stop() ||
					 (READ_ONCE(gc->draining) &&
					  kgc_mark_has_work(&gc->mark)));
		if (kthread_should_stop())
			break;
		down_read(&gc->shade_sem);
		if (READ_ONCE(gc->draining)) {
			kgc_gc_drain_begin(gc);
			kgc_mark_drain(&w, -1);
			/* Counted before the drain ends: see take_marked. */
			atomic64_add(w.marked_bytes, &gc->workers_marked);
			w.marked_bytes = 0;
			kgc_gc_drain_end(gc, &w);
		}
		up_read(&gc->shade_sem);
	}
	kgc_marker_destroy(&w);
	return 0;
}

/* Clear every span's checkmark bits. */
static void kgc_gc_clear_checkbits(struct kgc_mheap *h)
{
	unsigned long a, p;

	mutex_lock(&h->lock);
	for (a = 0; a < h->narenas; a++) {
		for (p = 0; p < KGC_ARENA_PAGES; p++) {
			struct kgc_span *s = h->spanmap[a][p];

			if (s && s->start == a * KGC_ARENA_PAGES + p)
				bitmap_zero(s->checkbits, KGC_SPAN_MAX_OBJS);
		}
	}
	mutex_unlock(&h->lock);
}

/*
 * Checkmark (Go's gccheckmark): with the world stopped, mark again from the
 * roots into the check bits, without any barrier help, and report every
 * object reachable now that the concurrent mark left white.
 */
static void kgc_gc_checkmark(struct kgc_gc *gc, struct kgc_marker *w)
{
	struct kgc_mheap *h = &gc->heap->mheap;
	unsigned long a, p;
	u64 errors = 0;

	kgc_gc_clear_checkbits(h);
	gc->mark.check = true;
	kgc_gc_scan_roots(gc, w);
	kgc_mark_scan_words(w, gc->stack_roots, NULL, gc->nstack_roots);
	kgc_gc_drain(gc, w);
	gc->mark.check = false;

	mutex_lock(&h->lock);
	for (a = 0; a < h->narenas; a++) {
		for (p = 0; p < KGC_ARENA_PAGES; p++) {
			struct kgc_span *s = h->spanmap[a][p];
			u32 i;

			if (!s || s->start != a * KGC_ARENA_PAGES + p)
				continue;
			for (i = 0; i < s->nelems; i++) {
				if (!test_bit(i, s->checkbits) ||
				    kgc_mark_is_marked(s, i, false))
					continue;
				if (!errors++)
					pr_err("checkmark: pid %d: object %#llx reachable but not marked\n",
					       task_tgid_nr(gc->owner),
					       kgc_span_base(s, h->base) +
					       (u64)i * s->elemsize);
			}
		}
	}
	mutex_unlock(&h->lock);
	gc->checkmark_errors += errors;
}

/*
 * Sum and reset the bytes the marker, the mark workers and the threads'
 * assists marked this cycle. The marker's own state is idle: it waits for
 * mark termination. The workers are idle too (kgc_gc_drain() saw them so),
 * and added theirs to @workers_marked before they went idle.
 */
static u64 kgc_gc_take_marked(struct kgc_gc *gc)
{
	struct kgc_thread *t;
	u64 sum = gc->marker_w->marked_bytes +
		  atomic64_xchg(&gc->workers_marked, 0);

	gc->marker_w->marked_bytes = 0;
	spin_lock(&gc->lock);
	list_for_each_entry(t, &gc->threads, node) {
		sum += t->w.marked_bytes;
		t->w.marked_bytes = 0;
	}
	spin_unlock(&gc->lock);
	return sum;
}

/*
 * The default memory limit follows the owner's cgroup: memory.max may have
 * changed, or the process moved, since the last cycle.
 */
static void kgc_gc_refresh_limit(struct kgc_gc *gc)
{
	s64 limit;

	if (!READ_ONCE(gc->limit_auto))
		return;
	limit = kgc_scav_cgroup_limit(gc->heap->mm);
	spin_lock(&gc->lock);
	if (gc->limit_auto && gc->memory_limit != limit) {
		gc->memory_limit = limit;
		kgc_pacer_goal(gc->heap_marked, gc->gc_percent,
			       gc->memory_limit, &gc->heap_goal, &gc->trigger);
		kgc_gc_publish(gc);
	}
	spin_unlock(&gc->lock);
}

/*
 * Who ends marking: the marker once every thread acknowledged, or the
 * thread whose acknowledgment of mark termination came last
 * (kgc_gc_safepoint()), whichever gets here first. Go's goroutine that
 * finds the mark work done stops the world and terminates marking itself;
 * here it saves the pause a wake-up of the marker, which under emulation
 * takes a good part of it. A thread does not in checkmark mode: that
 * reads the roots through the marker's use of the mm.
 */
static bool kgc_gc_term_claim(struct kgc_gc *gc, bool by_thread)
{
	bool mine = false;

	if (by_thread && (gc->debug & KGC_GCDEBUG_CHECKMARK))
		return false;
	spin_lock(&gc->lock);
	if (gc->phase == KGC_PHASE_MARK_TERM && !gc->term_claimed &&
	    (!by_thread || kgc_gc_all_acked_locked(gc))) {
		gc->term_claimed = true;
		mine = true;
	}
	spin_unlock(&gc->lock);
	return mine;
}

/*
 * 4. Mark termination, once every thread acknowledged: drain what the
 * barrier buffers brought, verify (checkmark), end marking, set the next
 * goal and release the threads. Run by whoever claimed it, with its own
 * marker state @w; @by_thread: a thread, whose CPU time counts as assist.
 */
static void kgc_gc_terminate(struct kgc_gc *gc, struct kgc_marker *w,
			     bool by_thread)
{
	struct kgc_mheap *h = &gc->heap->mheap;
	struct kgc_cycle *cyc = &gc->cyc;
	u64 cpu0 = current->se.sum_exec_runtime, t0, marked, black;
	u64 peak, inuse;

	kgc_gc_drain(gc, w);
	gc->last_work = atomic_long_read(&gc->mark.work);
	if ((gc->debug & KGC_GCDEBUG_CHECKMARK) && gc->stack_roots)
		kgc_gc_checkmark(gc, w);
	marked = kgc_gc_take_marked(gc);

	down_write(&gc->shade_sem);
	WRITE_ONCE(gc->draining, false);
	mutex_lock(&h->lock);
	h->marking = false;
	h->sweepgen += 2;
	peak = h->live_bytes;
	/* Pages of spans, garbage and free slots included: what it costs. */
	inuse = (u64)(kgc_pageheap_limit(&h->pages) -
		      kgc_pageheap_free_pages(&h->pages)) << KGC_PAGE_SHIFT;
	/*
	 * Live now: what was marked plus what was handed out meanwhile,
	 * which is black (allocate-black). Like Go's heapMarked, this is
	 * the live heap the next goal grows from: the objects allocated
	 * during the cycle survive it whatever becomes of them.
	 */
	black = h->live_bytes > cyc->heap_before ?
		h->live_bytes - cyc->heap_before : 0;
	marked += black;
	h->live_bytes = marked;
	mutex_unlock(&h->lock);
	spin_lock(&gc->lock);
	gc->heap_marked = marked;
	gc->heap_black = black;
	WRITE_ONCE(gc->overshoot, kgc_scav_overshoot(gc->overshoot, peak,
						     cyc->heap_goal));
	WRITE_ONCE(gc->recent_peak, kgc_scav_recent_peak(gc->recent_peak,
							 inuse));
	kgc_pacer_goal(marked, gc->gc_percent, gc->memory_limit,
		       &gc->heap_goal, &gc->trigger);
	gc->num_gc++;
	if (cyc->forced == KGC_REASON_MANUAL ||
	    cyc->forced == KGC_REASON_FORCED)
		gc->num_forced++;
	if (by_thread)
		gc->assist_ns += current->se.sum_exec_runtime - cpu0;
	gc->phase = KGC_PHASE_OFF;
	gc->last_gc_ns = kgc_now();
	t0 = gc->hs_start_ns;	/* the pause runs from the request */
	cyc->pause_term_ns = gc->last_gc_ns - t0;
	gc->pause_ns[gc->npause++ % ARRAY_SIZE(gc->pause_ns)] =
		cyc->pause_term_ns;
	gc->pause_ns[gc->npause++ % ARRAY_SIZE(gc->pause_ns)] =
		cyc->pause_start_ns;
	gc->pause_total_ns += cyc->pause_term_ns + cyc->pause_start_ns;
	cyc->num = gc->num_gc;
	cyc->end_ns = gc->last_gc_ns;
	cyc->heap_marked = marked;
	cyc->next_goal = gc->heap_goal;
	cyc->assist_ns = gc->assist_ns;
	cyc->threads = gc->nthreads;
	cyc->signals = gc->signals;
	kgc_gc_publish(gc);
	/* Last: a marker that sees it reads the cycle record written above. */
	smp_store_release(&gc->released, gc->epoch);
	spin_unlock(&gc->lock);
	up_write(&gc->shade_sem);
	wake_up_all(&gc->release_wait);
	trace_kgc_handshake(task_tgid_nr(gc->owner), KGC_PHASE_MARK_TERM,
			    cyc->num ? gc->epoch : 0, cyc->pause_term_ns,
			    cyc->threads, cyc->signals);
	trace_kgc_gc_end(task_tgid_nr(gc->owner), cyc->num, marked,
			 cyc->next_goal, cyc->pause_term_ns);
}

/* Whether a thread ended marking, releasing @epoch, and wrote @gc->cyc. */
static bool kgc_gc_released(struct kgc_gc *gc, u32 epoch)
{
	/* Pairs with the release in kgc_gc_terminate(). */
	return smp_load_acquire(&gc->released) == epoch;
}

static void kgc_gc_cycle(struct kgc_gc *gc, struct kgc_marker *w, u32 reason)
{
	struct kgc_mheap *h = &gc->heap->mheap;
	struct kgc_cycle *cyc = &gc->cyc;
	u64 cpu0 = current->se.sum_exec_runtime, live0;
	u64 freed0, swept0, last;
	u32 epoch;

	/* 1. Sweep termination. */
	kgc_gc_refresh_limit(gc);
	kgc_sweep_all(h);
	memset(cyc, 0, sizeof(*cyc));
	cyc->forced = reason;
	cyc->start_ns = kgc_now();
	mutex_lock(&h->lock);
	freed0 = h->freed_objects;
	swept0 = h->swept_spans;
	live0 = h->live_bytes;
	h->marking = true;
	mutex_unlock(&h->lock);
	cyc->heap_before = live0;
	cyc->heap_goal = gc->heap_goal;
	trace_kgc_gc_start(task_tgid_nr(gc->owner), gc->num_gc + 1, reason,
			   live0, gc->heap_goal);
	gc->assist_ns = 0;
	gc->term_claimed = false;
	if (gc->debug & KGC_GCDEBUG_CHECKMARK) {
		gc->nstack_roots = 0;
		if (!gc->stack_roots)
			gc->stack_roots = kvmalloc_array(KGC_SP_MAX_PTRS,
							 sizeof(u64),
							 GFP_KERNEL);
	}

	/*
	 * 2. Mark start: the barrier on in every thread, then their stacks
	 * (ragged handshakes); 3. concurrent mark.
	 */
	last = kgc_gc_handshake(gc, KGC_PHASE_BARRIER);
	if (kthread_should_stop())
		return;
	trace_kgc_handshake(task_tgid_nr(gc->owner), KGC_PHASE_BARRIER,
			    gc->epoch, last - gc->barrier_ns, gc->nthreads,
			    gc->signals);
	last = kgc_gc_handshake(gc, KGC_PHASE_MARK);
	if (kthread_should_stop())
		return;
	cyc->pause_start_ns = last - gc->barrier_ns;
	trace_kgc_handshake(task_tgid_nr(gc->owner), KGC_PHASE_MARK, gc->epoch,
			    cyc->pause_start_ns, gc->nthreads, gc->signals);
	/*
	 * The assists' schedule (kgc_pacer_assist_budget()): this cycle
	 * should take as much work as the last, before the heap reaches
	 * the goal from where it stands now.
	 */
	atomic_long_set(&gc->mark.work, 0);
	WRITE_ONCE(gc->mark_live0, READ_ONCE(h->live_bytes));
	WRITE_ONCE(gc->work_expected,
		   gc->num_gc ? max(gc->last_work, KGC_MIN_MARK_WORK) : live0);
	/* The barrier is on in every thread: objects may turn black now. */
	WRITE_ONCE(gc->draining, true);
	kgc_gc_scan_roots(gc, w);
	kgc_gc_drain(gc, w);

	/* 4. Mark termination: the world waits in KGC_IOC_SAFEPOINT. */
	cyc->mark_ns = kgc_now() - cyc->start_ns;
	trace_kgc_mark_done(task_tgid_nr(gc->owner), cyc->mark_ns,
			    READ_ONCE(gc->mark.overflow));
	kgc_gc_term_defer(gc);
	kgc_gc_handshake(gc, KGC_PHASE_MARK_TERM);
	if (kthread_should_stop())
		return;
	spin_lock(&gc->lock);
	epoch = gc->epoch;
	spin_unlock(&gc->lock);
	if (kgc_gc_term_claim(gc, false))
		kgc_gc_terminate(gc, w, false);
	else
		wait_event(gc->release_wait, kgc_gc_released(gc, epoch));

	/* 5. Sweep in the background (refills sweep on demand meanwhile). */
	kgc_sweep_all(h);
	mutex_lock(&h->lock);
	cyc->freed_objects = h->freed_objects - freed0;
	cyc->swept_spans = h->swept_spans - swept0;
	WRITE_ONCE(gc->ctl->heap_live, h->live_bytes);
	mutex_unlock(&h->lock);
	trace_kgc_sweep_done(task_tgid_nr(gc->owner), cyc->num,
			     cyc->swept_spans, cyc->freed_objects);
	spin_lock(&gc->lock);
	cyc->mark_cpu_ns = current->se.sum_exec_runtime - cpu0;
	gc->cpu_ns += cyc->mark_cpu_ns + cyc->assist_ns;
	memcpy(&gc->ctl->cycles[cyc->num % KGC_CYCLE_RING], cyc, sizeof(*cyc));
	spin_unlock(&gc->lock);
	wake_up_all(&gc->done_wait);
	/* The goal moved and sweeping freed pages: scavenge the excess. */
	kgc_scav_kick(gc->heap);
}

/* kgc_idle_ms in jiffies; 0: no idle collection or scavenging. */
static unsigned long kgc_idle_jiffies(void)
{
	unsigned int ms = READ_ONCE(kgc_idle_ms);

	return ms ? max(msecs_to_jiffies(ms), 1UL) : 0;
}

/**
 * kgc_gc_idle() - has the process gone idle?
 * @gc: collector
 *
 * Return: true when no refill or large allocation happened for kgc_idle_ms
 * (false when idle handling is off).
 */
bool kgc_gc_idle(struct kgc_gc *gc)
{
	unsigned long idle = kgc_idle_jiffies();

	return idle && time_after_eq(jiffies, READ_ONCE(gc->last_alloc) + idle);
}

/*
 * The marker's sleep between cycles: until a cycle is requested, at most
 * KGC_FORCE_PERIOD_SEC, and while an allocation's idle period has not been
 * handled, until it is over. Once it has, until the next allocation (which
 * clears @idle_sleep) or the forced period.
 */
static void kgc_gc_marker_wait(struct kgc_gc *gc)
{
	unsigned long idle = kgc_idle_jiffies(), last;
	long timeout = KGC_FORCE_PERIOD_SEC * HZ;
	bool until_alloc = false;

	last = READ_ONCE(gc->last_alloc);
	if (idle && last != gc->idle_seen) {
		timeout = clamp_t(long, (long)(last + idle - jiffies), 1,
				  timeout);
	} else if (idle) {
		WRITE_ONCE(gc->idle_sleep, true);
		/*
		 * Set @idle_sleep, then look at @last_alloc; a refill sets
		 * @last_alloc, then looks at @idle_sleep (kgc_gc_note_alloc()):
		 * one of the two sees the other's store.
		 */
		smp_mb();
		if (READ_ONCE(gc->last_alloc) != gc->idle_seen)
			timeout = 1;
		else
			until_alloc = true;
	}
	wait_event_interruptible_timeout(gc->kick,
					 READ_ONCE(gc->requested) ||
					 kthread_should_stop() ||
					 (until_alloc &&
					  !READ_ONCE(gc->idle_sleep)),
					 timeout);
	WRITE_ONCE(gc->idle_sleep, false);
}

/*
 * Has the idle period of the last allocation begun and not been handled?
 * Then note it handled, and say whether to collect. gc->lock held.
 */
static bool kgc_gc_idle_due(struct kgc_gc *gc, bool *collect)
{
	unsigned long last = READ_ONCE(gc->last_alloc);

	lockdep_assert_held(&gc->lock);
	if (last == gc->idle_seen || !kgc_gc_idle(gc))
		return false;
	gc->idle_seen = last;
	*collect = kgc_pacer_idle_gc(READ_ONCE(gc->heap->mheap.live_bytes),
				     gc->heap_marked, gc->heap_black,
				     gc->gc_percent);
	return true;
}

static int kgc_gc_marker_fn(void *data)
{
	struct kgc_gc *gc = data;
	struct kgc_marker w;
	bool collect;
	int ret;

	/* CPU and memory of the marker count against the owner's cgroups. */
	ret = cgroup_attach_task_all(gc->owner, current);
	if (ret)
		pr_warn_once("marker not in the owner's cgroups: %d\n", ret);
	if (kgc_marker_init(&w, &gc->mark))
		return -ENOMEM;
	gc->marker_w = &w;
	while (!kthread_should_stop()) {
		u32 reason;

		kgc_gc_marker_wait(gc);
		if (kthread_should_stop())
			break;
		spin_lock(&gc->lock);
		if (gc->requested) {
			reason = gc->reason;
		} else if (kgc_now() - max(gc->last_gc_ns, gc->created_ns) >=
			   KGC_FORCE_PERIOD_SEC * NSEC_PER_SEC) {
			reason = KGC_REASON_FORCED;
		} else if (kgc_gc_idle_due(gc, &collect) && collect) {
			reason = KGC_REASON_IDLE;
		} else {
			spin_unlock(&gc->lock);
			/* Idle or not, free pages over the goal go back. */
			kgc_scav_kick(gc->heap);
			continue;
		}
		gc->requested = false;
		gc->reason = KGC_REASON_PACER;
		spin_unlock(&gc->lock);
		kgc_gc_cycle(gc, &w, reason);
	}
	kgc_marker_destroy(&w);
	/* Let anybody still waiting go: the heap is being destroyed. */
	spin_lock(&gc->lock);
	gc->phase = KGC_PHASE_OFF;
	gc->released = gc->epoch;
	spin_unlock(&gc->lock);
	wake_up_all(&gc->release_wait);
	wake_up_all(&gc->done_wait);
	return 0;
}

/**
 * kgc_gc_start() - start the marker and mark workers, once the heap is mapped
 * @gc: collector
 *
 * Return: 0 or a negative errno from kthread_run().
 */
int kgc_gc_start(struct kgc_gc *gc)
{
	struct task_struct *task;

	unsigned int i, n = clamp(kgc_mark_workers, 1U,
				  (unsigned int)KGC_MAX_MARK_WORKERS);

	task = kthread_run(kgc_gc_marker_fn, gc, "kgc-mark/%d",
			   task_tgid_nr(gc->owner));
	if (IS_ERR(task))
		return PTR_ERR(task);
	gc->marker = task;
	for (i = 0; i + 1 < n; i++) {
		task = kthread_run(kgc_gc_worker_fn, gc, "kgc-markw/%d",
				   task_tgid_nr(gc->owner));
		if (IS_ERR(task))
			break;	/* fewer workers: still correct */
		gc->workers[gc->nworkers++] = task;
	}
	return 0;
}

static void kgc_gc_request(struct kgc_gc *gc, u32 reason)
{
	spin_lock(&gc->lock);
	if (!gc->requested || reason > gc->reason)
		gc->reason = reason;
	gc->requested = true;
	spin_unlock(&gc->lock);
	wake_up(&gc->kick);
}

/* Stamp the allocation; wake the marker if it waits for one (idle). */
static void kgc_gc_note_alloc(struct kgc_gc *gc)
{
	unsigned long now = jiffies;

	if (READ_ONCE(gc->last_alloc) == now)
		return;
	WRITE_ONCE(gc->last_alloc, now);
	/* Store, then load: pairs with the one in kgc_gc_marker_wait(). */
	smp_mb();
	if (READ_ONCE(gc->idle_sleep)) {
		WRITE_ONCE(gc->idle_sleep, false);
		wake_up(&gc->kick);
	}
}

/* Bytes an assist scans between looks at a pending handshake. */
#define KGC_ASSIST_STEP		(64L << 10)

/**
 * kgc_gc_after_refill() - pacer and assists after a span or large object
 * @gc: collector
 * @nspans: spans or large objects just handed out (0: none)
 *
 * Outside a cycle: start one when the live heap passed the trigger or the
 * resident heap the memory limit. During marking: the allocating thread
 * assists the marker when marking is behind the pacer's schedule
 * (kgc_pacer_assist_budget()).
 */
void kgc_gc_after_refill(struct kgc_gc *gc, unsigned int nspans)
{
	struct kgc_heap *heap = gc->heap;
	u64 live = READ_ONCE(heap->mheap.live_bytes), cpu0;
	struct kgc_assist as;
	struct kgc_thread *t;
	long budget;
	u32 phase;

	kgc_gc_note_alloc(gc);
	WRITE_ONCE(gc->ctl->heap_live, live);
	kgc_scav_kick(heap);
	if (!gc->marker)
		return;
	kgc_gc_term_kick(gc);
	phase = READ_ONCE(gc->phase);
	if (phase == KGC_PHASE_OFF) {
		u64 resident = (u64)atomic_long_read(&heap->resident) <<
			       PAGE_SHIFT;

		if (gc->memory_limit >= 0 &&
		    resident >= (u64)gc->memory_limit -
				(u64)gc->memory_limit / 20)
			kgc_gc_request(gc, KGC_REASON_LIMIT);
		else if (live >= READ_ONCE(gc->trigger))
			kgc_gc_request(gc, KGC_REASON_PACER);
		return;
	}
	if (phase != KGC_PHASE_MARK || !nspans || !READ_ONCE(gc->draining))
		return;
	as.live0 = READ_ONCE(gc->mark_live0);
	as.live = live;
	as.goal = READ_ONCE(gc->heap_goal);
	as.trigger = READ_ONCE(gc->trigger);
	as.expected = READ_ONCE(gc->work_expected);
	as.done = atomic_long_read(&gc->mark.work);
	budget = kgc_pacer_assist_budget(&as, (u64)KGC_PAGE_SIZE * 4 * nspans);
	t = kgc_gc_current_locked(gc);
	if (budget <= 0 || !t || !t->w.scratch)
		return;
	cpu0 = current->se.sum_exec_runtime;
	down_read(&gc->shade_sem);
	if (READ_ONCE(gc->phase) == KGC_PHASE_MARK && READ_ONCE(gc->draining)) {
		/* The marker must not finish while this holds grey objects. */
		kgc_gc_drain_begin(gc);
		/*
		 * In steps, so that a handshake (mark termination) asked for
		 * meanwhile ends the assist: the thread must get back to
		 * its safepoint, not keep the world waiting while it marks.
		 * The debt left is the marker's.
		 */
		for (;;) {
			long step = min(budget, KGC_ASSIST_STEP);

			if (kgc_mark_drain(&t->w, step))
				break;	/* no grey object left */
			budget -= step;
			if (budget <= 0 ||
			    READ_ONCE(gc->epoch) != READ_ONCE(t->acked))
				break;
		}
		kgc_gc_drain_end(gc, &t->w);
	}
	up_read(&gc->shade_sem);
	spin_lock(&gc->lock);
	gc->assist_ns += current->se.sum_exec_runtime - cpu0;
	spin_unlock(&gc->lock);
}

/**
 * kgc_gc_roots() - KGC_IOC_ROOTS: register or remove a root range
 * @gc: collector
 * @r: request
 *
 * Return: 0, -EINVAL, -ENOSPC, -ENOMEM or -EFAULT.
 */
int kgc_gc_roots(struct kgc_gc *gc, struct kgc_roots *r)
{
	struct kgc_root *root, *it;
	u64 *bitmap = NULL;
	size_t nbits_bytes;
	int ret = 0;

	if (r->flags & ~KGC_ROOTS_FLAGS || r->resv[0] || r->resv[1] ||
	    r->resv[2] || r->start % 8)
		return -EINVAL;
	if (r->flags & KGC_ROOTS_REMOVE) {
		if (r->len || r->bitmap)
			return -EINVAL;
		mutex_lock(&gc->roots_lock);
		ret = -EINVAL;
		list_for_each_entry(it, &gc->roots, node) {
			if (it->start == r->start) {
				list_del(&it->node);
				gc->nroots--;
				kvfree(it->bitmap);
				kfree(it);
				ret = 0;
				break;
			}
		}
		mutex_unlock(&gc->roots_lock);
		return ret;
	}
	if (!r->len || r->len % 8 || r->len > KGC_MAX_ROOT_BYTES ||
	    r->start + r->len < r->start || r->start + r->len > TASK_SIZE)
		return -EINVAL;
	if (r->bitmap) {
		/* Whole 64-bit words, so chunks index it by word. */
		nbits_bytes = DIV_ROUND_UP(r->len / 8, 64) * 8;
		bitmap = kvzalloc(nbits_bytes, GFP_KERNEL_ACCOUNT);
		if (!bitmap)
			return -ENOMEM;
		if (copy_from_user(bitmap, u64_to_user_ptr(r->bitmap),
				   DIV_ROUND_UP(r->len / 8, 8))) {
			kvfree(bitmap);
			return -EFAULT;
		}
	}
	root = kzalloc(sizeof(*root), GFP_KERNEL_ACCOUNT);
	if (!root) {
		kvfree(bitmap);
		return -ENOMEM;
	}
	root->start = r->start;
	root->len = r->len;
	root->bitmap = bitmap;
	mutex_lock(&gc->roots_lock);
	if (gc->nroots >= KGC_MAX_ROOTS) {
		ret = -ENOSPC;
		goto err;
	}
	list_for_each_entry(it, &gc->roots, node) {
		if (r->start < it->start + it->len &&
		    it->start < r->start + r->len) {
			ret = -EINVAL;
			goto err;
		}
	}
	list_add_tail(&root->node, &gc->roots);
	gc->nroots++;
	mutex_unlock(&gc->roots_lock);
	return 0;
err:
	mutex_unlock(&gc->roots_lock);
	kvfree(bitmap);
	kfree(root);
	return ret;
}

/* A thread blocked in KGC_GC_RUN has a handshake to acknowledge. */
static bool kgc_gc_parked_due(struct kgc_gc *gc, struct kgc_thread *t)
{
	bool due;

	spin_lock(&gc->lock);
	due = gc->phase != KGC_PHASE_OFF && t->acked != gc->epoch;
	spin_unlock(&gc->lock);
	return due;
}

/*
 * Acknowledge a handshake on behalf of the blocked caller itself, with the
 * stack words it left: shaded (and kept for checkmark) in the first
 * handshake of the cycle.
 */
static void kgc_gc_parked_ack(struct kgc_gc *gc, struct kgc_thread *t)
{
	u32 epoch;
	u64 cycle;

	spin_lock(&gc->lock);
	epoch = gc->epoch;
	cycle = gc->num_gc + 1;
	spin_unlock(&gc->lock);
	down_read(&gc->shade_sem);
	if (kgc_phase_scans(READ_ONCE(gc->phase)) &&
	    t->scanned_cycle != cycle && !(gc->debug & KGC_GCDEBUG_NOROOTS)) {
		if (gc->debug & KGC_GCDEBUG_CHECKMARK)
			kgc_gc_keep_stack(gc, t->parked_roots, t->nparked);
		kgc_mark_scan_words(&t->w, t->parked_roots, NULL, t->nparked);
		t->scanned_cycle = cycle;
	}
	up_read(&gc->shade_sem);
	kgc_marker_flush(&t->w);
	kgc_gc_ack(gc, t, epoch);
}

/* KGC_GC_RUN: park with the caller's stack words and wait for a cycle. */
static int kgc_gc_run(struct kgc_gc *gc, struct kgc_gc_ctl *c)
{
	struct kgc_thread *t;
	u64 *roots = NULL, target;
	int ret;

	if (c->nptrs > KGC_SP_MAX_PTRS)
		return -EINVAL;
	roots = kvmalloc_array(max_t(u32, c->nptrs, 1), sizeof(u64),
			       GFP_KERNEL);
	if (!roots)
		return -ENOMEM;
	if (c->nptrs && copy_from_user(roots, u64_to_user_ptr(c->ptrs),
				       c->nptrs * sizeof(u64))) {
		kvfree(roots);
		return -EFAULT;
	}
	spin_lock(&gc->lock);
	target = gc->num_gc + (gc->phase == KGC_PHASE_OFF ? 1 : 2);
	gc->run_waiters++;
	t = kgc_gc_current(gc);
	if (t) {
		/* A call interrupted by a signal keeps its target. */
		if (t->gc_target > gc->num_gc)
			target = t->gc_target;
		t->gc_target = target;
		t->parked_roots = roots;
		t->nparked = c->nptrs;
		roots = NULL;
	}
	spin_unlock(&gc->lock);
	kvfree(roots);
	kgc_gc_request(gc, KGC_REASON_MANUAL);
	/* Counted in @run_waiters first: a cycle under way does not wait. */
	kgc_gc_term_kick(gc);
	for (;;) {
		ret = wait_event_interruptible(gc->done_wait,
					       READ_ONCE(gc->num_gc) >= target ||
					       !READ_ONCE(gc->marker) ||
					       (t && kgc_gc_parked_due(gc, t)));
		if (ret || READ_ONCE(gc->num_gc) >= target ||
		    !READ_ONCE(gc->marker))
			break;
		kgc_gc_parked_ack(gc, t);
	}
	spin_lock(&gc->lock);
	gc->run_waiters--;
	spin_unlock(&gc->lock);
	if (t) {
		spin_lock(&gc->lock);
		roots = t->parked_roots;
		t->parked_roots = NULL;
		t->nparked = 0;
		if (!ret)
			t->gc_target = 0;
		spin_unlock(&gc->lock);
		kvfree(roots);
	}
	if (ret)
		return -EINTR;
	c->num_gc = READ_ONCE(gc->num_gc);
	return 0;
}

/**
 * kgc_gc_ctl() - KGC_IOC_GC
 * @gc: collector
 * @c: request; @c->num_gc filled
 *
 * Return: 0, -EINVAL, -ENOMEM, -EFAULT, or -EINTR when a signal interrupted
 * the wait of KGC_GC_RUN (the library calls again; the target is kept).
 */
int kgc_gc_ctl(struct kgc_gc *gc, struct kgc_gc_ctl *c)
{
	s64 v = (s64)c->value;
	int ret = 0;

	if (c->resv0 || c->resv1 || c->resv[0] || c->resv[1])
		return -EINVAL;
	if (c->op != KGC_GC_RUN && (c->ptrs || c->nptrs))
		return -EINVAL;
	switch (c->op) {
	case KGC_GC_RUN:
		return kgc_gc_run(gc, c);
	case KGC_GC_SET_PERCENT:
		if (c->value != KGC_GC_OFF && (v < 0 || v > 1000000))
			return -EINVAL;
		spin_lock(&gc->lock);
		gc->gc_percent = c->value == KGC_GC_OFF ? -1 : v;
		break;
	case KGC_GC_SET_LIMIT:
		if (c->value != KGC_GC_OFF && v < 0)
			return -EINVAL;
		spin_lock(&gc->lock);
		gc->memory_limit = c->value == KGC_GC_OFF ? -1 : v;
		gc->limit_auto = false;
		break;
	case KGC_GC_SET_DEBUG:
		if (c->value & ~KGC_GCDEBUG_ALL)
			return -EINVAL;
		spin_lock(&gc->lock);
		gc->debug = c->value;
		WRITE_ONCE(gc->heap->mheap.poisoning,
			   c->value & KGC_GCDEBUG_POISON);
		break;
	default:
		return -EINVAL;
	}
	kgc_pacer_goal(gc->heap_marked, gc->gc_percent, gc->memory_limit,
		       &gc->heap_goal, &gc->trigger);
	kgc_gc_publish(gc);
	c->num_gc = gc->num_gc;
	spin_unlock(&gc->lock);
	kgc_gc_after_refill(gc, 0);
	return ret;
}

/**
 * kgc_gc_stats() - KGC_IOC_GC_STATS
 * @gc: collector
 * @st: zeroed by the caller, filled here
 */
void kgc_gc_stats(struct kgc_gc *gc, struct kgc_gc_stats *st)
{
	struct kgc_mheap *h = &gc->heap->mheap;

	mutex_lock(&h->lock);
	st->heap_live = h->live_bytes;
	mutex_unlock(&h->lock);
	spin_lock(&gc->lock);
	st->num_gc = gc->num_gc;
	st->num_forced_gc = gc->num_forced;
	st->pause_total_ns = gc->pause_total_ns;
	st->last_gc_ns = gc->last_gc_ns;
	st->next_gc = gc->heap_goal;
	st->heap_marked = gc->heap_marked;
	st->gc_cpu_ns = gc->cpu_ns;
	st->uptime_ns = kgc_now() - gc->created_ns;
	st->gc_percent = gc->gc_percent < 0 ? KGC_GC_OFF : gc->gc_percent;
	st->memory_limit = gc->memory_limit < 0 ? KGC_GC_OFF :
			   gc->memory_limit;
	st->checkmark_errors = gc->checkmark_errors;
	st->signals = gc->signals;
	memcpy(st->pause_ns, gc->pause_ns, sizeof(st->pause_ns));
	spin_unlock(&gc->lock);
}
