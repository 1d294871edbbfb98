// SPDX-License-Identifier: GPL-2.0
/*
 * threads_test - libkgc with many threads against the real kgc.ko:
 * concurrent allocation of every size class never hands out memory twice;
 * a thread's spans go back to the kernel when it exits; a later thread gets
 * those spans again and allocates around the objects still live in them;
 * explicit attach/detach; threads that outlive kgc_shutdown(). And the
 * collector with threads: many threads allocating while cycles run keep
 * what their stacks reach; a thread spinning without a safepoint is
 * brought to one by the signal; a thread sleeping in a blocking region
 * does not hold cycles up.
 *
 * One fixture per initialised heap, as in alloc_test.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "kselftest_harness.h"
#include "kgc_lib_util.h"

#define NTHREADS	8
#define ROUNDS		2
#define LARGE_SIZES	3
#define PER_THREAD	(ROUNDS * ((KGC_NR_SIZE_CLASSES - 1) * 2 + LARGE_SIZES + 8))

FIXTURE(heap) {
	bool ready;
};

FIXTURE_SETUP(heap)
{
	HEAP_SETUP(self, TEST_HEAP_RESERVE);
}

FIXTURE_TEARDOWN(heap)
{
	kgc_shutdown();
}

struct worker {
	pthread_t tid;
	unsigned int id;
	pthread_barrier_t *barrier;
	struct obj objs[PER_THREAD];
	size_t n;
	size_t ntiny;	/* noscan objects under 16 bytes */
	int failed;	/* 1 allocation failed, 2 not zero, 3 overwritten */
	char msg[256];
};

static bool worker_alloc(struct worker *w, size_t size, int kind)
{
	unsigned char *p;

	p = kind == 0 ? kgc_alloc_noscan(size) : kgc_alloc_conservative(size);
	if (!p) {
		w->failed = 1;
		snprintf(w->msg, sizeof(w->msg), "%zu bytes: %s", size,
			 kgc_last_error());
		return false;
	}
	if (!all_zero(p, size)) {
		w->failed = 2;
		snprintf(w->msg, sizeof(w->msg), "%zu bytes at %p not zero",
			 size, (void *)p);
		return false;
	}
	fill(p, size, w->id * PER_THREAD + (unsigned int)w->n);
	w->ntiny += kind == 0 && size < 16;
	w->objs[w->n].p = p;
	w->objs[w->n++].size = size;
	return true;
}

/* Every class, both kinds, some tiny and large objects; all verified. */
static void *class_worker(void *arg)
{
	static const size_t large[LARGE_SIZES] = { 40000, 100000, 300000 };
	struct worker *w = arg;
	unsigned int c, r;
	size_t i;

	for (r = 0; r < ROUNDS; r++) {
		for (c = 1; c < KGC_NR_SIZE_CLASSES; c++) {
			if (!worker_alloc(w, class_size[c], 1) ||
			    !worker_alloc(w, class_size[c] - (c > 1 ? 3 : 0), 0))
				return NULL;
		}
		for (i = 0; i < LARGE_SIZES; i++)
			if (!worker_alloc(w, large[i], (int)(i & 1)))
				return NULL;
		for (i = 1; i <= 8; i++)
			if (!worker_alloc(w, i, 0))	/* tiny */
				return NULL;
	}
	pthread_barrier_wait(w->barrier);	/* every thread's objects live */
	for (i = 0; i < w->n; i++)
		if (!verify(w->objs[i].p, w->objs[i].size,
			    w->id * PER_THREAD + (unsigned int)i)) {
			w->failed = 3;
			snprintf(w->msg, sizeof(w->msg),
				 "object %zu (%zu bytes) overwritten", i,
				 w->objs[i].size);
		}
	return NULL;
}

TEST_F_TIMEOUT(heap, many_threads_every_class, 300)
{
	static struct worker workers[NTHREADS];
	static struct obj all[NTHREADS * PER_THREAD];
	struct kgc_heap_stats st;
	pthread_barrier_t barrier;
	unsigned int t;
	size_t n = 0, ntiny = 0, i;
	long bad;

	HEAP_REQUIRED();
	ASSERT_EQ(0, pthread_barrier_init(&barrier, NULL, NTHREADS));
	for (t = 0; t < NTHREADS; t++) {
		workers[t].id = t;
		workers[t].barrier = &barrier;
		ASSERT_EQ(0, pthread_create(&workers[t].tid, NULL,
					    class_worker, &workers[t]));
	}
	for (t = 0; t < NTHREADS; t++) {
		pthread_join(workers[t].tid, NULL);
		EXPECT_EQ(0, workers[t].failed) TH_LOG("thread %u: %s", t,
							workers[t].msg);
		memcpy(&all[n], workers[t].objs,
		       workers[t].n * sizeof(all[0]));
		n += workers[t].n;
		ntiny += workers[t].ntiny;
	}
	pthread_barrier_destroy(&barrier);
	ASSERT_EQ(NTHREADS * PER_THREAD, n);
	/* Still intact after every thread has exited. */
	for (t = 0; t < NTHREADS; t++)
		for (i = 0; i < workers[t].n; i++)
			ASSERT_TRUE(verify(workers[t].objs[i].p,
					   workers[t].objs[i].size,
					   t * PER_THREAD + (unsigned int)i));
	bad = first_overlap(all, n);
	ASSERT_EQ(-1, bad) TH_LOG("%p+%zu overlaps %p", all[bad - 1].p,
				  all[bad - 1].size, all[bad].p);

	st = read_stats();
	ASSERT_NE(0, st.sz);
	ASSERT_EQ(0, st.threads);
	ASSERT_EQ(0, st.spans_cached);	/* every exit gave its spans back */
	ASSERT_EQ(st.refills, st.span_returns);
	ASSERT_EQ(NTHREADS * ROUNDS * LARGE_SIZES, st.alloc_large);
	ASSERT_EQ(ntiny, st.alloc_tiny);
	ASSERT_LE(NTHREADS * ROUNDS * 8, ntiny);
	ASSERT_EQ(n, st.alloc_noscan + st.alloc_conservative);
}

struct keeper {
	unsigned char *objs[100];
	int n;
	size_t size;
	unsigned int tag;
	int failed;
};

/* Allocate, fill, and exit with the objects still live. */
static void *keeper(void *arg)
{
	struct keeper *k = arg;
	int i;

	for (i = 0; i < k->n; i++) {
		k->objs[i] = kgc_alloc_conservative(k->size);
		if (!k->objs[i] || !all_zero(k->objs[i], k->size)) {
			k->failed = 1;
			return NULL;
		}
		fill(k->objs[i], k->size, k->tag + (unsigned int)i);
	}
	return NULL;
}

/*
 * Thread A takes two 96-byte spans (85 objects each), fills one and 15
 * objects of the other, and exits with all 100 live: the kernel gets the
 * spans back, and a third that came in reserve with the second, unused. Thread B gets the partial span again and allocates from
 * object 15 on: its objects come right after A's last one, zeroed, and
 * A's objects are untouched.
 */
TEST_F(heap, reuse_after_thread_exit)
{
	/* Static: this thread is not attached, its stack is not scanned. */
	static struct keeper a = { .n = 100, .size = 96, .tag = 0 };
	static struct keeper b = { .n = 100, .size = 96, .tag = 1000 };
	struct kgc_heap_stats st;
	pthread_t t;
	int i, j;

	HEAP_REQUIRED();
	ASSERT_EQ(0, pthread_create(&t, NULL, keeper, &a));
	pthread_join(t, NULL);
	ASSERT_EQ(0, a.failed);
	st = read_stats();
	ASSERT_EQ(0, st.spans_cached);
	ASSERT_EQ(3, st.span_returns);

	ASSERT_EQ(0, pthread_create(&t, NULL, keeper, &b));
	pthread_join(t, NULL);
	ASSERT_EQ(0, b.failed);
	/* The partly used span came back first. */
	ASSERT_EQ(a.objs[99] + 96, b.objs[0]);
	for (i = 0; i < a.n; i++) {
		ASSERT_TRUE(verify(a.objs[i], a.size, a.tag + (unsigned int)i));
		for (j = 0; j < b.n; j++)
			ASSERT_NE(a.objs[i], b.objs[j]);
	}
	for (j = 0; j < b.n; j++)
		ASSERT_TRUE(verify(b.objs[j], b.size, b.tag + (unsigned int)j));
}

/* The large objects of the churn: kept, so the collector may not free them. */
static void *churn_large[4 * 16];
static int churn_next;

/* Short-lived threads in waves: spans keep flowing back and out. */
static void *churn(void *arg)
{
	int *failed = arg, i;
	void *big;

	for (i = 0; i < 500; i++) {
		unsigned char *p = kgc_alloc_conservative(16 + (i % 40) * 16);

		if (!p) {
			*failed = 1;
			return NULL;
		}
		p[0] = 1;
	}
	big = kgc_alloc_noscan(50000);
	if (kgc_alloc_noscan(5) == NULL || big == NULL)
		*failed = 1;
	else
		kgc_store(&churn_large[__atomic_fetch_add(&churn_next, 1,
							  __ATOMIC_RELAXED)],
			  big);
	return NULL;
}

TEST_F_TIMEOUT(heap, thread_churn, 300)
{
	int failed[16] = { 0 };
	struct kgc_heap_stats st;
	pthread_t t[16];
	int wave, i;

	HEAP_REQUIRED();
	for (wave = 0; wave < 4; wave++) {
		for (i = 0; i < 16; i++)
			ASSERT_EQ(0, pthread_create(&t[i], NULL, churn,
						    &failed[i]));
		for (i = 0; i < 16; i++) {
			pthread_join(t[i], NULL);
			ASSERT_EQ(0, failed[i]);
		}
	}
	st = read_stats();
	ASSERT_EQ(0, st.threads);
	ASSERT_EQ(0, st.spans_cached);
	ASSERT_EQ(st.refills, st.span_returns);
	ASSERT_EQ(4 * 16 * 500, st.alloc_conservative);
	ASSERT_EQ(4 * 16 * 2, st.alloc_noscan);
	ASSERT_EQ(4 * 16, st.alloc_tiny);
	ASSERT_EQ(4 * 16, st.large_objects);
}

struct attach_arg {
	pthread_barrier_t *b;
	int attach, detach, detach_again;
	uint64_t threads_attached, threads_after;
};

static void *attacher(void *arg)
{
	struct attach_arg *a = arg;

	a->attach = kgc_thread_attach();
	kgc_thread_attach();	/* no-op */
	if (!kgc_alloc_noscan(100))
		a->attach = -1;
	pthread_barrier_wait(a->b);	/* main counts us */
	pthread_barrier_wait(a->b);
	a->detach = kgc_thread_detach();
	a->detach_again = kgc_thread_detach();
	pthread_barrier_wait(a->b);	/* main counts again */
	pthread_barrier_wait(a->b);
	return NULL;
}

TEST_F(heap, attach_detach)
{
	struct attach_arg a = { 0 };
	struct kgc_heap_stats st;
	pthread_barrier_t b;
	pthread_t t;

	HEAP_REQUIRED();
	pthread_barrier_init(&b, NULL, 2);
	a.b = &b;
	ASSERT_EQ(0, pthread_create(&t, NULL, attacher, &a));
	pthread_barrier_wait(&b);
	st = read_stats();
	ASSERT_EQ(1, st.threads);
	ASSERT_EQ(1, st.spans_cached);
	pthread_barrier_wait(&b);
	pthread_barrier_wait(&b);
	st = read_stats();
	ASSERT_EQ(0, st.threads);
	ASSERT_EQ(0, st.spans_cached);
	ASSERT_EQ(1, st.span_returns);
	ASSERT_EQ(1, st.alloc_noscan);	/* counters survive the detach */
	pthread_barrier_wait(&b);
	pthread_join(t, NULL);
	ASSERT_EQ(0, a.attach);
	ASSERT_EQ(0, a.detach);
	ASSERT_EQ(0, a.detach_again);
	pthread_barrier_destroy(&b);
}

struct late_arg {
	pthread_barrier_t *b;
	int first_ok, after_errno;
};

static void *late(void *arg)
{
	struct late_arg *l = arg;

	l->first_ok = kgc_alloc_noscan(100) != NULL;
	pthread_barrier_wait(l->b);	/* main shuts the heap down */
	pthread_barrier_wait(l->b);
	errno = 0;
	if (!kgc_alloc_noscan(100))
		l->after_errno = errno;
	return NULL;	/* exit frees the orphaned thread state */
}

/* A thread still attached when the heap goes away fails cleanly. */
TEST_F(heap, thread_outlives_shutdown)
{
	struct late_arg l = { 0 };
	pthread_barrier_t b;
	pthread_t t;

	HEAP_REQUIRED();
	pthread_barrier_init(&b, NULL, 2);
	l.b = &b;
	ASSERT_EQ(0, pthread_create(&t, NULL, late, &l));
	pthread_barrier_wait(&b);
	kgc_shutdown();
	pthread_barrier_wait(&b);
	pthread_join(t, NULL);
	ASSERT_TRUE(l.first_ok);
	ASSERT_EQ(EINVAL, l.after_errno);
	pthread_barrier_destroy(&b);
	/* And a new heap works for new threads. */
	ASSERT_EQ(0, test_heap_init(TEST_HEAP_RESERVE));
	l.first_ok = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, late, &l));
	pthread_barrier_wait(&b);
	pthread_barrier_wait(&b);
	pthread_join(t, NULL);
	ASSERT_TRUE(l.first_ok);
}

/* ---- the collector with threads ---- */

#define GC_THREADS	6
#define LIST_LEN	300

struct lister {
	pthread_t tid;
	int id;
	volatile int *stop;
	long rounds;
	int failed;
	char msg[200];
};

struct cell {
	struct cell *next;
	long value;
	long check;
};

static const uint64_t cell_ptrmap[] = { KGC_PTRBIT(struct cell, next) };
static const struct kgc_type cell_type = {
	.size = sizeof(struct cell), .ptrmap = cell_ptrmap, .name = "cell",
};

static bool list_ok(const struct cell *l, int id, struct lister *w)
{
	long i = LIST_LEN - 1;

	for (; l; l = l->next, i--) {
		if (l->value != i || l->check != (id * 100000 + i) * 7) {
			snprintf(w->msg, sizeof(w->msg),
				 "thread %d: cell %ld at %p holds %ld/%ld", id,
				 i, (void *)l, l->value, l->check);
			return false;
		}
	}
	if (i != -1) {
		snprintf(w->msg, sizeof(w->msg), "thread %d: list cut at %ld",
			 id, i);
		return false;
	}
	return true;
}

/*
 * A list reachable only from this thread's stack, checked over and over
 * while the thread allocates garbage (a new list now and then replaces the
 * old one) and cycles run.
 */
static void *lister(void *arg)
{
	struct lister *w = arg;
	struct cell *list = NULL;

	while (!*w->stop && !w->failed) {
		struct cell *fresh = NULL;
		long i;

		for (i = 0; i < LIST_LEN; i++) {
			struct cell *c = kgc_alloc(sizeof(*c), &cell_type);

			if (!c || !kgc_alloc_noscan(200)) {
				snprintf(w->msg, sizeof(w->msg), "%s",
					 kgc_last_error());
				w->failed = 1;
				return NULL;
			}
			c->value = i;
			c->check = (w->id * 100000 + i) * 7;
			c->next = fresh;	/* fresh object: plain store */
			fresh = c;
		}
		if (list && !list_ok(list, w->id, w))
			w->failed = 1;
		if (w->rounds % 3 == 0)
			list = fresh;
		w->rounds++;
	}
	if (list && !w->failed && !list_ok(list, w->id, w))
		w->failed = 1;
	return NULL;
}

/* Many threads allocate; cycles run; what their stacks reach survives. */
TEST_F_TIMEOUT(heap, threads_allocate_while_collecting, 300)
{
	static struct lister ws[GC_THREADS];
	volatile int stop = 0;
	struct kgc_heap_stats a, b;
	int t, i;

	HEAP_REQUIRED();
	ASSERT_EQ(0, kgc_set_gc_percent(25));
	a = read_stats();
	for (t = 0; t < GC_THREADS; t++) {
		ws[t].id = t;
		ws[t].stop = &stop;
		ASSERT_EQ(0, pthread_create(&ws[t].tid, NULL, lister, &ws[t]));
	}
	for (i = 0; i < 6; i++) {
		usleep(30000);
		ASSERT_EQ(0, kgc_gc()) TH_LOG("%s", kgc_last_error());
	}
	stop = 1;
	for (t = 0; t < GC_THREADS; t++) {
		pthread_join(ws[t].tid, NULL);
		EXPECT_EQ(0, ws[t].failed) TH_LOG("%s", ws[t].msg);
		EXPECT_LE(1, ws[t].rounds);
	}
	b = read_stats();
	ASSERT_LE(a.num_gc + 6, b.num_gc);
	printf("# %llu cycles, %llu handshakes at safepoints, %llu in the signal handler, %llu signals, pauses %.3f ms total\n",
	       (unsigned long long)(b.num_gc - a.num_gc),
	       (unsigned long long)b.handshakes,
	       (unsigned long long)b.signal_handshakes,
	       (unsigned long long)b.signals, b.pause_total_ns / 1e6);
}

struct spinner {
	volatile int stop;
	int ready, ok;
	int blocking;		/* sleep in a blocking region instead */
	int interrupted;	/* nanosleep() calls the signal cut short */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Attach, keep an object reachable only from the stack, then either
 * compute without any safepoint or sleep in a blocking region, until told
 * to stop; the object must have survived the cycles meanwhile.
 */
static void *spin(void *arg)
{
	struct spinner *s = arg;
	long *volatile obj = kgc_alloc_noscan(64 * sizeof(long));
	volatile uint64_t x = 0;
	int i;

	if (!obj)
		return NULL;
	for (i = 0; i < 64; i++)
		obj[i] = i * 3;
	__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
	if (s->blocking) {
		kgc_blocking_begin();
		while (!s->stop) {
			struct timespec ts = { 0, 50 * 1000 * 1000 };

			/* The safepoint signal may cut the sleep short. */
			while (nanosleep(&ts, &ts) && errno == EINTR)
				s->interrupted++;
		}
		kgc_blocking_end();
	} else {
		while (!s->stop)
			x++;	/* no kgc call, no allocation */
	}
	s->ok = 1;
	for (i = 0; i < 64; i++)
		s->ok &= obj[i] == i * 3;
	return NULL;
}

/* Run cycles while one thread spins or sleeps; how long each took. */
static void cycles_around(struct __test_metadata *_metadata,
			  struct spinner *s, const char *what)
{
	struct kgc_heap_stats a, b;
	double t0, worst = 0;
	pthread_t th;
	int i;

	ASSERT_EQ(0, pthread_create(&th, NULL, spin, s));
	while (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
		usleep(1000);
	a = read_stats();
	for (i = 0; i < 3; i++) {
		t0 = now_s();
		ASSERT_EQ(0, kgc_gc());
		if (now_s() - t0 > worst)
			worst = now_s() - t0;
	}
	s->stop = 1;
	pthread_join(th, NULL);
	/* After the exit: its last acknowledgement is counted (folded). */
	b = read_stats();
	ASSERT_TRUE(s->ok);
	ASSERT_LE(a.num_gc + 3, b.num_gc);
	/* Two handshakes per cycle, each acknowledged by the handler. */
	ASSERT_LE(a.signal_handshakes + 6, b.signal_handshakes);
	ASSERT_LT(a.signals, b.signals);
	/* Nobody waited for the sleeps or the spinning to end. */
	ASSERT_GT(2.0, worst);
	printf("# %s: 3 cycles, slowest kgc_gc() %.1f ms, %llu signals, %llu acknowledged by the handler, %d sleeps interrupted\n",
	       what, worst * 1e3, (unsigned long long)(b.signals - a.signals),
	       (unsigned long long)(b.signal_handshakes - a.signal_handshakes),
	       s->interrupted);
}

/* A thread computing without safepoints is signalled; cycles complete. */
TEST_F_TIMEOUT(heap, spinning_thread_is_signalled, 120)
{
	static struct spinner s;

	HEAP_REQUIRED();
	cycles_around(_metadata, &s, "spinning");
}

/* A thread sleeping in a blocking region does not stall cycles. */
TEST_F_TIMEOUT(heap, blocking_region_does_not_stall, 120)
{
	static struct spinner s = { .blocking = 1 };

	HEAP_REQUIRED();
	cycles_around(_metadata, &s, "blocking");
}

TEST_HARNESS_MAIN
