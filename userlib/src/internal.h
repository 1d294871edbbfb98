/* SPDX-License-Identifier: (LGPL-2.1 OR MIT) */
/*
 * internal.h - what the files of libkgc share.
 *
 * Global state is one struct kgc_heap (the user-space view of Go's mheap:
 * where the heap is mapped and how to talk to the kernel) and one struct
 * kgc_thread per attached thread (its mcache, write-barrier buffer and
 * counters).
 *
 * Locking: kgc_heap.lock serialises kgc_init(), kgc_shutdown(), thread
 * attach/detach, the thread list and kgc_heap.folded; the settings are
 * written under it. The roots table has its own lock (roots.c). The
 * allocation fast path takes no lock: it only touches the calling thread's
 * struct kgc_thread. Lock order: kgc_heap.lock, then the roots lock.
 *
 * Collector handshakes (safepoint.c) may block a thread in the kernel for
 * the mark termination pause, until every other attached thread has
 * acknowledged. So a handshake is never run while holding a library lock,
 * and no library lock is waited for inside a "library region" (see
 * kgc_enter()), where the signal handler defers the handshake: a thread
 * waiting for a lock can always be acknowledged by its handler.
 *
 * Counters are per thread and written only by their thread, with relaxed
 * atomic stores (plain moves on x86-64) so that kgc_read_stats() may read
 * them from another thread without a data race.
 */
#ifndef KGC_INTERNAL_H
#define KGC_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/kgc.h>

#include "kgc.h"
#include "mcache.h"
#include "sizeclass.h"

#define KGC_EXPORT	__attribute__((visibility("default")))
#define KGC_HIDDEN	__attribute__((visibility("hidden")))

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define ROUND_UP(x, a)	(((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ROUND_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

#define KGC_STR_(x)	#x
#define KGC_STR(x)	KGC_STR_(x)
#define KGC_VERSION_STR	KGC_STR(KGC_VERSION_MAJOR) "." \
			KGC_STR(KGC_VERSION_MINOR) "." KGC_STR(KGC_VERSION_PATCH)

#define KGC_DEFAULT_DEVICE	"/dev/" KGC_DEVICE_NAME
#define KGC_DEFAULT_GC_PERCENT	100

/* Relaxed single-writer counters (see the top of this file). */
#define STAT_ADD(ctr, n) \
	__atomic_store_n(&(ctr), (ctr) + (n), __ATOMIC_RELAXED)
#define STAT_INC(ctr)	STAT_ADD(ctr, 1)
#define STAT_READ(ctr)	__atomic_load_n(&(ctr), __ATOMIC_RELAXED)

/* error.c */
/*
 * kgc_seterr() - fail: set errno to @err and the thread's message
 * Return: -@err, so that "return kgc_seterr(EINVAL, ...);" reads well.
 */
int kgc_seterr(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* kgc_seterr() for functions returning a pointer: NULL. */
#define kgc_seterr_null(err, ...) ((void)kgc_seterr(err, __VA_ARGS__), NULL)

/* init.c: configuration */

/**
 * struct kgc_config - kgc_options after the environment and defaults
 * @gc_percent: GOGC, KGC_GOGC_OFF for off
 * @debug: KGC_DEBUG_* flags
 * @memory_limit: bytes, KGC_NO_MEMORY_LIMIT for none
 * @memory_limit_set: @memory_limit was given (option, KGC_MEMLIMIT or
 *	kgc_set_memory_limit()); else the kernel keeps its default, the
 *	cgroup's memory.max
 * @heap_reserve: bytes asked for (before rounding and capping)
 * @flags: KGC_INIT_* flags
 * @signo: the safepoint signal
 * @device: device path (a copy)
 */
struct kgc_config {
	int gc_percent;
	unsigned int debug;
	int64_t memory_limit;
	bool memory_limit_set;
	size_t heap_reserve;
	unsigned int flags;
	int signo;
	char device[256];
};

int kgc_parse_gogc(const char *s, int *out);
int kgc_parse_bytes(const char *s, uint64_t *out);
int kgc_parse_memlimit(const char *s, int64_t *out);
int kgc_parse_debug(const char *s, unsigned int *flags);
int kgc_parse_signal(const char *s, int *signo);
int kgc_config_resolve(const struct kgc_options *opts, struct kgc_config *cfg);
void kgc_ctl_restore(void);
int kgc_apply_settings(void);

/**
 * struct kgc_sys - the system calls libkgc makes on the device
 *
 * Always kgc_sys_default in the library; unit tests point kgc_heap.sys at
 * a fake kernel to run the real code paths without /dev/kgc.
 */
struct kgc_sys {
	int (*open)(const char *path, int flags);
	int (*close)(int fd);
	int (*ioctl)(int fd, unsigned long cmd, void *arg);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off);
	int (*munmap)(void *addr, size_t len);
};

extern const struct kgc_sys kgc_sys_default;

enum kgc_heap_state {
	KGC_HEAP_UNINIT = 0,	/* never initialised */
	KGC_HEAP_READY,		/* mapped, usable */
	KGC_HEAP_SHUTDOWN,	/* kgc_shutdown() ran */
	KGC_HEAP_FORKED,	/* fork() child of a process with a heap */
};

struct kgc_thread;

/**
 * struct kgc_heap - the process's heap as user space sees it
 * @lock: see the top of this file
 * @state: enum kgc_heap_state; read without the lock (acquire) on slow paths
 * @gen: bumped at every kgc_init(); a thread attached to an older heap
 *	is stale
 * @fd: the device
 * @arena_start: first byte of the heap mapping
 * @arena_end: first byte past it
 * @bitmap: pointer bitmap mapping, one bit per heap word
 * @bitmap_len: its bytes
 * @api: the kernel's handshake answer
 * @cfg: the settings in effect
 * @threads: attached threads (doubly linked through kgc_thread.next/prev)
 * @nthreads: how many
 * @folded: counters of threads that detached, and of calls made without a
 *	thread (all under @lock)
 * @sys: system calls (kgc_sys_default except in unit tests)
 * @init_ns: CLOCK_MONOTONIC time of kgc_init() (gctrace)
 * @traced: cycles gctrace has printed (claimed atomically)
 * @term_cycle: for gctrace, by cycle number modulo KGC_CYCLE_RING: the
 *	cycle whose @term_live is recorded
 * @term_live: the control area's heap_live as the first thread released
 *	from that cycle's termination pause saw it (Go's "heap at end")
 */
struct kgc_heap {
	pthread_mutex_t lock;
	int state;
	unsigned int gen;
	int fd;
	uintptr_t arena_start;
	uintptr_t arena_end;
	uint64_t *bitmap;
	size_t bitmap_len;
	struct kgc_api api;
	struct kgc_config cfg;
	struct kgc_thread *threads;
	unsigned int nthreads;
	struct kgc_counters folded;
	const struct kgc_sys *sys;
	uint64_t init_ns;
	uint64_t traced;
	uint64_t term_cycle[KGC_CYCLE_RING];
	uint64_t term_live[KGC_CYCLE_RING];
};

extern struct kgc_heap kgc_heap;

static inline bool kgc_heap_ready(void)
{
	return __atomic_load_n(&kgc_heap.state, __ATOMIC_ACQUIRE) ==
	       KGC_HEAP_READY;
}

static inline bool kgc_in_heap(uintptr_t p)
{
	return p >= kgc_heap.arena_start && p < kgc_heap.arena_end;
}

/*
 * kgc_ctl() - the control area: the object kgc_write_barrier_enabled names
 * (ctlarea.c), a KGC_CTL_SIZE-byte struct kgc_ctl. The address is taken
 * through the exported symbol, so that when a program's copy relocation
 * moved the object into the executable this is the copy the program's
 * kgc_store() reads; the empty asm hides from the compiler that the
 * declaration in kgc.h is a single int.
 */
static inline struct kgc_ctl *kgc_ctl(void)
{
	uintptr_t p = (uintptr_t)&kgc_write_barrier_enabled;

	__asm__("" : "+r"(p));
	return (struct kgc_ctl *)p;
}

static inline uint32_t kgc_ctl_phase(const struct kgc_ctl *ctl)
{
	return __atomic_load_n(&ctl->phase, __ATOMIC_ACQUIRE);
}

/* Fail with EINVAL and say why there is no heap. */
int kgc_err_noheap(const char *what);

/*
 * kgc_sys_ioctl() - one ioctl on the heap's fd, counted in @t (or in the
 * folded counters when @t is NULL), restarted on EINTR.
 * Return: 0 or -errno.
 */
int kgc_sys_ioctl(struct kgc_thread *t, unsigned long cmd, void *arg);

/* barrier.c */

/* Pointers a write-barrier buffer holds (old and new values). */
#define KGC_WBBUF_ENTRIES	512

/**
 * struct wbbuf - a thread's write-barrier buffer (Go's wbBuf)
 * @next: index of the next free entry; entries are written before @next
 *	covers them, so the signal handler may send [0, @next) at any time
 * @limit: KGC_WBBUF_ENTRIES while the thread is attached and the barrier
 *	works, else 0 (detached, or KGC_DEBUG=nobarrier): the common case of
 *	kgc_barrier_slow() is then one test, @next + 2 <= @limit. Written
 *	under kgc_heap.lock, possibly by another thread (atomic, relaxed).
 * @buf: recorded heap pointers
 */
struct wbbuf {
	unsigned int next;
	unsigned int limit;
	uint64_t buf[KGC_WBBUF_ENTRIES];
};

size_t wbbuf_filter(uint64_t *ptrs, size_t n, uintptr_t lo, uintptr_t hi);
int wbbuf_flush(struct kgc_thread *t);
bool kgc_store_restart(uint64_t *ip, uint64_t rcx, uint64_t rflags);
bool kgc_restart_context(void *ucv);
unsigned int kgc_restart_frames(uintptr_t lo, uintptr_t hi,
				uintptr_t restorer);

/* thread.c */

/* Stack words a thread's scan buffer holds; more go in several calls. */
#define KGC_SCANBUF_WORDS	4096

/**
 * struct kgc_thread - an attached thread (Go's m, with its mcache)
 * @mcache: span and tiny-block cache, counters; first, for the fast path
 * @wbbuf: write-barrier buffer
 * @next: thread list (kgc_heap.threads), under kgc_heap.lock
 * @prev: thread list
 * @gen: kgc_heap.gen of the heap it is attached to
 * @attached: on the thread list of the current heap and registered with
 *	the kernel; cleared by kgc_shutdown() (atomic: another thread writes
 *	it)
 * @blocking: kgc_blocking_begin() depth
 * @tid: kernel thread id
 * @slot: its index in struct kgc_ctl.slots (KGC_IOC_THREAD_ATTACH)
 * @depth: library regions entered (kgc_enter()); while non-zero the signal
 *	handler only sets @pending. Written by the thread itself only,
 *	read by its signal handler.
 * @pending: a handshake came while in a library region: run the safepoint
 *	when leaving it
 * @acked: last handshake epoch acknowledged
 * @scanned: cycle (ctl num_gc + 1) whose stack scan this thread delivered
 * @stack_lo: lowest address of the thread's stack
 * @stack_hi: one past its highest address
 * @scanbuf: KGC_SCANBUF_WORDS words for stack scans (preallocated: the
 *	signal handler must not allocate)
 * @marks: span marks of a mark-start acknowledgement
 */
struct kgc_thread {
	struct mcache mcache;
	struct wbbuf wbbuf;
	struct kgc_thread *next;
	struct kgc_thread *prev;
	unsigned int gen;
	int attached;
	unsigned int blocking;
	pid_t tid;
	uint32_t slot;
	volatile unsigned int depth;
	volatile int pending;
	uint32_t acked;
	uint64_t scanned;
	uintptr_t stack_lo;
	uintptr_t stack_hi;
	uint64_t *scanbuf;
	struct kgc_span_mark marks[KGC_NR_SPANCLASSES + KGC_STASH_SLOTS];
};

/* The calling thread, or NULL before its first attach. */
extern __thread struct kgc_thread *kgc_curthread
	__attribute__((tls_model("initial-exec")));

/* The calling thread, attached to the current heap, or NULL + error. */
struct kgc_thread *kgc_thread_get_slow(void);

static inline struct kgc_thread *kgc_thread_get(void)
{
	struct kgc_thread *t = kgc_curthread;

	if (likely(t && __atomic_load_n(&t->attached, __ATOMIC_RELAXED)))
		return t;
	return kgc_thread_get_slow();
}

void kgc_threads_orphan_all(void);
void kgc_counters_add(struct kgc_counters *sum, const struct kgc_counters *c);
void kgc_threads_sum_counters(struct kgc_counters *sum);

/* safepoint.c */

/* Order memory accesses against this thread's own signal handler. */
#define kgc_signal_fence()	__atomic_signal_fence(__ATOMIC_SEQ_CST)

void kgc_safepoint_run(struct kgc_thread *t);
void kgc_run_pending(struct kgc_thread *t);
int kgc_install_handler(int signo);
size_t kgc_span_marks(const struct kgc_thread *t, struct kgc_span_mark *m);
int kgc_shade(struct kgc_thread *t, const uint64_t *ptrs, size_t n);
int kgc_shade_range(struct kgc_thread *t, uintptr_t lo, uintptr_t hi);
int kgc_gc_stack(struct kgc_thread *t, uint64_t *buf, size_t cap, size_t *n);
size_t kgc_stack_words(const struct kgc_thread *t);
void kgc_trace_cycles(void);
uint64_t kgc_now_ns(void);

/*
 * kgc_enter() / kgc_leave() - bracket library code the signal handler must
 * not interrupt with a handshake (mcache refills, buffer flushes, stack
 * scans, attach and detach). Regions nest; leaving the outermost one runs
 * the handshake the handler deferred. kgc_leave() must not be called with
 * a library lock held (it may block for the mark termination pause):
 * kgc_leave_nosp() leaves without running it.
 */
static inline void kgc_enter(struct kgc_thread *t)
{
	t->depth = t->depth + 1;
	kgc_signal_fence();
}

static inline void kgc_leave_nosp(struct kgc_thread *t)
{
	kgc_signal_fence();
	t->depth = t->depth - 1;
	kgc_signal_fence();
}

/* profile.c: sampled objects alive; look for dead ones after a cycle. */
extern size_t kgc_prof_nlive;
void kgc__profile_cycle_done(void);

/*
 * Out of every region: run what the handler deferred, print gctrace, let
 * the heap profile learn which of its samples the last cycle freed.
 */
static inline void kgc_outside(struct kgc_thread *t)
{
	if (unlikely(t->pending) && !t->depth)
		kgc_run_pending(t);
	if (unlikely(kgc_heap.cfg.debug & KGC_DEBUG_GCTRACE) && !t->depth)
		kgc_trace_cycles();
	if (unlikely(__atomic_load_n(&kgc_prof_nlive, __ATOMIC_RELAXED)) &&
	    !t->depth)
		kgc__profile_cycle_done();
}

static inline void kgc_leave(struct kgc_thread *t)
{
	kgc_leave_nosp(t);
	kgc_outside(t);
}

/*
 * kgc_safepoint_check() - run a pending handshake, if any (caller in a
 * library region, holding no lock). Two loads when none is pending.
 */
static inline void kgc_safepoint_check(struct kgc_thread *t)
{
	struct kgc_ctl *ctl = kgc_ctl();
	uint32_t epoch = __atomic_load_n(&ctl->epoch, __ATOMIC_ACQUIRE);

	if (kgc_ctl_phase(ctl) != KGC_PHASE_OFF && epoch != t->acked)
		kgc_safepoint_run(t);
}

/* roots.c */
void kgc_roots_clear(void);
void kgc_roots_atfork_prepare(void);
void kgc_roots_atfork_parent(void);
void kgc_roots_atfork_child(bool forget);
void kgc_roots_count(uint64_t *nr, uint64_t *bytes);
int kgc_roots_foreach(int (*fn)(uintptr_t start, size_t len,
				const uint64_t *ptrmap, void *arg),
		      void *arg);
int kgc_roots_auto(void);

/* heapbits.c, and its word-at-a-time core for the allocation path */
void heapbits_write(uint64_t *bitmap, size_t bitoff, size_t nbits,
		    const struct kgc_type *type, size_t datasize,
		    bool conservative);
void heapbits_set(uintptr_t obj, size_t extent, size_t size,
		  const struct kgc_type *type, bool conservative);

/* The @n low bits set, @n from 1 to 64 (no branch: a shift of 64 - n). */
static inline uint64_t lowmask(unsigned int n)
{
	return ~0ULL >> (64 - n);
}

/* Write the @n (1..64) low bits of @bits at bit @off of @bm. */
static inline void write_bits(uint64_t *bm, size_t off, unsigned int n,
			      uint64_t bits)
{
	size_t i = off / 64;
	unsigned int j = off % 64;

	bits &= lowmask(n);
	if (j + n <= 64) {
		uint64_t m = lowmask(n) << j;

		bm[i] = (bm[i] & ~m) | (bits << j);
	} else {
		unsigned int bits0 = 64 - j, bits1 = n - bits0;

		bm[i] = (bm[i] & lowmask(j)) | (bits << j);
		bm[i + 1] = (bm[i + 1] & ~lowmask(bits1)) | (bits >> bits0);
	}
}

/* Bits of a small object (data <= 64 words): the pattern repeated. */
static inline uint64_t small_bits(const struct kgc_type *type, size_t datawords,
				  bool conservative)
{
	size_t tw, len;
	uint64_t src;

	if (conservative)
		return lowmask(datawords);
	tw = type->size / 8;
	if (tw >= datawords)
		return type->ptrmap[0] & lowmask(datawords);
	src = type->ptrmap[0] & lowmask(tw);
	for (len = tw; len < datawords; len *= 2)
		src |= src << len;
	return src & lowmask(datawords);
}

/*
 * heapbits_set() for the allocation fast path: a slot of up to 64 words
 * (512 bytes) is written inline, a larger one by heapbits_set().
 */
static inline __attribute__((always_inline)) void
heapbits_set_fast(uintptr_t obj, size_t extent, size_t size,
		  const struct kgc_type *type, bool conservative)
{
	if (likely(extent <= 64 * KGC_WORD_SIZE)) {
		write_bits(kgc_heap.bitmap, (obj - kgc_heap.arena_start) / 8,
			   (unsigned int)(extent / 8),
			   small_bits(type, (size + 7) / 8, conservative));
		return;
	}
	heapbits_set(obj, extent, size, type, conservative);
}

#endif /* KGC_INTERNAL_H */
