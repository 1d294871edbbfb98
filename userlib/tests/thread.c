// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * thread.c - threads over the fake kernel: concurrent allocation never
 * hands out the same memory twice, thread exit gives every cached span
 * back (pthread key destructor), a later thread reuses those spans without
 * touching the live objects in them, explicit attach/detach, counters
 * summed over live threads, threads that outlive kgc_shutdown().
 */
#include <stdlib.h>
#include <string.h>

#include "fake_kernel.h"
#include "internal.h"
#include "tap.h"

#define NTHREADS	8
#define PER_CLASS	3

struct obj {
	unsigned char *p;
	size_t size;
};

struct worker {
	pthread_t tid;
	unsigned int id;
	pthread_barrier_t *barrier;
	struct obj objs[KGC_NR_SIZE_CLASSES * 2 * PER_CLASS + 8];
	size_t n;
	int failed;
};

static int cmp_obj(const void *a, const void *b)
{
	const struct obj *x = a, *y = b;

	return x->p < y->p ? -1 : x->p > y->p;
}

static void fill(unsigned char *p, size_t size, unsigned int tag)
{
	size_t i;

	for (i = 0; i < size; i++)
		p[i] = (unsigned char)(tag + i * 31);
}

static bool verify(const unsigned char *p, size_t size, unsigned int tag)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (p[i] != (unsigned char)(tag + i * 31))
			return false;
	return true;
}

/* Every class, scan and noscan, and two large objects; then verify all. */
static void *alloc_worker(void *arg)
{
	struct worker *w = arg;
	uint32_t c;
	int k, scan;
	size_t i;

	for (c = 1; c < KGC_NR_SIZE_CLASSES; c++)
		for (scan = 0; scan < 2; scan++)
			for (k = 0; k < PER_CLASS; k++) {
				size_t size = kgc_class_to_size[c] - k;
				unsigned char *p = scan ?
					kgc_alloc_conservative(size) :
					kgc_alloc_noscan(size);

				if (!p) {
					w->failed = 1;
					return NULL;
				}
				fill(p, size, w->id * 64 + (unsigned int)w->n);
				w->objs[w->n].p = p;
				w->objs[w->n++].size = size;
			}
	for (k = 0; k < 2; k++) {
		size_t size = 40000 + 10000 * k;
		unsigned char *p = kgc_alloc_noscan(size);

		if (!p) {
			w->failed = 1;
			return NULL;
		}
		fill(p, size, w->id * 64 + (unsigned int)w->n);
		w->objs[w->n].p = p;
		w->objs[w->n++].size = size;
	}
	pthread_barrier_wait(w->barrier);	/* all live at once */
	for (i = 0; i < w->n; i++)
		if (!verify(w->objs[i].p, w->objs[i].size,
			    w->id * 64 + (unsigned int)i))
			w->failed = 2;
	return NULL;
}

static void test_threads_never_share_objects(void)
{
	static struct worker workers[NTHREADS];
	static struct obj all[NTHREADS * ARRAY_SIZE(workers[0].objs)];
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	pthread_barrier_t barrier;
	size_t n = 0, i;
	unsigned int t;

	REQUIRE_EQ(fake_heap_init(), 0);
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (t = 0; t < NTHREADS; t++) {
		workers[t].id = t;
		workers[t].n = 0;
		workers[t].failed = 0;
		workers[t].barrier = &barrier;
		REQUIRE_EQ(pthread_create(&workers[t].tid, NULL, alloc_worker,
					  &workers[t]), 0);
	}
	for (t = 0; t < NTHREADS; t++) {
		pthread_join(workers[t].tid, NULL);
		CHECK_EQ(workers[t].failed, 0);
		memcpy(&all[n], workers[t].objs, workers[t].n * sizeof(all[0]));
		n += workers[t].n;
	}
	pthread_barrier_destroy(&barrier);
	qsort(all, n, sizeof(all[0]), cmp_obj);
	for (i = 1; i < n; i++)
		if (all[i - 1].p + all[i - 1].size > all[i].p) {
			tap_fail(__FILE__, __LINE__, "%p+%zu overlaps %p",
				 (void *)all[i - 1].p, all[i - 1].size,
				 (void *)all[i].p);
			break;
		}
	/* Exited threads gave back every span; none is cached. */
	CHECK_EQ(fake_spans_cached(), 0);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.threads, 0);
	CHECK_EQ(st.span_returns, st.refills);
	CHECK_EQ(st.alloc_large, 2 * NTHREADS);
	CHECK_EQ(st.alloc_conservative + st.alloc_noscan, n);
	CHECK_EQ(fk.nputs, st.span_returns);
	kgc_shutdown();
}

struct keeper {
	unsigned char *objs[200];
	int n;
	size_t size;
};

/* Allocate some objects and exit with them still live. */
static void *keep_worker(void *arg)
{
	struct keeper *k = arg;
	int i;

	for (i = 0; i < k->n; i++) {
		k->objs[i] = kgc_alloc_conservative(k->size);
		if (!k->objs[i])
			return NULL;
		fill(k->objs[i], k->size, (unsigned int)i);
	}
	return NULL;
}

static void *reuse_worker(void *arg)
{
	struct keeper *k = arg;
	int i;

	for (i = 0; i < k->n; i++) {
		k->objs[i] = kgc_alloc_conservative(k->size);
		if (!k->objs[i])
			return NULL;
		fill(k->objs[i], k->size, 100 + (unsigned int)i);
	}
	return NULL;
}

/*
 * Thread A leaves live objects in a partly used span and exits: the span
 * goes back at A's freeindex. Thread B gets the same span again and its
 * objects start right after A's, zeroed, leaving A's intact.
 */
static void test_span_reuse_after_thread_exit(void)
{
	struct keeper a = { .n = 100, .size = 96 }, b = { .n = 100, .size = 96 };
	struct fake_span *s;
	pthread_t t;
	int i, j;

	REQUIRE_EQ(fake_heap_init(), 0);
	fk.reuse = true;
	REQUIRE_EQ(pthread_create(&t, NULL, keep_worker, &a), 0);
	pthread_join(t, NULL);
	REQUIRE(a.objs[a.n - 1] != NULL);
	/*
	 * 96-byte spans hold 85: A filled one and used 15 of a second, which
	 * came with a third in reserve (the class's second refill asks for
	 * one more span). All three went back, in that order.
	 */
	REQUIRE_EQ(fk.nputs, 3);
	s = fake_span_of((uintptr_t)a.objs[99]);
	REQUIRE(s != NULL);
	CHECK_EQ(fk.puts[0].freeindex, 85);
	CHECK(fk.puts[1].base == s->base);
	CHECK_EQ(fk.puts[1].freeindex, 15);
	CHECK_EQ(fk.puts[2].freeindex, 0);
	CHECK(fk.puts[2].base != s->base && fk.puts[2].base != fk.puts[0].base);
	CHECK_EQ(fake_spans_cached(), 0);

	REQUIRE_EQ(pthread_create(&t, NULL, reuse_worker, &b), 0);
	pthread_join(t, NULL);
	REQUIRE(b.objs[b.n - 1] != NULL);
	CHECK(b.objs[0] == a.objs[99] + 96);	/* right after A's last */
	for (i = 0; i < a.n; i++) {
		CHECK(verify(a.objs[i], a.size, (unsigned int)i));
		for (j = 0; j < b.n; j++)
			if (a.objs[i] == b.objs[j]) {
				tap_fail(__FILE__, __LINE__,
					 "A's object %d handed to B", i);
				return;
			}
	}
	for (j = 0; j < b.n; j++)
		CHECK(verify(b.objs[j], b.size, 100 + (unsigned int)j));
	kgc_shutdown();
}

static void test_attach_detach(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	unsigned int cached;

	REQUIRE_EQ(fake_heap_init(), 0);
	CHECK_EQ(kgc_thread_attach(), 0);
	CHECK_EQ(kgc_thread_attach(), 0);	/* idempotent */
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.threads, 1);
	CHECK(kgc_curthread->stack_lo < (uintptr_t)&st &&
	      (uintptr_t)&st < kgc_curthread->stack_hi);
	CHECK(kgc_alloc_noscan(100) != NULL);
	CHECK(kgc_alloc_conservative(100) != NULL);
	CHECK(kgc_alloc_noscan(5) != NULL);
	cached = fake_spans_cached();
	CHECK_EQ(cached, 3);
	CHECK_EQ(kgc_thread_detach(), 0);
	CHECK(kgc_curthread == NULL);
	CHECK_EQ(fake_spans_cached(), 0);
	CHECK_EQ(fk.nputs, 3);
	CHECK_EQ(kgc_thread_detach(), 0);	/* not attached: nothing */
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.threads, 0);
	CHECK_EQ(st.span_returns, 3);
	CHECK_EQ(st.alloc_noscan, 2);	/* folded at detach */
	/* Allocation attaches again. */
	CHECK(kgc_alloc_noscan(100) != NULL);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.threads, 1);
	CHECK_EQ(st.alloc_noscan, 3);
	kgc_shutdown();
}

struct counter_arg {
	pthread_barrier_t *start, *done;
	int failed;
};

static void *count_worker(void *arg)
{
	struct counter_arg *c = arg;
	int i;

	for (i = 0; i < 100; i++)
		if (!kgc_alloc_noscan(24))
			c->failed = 1;
	pthread_barrier_wait(c->start);
	pthread_barrier_wait(c->done);
	return NULL;
}

static void test_counters_of_live_threads(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	pthread_barrier_t start, done;
	struct counter_arg args[4];
	pthread_t t[4];
	int i;

	REQUIRE_EQ(fake_heap_init(), 0);
	pthread_barrier_init(&start, NULL, 5);
	pthread_barrier_init(&done, NULL, 5);
	for (i = 0; i < 4; i++) {
		args[i].start = &start;
		args[i].done = &done;
		args[i].failed = 0;
		REQUIRE_EQ(pthread_create(&t[i], NULL, count_worker, &args[i]), 0);
	}
	pthread_barrier_wait(&start);
	CHECK_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.threads, 4);
	/* Counted in their cached spans: no span left a cache yet. */
	CHECK_EQ(st.alloc_noscan, 400);
	CHECK_EQ(st.bytes_allocated, 400 * 32);	/* 32-byte slots */
	pthread_barrier_wait(&done);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(args[i].failed, 0);
	}
	CHECK_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.threads, 0);
	CHECK_EQ(st.alloc_noscan, 400);	/* kept after the threads left */
	pthread_barrier_destroy(&start);
	pthread_barrier_destroy(&done);
	kgc_shutdown();
}

/*
 * Reading the counters while threads allocate (mcache_read_counts()): a
 * snapshot never counts a span twice (once as cached, once as left) nor
 * misses one. Each worker publishes how many objects it has after each
 * allocation, so a snapshot lies between the sums published before and
 * after it, give or take the one allocation per thread not yet published.
 */
#define LIVE_WORKERS	2
#define LIVE_OBJS	30000

static uint64_t live_done[LIVE_WORKERS];

static void *live_worker(void *arg)
{
	uint64_t *done = arg, i;

	for (i = 0; i < LIVE_OBJS; i++) {
		if (!kgc_alloc_noscan(48 + 16 * (i % 4)))
			break;
		__atomic_store_n(done, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static uint64_t live_sum(void)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < LIVE_WORKERS; i++)
		sum += __atomic_load_n(&live_done[i], __ATOMIC_ACQUIRE);
	return sum;
}

static void test_counters_while_threads_allocate(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	uint64_t before, after, last = 0, reads = 0, bad = 0;
	pthread_t t[LIVE_WORKERS];
	int i;

	REQUIRE_EQ(fake_heap_init(), 0);
	fk.reuse = true;
	for (i = 0; i < LIVE_WORKERS; i++) {
		live_done[i] = 0;
		REQUIRE_EQ(pthread_create(&t[i], NULL, live_worker,
					  &live_done[i]), 0);
	}
	do {
		before = live_sum();
		REQUIRE_EQ(kgc_read_stats(&st), 0);
		after = live_sum();
		reads++;
		if (st.alloc_noscan < before ||
		    st.alloc_noscan > after + LIVE_WORKERS ||
		    st.alloc_noscan < last) {
			if (!bad++)
				printf("# snapshot %llu outside [%llu, %llu + %d] or below %llu\n",
				       (unsigned long long)st.alloc_noscan,
				       (unsigned long long)before,
				       (unsigned long long)after, LIVE_WORKERS,
				       (unsigned long long)last);
		}
		last = st.alloc_noscan;
	} while (after < (uint64_t)LIVE_WORKERS * LIVE_OBJS);
	for (i = 0; i < LIVE_WORKERS; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(bad, 0);
	CHECK(reads > 1);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.alloc_noscan, (uint64_t)LIVE_WORKERS * LIVE_OBJS);
	CHECK_EQ(st.bytes_allocated,
		 (uint64_t)LIVE_WORKERS * LIVE_OBJS / 4 * (48 + 64 + 80 + 96));
	kgc_shutdown();
}

struct late_arg {
	pthread_barrier_t *b;
	int first_ok, after_errno;
	char msg[256];
};

static void *late_worker(void *arg)
{
	struct late_arg *l = arg;

	l->first_ok = kgc_alloc_noscan(100) != NULL;
	pthread_barrier_wait(l->b);	/* main shuts down */
	pthread_barrier_wait(l->b);
	errno = 0;
	if (kgc_alloc_noscan(100) == NULL)
		l->after_errno = errno;
	snprintf(l->msg, sizeof(l->msg), "%s", kgc_last_error());
	return NULL;	/* the destructor frees the orphaned state */
}

static void test_thread_outlives_shutdown(void)
{
	struct late_arg l;
	pthread_barrier_t b;
	pthread_t t;

	memset(&l, 0, sizeof(l));
	REQUIRE_EQ(fake_heap_init(), 0);
	pthread_barrier_init(&b, NULL, 2);
	l.b = &b;
	REQUIRE_EQ(pthread_create(&t, NULL, late_worker, &l), 0);
	pthread_barrier_wait(&b);
	kgc_shutdown();
	pthread_barrier_wait(&b);
	pthread_join(t, NULL);
	CHECK(l.first_ok);
	CHECK_EQ(l.after_errno, EINVAL);
	CHECK_STR_CONTAINS(l.msg, "shut down");
	pthread_barrier_destroy(&b);
}

TAP_MAIN(
	TAP_CASE(test_threads_never_share_objects),
	TAP_CASE(test_span_reuse_after_thread_exit),
	TAP_CASE(test_attach_detach),
	TAP_CASE(test_counters_of_live_threads),
	TAP_CASE(test_counters_while_threads_allocate),
	TAP_CASE(test_thread_outlives_shutdown),
)
