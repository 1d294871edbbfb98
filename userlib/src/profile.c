// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * profile.c - the sampled heap profile (Go's MemProfile).
 *
 * Sampling. Every allocation entry point subtracts the object's size from
 * a per-thread byte counter, kgc_prof_left (profile.h: one subtraction and
 * a predictable branch). When it goes negative the allocation is sampled:
 * kgc__profile_sample() records the call stack and draws the next counter
 * from an exponential distribution with mean rate bytes (the memory profile
 * rate, KGC_MEMPROFILERATE, default 512 KiB). Allocations are therefore
 * points of a Poisson process over the bytes allocated: an object of s
 * bytes is sampled with probability 1 - exp(-s / rate), independently of
 * everything allocated before it, so dividing each sample by that
 * probability (Go's scaleHeapSample, applied when the profile is written)
 * gives unbiased estimates of objects and bytes per call stack. Rate 1
 * samples every allocation with weight 1; rate 0 disables sampling, and a
 * thread then only comes here every KGC_PROF_RECHECK bytes to see whether
 * the rate has changed. A changed rate takes effect in another thread at
 * its next sample (as with Go's MemProfileRate, set it early).
 *
 * Stacks. backtrace() (libgcc's unwinder, from .eh_frame: no frame pointers
 * needed) from here; the frames up to and including the allocation entry
 * point (found by its return address, which it passes along) are the
 * library's and are dropped. The profile keeps one bucket per (stack,
 * object size, rate) with counts of sampled allocations and of those known
 * to be freed: alloc_objects/alloc_space and inuse_objects/inuse_space
 * follow from them.
 *
 * Deaths. Objects are freed by the kernel's sweeper, which tells nobody.
 * Every sampled object is remembered in a hash table (address -> bucket);
 * after each GC cycle one KGC_IOC_OBJ_STATE call per KGC_OBJ_STATE_MAX
 * objects asks the kernel which of them are still allocated, and the
 * others move from "in use" to "freed". The end of a cycle (the control
 * area's cycle count moved) is noticed by the first thread to leave a
 * library region afterwards (kgc_outside(): allocation slow paths, barrier
 * flushes, safepoints), by the next sample, and before a profile is
 * written. The kernel answers as the sweep will decide, so the answer is
 * right even before the sweeper reached the object's span. kgc_free()
 * reports its large objects at once. A sampled object's memory that is
 * freed and allocated again by an unsampled allocation before the check
 * reads as still allocated: its sample then lives as long as the new
 * object (checking right after every cycle keeps that rare). The size
 * recorded is the size asked for, as in the library's bytes_allocated
 * (Go records the size class's). Without KGC_IOC_OBJ_STATE (an older kgc.ko) nothing is
 * remembered and in-use figures equal allocated ones; the profile says so.
 *
 * The conservative collector scans the data and bss of the program and
 * its stacks, but not malloc memory; still, the table stores every address
 * XOR-ed with KGC_PROF_ADDR_KEY (which sets the top bits, so the value is
 * never a heap address), so that the profile can never keep an object
 * alive.
 *
 * Locking. prof_lock protects the buckets, the object table and the
 * settings (fork() takes it, so the child never inherits it held). It is taken outside library regions only (an allocation has
 * finished when it samples) and no handshake is run while it is held, so
 * a thread waiting for it can always be acknowledged by its signal
 * handler (internal.h). Lock order: kgc_heap.lock, then prof_lock.
 *
 * Environment (read at kgc_init(), see kgc__profile_configure()):
 * KGC_MEMPROFILERATE (bytes, optional KiB/MiB suffix; 0 off, 1 all),
 * KGC_HEAPPROFILE=path (write the profile there at exit) and
 * KGC_HEAPPROFILE_SIGNAL=signal (also write path.N, N = 1, 2, ..., each
 * time the process gets that signal; a helper thread does the writing, the
 * handler only wakes it).
 */
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "profile.h"

/* XOR-ed into stored addresses: sets the top bits (never a heap address). */
#define KGC_PROF_ADDR_KEY	0xd6e8feb86659fd93ULL
/* With sampling off, how often a thread looks at the rate again. */
#define KGC_PROF_RECHECK	((intptr_t)1 << 20)
/* Largest rate and interval: far from overflowing the counter. */
#define KGC_PROF_MAX_RATE	((uint64_t)1 << 40)
#define KGC_PROF_MAX_INTERVAL	((double)((uint64_t)1 << 50))

__thread intptr_t kgc_prof_left __attribute__((tls_model("initial-exec")));
/* The thread's random state; 0 until its first sample. */
static __thread uint64_t prof_rng __attribute__((tls_model("initial-exec")));

size_t kgc_prof_nlive;

/**
 * struct prof_bucket - one (stack, size, rate) of the profile
 * @hash: of the key
 * @r: key and counts
 */
struct prof_bucket {
	uint64_t hash;
	struct kgc_prof_record r;
};

/**
 * struct prof_obj - a sampled object not known to be freed
 * @xaddr: its address ^ KGC_PROF_ADDR_KEY; 0 for an empty slot
 * @bucket: index of its bucket
 * @gen: kgc_heap.gen of the heap it was allocated from
 */
struct prof_obj {
	uint64_t xaddr;
	uint32_t bucket;
	uint32_t gen;
};

static pthread_mutex_t prof_lock = PTHREAD_MUTEX_INITIALIZER;
/* Everything below is under prof_lock, but prof_rate is read without. */
static size_t prof_rate = KGC_DEFAULT_MEMPROFILERATE;
static bool prof_rate_explicit;		/* kgc_set_memprofile_rate() called */
static struct prof_bucket *buckets;	/* nbuckets of bucket_cap */
static size_t nbuckets, bucket_cap;
static uint32_t *bucket_index;		/* bucket number + 1, 0 empty */
static size_t bucket_index_cap;		/* a power of two */
static struct prof_obj *objs;		/* open addressing, linear probing */
static size_t objs_cap;			/* a power of two */
static uint64_t prof_dropped;		/* samples lost for want of memory */
static uint64_t prof_untracked;		/* sampled while deaths were unknown */
static uint64_t prof_checked_gc;	/* num_gc at the last death check */
/* KGC_HEAPPROFILE and its signal */
static char prof_path[4096];
static pid_t prof_pid;
static bool prof_atexit_done;
static int prof_pipe[2] = { -1, -1 };
static sigset_t prof_signals;		/* handled (after prof_once) */
static unsigned int prof_signal_seq;
static pthread_once_t prof_once = PTHREAD_ONCE_INIT;

/* ---- numbers ---- */

/**
 * kgc__prof_ln() - natural logarithm of a positive normal double
 * @x: the argument
 *
 * x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln(m) = 2 atanh(s) with
 * s = (m - 1) / (m + 1), |s| < 0.172: eight terms are exact to ~1e-15.
 * libkgc does not link libm, which static programs would then need too.
 *
 * Return: ln(@x).
 */
double kgc__prof_ln(double x)
{
	uint64_t bits;
	double m, s, s2, sum, term;
	int e, k;

	memcpy(&bits, &x, sizeof(bits));
	e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & ((1ULL << 52) - 1)) | (1023ULL << 52);
	memcpy(&m, &bits, sizeof(m));
	if (m > 1.4142135623730951) {
		m /= 2;
		e++;
	}
	s = (m - 1) / (m + 1);
	s2 = s * s;
	sum = 0;
	term = s;
	for (k = 1; k <= 17; k += 2) {
		sum += term / k;
		term *= s2;
	}
	return 2 * sum + e * 0.6931471805599453;
}

/**
 * kgc__prof_exp() - e to the @x, for @x <= 700
 * @x: the argument
 *
 * x = k ln 2 + r with |r| <= ln(2) / 2; exp(r) by its Taylor series (16
 * terms), times 2^k built from its bits.
 *
 * Return: exp(@x) (0 below -700).
 */
double kgc__prof_exp(double x)
{
	double r, term, sum, two_k;
	uint64_t bits;
	int k, i;

	if (x < -700)
		return 0;
	if (x > 700)
		x = 700;
	k = (int)(x / 0.6931471805599453 + (x < 0 ? -0.5 : 0.5));
	r = x - k * 0.6931471805599453;
	sum = 1;
	term = 1;
	for (i = 1; i <= 16; i++) {
		term *= r / i;
		sum += term;
	}
	bits = (uint64_t)(k + 1023) << 52;
	memcpy(&two_k, &bits, sizeof(two_k));
	return sum * two_k;
}

/* splitmix64: seeds from poor entropy, well mixed. */
static uint64_t prof_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void prof_thread_seed(void)
{
	struct timespec ts;
	uint64_t s;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	s = prof_mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32));
	s = prof_mix(s ^ (uint64_t)(uintptr_t)&ts);
	s = prof_mix(s ^ (uint64_t)gettid());
	prof_rng = s ? s : 1;
}

/* xorshift64*: a thread's own generator, no lock. */
static uint64_t prof_rand(void)
{
	uint64_t x = prof_rng;

	if (unlikely(!x)) {
		prof_thread_seed();
		x = prof_rng;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	prof_rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/**
 * kgc__profile_interval() - bytes until the next sample
 * @rate: mean, bytes; 1 (or 0) samples every allocation
 *
 * -ln(U) * rate for U uniform in (0, 1]: exponential with mean @rate.
 *
 * Return: the interval, at most KGC_PROF_MAX_INTERVAL.
 */
intptr_t kgc__profile_interval(size_t rate)
{
	double u, d;

	if (rate <= 1)
		return 0;
	u = (double)((prof_rand() >> 11) + 1) * 0x1p-53;
	d = -kgc__prof_ln(u) * (double)rate;
	if (d > KGC_PROF_MAX_INTERVAL)
		d = KGC_PROF_MAX_INTERVAL;
	return (intptr_t)d;
}

/* ---- buckets ---- */

static uint64_t bucket_hash(void *const *pcs, size_t n, uint64_t size,
			    uint64_t rate)
{
	uint64_t h = prof_mix(size ^ (rate << 1) ^ n);
	size_t i;

	for (i = 0; i < n; i++)
		h = prof_mix(h ^ (uint64_t)(uintptr_t)pcs[i]);
	return h;
}

static bool bucket_is(const struct prof_bucket *b, uint64_t h,
		      void *const *pcs, size_t n, uint64_t size, uint64_t rate)
{
	size_t i;

	if (b->hash != h || b->r.size != size || b->r.rate != rate ||
	    b->r.nstk != n)
		return false;
	for (i = 0; i < n; i++)
		if (b->r.stk[i] != (uintptr_t)pcs[i])
			return false;
	return true;
}

/* Rebuild the bucket index at twice the size. Return 0 or -ENOMEM. */
static int bucket_index_grow(void)
{
	size_t cap = bucket_index_cap ? bucket_index_cap * 2 : 256, i, j;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	for (i = 0; i < nbuckets; i++) {
		for (j = buckets[i].hash & (cap - 1); idx[j];
		     j = (j + 1) & (cap - 1))
			;
		idx[j] = (uint32_t)i + 1;
	}
	free(bucket_index);
	bucket_index = idx;
	bucket_index_cap = cap;
	return 0;
}

/* The bucket of a key, made when new. Return its index, or -1 (ENOMEM). */
static long bucket_get(void *const *pcs, size_t n, uint64_t size,
		       uint64_t rate)
{
	uint64_t h = bucket_hash(pcs, n, size, rate);
	struct prof_bucket *b;
	size_t j, i;

	if (bucket_index_cap) {
		for (j = h & (bucket_index_cap - 1); bucket_index[j];
		     j = (j + 1) & (bucket_index_cap - 1))
			if (bucket_is(&buckets[bucket_index[j] - 1], h, pcs, n,
				      size, rate))
				return (long)bucket_index[j] - 1;
	}
	if (nbuckets >= UINT32_MAX - 1)
		return -1;
	if ((nbuckets + 1) * 2 > bucket_index_cap && bucket_index_grow())
		return -1;
	if (nbuckets == bucket_cap) {
		size_t cap = bucket_cap ? bucket_cap * 2 : 64;

		b = realloc(buckets, cap * sizeof(*b));
		if (!b)
			return -1;
		buckets = b;
		bucket_cap = cap;
	}
	b = &buckets[nbuckets];
	memset(b, 0, sizeof(*b));
	b->hash = h;
	b->r.size = size;
	b->r.rate = rate;
	b->r.nstk = (uint32_t)n;
	for (i = 0; i < n; i++)
		b->r.stk[i] = (uintptr_t)pcs[i];
	for (j = h & (bucket_index_cap - 1); bucket_index[j];
	     j = (j + 1) & (bucket_index_cap - 1))
		;
	bucket_index[j] = (uint32_t)nbuckets + 1;
	return (long)nbuckets++;
}

/* ---- sampled objects ---- */

static size_t obj_slot(uint64_t xaddr)
{
	return (size_t)((xaddr * 0x9e3779b97f4a7c15ULL) >> 20) &
	       (objs_cap - 1);
}

static void objs_count(long delta)
{
	__atomic_store_n(&kgc_prof_nlive, kgc_prof_nlive + delta,
			 __ATOMIC_RELAXED);
}

/* The slot holding @xaddr, or NULL. */
static struct prof_obj *obj_find(uint64_t xaddr)
{
	size_t j;

	if (!objs_cap)
		return NULL;
	for (j = obj_slot(xaddr); objs[j].xaddr; j = (j + 1) & (objs_cap - 1))
		if (objs[j].xaddr == xaddr)
			return &objs[j];
	return NULL;
}

/* The object in slot @o died: count it, empty the slot (backward shift). */
static void obj_kill(struct prof_obj *o)
{
	size_t i = (size_t)(o - objs), j = i, home;

	buckets[o->bucket].r.frees++;
	for (;;) {
		objs[i].xaddr = 0;
		for (;;) {
			j = (j + 1) & (objs_cap - 1);
			if (!objs[j].xaddr) {
				objs_count(-1);
				return;
			}
			home = obj_slot(objs[j].xaddr);
			/* Movable into the hole when home is not in (i, j]. */
			if (i <= j ? (home <= i || home > j) :
			    (home <= i && home > j))
				break;
		}
		objs[i] = objs[j];
		i = j;
	}
}

static int objs_grow(void)
{
	size_t cap = objs_cap ? objs_cap * 2 : 1024, i, j;
	struct prof_obj *old = objs, *n = calloc(cap, sizeof(*n));
	size_t oldcap = objs_cap;

	if (!n)
		return -ENOMEM;
	objs = n;
	objs_cap = cap;
	for (i = 0; i < oldcap; i++) {
		if (!old[i].xaddr)
			continue;
		for (j = obj_slot(old[i].xaddr); objs[j].xaddr;
		     j = (j + 1) & (cap - 1))
			;
		objs[j] = old[i];
	}
	free(old);
	return 0;
}

/*
 * Remember a sampled object. An older sample at the same address has died
 * (its memory was allocated again). Return 0 or -ENOMEM.
 */
static int obj_insert(uintptr_t addr, uint32_t bucket, uint32_t gen)
{
	uint64_t xaddr = (uint64_t)addr ^ KGC_PROF_ADDR_KEY;
	struct prof_obj *o = obj_find(xaddr);
	size_t j;

	if (o)
		obj_kill(o);
	if ((kgc_prof_nlive + 1) * 2 > objs_cap && objs_grow())
		return -ENOMEM;
	for (j = obj_slot(xaddr); objs[j].xaddr; j = (j + 1) & (objs_cap - 1))
		;
	objs[j].xaddr = xaddr;
	objs[j].bucket = bucket;
	objs[j].gen = gen;
	objs_count(1);
	return 0;
}

/* Whether the kernel can tell which sampled objects died. */
static bool prof_frees_known(void)
{
	return kgc_heap_ready() &&
	       (kgc_heap.api.ioctls & (1ULL << KGC_IOC_NR_OBJ_STATE));
}

/* KGC_IOC_OBJ_STATE, counted in the calling thread when it is attached. */
static int prof_obj_state(struct kgc_obj_state *o)
{
	struct kgc_thread *t = kgc_curthread;
	int ret;

	if (t && __atomic_load_n(&t->attached, __ATOMIC_RELAXED))
		STAT_INC(t->mcache.stats.syscalls);
	do {
		ret = kgc_heap.sys->ioctl(kgc_heap.fd, KGC_IOC_OBJ_STATE, o);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

/*
 * The death check (prof_lock held): objects of an older heap, or of none,
 * are dead; the kernel says which of the others are. On an error the
 * objects are left as they are, for the next check.
 */
static void prof_check_locked(void)
{
	size_t n = kgc_prof_nlive, i, k = 0, ndead = 0, done, cnt;
	uint64_t *addrs = NULL, *bits = NULL;
	bool known = prof_frees_known();
	unsigned int gen = kgc_heap.gen;
	int saved_errno = errno;

	if (known)
		__atomic_store_n(&prof_checked_gc,
				 __atomic_load_n(&kgc_ctl()->num_gc,
						 __ATOMIC_ACQUIRE),
				 __ATOMIC_RELAXED);
	if (!n)
		return;
	addrs = malloc(n * sizeof(*addrs));
	bits = malloc(((MIN(n, (size_t)KGC_OBJ_STATE_MAX) + 63) / 64) *
		      sizeof(*bits));
	if (!addrs || !bits)
		goto out;
	/* Dead ones to the front, live ones (to ask about) to the back. */
	for (i = 0; i < objs_cap; i++) {
		uint64_t a = objs[i].xaddr ^ KGC_PROF_ADDR_KEY;

		if (!objs[i].xaddr)
			continue;
		if (!known || objs[i].gen != gen)
			addrs[ndead++] = a;
		else
			addrs[n - 1 - k++] = a;
	}
	for (done = 0; done < k; done += cnt) {
		struct kgc_obj_state o;
		uint64_t *q = &addrs[ndead + done];

		cnt = MIN(k - done, (size_t)KGC_OBJ_STATE_MAX);
		memset(&o, 0, sizeof(o));
		o.addrs = (uintptr_t)q;
		o.state = (uintptr_t)bits;
		o.count = (uint32_t)cnt;
		if (prof_obj_state(&o))
			break;
		for (i = 0; i < cnt; i++)
			if (!(bits[i / 64] & (1ULL << (i % 64))))
				addrs[ndead++] = q[i];
	}
	for (i = 0; i < ndead; i++) {
		struct prof_obj *o = obj_find(addrs[i] ^ KGC_PROF_ADDR_KEY);

		if (o)
			obj_kill(o);
	}
out:
	free(bits);
	free(addrs);
	errno = saved_errno;
}

/* ---- sampling ---- */

static void prof_record(uintptr_t p, size_t size, void *const *pcs, size_t n,
			size_t rate)
{
	bool known;
	long b;

	pthread_mutex_lock(&prof_lock);
	b = bucket_get(pcs, n, size, rate);
	if (b < 0) {
		prof_dropped++;
		goto out;
	}
	buckets[b].r.allocs++;
	known = prof_frees_known();
	if (!known) {
		prof_untracked++;
	} else if (obj_insert(p, (uint32_t)b, kgc_heap.gen)) {
		/* Cannot follow it: count it as freed at once. */
		buckets[b].r.frees++;
		prof_dropped++;
	}
	if (known && __atomic_load_n(&kgc_ctl()->num_gc, __ATOMIC_RELAXED) !=
	    prof_checked_gc)
		prof_check_locked();
out:
	pthread_mutex_unlock(&prof_lock);
}

/**
 * kgc__profile_sample() - the slow path of kgc_profile_malloc()
 * @p: the object just allocated
 * @size: its size as requested
 * @site: the allocation entry point's return address: the caller's frames
 *	begin at the frame that returns there
 *
 * Called by an allocation entry point (mallocgc() is inlined into each),
 * directly or from its out-of-line slow path (one frame more, or none when
 * that was a tail call: hence the address rather than a frame count). Also
 * the first allocation of every thread lands here, to draw its first
 * interval. errno is preserved.
 *
 * Return: @p, so that the entry points can tail-call it.
 */
__attribute__((noinline)) void *kgc__profile_sample(void *p, size_t size,
						     uintptr_t site)
{
	void *frames[KGC_PROF_MAXSTACK + 6];
	size_t rate = __atomic_load_n(&prof_rate, __ATOMIC_RELAXED);
	int saved_errno = errno, n, from;

	if (unlikely(!prof_rng)) {
		/* The thread's first allocation: as if it began a fresh interval. */
		prof_thread_seed();
		if (rate) {
			kgc_prof_left = kgc__profile_interval(rate) -
					(intptr_t)size;
			if (kgc_prof_left >= 0)
				return p;
		}
	}
	if (!rate) {
		kgc_prof_left = KGC_PROF_RECHECK;
		return p;
	}
	kgc_prof_left = kgc__profile_interval(rate);

	n = backtrace(frames, (int)ARRAY_SIZE(frames));
	for (from = 0; from < n && from < 6; from++)
		if ((uintptr_t)frames[from] == site)
			break;
	/* Not found (odd unwind info): keep all but this function. */
	if (from >= n || from >= 6)
		from = 1;
	if (n < from)
		n = from;
	if (n - from > KGC_PROF_MAXSTACK)
		n = from + KGC_PROF_MAXSTACK;
	prof_record((uintptr_t)p, size, frames + from, (size_t)(n - from),
		    rate);
	errno = saved_errno;
	return p;
}

/**
 * kgc__profile_freed() - kgc_free() freed @p: its sample, if any, died
 * @p: a large object just freed
 */
void kgc__profile_freed(void *p)
{
	struct prof_obj *o;

	pthread_mutex_lock(&prof_lock);
	o = obj_find((uint64_t)(uintptr_t)p ^ KGC_PROF_ADDR_KEY);
	if (o)
		obj_kill(o);
	pthread_mutex_unlock(&prof_lock);
}

/**
 * kgc__profile_cycle_done() - a GC cycle ended: look for dead samples
 *
 * Three loads when no sample is alive or no cycle ended since the last
 * check. Called outside library regions (kgc_outside()), holding no
 * library lock.
 */
void kgc__profile_cycle_done(void)
{
	if (!__atomic_load_n(&kgc_prof_nlive, __ATOMIC_RELAXED) ||
	    !kgc_heap_ready() ||
	    __atomic_load_n(&kgc_ctl()->num_gc, __ATOMIC_RELAXED) ==
	    __atomic_load_n(&prof_checked_gc, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&prof_lock);
	if (__atomic_load_n(&kgc_ctl()->num_gc, __ATOMIC_RELAXED) !=
	    prof_checked_gc)
		prof_check_locked();
	pthread_mutex_unlock(&prof_lock);
}

/**
 * kgc__profile_snapshot() - the profile now, for writing
 * @snap: filled; @snap->recs is malloc'd (free() it)
 *
 * Runs a death check first, so objects freed by the cycles that ended so
 * far are not in use.
 *
 * Return: 0 or -ENOMEM.
 */
int kgc__profile_snapshot(struct kgc_prof_snapshot *snap)
{
	int ret = 0;
	size_t i;

	memset(snap, 0, sizeof(*snap));
	pthread_mutex_lock(&prof_lock);
	prof_check_locked();
	if (nbuckets) {
		snap->recs = malloc(nbuckets * sizeof(*snap->recs));
		if (!snap->recs) {
			ret = -ENOMEM;
			goto out;
		}
		for (i = 0; i < nbuckets; i++)
			snap->recs[i] = buckets[i].r;
		snap->nrecs = nbuckets;
	}
	snap->rate = __atomic_load_n(&prof_rate, __ATOMIC_RELAXED);
	snap->dropped = prof_dropped;
	snap->untracked = prof_untracked;
out:
	pthread_mutex_unlock(&prof_lock);
	return ret;
}

/**
 * kgc__profile_reset() - forget all samples and settings (unit tests)
 *
 * The calling thread starts a fresh interval at its next allocation.
 */
void kgc__profile_reset(void)
{
	pthread_mutex_lock(&prof_lock);
	free(buckets);
	free(bucket_index);
	free(objs);
	buckets = NULL;
	bucket_index = NULL;
	objs = NULL;
	nbuckets = bucket_cap = bucket_index_cap = objs_cap = 0;
	objs_count(-(long)kgc_prof_nlive);
	prof_dropped = prof_untracked = 0;
	__atomic_store_n(&prof_checked_gc, 0, __ATOMIC_RELAXED);
	prof_rate_explicit = false;
	__atomic_store_n(&prof_rate, KGC_DEFAULT_MEMPROFILERATE,
			 __ATOMIC_RELAXED);
	prof_path[0] = '\0';
	pthread_mutex_unlock(&prof_lock);
	prof_rng = 0;
	kgc_prof_left = 0;
}

KGC_EXPORT int kgc_set_memprofile_rate(size_t bytes)
{
	if (bytes > KGC_PROF_MAX_RATE)
		return kgc_seterr(EINVAL,
			"kgc: kgc_set_memprofile_rate(%zu): at most %llu bytes",
			bytes, (unsigned long long)KGC_PROF_MAX_RATE);
	pthread_mutex_lock(&prof_lock);
	__atomic_store_n(&prof_rate, bytes, __ATOMIC_RELAXED);
	prof_rate_explicit = true;
	pthread_mutex_unlock(&prof_lock);
	/* The calling thread at once; the others at their next sample. */
	if (prof_rng)
		kgc_prof_left = bytes ? kgc__profile_interval(bytes) :
			KGC_PROF_RECHECK;
	return 0;
}

KGC_EXPORT size_t kgc_memprofile_rate(void)
{
	return __atomic_load_n(&prof_rate, __ATOMIC_RELAXED);
}

/* ---- KGC_HEAPPROFILE: at exit and on a signal ---- */

static void prof_atexit(void)
{
	char path[sizeof(prof_path)];

	pthread_mutex_lock(&prof_lock);
	memcpy(path, prof_path, sizeof(path));
	pthread_mutex_unlock(&prof_lock);
	/* A fork child inherits the handler, not the job. */
	if (!path[0] || getpid() != prof_pid)
		return;
	if (kgc_write_heap_profile(path))
		fprintf(stderr, "%s\n", kgc_last_error());
}

static void prof_sighandler(int sig)
{
	int saved_errno = errno;
	char c = (char)sig;

	if (write(prof_pipe[1], &c, 1) < 0) {
		/* A full pipe (a write is pending anyway), or none (fork). */
	}
	errno = saved_errno;
}

/* The helper thread: one profile per signal, path.N. */
static void *prof_signal_thread(void *arg)
{
	char c, path[sizeof(prof_path) + 16];
	unsigned int seq;
	ssize_t r;

	(void)arg;
	for (;;) {
		r = read(prof_pipe[0], &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return NULL;
		pthread_mutex_lock(&prof_lock);
		seq = ++prof_signal_seq;
		snprintf(path, sizeof(path), "%s.%u", prof_path, seq);
		pthread_mutex_unlock(&prof_lock);
		if (kgc_write_heap_profile(path))
			fprintf(stderr, "%s\n", kgc_last_error());
	}
}

/* Install the handler of @signo once; the first call makes the thread. */
static int prof_signal_setup(int signo)
{
	struct sigaction sa;
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t th;
	int err;

	if (sigismember(&prof_signals, signo) == 1)
		return 0;
	if (prof_pipe[0] < 0) {
		if (pipe2(prof_pipe, O_CLOEXEC | O_NONBLOCK))
			return kgc_seterr(errno,
				"kgc: KGC_HEAPPROFILE_SIGNAL: cannot make a pipe: %s",
				strerror(errno));
		/* The reader blocks; only the handler's end is non-blocking. */
		fcntl(prof_pipe[0], F_SETFL, 0);
		/* No signal for the helper: it is not a kgc thread. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		err = pthread_create(&th, &attr, prof_signal_thread, NULL);
		pthread_attr_destroy(&attr);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (err) {
			close(prof_pipe[0]);
			close(prof_pipe[1]);
			prof_pipe[0] = prof_pipe[1] = -1;
			return kgc_seterr(err,
				"kgc: KGC_HEAPPROFILE_SIGNAL: cannot start the profile writer thread: %s",
				strerror(err));
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = prof_sighandler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, NULL))
		return kgc_seterr(errno,
			"kgc: KGC_HEAPPROFILE_SIGNAL: cannot handle signal %d: %s",
			signo, strerror(errno));
	sigaddset(&prof_signals, signo);
	return 0;
}

/*
 * fork(): the child must not inherit prof_lock taken, nor share the
 * parent's signal pipe (its helper thread is the parent's). Its samples
 * belong to a heap it does not have: the next check finds them dead.
 */
static void prof_atfork_prepare(void)
{
	pthread_mutex_lock(&prof_lock);
}

static void prof_atfork_parent(void)
{
	pthread_mutex_unlock(&prof_lock);
}

static void prof_atfork_child(void)
{
	if (prof_pipe[0] >= 0) {
		close(prof_pipe[0]);
		close(prof_pipe[1]);
		prof_pipe[0] = prof_pipe[1] = -1;
	}
	sigemptyset(&prof_signals);
	prof_signal_seq = 0;
	pthread_mutex_unlock(&prof_lock);
}

static void prof_once_setup(void)
{
	sigemptyset(&prof_signals);
	pthread_atfork(prof_atfork_prepare, prof_atfork_parent,
		       prof_atfork_child);
}

/**
 * kgc__profile_configure() - the profile's environment, at kgc_init()
 * @cfg: the settings being resolved (for KGC_INIT_NOENV and the safepoint
 *	signal)
 *
 * KGC_MEMPROFILERATE sets the rate unless kgc_set_memprofile_rate() was
 * called; KGC_HEAPPROFILE registers the write at exit (once per process);
 * KGC_HEAPPROFILE_SIGNAL installs its handler. Caller holds kgc_heap.lock.
 *
 * Return: 0, or -EINVAL with a message for a malformed value, or the
 * -errno of setting up the signal.
 */
int kgc__profile_configure(const struct kgc_config *cfg)
{
	const char *rate_s, *path, *sig_s;
	uint64_t rate = 0;
	int signo = 0, err;

	pthread_once(&prof_once, prof_once_setup);
	if (cfg->flags & KGC_INIT_NOENV)
		return 0;
	rate_s = secure_getenv("KGC_MEMPROFILERATE");
	path = secure_getenv("KGC_HEAPPROFILE");
	sig_s = secure_getenv("KGC_HEAPPROFILE_SIGNAL");
	if (path && !*path)
		path = NULL;
	if (rate_s) {
		err = kgc_parse_bytes(rate_s, &rate);
		if (err || rate > KGC_PROF_MAX_RATE)
			return kgc_seterr(EINVAL,
				"kgc: KGC_MEMPROFILERATE=\"%.64s\": expected bytes (0 off, 1 every allocation, at most 1 TiB) with an optional B, KiB, MiB or GiB suffix",
				rate_s);
	}
	if (path && strlen(path) >= sizeof(prof_path))
		return kgc_seterr(EINVAL,
			"kgc: KGC_HEAPPROFILE: the path is longer than %zu bytes",
			sizeof(prof_path) - 1);
	if (sig_s) {
		if (kgc_parse_signal(sig_s, &signo))
			return kgc_seterr(EINVAL,
				"kgc: KGC_HEAPPROFILE_SIGNAL=\"%.64s\": expected a signal number or name (SIGUSR2, ...) other than KILL, STOP or a fault signal",
				sig_s);
		if (signo == cfg->signo)
			return kgc_seterr(EINVAL,
				"kgc: KGC_HEAPPROFILE_SIGNAL=\"%.64s\" is the safepoint signal (KGC_SIGNAL)",
				sig_s);
		if (!path)
			return kgc_seterr(EINVAL,
				"kgc: KGC_HEAPPROFILE_SIGNAL needs KGC_HEAPPROFILE (where to write)");
	}

	pthread_mutex_lock(&prof_lock);
	if (rate_s && !prof_rate_explicit)
		__atomic_store_n(&prof_rate, (size_t)rate, __ATOMIC_RELAXED);
	if (path) {
		strcpy(prof_path, path);
		prof_pid = getpid();
		if (!prof_atexit_done && !atexit(prof_atexit))
			prof_atexit_done = true;
	}
	pthread_mutex_unlock(&prof_lock);
	if (signo)
		return prof_signal_setup(signo);
	return 0;
}
