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
#define KGC_PAGE_SIZE		(1UL << KGC_PAGE_SHIFT)
#define KGC_ARENA_SHIFT		26
#define KGC_ARENA_SIZE		(1UL << KGC_ARENA_SHIFT)
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
#define KGC_FEATURE_HEAP	(1ULL << 0)	/* heap, spans, large objects */
#define KGC_FEATURE_PTRBITMAP	(1ULL << 1)	/* pointer bitmap mapping */
#define KGC_FEATURE_STATS	(1ULL << 2)	/* KGC_IOC_STATS */
#define KGC_FEATURES_ALL	(KGC_FEATURE_HEAP | KGC_FEATURE_PTRBITMAP | \
				 KGC_FEATURE_STATS)

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
#define KGC_SPAN_NEEDZERO	(1U << 0)

#define KGC_NO_SPANCLASS	0xffffffffU

/* struct kgc_refill.flags */
/* The returned span's objects are all free again (region-style release). */
#define KGC_REFILL_DISCARD	(1U << 0)
#define KGC_REFILL_FLAGS	KGC_REFILL_DISCARD

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
 *
 * Errors: EINVAL for a bad span class, a @put_base that is not a span this
 * heap handed out and that is still cached (foreign or returned twice), a
 * @put_freeindex out of range; ENOMEM when the heap is full.
 */
struct kgc_refill {
	__u64 put_base;
	__u32 put_freeindex;
	__u32 spanclass;
	__u32 flags;
	__u32 resv[3];
	struct kgc_span_desc span;
};

/* struct kgc_large.flags */
#define KGC_LARGE_NOSCAN	(1U << 0)
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

/* Sizes of the first version of each struct (shorter ones get EINVAL). */
#define KGC_API_SIZE_VER0	72
#define KGC_REFILL_SIZE_VER0	192
#define KGC_LARGE_SIZE_VER0	32
#define KGC_FREE_SIZE_VER0	16
#define KGC_STATS_SIZE_VER0	128

#define KGC_IOC_MAGIC		0xC6

#define KGC_IOC_NR_API		0x00
#define KGC_IOC_NR_REFILL	0x01
#define KGC_IOC_NR_LARGE_ALLOC	0x02
#define KGC_IOC_NR_FREE		0x03
#define KGC_IOC_NR_STATS	0x04

#define KGC_IOC_API		_IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_API, struct kgc_api)
#define KGC_IOC_REFILL		_IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_REFILL, struct kgc_refill)
#define KGC_IOC_LARGE_ALLOC	_IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_LARGE_ALLOC, struct kgc_large)
#define KGC_IOC_FREE		_IOW(KGC_IOC_MAGIC, KGC_IOC_NR_FREE, struct kgc_free)
#define KGC_IOC_STATS		_IOR(KGC_IOC_MAGIC, KGC_IOC_NR_STATS, struct kgc_stats)

#endif /* _UAPI_LINUX_KGC_H */
