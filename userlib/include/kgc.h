/* SPDX-License-Identifier: (LGPL-2.1 OR MIT) */
/*
 * kgc.h - libkgc, the user-space side of the kgc garbage-collected heap.
 *
 * A process opens its heap once (kgc_init()), then any thread allocates
 * zeroed, garbage-collected objects from it (kgc_alloc() and friends). Each
 * allocation says which of the object's 8-byte words may hold pointers:
 * precisely (a struct kgc_type bitmap), conservatively (every word), or
 * not at all (noscan). Pointer stores into heap objects and registered
 * roots go through kgc_store(), the write barrier.
 *
 * Conventions (libbpf-like):
 * - Functions returning int return 0 (or a count) on success and a negative
 *   errno on failure; functions returning a pointer return NULL and set
 *   errno. Every failure also sets errno and a human-readable message for
 *   the calling thread, see kgc_last_error().
 * - Option and statistics structs carry their own size in their first
 *   field, @sz, so that programs built against an older header keep working
 *   with a newer library and the other way round.
 * - Before kgc_init() and after kgc_shutdown() every call fails with EINVAL
 *   (allocations return NULL), except kgc_init(), kgc_shutdown(),
 *   kgc_thread_detach(), kgc_store(), kgc_safepoint(),
 *   kgc_blocking_begin(), kgc_blocking_end(), kgc_last_error(),
 *   kgc_strerror() and kgc_version(), and the heap profile's functions
 *   (kgc_set_memprofile_rate(), kgc_memprofile_rate(),
 *   kgc_write_heap_profile(), kgc_write_heap_profile_fd()).
 *
 * Usable from C99 (and later) and C++; tests/header_check.c compiles it
 * as both.
 */
#ifndef KGC_H
#define KGC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KGC_VERSION_MAJOR	0
#define KGC_VERSION_MINOR	1
#define KGC_VERSION_PATCH	0

#if defined(__GNUC__) || defined(__clang__)
#define KGC_LIKELY(x)		__builtin_expect(!!(x), 1)
#define KGC_UNLIKELY(x)		__builtin_expect(!!(x), 0)
#define KGC_MALLOC_ATTR(n)	__attribute__((__malloc__, __alloc_size__(n), \
					       __warn_unused_result__))
#define KGC_ALLOC_ATTR		__attribute__((__malloc__, __warn_unused_result__))
#else
#define KGC_LIKELY(x)		(x)
#define KGC_UNLIKELY(x)		(x)
#define KGC_MALLOC_ATTR(n)
#define KGC_ALLOC_ATTR
#endif

/* struct kgc_options.gc_percent: never collect (GOGC=off). */
#define KGC_GOGC_OFF		(-1)
/* struct kgc_options.memory_limit: no limit (GOMEMLIMIT=off). */
#define KGC_NO_MEMORY_LIMIT	INT64_MAX
/* Default heap reservation: 4 GiB of address space (not of memory). */
#define KGC_DEFAULT_HEAP_RESERVE	((size_t)4 << 30)

/* struct kgc_options.debug (also KGC_DEBUG=name=1,...) */
#define KGC_DEBUG_GCTRACE	(1U << 0)	/* gctrace=1: one line per cycle on stderr */
#define KGC_DEBUG_CHECKMARK	(1U << 1)	/* checkmark=1: re-check marking */
#define KGC_DEBUG_POISON	(1U << 2)	/* poison=1: poison freed memory */
/*
 * BROKEN ON PURPOSE, for testing the tests only: nobarrier=1 makes the
 * write barrier store without telling the collector, noroots=1 makes the
 * collector ignore roots and stacks. Objects still in use get freed.
 */
#define KGC_DEBUG_NOBARRIER	(1U << 3)	/* nobarrier=1 */
#define KGC_DEBUG_NOROOTS	(1U << 4)	/* noroots=1 */
#define KGC_DEBUG_ALL		(KGC_DEBUG_GCTRACE | KGC_DEBUG_CHECKMARK | \
				 KGC_DEBUG_POISON | KGC_DEBUG_NOBARRIER | \
				 KGC_DEBUG_NOROOTS)

/* struct kgc_options.flags */
#define KGC_INIT_NOENV		(1U << 0)	/* ignore the KGC_* environment */
/* Do not scan the data and bss of loaded objects: only registered roots. */
#define KGC_INIT_NOAUTOROOTS	(1U << 1)
#define KGC_INIT_FLAGS		(KGC_INIT_NOENV | KGC_INIT_NOAUTOROOTS)

/**
 * struct kgc_options - how to set up the heap, for kgc_init()
 * @sz: sizeof(struct kgc_options) as the caller knew it (use KGC_OPTS())
 * @gc_percent: GOGC: start a collection when the heap has grown by this
 *	percentage over the live heap of the last one; KGC_GOGC_OFF never
 *	collects. 0 means "not set" (KGC_GOGC, else 100): a gc_percent of 0
 *	can only be set with KGC_GOGC=0 or kgc_set_gc_percent(0).
 * @debug: KGC_DEBUG_* flags; KGC_DEBUG from the environment adds to them
 * @memory_limit: soft limit on the memory the heap uses, in bytes;
 *	KGC_NO_MEMORY_LIMIT for none; 0 means "not set" (KGC_MEMLIMIT, else
 *	the kernel's default: the tightest memory.max of the process's memory
 *	cgroup and its ancestors, followed as it changes; none without one)
 * @heap_reserve: address space to reserve for the heap, rounded up to the
 *	64 MiB arena size and capped at what the kernel allows; 0 means "not
 *	set" (KGC_HEAP_RESERVE, else KGC_DEFAULT_HEAP_RESERVE). Pages are only
 *	used when touched.
 * @device: path of the kgc device; NULL means "/dev/kgc"
 * @flags: KGC_INIT_* flags
 * @signal: the signal that brings a thread to a safepoint when it does not
 *	come to one by itself (1 to 64; not SIGKILL, SIGSTOP or a signal the
 *	kernel raises for faults); 0 means "not set" (KGC_SIGNAL, a number or
 *	a name such as "SIGUSR2" or "SIGRTMIN+3", else SIGURG, as in Go). The
 *	library installs its handler for it, process-wide, at kgc_init().
 *
 * A field left zero takes its value from the environment variable named
 * above, if set, else the default: explicit options win over the
 * environment (as runtime/debug.SetGCPercent wins over GOGC in Go), except
 * @debug, where both add up. Fields beyond @sz take their defaults. A @sz
 * larger than the library knows is accepted only when the unknown tail is
 * zero (else -E2BIG).
 */
struct kgc_options {
	size_t sz;
	int gc_percent;
	unsigned int debug;
	int64_t memory_limit;
	size_t heap_reserve;
	const char *device;
	unsigned int flags;
	unsigned int :32;
	int signal;
	unsigned int :32;
};

/*
 * KGC_OPTS(opts, .gc_percent = 200) declares and initialises options with
 * the right @sz (C99 designated initialisers; in C++ set the fields one by
 * one after "struct kgc_options opts = {}; opts.sz = sizeof(opts);").
 */
#define KGC_OPTS(NAME, ...)						\
	struct kgc_options NAME = {					\
		.sz = sizeof(struct kgc_options),			\
		__VA_ARGS__						\
	}

/**
 * kgc_init() - open and map the calling process's heap
 * @opts: options, or NULL for the defaults and the environment
 *
 * Opens the kgc device, checks that the kernel speaks this library's API
 * and has the collector, maps the heap, its pointer bitmap and the control
 * area (over kgc_write_barrier_enabled), hands the settings to the
 * collector, installs the safepoint signal handler and registers the
 * writable data and bss of every loaded object as conservative roots
 * (unless KGC_INIT_NOAUTOROOTS). A process has one heap; it is not
 * inherited by fork() children (they may call kgc_init() for their own).
 * kgc_init() may be called again after kgc_shutdown().
 *
 * Environment (ignored with KGC_INIT_NOENV; secure_getenv()):
 * KGC_GOGC (percent or "off"), KGC_MEMLIMIT (bytes with an optional
 * B/KiB/MiB/GiB/TiB suffix, or "off"), KGC_HEAP_RESERVE (same syntax),
 * KGC_DEBUG (comma list of gctrace=0|1, checkmark=0|1, poison=0|1, and,
 * broken on purpose, nobarrier=0|1, noroots=0|1), KGC_SIGNAL (see
 * @signal). A malformed value makes kgc_init() fail with -EINVAL.
 *
 * Return: 0, or -ENOENT (no device: kgc.ko not loaded), -EBUSY (already
 * initialised, or the process has a heap), -EINVAL (bad options or
 * environment), -E2BIG (options from a newer header with unknown fields
 * set), -EPROTO (the kernel speaks another API), -ENOMEM, or another
 * -errno from open(2), ioctl(2) or mmap(2).
 */
int kgc_init(const struct kgc_options *opts);

/**
 * kgc_shutdown() - unmap and close the heap
 *
 * Every object of the heap becomes invalid at once. Other threads must not
 * use kgc while this runs (nor be inside a kgc call); they are detached
 * (their caches are dropped and their thread state is freed when they next
 * call kgc or exit). Registered roots are forgotten. The control area is
 * replaced by zero pages, so kgc_write_barrier_enabled reads 0 again. The
 * signal handler stays installed and does nothing without a heap. Calling
 * it when no heap is open does nothing.
 */
void kgc_shutdown(void);

/**
 * struct kgc_type - the layout of a type of object, for precise allocation
 * @size: bytes per object, a non-zero multiple of 8
 * @ptrmap: bit i (bit i % 64 of ptrmap[i / 64]) set when the object's
 *	8-byte word i may hold a pointer to a kgc object; bits at and beyond
 *	@size / 8 are ignored. NULL when the type has no pointers.
 * @name: optional, for diagnostics
 * @flags: must be zero
 * @resv: must be zero
 *
 * The library only reads the type during the allocation call: it may live
 * anywhere, usually in static const storage.
 */
struct kgc_type {
	size_t size;
	const uint64_t *ptrmap;
	const char *name;
	uint32_t flags;
	uint32_t resv;
};

/* The ptrmap bit of pointer member @member of struct @type (first 64 words). */
#define KGC_PTRBIT(type, member) \
	((uint64_t)1 << (offsetof(type, member) / 8))

/**
 * kgc_alloc() - allocate objects of a precise type
 * @size: bytes: @type->size, or a multiple of it for an array of the type
 * @type: the layout of the object
 *
 * The memory is zeroed and aligned to 16 bytes when @size >= 16 (to the
 * largest power of two dividing @size, up to 8, below that; pages for sizes
 * above 32 KiB). The collector scans only the words @type marks as pointers.
 * The first allocation of a thread attaches it (kgc_thread_attach()).
 *
 * Return: the object, or NULL with errno EINVAL (@size 0 or not a multiple
 * of @type->size, bad @type, no heap), ENOMEM (heap full or @size larger
 * than the heap), or EPROTO/EIO (the kernel misbehaved).
 */
void *kgc_alloc(size_t size, const struct kgc_type *type) KGC_MALLOC_ATTR(1);

/**
 * kgc_alloc_array() - allocate an array of objects of a precise type
 * @type: the layout of one element
 * @n: number of elements, at least 1
 *
 * Like kgc_alloc(n * type->size, type).
 *
 * Return: the array, or NULL with errno EOVERFLOW when @n * @type->size
 * does not fit in a size_t, or as kgc_alloc().
 */
void *kgc_alloc_array(const struct kgc_type *type, size_t n) KGC_ALLOC_ATTR;

/**
 * kgc_alloc_noscan() - allocate a pointer-free object
 * @size: bytes, at least 1
 *
 * The collector never looks inside the object (strings, numbers, buffers).
 * Objects smaller than 16 bytes are packed together into 16-byte blocks
 * (the tiny allocator); they are aligned to the largest power of two, up to
 * 8, that divides @size.
 *
 * Return: the zeroed object, or NULL with errno as kgc_alloc().
 */
void *kgc_alloc_noscan(size_t size) KGC_MALLOC_ATTR(1);

/**
 * kgc_alloc_uninit() - allocate a pointer-free object, contents unspecified
 * @size: bytes, at least 1
 *
 * Like kgc_alloc_noscan(), but the memory is not cleared: it may hold what
 * an object the collector freed left there (memory of this process only;
 * pages new to the heap are zero). For buffers the caller fills at once,
 * like malloc() or Boehm's GC_malloc_atomic(): a span reused from swept
 * memory is then never zeroed. Objects smaller than 16 bytes come zeroed
 * from the tiny allocator.
 *
 * Return: the object, or NULL with errno as kgc_alloc().
 */
void *kgc_alloc_uninit(size_t size) KGC_MALLOC_ATTR(1);

/**
 * kgc_alloc_conservative() - allocate an object of unknown layout
 * @size: bytes, at least 1
 *
 * Every 8-byte word of the object may hold a pointer (like Boehm's
 * GC_malloc()): use it when the layout is not known.
 *
 * Return: the zeroed object, or NULL with errno as kgc_alloc().
 */
void *kgc_alloc_conservative(size_t size) KGC_MALLOC_ATTR(1);

/**
 * kgc_free() - free a large object now
 * @p: an object of more than 32 KiB returned by a kgc allocation, or NULL
 *
 * Large objects go back to the page heap at once. Small objects (32 KiB or
 * less) cannot be freed explicitly: the collector reclaims them when they
 * become unreachable, and kgc_free() refuses them.
 *
 * Return: 0 (also for NULL), or -EINVAL when @p is not a live large object
 * of the heap (small object, interior pointer, freed twice, no heap).
 */
int kgc_free(void *p);

/**
 * kgc_thread_attach() - make the calling thread known to kgc
 *
 * Allocates the thread's cache and registers the thread with the collector
 * (its stack bounds and the safepoint signal): from now on its stack and
 * registers are scanned for pointers at every collection, and it must come
 * to safepoints or let the signal handler run (it must not block the
 * safepoint signal for long). Allocation, kgc_store() while a collection
 * runs, kgc_add_roots() and kgc_remove_roots() attach a thread implicitly;
 * call this first in a thread that uses heap pointers before it allocates:
 * the stack of a thread that is not attached is not scanned, so heap
 * pointers it holds do not keep objects alive, and the collector does not
 * wait for its kgc_store() calls when it turns the barrier on. Attaching an
 * attached thread does nothing.
 *
 * Return: 0, or -EINVAL (no heap), -ENOMEM, -ENOSPC (more than 2048
 * threads) or -EIO (the stack bounds are unknown).
 */
int kgc_thread_attach(void);

/**
 * kgc_thread_detach() - give the calling thread's cache back
 *
 * Flushes the thread's write-barrier buffer, returns the spans it has
 * cached to the kernel, unregisters it from the collector and frees its
 * state; it must not use heap pointers afterwards unless it attaches again
 * (its stack is no longer scanned). Done automatically at thread exit
 * (pthread key destructor). Detaching a thread that is not attached does
 * nothing.
 *
 * Return: 0, or the first negative errno of giving back a span (the thread
 * is detached all the same).
 */
int kgc_thread_detach(void);

/**
 * kgc_safepoint() - a point where the collector may stop the thread
 *
 * Threads acknowledge the collector's handshakes at safepoints: allocation
 * slow paths, barrier buffer flushes, kgc_blocking_end() and this call.
 * When a handshake is pending, the thread hands the collector its
 * write-barrier buffer, the heap pointers on its stack and in its
 * registers, and where each of its cached spans stands; in the mark
 * termination handshake it waits until marking is done (the one
 * stop-the-world pause). A thread that runs long loops without allocating
 * may call it now and then; otherwise the collector sends it the safepoint
 * signal after a grace period. Does nothing for a thread that is not
 * attached, and costs two loads when no handshake is pending.
 */
void kgc_safepoint(void);

/**
 * kgc_blocking_begin() - the thread enters a blocking call
 *
 * Between kgc_blocking_begin() and kgc_blocking_end() the thread counts as
 * parked: the collector does not wait the grace period for it but signals
 * it at once, and the handler acknowledges with the frozen stack. The
 * thread must not touch heap objects or call kgc in between. A system call
 * in the region may therefore be interrupted by the safepoint signal:
 * calls restarted by SA_RESTART are, others (nanosleep(), poll(), ...)
 * return early with EINTR, as with any signal. Pairs nest. Does nothing
 * for a thread that is not attached.
 */
void kgc_blocking_begin(void);

/**
 * kgc_blocking_end() - the thread is back from a blocking call
 *
 * Clears the parked state and runs a safepoint: if the collector is in its
 * mark termination pause, waits until it is over. An end without a begin
 * is ignored.
 */
void kgc_blocking_end(void);

/**
 * kgc_add_roots() - register memory outside the heap that holds pointers
 * @start: first byte, 8-byte aligned
 * @len: bytes, a non-zero multiple of 8
 * @ptrmap: bit i set when word i of the range may hold a pointer (copied),
 *	or NULL to treat every word as a possible pointer (conservative)
 *
 * Non-heap memory that holds the only reference to heap objects (malloc
 * or mmap memory, thread-local variables, globals when
 * KGC_INIT_NOAUTOROOTS is set) must be registered; the kernel copies the
 * bitmap. The stacks of attached threads are found automatically, and by
 * default the data and bss of every object loaded at kgc_init() are
 * scanned conservatively already: registering part of them is accepted
 * and recorded, but they stay conservative (@ptrmap is a hint only there).
 * Stores into registered ranges must use kgc_store(). The calling thread is
 * attached.
 *
 * Return: 0, or -EINVAL (bad alignment or length, range inside the heap, no
 * heap), -EEXIST (overlaps a registered range), -ENOMEM, -ENOSPC (too many
 * ranges for the kernel).
 */
int kgc_add_roots(void *start, size_t len, const uint64_t *ptrmap);

/**
 * kgc_remove_roots() - unregister a range added by kgc_add_roots()
 * @start: the @start it was registered with
 *
 * Objects it references stay alive for the collection in progress, if
 * any, and are collected afterwards if nothing else references them. The
 * calling thread is attached.
 *
 * Return: 0, or -ENOENT (no range starts there) or -EINVAL (no heap).
 */
int kgc_remove_roots(void *start);

/**
 * kgc_write_barrier_enabled - non-zero while the collector needs the barrier
 *
 * The first word of the collector's control area (struct kgc_ctl.phase in
 * linux/kgc.h): kgc_init() maps the kernel's control page over the
 * library's KGC_CTL_SIZE-byte, page-aligned object of this name, so the
 * kernel itself switches the barrier on when marking starts and off when it
 * ends. Read by kgc_store(); never written by user space. It reads 0 before
 * kgc_init(), after kgc_shutdown() and in fork() children.
 */
extern volatile unsigned int kgc_write_barrier_enabled;

/**
 * kgc_barrier_slow() - kgc_store() while the write barrier is on
 * @slot: the pointer slot
 * @val: the new pointer
 *
 * Records the old value of *@slot and @val for the marker (a hybrid
 * Yuasa-deletion plus Dijkstra-insertion barrier, as in Go; NULL and
 * non-heap values are dropped), then stores. When the thread's buffer is
 * full it is handed to the collector first, which is a safepoint. Never
 * fails and never changes errno. Do not call it directly: use kgc_store().
 */
void kgc_barrier_slow(void **slot, void *val);

/**
 * kgc_store() - store a pointer into a heap object or a registered root
 * @slot: the pointer slot
 * @val: the pointer to store (a kgc object, another pointer, or NULL)
 *
 * Every store of a pointer into heap memory or a root range (registered,
 * or the data and bss scanned automatically) must go through kgc_store()
 * (or KGC_STORE()) so that a concurrent collection never misses a
 * reachable object. When no collection runs it costs one load, one
 * predictable branch and the store. Stores to the stack and registers need
 * no barrier.
 *
 * Fresh objects (as in Go, where the compiler omits the barrier for them):
 * stores into an object the calling thread has just allocated and not yet
 * published (stored anywhere another thread or the collector can reach,
 * other than the thread's own stack) may be plain stores, like the
 * initialisation of its fields; the object is published with kgc_store().
 * Objects allocated while the collector marks are black (never scanned),
 * and everything such a store can write is already accounted for: a value
 * on the stack is found by the stack scan, a value loaded from the heap is
 * protected by the deletion half of the barrier.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(KGC_STORE_PLAIN_C)
/*
 * x86-64: the test and the store are one restartable sequence of fixed
 * instructions (cmpl $0,(%rcx); jne rel32; movq %rax,(%rdx)), so that
 * libkgc's safepoint signal handler recognises a thread interrupted between
 * the two and sends it back to the test. A store that read the barrier as
 * off can then never land after the thread acknowledged that it is on (see
 * barrier.c in libkgc). The encodings are spelled out as bytes because the
 * handler matches them.
 */
static inline void kgc_store(void **slot, void *val)
{
	__asm__ goto(".byte 0x83, 0x39, 0x00\n\t"	/* cmpl $0, (%%rcx) */
		     ".byte 0x0f, 0x85\n\t"		/* jne %l[slow] */
		     ".long %l[slow] - . - 4\n\t"
		     ".byte 0x48, 0x89, 0x02"		/* movq %%rax, (%%rdx) */
		     : /* no outputs */
		     : "a"(val), "d"(slot), "c"(&kgc_write_barrier_enabled)
		     : "cc", "memory"
		     : slow);
	return;
slow:
	kgc_barrier_slow(slot, val);
}
#else
/*
 * Elsewhere, a plain test and store. Not restartable: a thread interrupted
 * between the two by the safepoint signal can store without the barrier
 * after marking started (the gap barrier.c in libkgc describes).
 */
static inline void kgc_store(void **slot, void *val)
{
	if (KGC_UNLIKELY(kgc_write_barrier_enabled))
		kgc_barrier_slow(slot, val);
	else
		*slot = val;
}
#endif

/* KGC_STORE(obj->next, n): kgc_store() for any pointer-typed lvalue. */
#define KGC_STORE(lvalue, val) \
	kgc_store((void **)&(lvalue), (void *)(val))

/**
 * kgc_gc() - run a full collection now and wait for it
 *
 * Hands the collector the thread's barrier buffer and the heap pointers on
 * its stack, then blocks until a full cycle that started after the call has
 * finished (the thread counts as parked meanwhile). With gctrace on, prints
 * the cycles that finished.
 *
 * Return: 0, or -EINVAL (no heap), -ENOMEM, -E2BIG (more than 65536 heap
 * pointers on the stack), or another -errno from the kernel.
 */
int kgc_gc(void);

/**
 * kgc_set_gc_percent() - set GOGC
 * @percent: percentage of heap growth that triggers a collection (0 to
 *	1000000), or KGC_GOGC_OFF
 *
 * The next cycle's goal is max(marked * (1 + GOGC/100), 4 MiB); a cycle
 * starts at 70% of the way from the marked heap to the goal.
 *
 * Return: 0, or -EINVAL (bad value, no heap) or the kernel's -errno.
 */
int kgc_set_gc_percent(int percent);

/**
 * kgc_set_memory_limit() - set the soft memory limit
 * @bytes: limit in bytes (0 or more), or KGC_NO_MEMORY_LIMIT
 *
 * The heap goal is capped at 95% of the limit, and a cycle starts whenever
 * the heap's resident memory reaches it (GOMEMLIMIT).
 *
 * Return: as kgc_set_gc_percent().
 */
int kgc_set_memory_limit(int64_t bytes);

/**
 * kgc_free_os_memory() - collect, then give free memory back to the system
 *
 * Like Go's debug.FreeOSMemory(): runs a full collection (kgc_gc()), then
 * has the kernel give every free heap page back to the system at once
 * (KGC_IOC_SCAVENGE); those pages read as zero when touched again. The
 * kernel's background scavenger does the same gradually by itself. The
 * calling thread is attached.
 *
 * Return: 0, or -ENOSYS (a kernel without the scavenger), -EINVAL (no
 * heap), or an error of kgc_gc() or the ioctl.
 */
int kgc_free_os_memory(void);

/**
 * struct kgc_heap_stats - heap statistics, for kgc_read_stats()
 * @sz: sizeof(struct kgc_heap_stats) as the caller knew it
 * @gc_percent: GOGC in effect (KGC_GOGC_OFF for off)
 * @debug: KGC_DEBUG_* flags in effect
 * @memory_limit: memory limit in effect (KGC_NO_MEMORY_LIMIT for none)
 * @heap_reserved: bytes of address space mapped for the heap
 *
 * From the kernel (struct kgc_stats):
 * @heap_sys: bytes of heap grown into (whole 64 MiB arenas)
 * @heap_inuse: bytes in spans in use
 * @heap_idle: bytes in free page runs
 * @heap_released: idle bytes given back to the system
 * @heap_resident: heap bytes backed by memory now
 * @spans_inuse: spans in use
 * @spans_cached: spans cached by threads
 * @large_objects: live large objects
 * @large_bytes: their bytes
 * @kernel_refills: refill requests the kernel served (all threads)
 * @faults: heap page faults
 * @arenas: arenas grown into
 *
 * From the library (cumulative since kgc_init(), all threads):
 * @threads: threads attached now
 * @alloc_precise: kgc_alloc() and kgc_alloc_array() objects
 * @alloc_conservative: kgc_alloc_conservative() objects
 * @alloc_noscan: kgc_alloc_noscan() and kgc_alloc_uninit() objects
 * @alloc_tiny: of all these, objects placed by the tiny allocator
 * @alloc_large: of all these, large (> 32 KiB) objects
 * @bytes_allocated: bytes handed out: each small object counts its size
 *	class's size (the tiny allocator's 16-byte blocks, not the objects
 *	in them), each large object its whole pages (Go's TotalAlloc)
 * @frees_large: large objects freed with kgc_free()
 * @refills: spans taken from the kernel
 * @span_returns: spans given back to the kernel
 * @syscalls: system calls made by the library
 * @barrier_records: pointers recorded by the write barrier
 * @barrier_flushes: write-barrier buffer flushes
 * @barrier_shaded: heap pointers handed to the marker by those flushes
 * @roots: registered root ranges (kgc_add_roots())
 * @root_bytes: their bytes
 * @handshakes: collector handshakes acknowledged at safepoints
 * @signal_handshakes: handshakes acknowledged by the signal handler
 *
 * From the collector (struct kgc_gc_stats, like Go's runtime.MemStats):
 * @num_gc: completed cycles
 * @num_forced_gc: cycles forced by kgc_gc() or the two-minute rule
 * @pause_total_ns: sum of all handshake pauses (mark start and mark
 *	termination of every cycle)
 * @last_gc_ns: CLOCK_MONOTONIC time the last cycle ended
 * @next_gc: heap goal of the next cycle, bytes
 * @heap_live: bytes allocated (as of the last span refill)
 * @heap_marked: bytes marked by the last cycle
 * @gc_cpu_fraction: fraction of the CPU time since the heap was created
 *	spent by the collector (marker, assists, sweeping)
 * @checkmark_errors: reachable objects the checkmark pass found unmarked
 *	(always 0 unless the collector is broken)
 * @signals: safepoint signals sent
 * @pause_ns: the last 256 pauses, pause n at index n % 256 (two per cycle:
 *	mark termination, then mark start)
 * @barrier_restarts: kgc_store() calls sent back to their test of the
 *	barrier flag because the safepoint signal (or a safepoint) caught
 *	them between the test and the store as the barrier came on (x86-64)
 */
struct kgc_heap_stats {
	size_t sz;
	int gc_percent;
	unsigned int debug;
	int64_t memory_limit;
	uint64_t heap_reserved;

	uint64_t heap_sys;
	uint64_t heap_inuse;
	uint64_t heap_idle;
	uint64_t heap_released;
	uint64_t heap_resident;
	uint64_t spans_inuse;
	uint64_t spans_cached;
	uint64_t large_objects;
	uint64_t large_bytes;
	uint64_t kernel_refills;
	uint64_t faults;
	uint64_t arenas;

	uint64_t threads;
	uint64_t alloc_precise;
	uint64_t alloc_conservative;
	uint64_t alloc_noscan;
	uint64_t alloc_tiny;
	uint64_t alloc_large;
	uint64_t bytes_allocated;
	uint64_t frees_large;
	uint64_t refills;
	uint64_t span_returns;
	uint64_t syscalls;
	uint64_t barrier_records;
	uint64_t barrier_flushes;
	uint64_t barrier_shaded;
	uint64_t roots;
	uint64_t root_bytes;
	uint64_t handshakes;
	uint64_t signal_handshakes;

	uint64_t num_gc;
	uint64_t num_forced_gc;
	uint64_t pause_total_ns;
	uint64_t last_gc_ns;
	uint64_t next_gc;
	uint64_t heap_live;
	uint64_t heap_marked;
	double gc_cpu_fraction;
	uint64_t checkmark_errors;
	uint64_t signals;
	uint64_t pause_ns[256];
	uint64_t barrier_restarts;
};

/**
 * kgc_read_stats() - read heap statistics
 * @st: filled up to @st->sz bytes; the caller sets @st->sz first. Bytes
 *	beyond what this library knows are zeroed.
 *
 * Return: 0, or -EINVAL (@st NULL, @st->sz too small, no heap) or the
 * -errno of the KGC_IOC_STATS or KGC_IOC_GC_STATS ioctl.
 */
int kgc_read_stats(struct kgc_heap_stats *st);

/*
 * The sampled heap profile (Go's MemProfile): about one allocation per
 * KGC_MEMPROFILERATE bytes is sampled with its call stack, and followed
 * until the collector frees it. The profile is written in pprof's format:
 * `go tool pprof -sample_index=alloc_space prog heap.pprof`.
 */

/* Default sampling rate: one sample per 512 KiB allocated, on average. */
#define KGC_DEFAULT_MEMPROFILERATE	((size_t)512 * 1024)

/**
 * kgc_set_memprofile_rate() - how often allocations are sampled
 * @bytes: mean bytes allocated between two samples (exponentially
 *	distributed, so that the estimates are unbiased); 1 samples every
 *	allocation, 0 switches sampling off. At most 1 TiB.
 *
 * Process-wide, at any time (also before kgc_init()); wins over
 * KGC_MEMPROFILERATE. The calling thread uses the new rate at once, the
 * other threads from their next sample on: set it early.
 *
 * Return: 0, or -EINVAL when @bytes is too large.
 */
int kgc_set_memprofile_rate(size_t bytes);

/**
 * kgc_memprofile_rate() - the current sampling rate
 *
 * Return: bytes between samples on average, 1 (every allocation) or 0 (off).
 */
size_t kgc_memprofile_rate(void);

/**
 * kgc_write_heap_profile() - write the heap profile to a file
 * @path: the file, created or truncated (mode 0644 before the umask)
 *
 * First asks the kernel which sampled objects the collections so far have
 * freed, then writes a pprof protobuf (uncompressed; `go tool pprof` reads
 * it as it is) with the sample types alloc_objects, alloc_space,
 * inuse_objects and inuse_space, the counts scaled up for the sampling,
 * and function names resolved from the symbol tables of the program and
 * its libraries (so pprof needs no binaries; a stripped program shows
 * "program+0xoffset"). "In use" means not yet found unreachable by a
 * completed collection: call kgc_gc() first for an up-to-date view.
 * Works at any time, also without a heap (then nothing is in use).
 *
 * Environment (read by kgc_init(), unless KGC_INIT_NOENV):
 * KGC_MEMPROFILERATE (bytes, with an optional B/KiB/MiB/GiB suffix; see
 * kgc_set_memprofile_rate()), KGC_HEAPPROFILE=path (the profile is written
 * there at exit), KGC_HEAPPROFILE_SIGNAL=signal (a name such as SIGUSR2 or
 * a number; each time the process receives it, the profile is written to
 * path.1, path.2, ...; needs KGC_HEAPPROFILE, must not be the safepoint
 * signal). A malformed value makes kgc_init() fail with -EINVAL.
 *
 * Return: 0, or -EINVAL (@path NULL or empty), -ENOMEM, or the -errno of
 * open(2), write(2) or close(2).
 */
int kgc_write_heap_profile(const char *path);

/**
 * kgc_write_heap_profile_fd() - write the heap profile to a file descriptor
 * @fd: open for writing; written at its current offset, not closed
 *
 * As kgc_write_heap_profile().
 *
 * Return: 0, or -EBADF (@fd negative), -ENOMEM, or the -errno of write(2).
 */
int kgc_write_heap_profile_fd(int fd);

/**
 * kgc_last_error() - why the calling thread's last failed kgc call failed
 *
 * Like errno, only meaningful right after a call failed; successful calls
 * leave it alone.
 *
 * Return: a sentence such as "kgc: cannot open /dev/kgc: No such file or
 * directory (is kgc.ko loaded?)", or "kgc: no error"; valid until the
 * thread's next kgc call.
 */
const char *kgc_last_error(void);

/**
 * kgc_strerror() - describe an error code returned by libkgc
 * @err: a positive or negative errno
 *
 * Return: a description of what the code means for kgc (static or
 * thread-local storage, never NULL).
 */
const char *kgc_strerror(int err);

/**
 * kgc_version() - the library's version
 *
 * Return: "MAJOR.MINOR.PATCH" of the library actually loaded.
 */
const char *kgc_version(void);

#ifdef __cplusplus
}
#endif

#endif /* KGC_H */
