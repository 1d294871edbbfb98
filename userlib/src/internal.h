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
 * @heap_reserve: bytes asked for (before rounding and capping)
 * @flags: KGC_INIT_* flags
 * @device: device path (a copy)
 */
struct kgc_config {
	int gc_percent;
	unsigned int debug;
	int64_t memory_limit;
	size_t heap_reserve;
	unsigned int flags;
	char device[256];
};

int kgc_parse_gogc(const char *s, int *out);
int kgc_parse_bytes(const char *s, uint64_t *out);
int kgc_parse_memlimit(const char *s, int64_t *out);
int kgc_parse_debug(const char *s, unsigned int *flags);
int kgc_config_resolve(const struct kgc_options *opts, struct kgc_config *cfg);

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
 * @wb_sink: receives the heap pointers of each write-barrier flush
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
	void (*wb_sink)(const uint64_t *ptrs, size_t n);
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

/* Fail with EINVAL and say why there is no heap. */
int kgc_err_noheap(const char *what);

/*
 * kgc_sys_ioctl() - one ioctl on the heap's fd, counted in @t (or in the
 * folded counters when @t is NULL), restarted on EINTR.
 * Return: 0 or -errno.
 */
int kgc_sys_ioctl(struct kgc_thread *t, unsigned long cmd, void *arg);

/* barrier.c */

/* Pointers a write-barrier buffer holds (pairs: old value, new value). */
#define KGC_WBBUF_ENTRIES	512

/**
 * struct wbbuf - a thread's write-barrier buffer (Go's wbBuf)
 * @next: index of the next free entry
 * @buf: recorded pointers
 */
struct wbbuf {
	unsigned int next;
	uint64_t buf[KGC_WBBUF_ENTRIES];
};

size_t wbbuf_filter(uint64_t *ptrs, size_t n, uintptr_t lo, uintptr_t hi);
void wbbuf_flush(struct kgc_thread *t);
void wbbuf_record(struct kgc_thread *t, void *old, void *val);

/* thread.c */

/**
 * struct kgc_thread - an attached thread (Go's m, with its mcache)
 * @mcache: span and tiny-block cache, counters; first, for the fast path
 * @wbbuf: write-barrier buffer
 * @next: thread list (kgc_heap.threads), under kgc_heap.lock
 * @prev: thread list
 * @gen: kgc_heap.gen of the heap it is attached to
 * @attached: on the thread list of the current heap; cleared by
 *	kgc_shutdown() (atomic: another thread writes it)
 * @blocking: kgc_blocking_begin() depth (atomic: read by the collector)
 * @tid: kernel thread id
 * @stack_lo: lowest address of the thread's stack
 * @stack_hi: one past its highest address
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
	uintptr_t stack_lo;
	uintptr_t stack_hi;
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

/* roots.c */
void kgc_roots_clear(void);
void kgc_roots_atfork_prepare(void);
void kgc_roots_atfork_parent(void);
void kgc_roots_atfork_child(bool forget);
void kgc_roots_count(uint64_t *nr, uint64_t *bytes);
int kgc_roots_foreach(int (*fn)(uintptr_t start, size_t len,
				const uint64_t *ptrmap, void *arg),
		      void *arg);

/* heapbits.c */
void heapbits_write(uint64_t *bitmap, size_t bitoff, size_t nbits,
		    const struct kgc_type *type, size_t datasize,
		    bool conservative);
void heapbits_set(uintptr_t obj, size_t extent, size_t size,
		  const struct kgc_type *type, bool conservative);

#endif /* KGC_INTERNAL_H */
