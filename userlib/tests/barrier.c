// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * barrier.c - kgc_store() and the write-barrier buffer: off it is a plain
 * store; on it records the old and the new value; flushes (buffer full,
 * safepoint, blocking region, detach) hand the heap pointers, filtered, to
 * the sink; a store never fails.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_kernel.h"
#include "internal.h"
#include "tap.h"

static uint64_t sunk[4 * KGC_WBBUF_ENTRIES];
static size_t nsunk, nsinks;

static void sink(const uint64_t *ptrs, size_t n)
{
	size_t i;

	nsinks++;
	for (i = 0; i < n && nsunk < ARRAY_SIZE(sunk); i++)
		sunk[nsunk++] = ptrs[i];
}

static void reset_sink(void)
{
	nsunk = nsinks = 0;
	kgc_heap.wb_sink = sink;
}

static void test_filter(void)
{
	const uintptr_t lo = 0x10000, hi = 0x20000;
	uint64_t v[] = {
		0, lo - 1, lo, lo, hi - 8, hi, 5, lo + 8, lo + 8, lo + 8, lo,
		UINT64_MAX,
	};
	uint64_t want[] = { lo, hi - 8, lo + 8, lo };
	size_t n = wbbuf_filter(v, ARRAY_SIZE(v), lo, hi), i;

	REQUIRE_EQ(n, ARRAY_SIZE(want));
	for (i = 0; i < n; i++)
		CHECK_EQ(v[i], want[i]);
	CHECK_EQ(wbbuf_filter(v, 0, lo, hi), 0);
}

static void test_store_barrier_off(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	void **obj;
	void *other;

	REQUIRE_EQ(fake_heap_init(), 0);
	reset_sink();
	obj = kgc_alloc_conservative(16);
	other = kgc_alloc_conservative(16);
	REQUIRE(obj && other);
	kgc_store(&obj[0], other);
	KGC_STORE(obj[1], obj);
	CHECK(obj[0] == other && obj[1] == (void *)obj);
	CHECK_EQ(kgc_curthread->wbbuf.next, 0);
	kgc_safepoint();
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.barrier_records, 0);
	CHECK_EQ(st.barrier_flushes, 0);
	CHECK_EQ(nsinks, 0);
	kgc_shutdown();
}

static void test_store_barrier_on_records_old_and_new(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	void **obj, *a, *b;
	int notheap;

	REQUIRE_EQ(fake_heap_init(), 0);
	reset_sink();
	obj = kgc_alloc_conservative(16);
	a = kgc_alloc_noscan(64);
	b = kgc_alloc_noscan(64);
	REQUIRE(obj && a && b);
	obj[0] = a;
	kgc_write_barrier_enabled = 1;
	kgc_store(&obj[0], b);		/* old a, new b */
	kgc_store(&obj[1], &notheap);	/* old NULL, new not in heap */
	kgc_write_barrier_enabled = 0;
	CHECK(obj[0] == b && obj[1] == (void *)&notheap);
	REQUIRE_EQ(kgc_curthread->wbbuf.next, 4);
	CHECK(kgc_curthread->wbbuf.buf[0] == (uintptr_t)a);
	CHECK(kgc_curthread->wbbuf.buf[1] == (uintptr_t)b);
	CHECK(kgc_curthread->wbbuf.buf[2] == 0);
	CHECK(kgc_curthread->wbbuf.buf[3] == (uintptr_t)&notheap);
	kgc_safepoint();
	CHECK_EQ(kgc_curthread->wbbuf.next, 0);
	REQUIRE_EQ(nsunk, 2);
	CHECK(sunk[0] == (uintptr_t)a && sunk[1] == (uintptr_t)b);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.barrier_records, 4);
	CHECK_EQ(st.barrier_flushes, 1);
	CHECK_EQ(st.barrier_shaded, 2);
	kgc_shutdown();
}

static void test_full_buffer_flushes(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	void **arr;
	size_t i, stores = KGC_WBBUF_ENTRIES / 2 + 10;

	REQUIRE_EQ(fake_heap_init(), 0);
	reset_sink();
	arr = kgc_alloc_conservative(stores * sizeof(void *));
	REQUIRE(arr != NULL);
	kgc_write_barrier_enabled = 1;
	for (i = 0; i < stores; i++)
		kgc_store(&arr[i], &arr[(i + 1) % stores]);
	kgc_write_barrier_enabled = 0;
	/* The first KGC_WBBUF_ENTRIES / 2 stores went out when it filled. */
	CHECK_EQ(nsinks, 1);
	CHECK_EQ(nsunk, KGC_WBBUF_ENTRIES / 2);	/* NULL old values dropped */
	CHECK(sunk[0] == (uintptr_t)&arr[1]);
	CHECK_EQ(kgc_curthread->wbbuf.next, 20);
	/* A blocking region flushes the rest, once, and nests. */
	kgc_blocking_begin();
	kgc_blocking_begin();
	CHECK_EQ(kgc_curthread->blocking, 2);
	kgc_blocking_end();
	kgc_blocking_end();
	kgc_blocking_end();	/* unbalanced: ignored */
	CHECK_EQ(kgc_curthread->blocking, 0);
	CHECK_EQ(nsinks, 2);
	CHECK_EQ(nsunk, stores);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.barrier_records, 2 * stores);
	CHECK_EQ(st.barrier_flushes, 2);
	CHECK_EQ(st.barrier_shaded, stores);
	kgc_shutdown();
}

static void *unattached_store(void *arg)
{
	void **slot = arg;

	kgc_store(slot, slot);	/* attaches, records, detaches at exit */
	return NULL;
}

static void test_unattached_thread_and_detach_flush(void)
{
	void **obj;
	pthread_t t;

	REQUIRE_EQ(fake_heap_init(), 0);
	reset_sink();
	obj = kgc_alloc_conservative(8);
	REQUIRE(obj != NULL);
	kgc_write_barrier_enabled = 1;
	REQUIRE_EQ(pthread_create(&t, NULL, unattached_store, obj), 0);
	pthread_join(t, NULL);
	kgc_write_barrier_enabled = 0;
	CHECK(obj[0] == (void *)obj);
	/* Flushed by the exiting thread's detach. */
	REQUIRE_EQ(nsunk, 1);
	CHECK(sunk[0] == (uintptr_t)obj);
	kgc_shutdown();
}

static void test_store_without_heap(void)
{
	void *slot = NULL;
	int x;

	kgc_shutdown();
	kgc_write_barrier_enabled = 1;
	errno = 42;
	kgc_store(&slot, &x);
	CHECK(slot == (void *)&x);
	CHECK_EQ(errno, 42);
	kgc_write_barrier_enabled = 0;
}

TAP_MAIN(
	TAP_CASE(test_filter),
	TAP_CASE(test_store_barrier_off),
	TAP_CASE(test_store_barrier_on_records_old_and_new),
	TAP_CASE(test_full_buffer_flushes),
	TAP_CASE(test_unattached_thread_and_detach_flush),
	TAP_CASE(test_store_without_heap),
)
