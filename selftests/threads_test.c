// SPDX-License-Identifier: GPL-2.0
/*
 * threads_test - libkgc with many threads against the real kgc.ko:
 * concurrent allocation of every size class never hands out memory twice;
 * a thread's spans go back to the kernel when it exits; a later thread gets
 * those spans again and allocates around the objects still live in them;
 * explicit attach/detach; threads that outlive kgc_shutdown().
 *
 * One fixture per initialised heap, as in alloc_test.
 */
#include <pthread.h>
#include <stdio.h>

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
 * spans back. Thread B gets the partial span again and allocates from
 * object 15 on: its objects come right after A's last one, zeroed, and
 * A's objects are untouched.
 */
TEST_F(heap, reuse_after_thread_exit)
{
	struct keeper a = { .n = 100, .size = 96, .tag = 0 };
	struct keeper b = { .n = 100, .size = 96, .tag = 1000 };
	struct kgc_heap_stats st;
	pthread_t t;
	int i, j;

	HEAP_REQUIRED();
	ASSERT_EQ(0, pthread_create(&t, NULL, keeper, &a));
	pthread_join(t, NULL);
	ASSERT_EQ(0, a.failed);
	st = read_stats();
	ASSERT_EQ(0, st.spans_cached);
	ASSERT_EQ(2, st.span_returns);

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

/* Short-lived threads in waves: spans keep flowing back and out. */
static void *churn(void *arg)
{
	int *failed = arg, i;

	for (i = 0; i < 500; i++) {
		unsigned char *p = kgc_alloc_conservative(16 + (i % 40) * 16);

		if (!p) {
			*failed = 1;
			return NULL;
		}
		p[0] = 1;
	}
	if (kgc_alloc_noscan(5) == NULL || kgc_alloc_noscan(50000) == NULL)
		*failed = 1;
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

TEST_HARNESS_MAIN
