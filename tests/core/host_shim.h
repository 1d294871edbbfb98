/* SPDX-License-Identifier: GPL-2.0 */
/*
 * host_shim.h - the kernel names the portable core uses, for a native build.
 *
 * Only what kmod/core.h promises is here. Allocation failure can be injected
 * (host_fail_alloc_after) to test the core's error paths.
 */
#ifndef _KGC_HOST_SHIM_H
#define _KGC_HOST_SHIM_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef unsigned int gfp_t;

#define GFP_KERNEL		0u
#define GFP_KERNEL_ACCOUNT	0u
#define __GFP_NOWARN		0u
#define __GFP_ZERO		0u

#define BITS_PER_LONG		64
#define BITS_PER_TYPE(t)	(sizeof(t) * 8)
#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define DIV_ROUND_UP_ULL(n, d)	DIV_ROUND_UP((unsigned long long)(n), (d))
#define ALIGN(x, a)		(((x) + ((a) - 1)) & ~((typeof(x))(a) - 1))
#define IS_ALIGNED(x, a)	(((x) & ((typeof(x))(a) - 1)) == 0)
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#ifndef __always_inline		/* glibc's <sys/cdefs.h> has it too */
#define __always_inline		inline __attribute__((always_inline))
#endif
#define __maybe_unused		__attribute__((unused))
#define READ_ONCE(x)		(*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))
/* Like the kernel's, these evaluate each argument once. */
#define min(a, b)		({ typeof(a) __x = (a); typeof(b) __y = (b);	\
				   __x < __y ? __x : __y; })
#define max(a, b)		({ typeof(a) __x = (a); typeof(b) __y = (b);	\
				   __x > __y ? __x : __y; })
#define min_t(t, a, b)		({ t __x = (a); t __y = (b); __x < __y ? __x : __y; })
#define max_t(t, a, b)		({ t __x = (a); t __y = (b); __x > __y ? __x : __y; })
#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)
#define BUILD_BUG_ON(c)		_Static_assert(!(c), #c)
#define pr_err(...)		fprintf(stderr, __VA_ARGS__)
#define pr_warn(...)		fprintf(stderr, __VA_ARGS__)
#define pr_debug(...)		do { } while (0)

extern int host_warnings;
#define WARN_ON(c) ({							\
	int __c = !!(c);						\
	if (__c) {							\
		host_warnings++;					\
		fprintf(stderr, "WARNING: %s:%d: %s\n", __FILE__,	\
			__LINE__, #c);					\
	}								\
	__c;								\
})
#define WARN_ON_ONCE(c)		WARN_ON(c)

/* Allocation; host_fail_alloc_after = n makes the (n+1)th call fail. */
extern long host_fail_alloc_after;
void *host_alloc(size_t size, int zero);
#define kmalloc(s, g)		host_alloc((s), 0)
#define kzalloc(s, g)		host_alloc((s), 1)
#define kvmalloc(s, g)		host_alloc((s), 0)
#define kvzalloc(s, g)		host_alloc((s), 1)
#define kcalloc(n, s, g)	host_alloc((n) * (s), 1)
#define kvcalloc(n, s, g)	host_alloc((n) * (s), 1)
#define kfree(p)		free(p)
#define kvfree(p)		free(p)

/* Slab caches: plain allocations of the cache's object size. */
struct kmem_cache { size_t size; };
struct kmem_cache *host_kmem_cache_create(size_t size);
#define SLAB_ACCOUNT		0
#define kmem_cache_create(n, s, a, f, c)	host_kmem_cache_create(s)
#define kmem_cache_alloc(c, g)	((void)(g), host_alloc((c)->size, 0))
#define kmem_cache_free(c, p)	free(p)
#define kmem_cache_destroy(c)	free(c)

/* Bit operations on unsigned long / u64 words. */
static inline unsigned long __ffs(unsigned long w) { return __builtin_ctzl(w); }
static inline unsigned long __fls(unsigned long w) { return 63 - __builtin_clzl(w); }
static inline unsigned long __ffs64(u64 w) { return __builtin_ctzll(w); }
static inline int fls64(u64 w) { return w ? 64 - __builtin_clzll(w) : 0; }
static inline unsigned long ffz(unsigned long w) { return __builtin_ctzl(~w); }
static inline unsigned int hweight64(u64 w) { return __builtin_popcountll(w); }
static inline unsigned long hweight_long(unsigned long w) { return __builtin_popcountl(w); }
#define BIT_WORD(n)		((n) / BITS_PER_LONG)
#define BIT_MASK(n)		(1UL << ((n) % BITS_PER_LONG))
#define BITS_TO_LONGS(n)	DIV_ROUND_UP(n, BITS_PER_LONG)
#define BITMAP_LAST_WORD_MASK(n)	(~0UL >> (-(n) & (BITS_PER_LONG - 1)))
static inline void __set_bit(unsigned long n, unsigned long *a) { a[BIT_WORD(n)] |= BIT_MASK(n); }
static inline void __clear_bit(unsigned long n, unsigned long *a) { a[BIT_WORD(n)] &= ~BIT_MASK(n); }
static inline bool test_bit(unsigned long n, const unsigned long *a) { return a[BIT_WORD(n)] & BIT_MASK(n); }
static inline bool __test_and_set_bit(unsigned long n, unsigned long *a)
{
	bool old = test_bit(n, a);

	__set_bit(n, a);
	return old;
}
static inline bool test_and_set_bit(unsigned long n, unsigned long *a)
{
	return __atomic_fetch_or(&a[BIT_WORD(n)], BIT_MASK(n), __ATOMIC_RELAXED) & BIT_MASK(n);
}
static inline void set_bit(unsigned long n, unsigned long *a)
{
	__atomic_fetch_or(&a[BIT_WORD(n)], BIT_MASK(n), __ATOMIC_RELAXED);
}
/* Atomically clear @mask and set @bits in *@p; the old value. */
static inline unsigned long set_mask_bits(unsigned long *p, unsigned long mask,
					  unsigned long bits)
{
	unsigned long old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (!__atomic_compare_exchange_n(p, &old, (old & ~mask) | bits,
					    false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
	return old;
}
unsigned long find_next_bit(const unsigned long *a, unsigned long size, unsigned long off);
unsigned long find_next_zero_bit(const unsigned long *a, unsigned long size, unsigned long off);
#define find_first_bit(a, s)		find_next_bit(a, s, 0)
#define find_first_zero_bit(a, s)	find_next_zero_bit(a, s, 0)
void bitmap_set(unsigned long *a, unsigned int start, unsigned int n);
void bitmap_clear(unsigned long *a, unsigned int start, unsigned int n);
unsigned int bitmap_weight(const unsigned long *a, unsigned int n);
static inline void bitmap_zero(unsigned long *a, unsigned int n)
{
	memset(a, 0, BITS_TO_LONGS(n) * sizeof(long));
}
static inline void bitmap_fill(unsigned long *a, unsigned int n)
{
	memset(a, 0xff, BITS_TO_LONGS(n) * sizeof(long));
}

/* Locks: the core only needs spinlocks (and mutual exclusion, not sleeping). */
typedef struct { pthread_mutex_t m; } spinlock_t;
#define spin_lock_init(l)	pthread_mutex_init(&(l)->m, NULL)
#define spin_lock(l)		pthread_mutex_lock(&(l)->m)
#define spin_unlock(l)		pthread_mutex_unlock(&(l)->m)
#define lockdep_assert_held(l)	do { (void)(l); } while (0)
struct mutex { pthread_mutex_t m; };
#define DEFINE_MUTEX(n)		struct mutex n = { PTHREAD_MUTEX_INITIALIZER }
#define mutex_init(l)		pthread_mutex_init(&(l)->m, NULL)
#define mutex_destroy(l)	pthread_mutex_destroy(&(l)->m)
#define mutex_lock(l)		pthread_mutex_lock(&(l)->m)
#define mutex_unlock(l)		pthread_mutex_unlock(&(l)->m)

/* RCU: the host tests free at once (no concurrent readers). */
struct rcu_head { void *next; };
#define rcu_read_lock()		do { } while (0)
#define rcu_read_unlock()	do { } while (0)
#define kfree_rcu(p, f)		free(p)
#define call_rcu(h, f)		(f)(h)
#define rcu_barrier()		do { } while (0)
/* No lockless readers run beside the host tests: every grace period is over. */
#define start_poll_synchronize_rcu()	0UL
#define poll_state_synchronize_rcu(s)	((void)(s), true)
#define smp_load_acquire(p)	__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define smp_store_release(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define cond_resched()		do { } while (0)

/* Pages and atomic counters, as far as the marker's page cache uses them. */
#define PAGE_SHIFT		12
#define PAGE_SIZE		(1UL << PAGE_SHIFT)
#define PAGE_MASK		(~(PAGE_SIZE - 1))
typedef struct { long counter; } atomic_long_t;
#define atomic_long_read_acquire(v) \
	__atomic_load_n(&(v)->counter, __ATOMIC_ACQUIRE)
#define atomic_long_inc(v) \
	__atomic_fetch_add(&(v)->counter, 1, __ATOMIC_SEQ_CST)
#define atomic_long_add(i, v) \
	__atomic_fetch_add(&(v)->counter, (i), __ATOMIC_SEQ_CST)
#define atomic_long_read(v) \
	__atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define atomic_long_set(v, i) \
	__atomic_store_n(&(v)->counter, (i), __ATOMIC_RELAXED)

/* Doubly linked lists with the kernel's names and semantics. */
struct list_head {
	struct list_head *next, *prev;
};
#define LIST_HEAD_INIT(name)	{ &(name), &(name) }
#define LIST_HEAD(name)		struct list_head name = LIST_HEAD_INIT(name)
static inline void INIT_LIST_HEAD(struct list_head *l) { l->next = l; l->prev = l; }
static inline void __list_add(struct list_head *n, struct list_head *prev, struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}
static inline void list_add(struct list_head *n, struct list_head *h) { __list_add(n, h, h->next); }
static inline void list_add_tail(struct list_head *n, struct list_head *h) { __list_add(n, h->prev, h); }
static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	e->next = NULL;
	e->prev = NULL;
}
static inline void list_del_init(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	INIT_LIST_HEAD(e);
}
static inline bool list_empty(const struct list_head *h) { return h->next == h; }
static inline void list_move(struct list_head *e, struct list_head *h)
{
	list_del(e);
	list_add(e, h);
}
static inline void list_move_tail(struct list_head *e, struct list_head *h)
{
	list_del(e);
	list_add_tail(e, h);
}
#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))
#define list_entry(p, t, m)	container_of(p, t, m)
#define list_first_entry(h, t, m)	list_entry((h)->next, t, m)
#define list_first_entry_or_null(h, t, m) \
	(list_empty(h) ? NULL : list_first_entry(h, t, m))
#define list_next_entry(p, m)	list_entry((p)->m.next, typeof(*(p)), m)
#define list_for_each_entry(p, h, m) \
	for (p = list_entry((h)->next, typeof(*p), m); &p->m != (h); \
	     p = list_next_entry(p, m))
#define list_for_each_entry_safe(p, n, h, m) \
	for (p = list_entry((h)->next, typeof(*p), m), n = list_next_entry(p, m); \
	     &p->m != (h); p = n, n = list_next_entry(n, m))

#endif /* _KGC_HOST_SHIM_H */
