/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kgc: kernel-assisted garbage-collected heap, user/kernel contract.
 *
 * This header is the only interface between kgc.ko and user space (libkgc).
 * It compiles on its own as C90 and as C++ and uses only __u32/__u64.
 *
 * Protocol
 * --------
 * 1. open("/dev/kgc", O_RDWR | O_CLOEXEC) creates the calling process's heap.
 *    A process (mm) has at most one heap: a second open gets EBUSY. Every
 *    later call on the fd from another mm (fork child, fd passed over a unix
 *    socket) fails with EPERM.
 * 2. KGC_IOC_API (mandatory, like UFFDIO_API): the caller states the API
 *    version it speaks and the features it wants; the kernel answers with the
 *    features it has, the mask of ioctls it supports and the mmap layout.
 *    No other ioctl works before the handshake (EINVAL).
 * 3. mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
 *    api.heap_offset) reserves the heap: len is a multiple of
 *    KGC_ARENA_SIZE and at most api.max_heap_size. The heap is backed by
 *    zeroed pages allocated on first touch and charged to the caller's
 *    memory cgroup. The mapping is not inherited by fork, cannot be split,
 *    moved or grown. Optionally the pointer bitmap (one bit per 8-byte heap
 *    word, 1 = the word holds a pointer) is mapped the same way at
 *    api.bitmap_offset with len / 64 bytes.
 * 4. Threads take spans with KGC_IOC_REFILL and allocate from them in user
 *    space; large objects come from KGC_IOC_LARGE_ALLOC.
 *
 * Ioctl rules
 * -----------
 * Commands use type KGC_IOC_MAGIC and numbers 0x00-0x3f. Unknown commands
 * get ENOTTY. Every struct has reserved fields that must be zero (EINVAL).
 * Structs are size-versioned through the size encoded in the command: a
 * caller built against an older, shorter struct keeps working; a struct
 * shorter than its first version gets EINVAL, a longer one whose extra bytes
 * are not zero gets E2BIG. Output-only fields are ignored on input and are
 * at the end of each struct.
 */
#ifndef _UAPI_LINUX_KGC_H
#define _UAPI_LINUX_KGC_H

#include <linux/const.h>
#include <linux/types.h>
#include <linux/ioctl.h>

#include "kgc_sizeclasses.h"

#define KGC_DEVICE_NAME		"kgc"
#define KGC_API			0x4b474301ULL	/* "KGC", version 1 */

/*
 * Heap geometry. Pages are 8 KiB (two base pages); spans are runs of pages;
 * the heap grows in 64 MiB arenas.
 */
#define KGC_PAGE_SHIFT		13
#define KGC_PAGE_SIZE		_BITUL(KGC_PAGE_SHIFT)
#define KGC_ARENA_SHIFT		26
#define KGC_ARENA_SIZE		_BITUL(KGC_ARENA_SHIFT)
#define KGC_MAX_SMALL_SIZE	32768
/* Most objects a small span holds (8-byte class, one page). */
#define KGC_SPAN_MAX_OBJS	1024
#define KGC_ALLOC_WORDS		(KGC_SPAN_MAX_OBJS / 64)
/* A heap word is 8 bytes; the pointer bitmap has one bit per word. */
#define KGC_WORD_SIZE		8

/*
 * A span class is a size class and a scan bit: spans of a noscan class hold
 * objects without pointers and are never scanned by the marker.
 */
#define KGC_SPANCLASS(sizeclass, noscan) (((sizeclass) << 1) | ((noscan) ? 1 : 0))
#define KGC_SPANCLASS_SIZECLASS(sc)	((sc) >> 1)
#define KGC_SPANCLASS_NOSCAN(sc)	((sc) & 1)
#define KGC_NR_SPANCLASSES		(KGC_NR_SIZE_CLASSES * 2)

/* Features (struct kgc_api.features). */
#define KGC_FEATURE_HEAP	_BITULL(0)	/* heap, spans, large objects */
#define KGC_FEATURE_PTRBITMAP	_BITULL(1)	/* pointer bitmap mapping */
#define KGC_FEATURE_STATS	_BITULL(2)	/* KGC_IOC_STATS */
#define KGC_FEATURE_GC		_BITULL(3)	/* collector, control page */
#define KGC_FEATURE_REFILL_BATCH _BITULL(4)	/* kgc_refill more, puts */
#define KGC_FEATURES_ALL	(KGC_FEATURE_HEAP | KGC_FEATURE_PTRBITMAP | \
				 KGC_FEATURE_STATS | KGC_FEATURE_GC | \
				 KGC_FEATURE_REFILL_BATCH)

/**
 * struct kgc_api - API handshake, KGC_IOC_API
 * @api: in: KGC_API; any other value gets EINVAL
 * @features: in: features wanted (unknown bits get EINVAL); out: features
 *	available (a superset of those wanted)
 * @resv: reserved, must be zero
 * @ioctls: out: bit n set when the command with number n is supported
 * @heap_offset: out: mmap offset of the heap
 * @bitmap_offset: out: mmap offset of the pointer bitmap
 * @max_heap_size: out: largest heap mapping accepted, in bytes
 * @page_size: out: heap page size (KGC_PAGE_SIZE)
 * @nr_size_classes: out: number of size classes (KGC_NR_SIZE_CLASSES)
 * @ctl_offset: out: mmap offset of the control area (KGC_CTL_SIZE bytes,
 *	struct kgc_ctl), present with KGC_FEATURE_GC
 */
struct kgc_api {
	__u64 api;
	__u64 features;
	__u64 resv[2];
	__u64 ioctls;
	__u64 heap_offset;
	__u64 bitmap_offset;
	__u64 max_heap_size;
	__u32 page_size;
	__u32 nr_size_classes;
	__u64 ctl_offset;
};

/**
 * struct kgc_span_desc - what user space needs to allocate from a span
 * @base: address of the first object
 * @spanclass: span class (KGC_SPANCLASS())
 * @elemsize: bytes per object
 * @nelems: number of objects
 * @freeindex: every object below this index is allocated
 * @npages: length of the span in heap pages
 * @flags: KGC_SPAN_* flags
 * @allocbits: bit i of word i / 64 set when object i is allocated; bits at
 *	and beyond @nelems are set, so a free bit is always a real object
 */
struct kgc_span_desc {
	__u64 base;
	__u32 spanclass;
	__u32 elemsize;
	__u32 nelems;
	__u32 freeindex;
	__u32 npages;
	__u32 flags;
	__u64 allocbits[KGC_ALLOC_WORDS];
};

/* struct kgc_span_desc.flags */
/* Free objects may hold old data: zero each object before handing it out. */
#define KGC_SPAN_NEEDZERO	_BITUL(0)

#define KGC_NO_SPANCLASS	0xffffffffU

/**
 * struct kgc_span_mark - a cached span and an mcache's point in it
 * @base: the span (struct kgc_span_desc.base)
 * @freeindex: the mcache's freeindex. At a safepoint (struct
 *	kgc_safepoint.spans): objects allocated from here on during this
 *	cycle are black (for the tiny allocator's span: the index of its
 *	current block). Given back (struct kgc_refill.puts): as
 *	@put_freeindex there.
 * @resv: zero
 */
struct kgc_span_mark {
	__u64 base;
	__u32 freeindex;
	__u32 resv;
};

/* struct kgc_refill.flags */
/* The returned span's objects are all free again (region-style release). */
#define KGC_REFILL_DISCARD	_BITUL(0)
#define KGC_REFILL_FLAGS	KGC_REFILL_DISCARD

/* Most further spans one refill hands out, and most it takes back. */
#define KGC_REFILL_MORE_MAX	15
#define KGC_REFILL_PUTS_MAX	64

/**
 * struct kgc_refill - return a cached span and/or get a fresh one
 * @put_base: in: base of the span to give back, 0 for none
 * @put_freeindex: in: objects were allocated from the returned span up to
 *	this index (the caller's freeindex); at least the freeindex it was
 *	handed out with and at most its nelems
 * @spanclass: in: span class wanted, or KGC_NO_SPANCLASS to only give back
 * @flags: in: KGC_REFILL_*
 * @resv: reserved, must be zero
 * @span: out: the new span (zero when none was asked for)
 * @more: in: user pointer to room for @more_max struct kgc_span_desc: further
 *	spans of @spanclass wanted (a batch, KGC_FEATURE_REFILL_BATCH)
 * @puts: in: user pointer to @nputs struct kgc_span_mark: further spans to
 *	give back, each as with @put_base and @put_freeindex (@flags apply
 *	to them too)
 * @more_max: in: at most KGC_REFILL_MORE_MAX; 0 without @more
 * @nputs: in: at most KGC_REFILL_PUTS_MAX; 0 without @puts
 * @more_count: out: further spans written to @more; the kernel may hand
 *	out fewer than asked (it keeps a batch to a small share of the heap
 *	goal, and stops at the first it has no memory for)
 * @resv2: reserved, must be zero
 *
 * Spans are given back first (@puts in order, then @put_base), then one
 * span is taken (@span), then up to @more_max more. Spans given back stay
 * given back even when getting new ones fails; when @puts holds a bad
 * entry, the entries before it are given back and the call fails. A call
 * that fails (EFAULT included) hands out nothing.
 * Errors: EINVAL for a bad span class, a span to give back that is not one
 * this heap handed out and that is still cached (foreign or returned
 * twice), a freeindex out of range, counts over their limits or non-zero
 * without their pointer; EFAULT for @more or @puts; ENOMEM when the heap
 * is full.
 */
struct kgc_refill {
	__u64 put_base;
	__u32 put_freeindex;
	__u32 spanclass;
	__u32 flags;
	__u32 resv[3];
	struct kgc_span_desc span;
	__u64 more;
	__u64 puts;
	__u32 more_max;
	__u32 nputs;
	__u32 more_count;
	__u32 resv2;
};

/* struct kgc_large.flags */
#define KGC_LARGE_NOSCAN	_BITUL(0)
#define KGC_LARGE_FLAGS		KGC_LARGE_NOSCAN

/**
 * struct kgc_large - allocate an object larger than KGC_MAX_SMALL_SIZE
 * @size: in: bytes, more than KGC_MAX_SMALL_SIZE (EINVAL otherwise, E2BIG
 *	when more than the heap can ever hold)
 * @flags: in: KGC_LARGE_*
 * @resv: reserved, must be zero
 * @addr: out: the object, page aligned and zeroed
 * @npages: out: heap pages it occupies
 */
struct kgc_large {
	__u64 size;
	__u32 flags;
	__u32 resv;
	__u64 addr;
	__u64 npages;
};

/**
 * struct kgc_free - free a large object explicitly
 * @addr: in: address returned by KGC_IOC_LARGE_ALLOC (EINVAL otherwise)
 * @resv: reserved, must be zero
 */
struct kgc_free {
	__u64 addr;
	__u64 resv;
};

/**
 * struct kgc_stats - heap statistics, KGC_IOC_STATS (all output)
 * @heap_sys: bytes of heap address space grown into (whole arenas)
 * @heap_inuse: bytes in spans in use (cached, partial, full or large)
 * @heap_idle: bytes in free page runs
 * @heap_released: bytes of idle pages returned to the system
 * @heap_resident: bytes of heap backed by pages right now
 * @spans_inuse: spans in use
 * @spans_cached: spans handed to user space and not returned
 * @large_objects: large objects allocated and not freed
 * @large_bytes: their size in bytes
 * @refills: KGC_IOC_REFILL calls
 * @faults: heap page faults that allocated a page
 * @arenas: arenas grown into
 * @resv: zero
 */
struct kgc_stats {
	__u64 heap_sys;
	__u64 heap_inuse;
	__u64 heap_idle;
	__u64 heap_released;
	__u64 heap_resident;
	__u64 spans_inuse;
	__u64 spans_cached;
	__u64 large_objects;
	__u64 large_bytes;
	__u64 refills;
	__u64 faults;
	__u64 arenas;
	__u64 resv[4];
};

/*
 * The collector
 * -------------
 * A cycle: the kernel's marker thread raises a handshake (phase BARRIER, a
 * new epoch) in which every attached thread only acknowledges, with
 * KGC_IOC_SAFEPOINT, that its pointer stores see the write barrier on;
 * nothing is scanned yet. When the last one has, the kernel raises the
 * next (phase MARK): every thread acknowledges it at a safepoint, passing
 * the candidate pointers of its own stack and registers and the freeindex
 * of each span it caches (objects allocated from there on are black).
 * Threads that do not come to a safepoint by themselves, and threads parked
 * in a blocking region, are sent the signal given at KGC_IOC_THREAD_ATTACH,
 * whose handler acknowledges for them. Meanwhile the marker marks from the
 * registered roots through the heap, using the pointer bitmap. Pointer
 * stores go through the write barrier while the phase is not
 * KGC_PHASE_OFF: both the old and the new value are shaded
 * (buffered per thread, sent with KGC_IOC_SAFEPOINT and no epoch). Mark
 * termination is a last handshake (phase MARK_TERM) in which each thread
 * flushes its buffer and waits in KGC_IOC_SAFEPOINT until the marker has
 * finished; then the phase goes back to OFF and sweeping begins.
 */

/* struct kgc_ctl.phase: the write barrier is on whenever phase != OFF. */
#define KGC_PHASE_OFF		0
#define KGC_PHASE_MARK		1
#define KGC_PHASE_MARK_TERM	2
#define KGC_PHASE_BARRIER	3	/* mark start, step 1: barrier on only */

/* The control area: kernel-written state, per-thread slots. */
#define KGC_CTL_SIZE		16384
#define KGC_MAX_THREADS		2048
#define KGC_CYCLE_RING		16

/* struct kgc_ctl.slots[]: written by the thread that owns the slot. */
#define KGC_SLOT_PARKED		_BITUL(0)	/* in a blocking region */

/**
 * struct kgc_cycle - summary of one finished GC cycle (for gctrace)
 * @num: cycle number, from 1
 * @start_ns: CLOCK_MONOTONIC time the cycle started
 * @end_ns: time marking ended (mark termination released the threads)
 * @heap_before: live heap bytes (allocated) when the cycle started
 * @heap_marked: bytes marked reachable (objects allocated black included)
 * @heap_goal: the goal the pacer had set for this cycle
 * @next_goal: the goal of the next cycle
 * @pause_start_ns: mark start handshake: request to last acknowledgment
 * @pause_term_ns: mark termination: request to release of the threads
 * @mark_ns: wall time of the concurrent mark phase
 * @mark_cpu_ns: CPU time of the mark workers
 * @assist_ns: CPU time of mutator assists
 * @swept_spans: spans swept after the previous cycle
 * @freed_objects: objects freed by that sweep
 * @forced: 1 manual (kgc_gc), 2 forced after 2 minutes, 3 memory limit,
 *	4 idle (no refill for the module's idle_ms), 0 pacer
 * @threads: threads that took part in the handshakes
 * @signals: signals sent to bring threads to a safepoint
 */
struct kgc_cycle {
	__u64 num;
	__u64 start_ns;
	__u64 end_ns;
	__u64 heap_before;
	__u64 heap_marked;
	__u64 heap_goal;
	__u64 next_goal;
	__u64 pause_start_ns;
	__u64 pause_term_ns;
	__u64 mark_ns;
	__u64 mark_cpu_ns;
	__u64 assist_ns;
	__u64 swept_spans;
	__u64 freed_objects;
	__u32 forced;
	__u32 threads;
	__u32 signals;
	__u32 resv;
};

/**
 * struct kgc_ctl - the control area, mapped shared at api.ctl_offset
 * @phase: KGC_PHASE_*; the write barrier is on when it is not OFF
 * @epoch: number of the current handshake; a thread acknowledges it by
 *	passing it to KGC_IOC_SAFEPOINT
 * @num_gc: cycles completed
 * @heap_live: bytes allocated (as of the last span refill)
 * @heap_goal: the pacer's goal for the current or next cycle
 * @scav_background: bytes of free heap pages the background scavenger gave
 *	back to the system so far (for gctrace's scavenger lines)
 * @scav_shrinker: bytes the kernel's memory reclaim (the shrinker) took
 * @scav_explicit: bytes given back by KGC_SCAV_RELEASE
 * @cycles: the last KGC_CYCLE_RING cycles, cycle n at n % KGC_CYCLE_RING
 * @slots: per attached thread (struct kgc_thread_attach.slot), KGC_SLOT_*;
 *	the only part user space writes
 *
 * The kernel never trusts what it reads back from this area: its own state
 * is in kernel memory, the area is a copy it publishes.
 */
struct kgc_ctl {
	__u32 phase;
	__u32 epoch;
	__u64 num_gc;
	__u64 heap_live;
	__u64 heap_goal;
	__u64 scav_background;
	__u64 scav_shrinker;
	__u64 scav_explicit;
	__u64 resv[9];
	struct kgc_cycle cycles[KGC_CYCLE_RING];
	__u32 slots[KGC_MAX_THREADS];
};

/**
 * struct kgc_thread_attach - KGC_IOC_THREAD_ATTACH: register the caller
 * @stack_lo: in: lowest address of the thread's stack
 * @stack_hi: in: one past its highest address
 * @signo: in: signal that brings this thread to a safepoint (its handler
 *	calls KGC_IOC_SAFEPOINT); 1..64
 * @flags: in: zero
 * @resv: reserved, must be zero
 * @slot: out: the thread's index in struct kgc_ctl.slots
 *
 * Errors: EBUSY when the thread is attached already, ENOSPC beyond
 * KGC_MAX_THREADS, EINVAL for bad bounds or signal.
 */
struct kgc_thread_attach {
	__u64 stack_lo;
	__u64 stack_hi;
	__u32 signo;
	__u32 flags;
	__u64 resv[2];
	__u32 slot;
	__u32 resv2;
};

/* struct kgc_safepoint.flags */
#define KGC_SP_ACK		_BITUL(0)	/* acknowledge handshake @epoch */
/*
 * @ptrs are the caller's stack and register words (a stack scan) rather
 * than its write-barrier buffer. A stack is scanned once per cycle: its
 * words may come in several calls, the last with KGC_SP_ACK. The first
 * scan of a cycle greys objects; in later handshakes stacks need no rescan
 * (the hybrid barrier) and the words only feed the checkmark verification.
 */
#define KGC_SP_STACK		_BITUL(1)
#define KGC_SP_FLAGS		(KGC_SP_ACK | KGC_SP_STACK)

/**
 * struct kgc_safepoint - KGC_IOC_SAFEPOINT: shade pointers, acknowledge
 * @epoch: in: with KGC_SP_ACK, the handshake acknowledged (struct
 *	kgc_ctl.epoch as the thread read it); a stale epoch is ignored.
 *	out: the last handshake the call acknowledged: a barrier
 *	acknowledgment that is the last one raises mark start, and when it
 *	carries KGC_SP_STACK (the whole stack) and the span marks, it
 *	acknowledges mark start too, and @epoch comes back one higher
 * @flags: in: KGC_SP_*
 * @ptrs: in: user pointer to @nptrs candidate pointers (stack and register
 *	words, write barrier buffer); each is checked against the heap
 * @spans: in: user pointer to @nspans struct kgc_span_mark
 * @nptrs: in: at most KGC_SP_MAX_PTRS (only words pointing into the heap
 *	need to be passed)
 * @nspans: in: at most KGC_SP_MAX_SPANS
 * @resv: reserved, must be zero
 * @phase: out: the phase after the call
 *
 * In the mark-termination handshake the call returns once the marker has
 * finished. Errors: EINVAL (bad flags, counts, reserved fields), EFAULT,
 * EPERM when the caller is not an attached thread of the heap's process.
 */
struct kgc_safepoint {
	__u32 epoch;
	__u32 flags;
	__u64 ptrs;
	__u64 spans;
	__u32 nptrs;
	__u32 nspans;
	__u64 resv[2];
	__u32 phase;
	__u32 resv2;
};

#define KGC_SP_MAX_PTRS		65536
/* An mcache's spans: one per span class and a stash of batched ones. */
#define KGC_SP_MAX_SPANS	1024

/* struct kgc_roots.flags */
#define KGC_ROOTS_REMOVE	_BITUL(0)	/* remove the range at @start */
#define KGC_ROOTS_FLAGS		KGC_ROOTS_REMOVE
#define KGC_MAX_ROOTS		4096
#define KGC_MAX_ROOT_BYTES	_BITULL(30)

/**
 * struct kgc_roots - KGC_IOC_ROOTS: register or remove a root range
 * @start: in: 8-byte aligned address of the range
 * @len: in: bytes, a multiple of 8, at most KGC_MAX_ROOT_BYTES
 * @bitmap: in: user pointer to a bitmap of len / 8 bits (1 = the word holds
 *	a pointer, copied at registration), or 0: every word may be a pointer
 * @flags: in: KGC_ROOTS_*
 * @resv: reserved, must be zero
 *
 * Errors: EINVAL (alignment, overlap with a registered range, unknown range
 * to remove), ENOSPC beyond KGC_MAX_ROOTS, EFAULT.
 */
struct kgc_roots {
	__u64 start;
	__u64 len;
	__u64 bitmap;
	__u32 flags;
	__u32 resv[3];
};

/* struct kgc_gc_ctl.op */
#define KGC_GC_RUN		1	/* run a full cycle, return when done */
#define KGC_GC_SET_PERCENT	2	/* @value: GOGC, or KGC_GC_OFF */
#define KGC_GC_SET_LIMIT	3	/* @value: memory limit, bytes, or KGC_GC_OFF */
/* "Off" for GOGC (no pacer) and for the memory limit (none). */
#define KGC_GC_OFF		(~0ULL)
#define KGC_GC_SET_DEBUG	4	/* @value: KGC_GCDEBUG_* bits */

/* KGC_GC_SET_DEBUG bits */
#define KGC_GCDEBUG_CHECKMARK	_BITULL(0)	/* verify marking (slow) */
#define KGC_GCDEBUG_POISON	_BITULL(1)	/* poison freed objects */
#define KGC_GCDEBUG_NOROOTS	_BITULL(2)	/* BROKEN on purpose: skip roots */
#define KGC_GCDEBUG_ALL		(KGC_GCDEBUG_CHECKMARK | KGC_GCDEBUG_POISON | \
				 KGC_GCDEBUG_NOROOTS)

/**
 * struct kgc_gc_ctl - KGC_IOC_GC: run the collector, set its knobs
 * @op: in: KGC_GC_*
 * @resv0: reserved, must be zero
 * @value: in: the op's value
 * @resv: reserved, must be zero
 * @num_gc: out: cycles completed when the call returns
 *
 * KGC_GC_RUN waits for a full cycle that started after the call; the
 * caller counts as parked meanwhile and is acknowledged with the stack it
 * passes in @ptrs/@nptrs (same rules as struct kgc_safepoint).
 */
struct kgc_gc_ctl {
	__u32 op;
	__u32 resv0;
	__u64 value;
	__u64 ptrs;
	__u32 nptrs;
	__u32 resv1;
	__u64 resv[2];
	__u64 num_gc;
};

/**
 * struct kgc_gc_stats - KGC_IOC_GC_STATS: Go MemStats-style collector stats
 * @num_gc: completed cycles
 * @num_forced_gc: cycles started by kgc_gc() or the 2-minute rule
 * @pause_total_ns: sum of all handshake pauses
 * @last_gc_ns: CLOCK_MONOTONIC time the last cycle ended
 * @next_gc: heap goal of the next cycle
 * @heap_live: bytes allocated now (as of the last refill)
 * @heap_marked: bytes marked in the last cycle (allocated black included)
 * @gc_cpu_ns: CPU time of the mark workers, assists and sweep
 * @uptime_ns: time since the heap was created (for the CPU fraction)
 * @heap_objects: objects allocated (as of the last refill or sweep)
 * @gc_percent: current GOGC value (KGC_GC_OFF: off)
 * @memory_limit: current limit in bytes (KGC_GC_OFF: none)
 * @checkmark_errors: reachable objects the checkmark pass found unmarked
 * @signals: signals sent to bring threads to safepoints
 * @resv: zero
 * @pause_ns: the last 256 pauses, pause n at (n % 256)
 */
struct kgc_gc_stats {
	__u64 num_gc;
	__u64 num_forced_gc;
	__u64 pause_total_ns;
	__u64 last_gc_ns;
	__u64 next_gc;
	__u64 heap_live;
	__u64 heap_marked;
	__u64 gc_cpu_ns;
	__u64 uptime_ns;
	__u64 heap_objects;
	__u64 gc_percent;
	__u64 memory_limit;
	__u64 checkmark_errors;
	__u64 signals;
	__u64 resv[2];
	__u64 pause_ns[256];
};

/*
 * The scavenger
 * -------------
 * Free heap pages (pages of no span) that are still resident are given
 * back to the system in three ways: a background scavenger keeps the
 * retained heap (pages in use plus free resident pages) within 10% of the
 * pacer's heap goal and 95% of the memory limit, using about 1% of a CPU;
 * the kernel's memory reclaim takes them when memory is tight (globally or
 * in the heap owner's memory cgroup); and KGC_SCAV_RELEASE gives them back
 * at once (Go's debug.FreeOSMemory, after a collection). A page given back
 * reads as zero when it is touched again.
 */

/*
 * struct kgc_scavenge.op: QUERY only reports the counters; RELEASE gives
 * back free pages now, up to @value bytes (0: all of them); SET_BACKGROUND
 * switches the background scavenger on (@value 1, the default) or off (0).
 */
#define KGC_SCAV_QUERY		0
#define KGC_SCAV_RELEASE	1
#define KGC_SCAV_SET_BACKGROUND	2

/**
 * struct kgc_scavenge - KGC_IOC_SCAVENGE: give free heap memory back, and
 * the scavenger's counters
 * @op: in: KGC_SCAV_*
 * @flags: in: zero
 * @value: in: the op's value
 * @resv: reserved, must be zero
 * @released: out: bytes this call gave back
 * @retained: out: bytes of heap pages in use or free but resident (Go's
 *	HeapInuse + HeapIdle - HeapReleased), what the scavenger steers
 * @goal: out: the background scavenger's goal for @retained (KGC_GC_OFF:
 *	none)
 * @free_resident: out: bytes of free heap pages still resident
 * @scav_background: out: bytes given back by the background scavenger
 * @scav_shrinker: out: bytes given back to the kernel's memory reclaim
 * @scav_explicit: out: bytes given back by KGC_SCAV_RELEASE
 * @batches: out: runs of pages given back, by all three
 * @oldest_free_ms: out: time since the oldest free resident page was
 *	freed, in milliseconds (0 when there is none)
 * @background: out: 1 when the background scavenger is on
 * @resv2: zero
 *
 * Errors: EINVAL (unknown op, bad value, reserved fields), EINTR when a
 * fatal signal stopped KGC_SCAV_RELEASE.
 */
struct kgc_scavenge {
	__u32 op;
	__u32 flags;
	__u64 value;
	__u64 resv[2];
	__u64 released;
	__u64 retained;
	__u64 goal;
	__u64 free_resident;
	__u64 scav_background;
	__u64 scav_shrinker;
	__u64 scav_explicit;
	__u64 batches;
	__u64 oldest_free_ms;
	__u32 background;
	__u32 resv2;
};

/*
 * Object state (for the heap profile)
 * -----------------------------------
 * A sampled heap profile remembers some allocated objects and must learn
 * when each is freed. Sweeping frees objects in the kernel without telling
 * user space, so after a cycle the library asks about its samples.
 */

/* Most addresses one KGC_IOC_OBJ_STATE call takes. */
#define KGC_OBJ_STATE_MAX	65536

/**
 * struct kgc_obj_state - KGC_IOC_OBJ_STATE: which addresses lie in
 * allocated objects
 * @addrs: in: user pointer to @count __u64 addresses (any values)
 * @state: in: user pointer to a bitmap of @count bits, in whole __u64
 *	words ((@count + 63) / 64 of them); out: bit i (bit i % 64 of word
 *	i / 64) is set when addrs[i] lies inside an object of this heap that
 *	is allocated, as it will be once its span is swept: in a large
 *	object's span; in a small span, in an object whose alloc bit is set
 *	(for a span not yet swept since the last cycle, whose mark bit is
 *	set), or at or beyond the index from which the span's mcache owns the
 *	objects (the kernel's bits are stale there). Bits at and beyond @count
 *	in the last word are zero.
 * @count: in: number of addresses, at most KGC_OBJ_STATE_MAX; 0 does nothing
 * @flags: in: zero
 * @resv: reserved, must be zero
 * @allocated: out: number of bits set
 *
 * An address in a free object, between objects, outside the heap or in
 * free pages reads 0. A freed object whose memory was allocated again
 * reads 1: the kernel does not know which allocation a caller means.
 * Errors: EINVAL (@count, @flags, reserved fields), EFAULT, EINTR when a
 * fatal signal is pending.
 */
struct kgc_obj_state {
	__u64 addrs;
	__u64 state;
	__u32 count;
	__u32 flags;
	__u64 resv[2];
	__u64 allocated;
};

/* Sizes of the first version of each struct (shorter ones get EINVAL). */
#define KGC_API_SIZE_VER0	72
#define KGC_API_SIZE_VER1	80
#define KGC_REFILL_SIZE_VER0	192
#define KGC_REFILL_SIZE_VER1	224
#define KGC_LARGE_SIZE_VER0	32
#define KGC_FREE_SIZE_VER0	16
#define KGC_STATS_SIZE_VER0	128
#define KGC_THREAD_ATTACH_SIZE_VER0	48
#define KGC_SAFEPOINT_SIZE_VER0	56
#define KGC_ROOTS_SIZE_VER0	40
#define KGC_GC_CTL_SIZE_VER0	56
#define KGC_GC_STATS_SIZE_VER0	2176
#define KGC_SCAVENGE_SIZE_VER0	112
#define KGC_OBJ_STATE_SIZE_VER0	48

#define KGC_IOC_MAGIC		0xC6

#define KGC_IOC_NR_API		0x00
#define KGC_IOC_NR_REFILL	0x01
#define KGC_IOC_NR_LARGE_ALLOC	0x02
#define KGC_IOC_NR_FREE		0x03
#define KGC_IOC_NR_STATS	0x04
#define KGC_IOC_NR_THREAD_ATTACH	0x05
#define KGC_IOC_NR_THREAD_DETACH	0x06
#define KGC_IOC_NR_SAFEPOINT	0x07
#define KGC_IOC_NR_ROOTS	0x08
#define KGC_IOC_NR_GC		0x09
#define KGC_IOC_NR_GC_STATS	0x0a
#define KGC_IOC_NR_SCAVENGE	0x0b
#define KGC_IOC_NR_OBJ_STATE	0x0c

#define KGC_IOC_API		_IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_API, struct kgc_api)
#define KGC_IOC_REFILL		_IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_REFILL, struct kgc_refill)
#define KGC_IOC_LARGE_ALLOC	_IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_LARGE_ALLOC, struct kgc_large)
#define KGC_IOC_FREE		_IOW(KGC_IOC_MAGIC, KGC_IOC_NR_FREE, struct kgc_free)
#define KGC_IOC_STATS		_IOR(KGC_IOC_MAGIC, KGC_IOC_NR_STATS, struct kgc_stats)
#define KGC_IOC_THREAD_ATTACH	_IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_THREAD_ATTACH, \
				      struct kgc_thread_attach)
#define KGC_IOC_THREAD_DETACH	_IO(KGC_IOC_MAGIC, KGC_IOC_NR_THREAD_DETACH)
#define KGC_IOC_SAFEPOINT	_IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_SAFEPOINT, struct kgc_safepoint)
#define KGC_IOC_ROOTS		_IOW(KGC_IOC_MAGIC, KGC_IOC_NR_ROOTS, struct kgc_roots)
#define KGC_IOC_GC		_IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_GC, struct kgc_gc_ctl)
#define KGC_IOC_GC_STATS	_IOR(KGC_IOC_MAGIC, KGC_IOC_NR_GC_STATS, struct kgc_gc_stats)
#define KGC_IOC_SCAVENGE	_IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_SCAVENGE, struct kgc_scavenge)
#define KGC_IOC_OBJ_STATE	_IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_OBJ_STATE, \
				      struct kgc_obj_state)

#endif /* _UAPI_LINUX_KGC_H */
