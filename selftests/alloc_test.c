// SPDX-License-Identifier: GPL-2.0
/*
 * alloc_test - libkgc allocation against the real kgc.ko: every size class,
 * the tiny allocator, precise/conservative/noscan objects, large objects
 * and kgc_free(), statistics, bad sizes, running out of memory, shutdown
 * and init again, fork children, roots; and the collector seen from one
 * thread: what is reachable survives kgc_gc(), what is not is reclaimed,
 * settings and statistics.
 *
 * One fixture per initialised heap (kgc_init() in the setup, kgc_shutdown()
 * in the teardown); the harness forks a process per test, so each test has
 * a fresh heap of its own.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kgc_cgroup_util.h"
#include "kgc_lib_util.h"

struct node {
	struct node *next;
	long value;
	struct node *prev;
};

static const uint64_t node_ptrmap[] = {
	KGC_PTRBIT(struct node, next) | KGC_PTRBIT(struct node, prev),
};
static const struct kgc_type node_type = {
	.size = sizeof(struct node), .ptrmap = node_ptrmap, .name = "node",
};
static const struct kgc_type plain_type = {
	.size = 16, .ptrmap = NULL, .name = "plain",
};

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

/* A heap of one 64 MiB arena, to run out of. */
FIXTURE(small_heap) {
	bool ready;
};

FIXTURE_SETUP(small_heap)
{
	HEAP_SETUP(self, KGC_ARENA_SIZE);
}

FIXTURE_TEARDOWN(small_heap)
{
	kgc_shutdown();
}

/*
 * Every size class, scan and noscan, at its smallest and largest size:
 * aligned, zeroed, and no two objects share a byte.
 */
TEST_F(heap, every_size_class)
{
	static struct obj objs[KGC_NR_SIZE_CLASSES * 2 * 2 * 2];
	size_t n = 0, i;
	unsigned int c, round;
	long bad;
	int scan;

	HEAP_REQUIRED();
	for (round = 0; round < 2; round++)
		for (scan = 0; scan < 2; scan++)
			for (c = 1; c < KGC_NR_SIZE_CLASSES; c++) {
				size_t sizes[2] = { class_size[c - 1] + 1,
						    class_size[c] };
				int k;

				for (k = 0; k < 2; k++) {
					size_t size = sizes[k];
					unsigned char *p;

					if (!scan && size < 16)
						continue;	/* tiny */
					p = scan ? kgc_alloc_conservative(size) :
						   kgc_alloc_noscan(size);
					ASSERT_NE(NULL, p) TH_LOG("%zu bytes: %s",
						size, kgc_last_error());
					ASSERT_EQ(0, (uintptr_t)p % 8);
					if (size >= 16)
						ASSERT_EQ(0, (uintptr_t)p % 16);
					ASSERT_TRUE(all_zero(p, size))
						TH_LOG("%zu bytes at %p not zero",
						       size, p);
					fill(p, size, (unsigned int)n);
					objs[n].p = p;
					objs[n++].size = size;
				}
			}
	for (i = 0; i < n; i++)
		ASSERT_TRUE(verify(objs[i].p, objs[i].size, (unsigned int)i))
			TH_LOG("object %zu (%zu bytes) overwritten", i,
			       objs[i].size);
	bad = first_overlap(objs, n);
	ASSERT_EQ(-1, bad) TH_LOG("%p+%zu overlaps %p", objs[bad - 1].p,
				  objs[bad - 1].size, objs[bad].p);
}

/* Small pointer-free objects share 16-byte blocks, naturally aligned. */
TEST_F(heap, tiny_allocator)
{
	static struct obj objs[4000];
	struct kgc_heap_stats st;
	unsigned char *a, *b, *c, *d;
	size_t i, blocks = 0;
	uintptr_t last_block = 0;
	long bad;

	HEAP_REQUIRED();
	a = kgc_alloc_noscan(8);
	b = kgc_alloc_noscan(4);
	c = kgc_alloc_noscan(2);
	d = kgc_alloc_noscan(1);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, (uintptr_t)a % 16);
	ASSERT_EQ(a + 8, b);
	ASSERT_EQ(a + 12, c);
	ASSERT_EQ(a + 14, d);
	ASSERT_EQ(a + 16, kgc_alloc_noscan(4));	/* 15 + 4 > 16: next block */

	for (i = 0; i < 4000; i++) {
		size_t size = 1 + i % 15;
		unsigned char *p = kgc_alloc_noscan(size);

		ASSERT_NE(NULL, p);
		if (size % 8 == 0)
			ASSERT_EQ(0, (uintptr_t)p % 8);
		if (size % 4 == 0)
			ASSERT_EQ(0, (uintptr_t)p % 4);
		if (size % 2 == 0)
			ASSERT_EQ(0, (uintptr_t)p % 2);
		ASSERT_TRUE(all_zero(p, size));
		fill(p, size, (unsigned int)i);
		objs[i].p = p;
		objs[i].size = size;
		if (((uintptr_t)p & ~15UL) != last_block) {
			blocks++;
			last_block = (uintptr_t)p & ~15UL;
		}
	}
	/*
	 * 4000 objects of 8 bytes on average pack into about 2665 blocks
	 * (alignment costs the rest); one block each would be 4000.
	 */
	ASSERT_LT(blocks, 2800);
	for (i = 0; i < 4000; i++)
		ASSERT_TRUE(verify(objs[i].p, objs[i].size, (unsigned int)i));
	bad = first_overlap(objs, 4000);
	ASSERT_EQ(-1, bad);
	st = read_stats();
	ASSERT_NE(0, st.sz);
	ASSERT_EQ(4005, st.alloc_tiny);
	ASSERT_EQ(4005, st.alloc_noscan);
}

/* Precise, conservative and noscan objects hold what the program stores. */
TEST_F(heap, object_kinds)
{
	struct node *head = NULL, *n, *prev = NULL;
	struct kgc_heap_stats st;
	void **vec;
	char *text, *plain;
	long i, sum = 0;

	HEAP_REQUIRED();
	for (i = 0; i < 1000; i++) {
		n = kgc_alloc(sizeof(*n), &node_type);
		ASSERT_NE(NULL, n) TH_LOG("%s", kgc_last_error());
		ASSERT_EQ(NULL, n->next);
		ASSERT_EQ(0, n->value);
		n->value = i;
		KGC_STORE(n->next, head);
		KGC_STORE(n->prev, prev);
		head = n;
		prev = n;
	}
	for (n = head; n; n = n->next)
		sum += n->value;
	ASSERT_EQ(999 * 1000 / 2, sum);

	n = kgc_alloc_array(&node_type, 100);
	ASSERT_NE(NULL, n);
	ASSERT_EQ(0, (uintptr_t)n % 16);
	ASSERT_TRUE(all_zero(n, 100 * sizeof(*n)));
	kgc_store((void **)&n[99].next, head);
	ASSERT_EQ(head, n[99].next);

	vec = kgc_alloc_conservative(64 * sizeof(void *));
	ASSERT_NE(NULL, vec);
	for (i = 0; i < 64; i++)
		kgc_store(&vec[i], head);

	text = kgc_alloc_noscan(1000);
	ASSERT_NE(NULL, text);
	snprintf(text, 1000, "kgc noscan text");
	ASSERT_EQ(0, strcmp(text, "kgc noscan text"));

	plain = kgc_alloc(16, &plain_type);	/* no pointers: noscan */
	ASSERT_NE(NULL, plain);

	st = read_stats();
	ASSERT_NE(0, st.sz);
	ASSERT_EQ(1000 + 1 + 1, st.alloc_precise);
	ASSERT_EQ(1, st.alloc_conservative);
	ASSERT_EQ(1, st.alloc_noscan);
	/* Slot bytes (kgc_read_stats(3)): each object's size class. */
	ASSERT_EQ(1000 * slot_size(24) + slot_size(2400) + slot_size(512) +
		  slot_size(1000) + slot_size(16), st.bytes_allocated);
}

/* Large objects: page-aligned, zeroed, freed explicitly, zeroed on reuse. */
TEST_F(heap, large_objects)
{
	struct kgc_heap_stats st;
	unsigned char *big, *mid, *again, *small;
	int x;

	HEAP_REQUIRED();
	big = kgc_alloc_noscan(1 << 20);
	mid = kgc_alloc_conservative(100000);
	ASSERT_NE(NULL, big) TH_LOG("%s", kgc_last_error());
	ASSERT_NE(NULL, mid) TH_LOG("%s", kgc_last_error());
	ASSERT_EQ(0, (uintptr_t)big % KGC_PAGE_SIZE);
	ASSERT_EQ(0, (uintptr_t)mid % KGC_PAGE_SIZE);
	ASSERT_TRUE(all_zero(big, 1 << 20));
	ASSERT_TRUE(all_zero(mid, 100000));
	memset(big, 0xaa, 1 << 20);
	fill(mid, 100000, 1);

	st = read_stats();
	ASSERT_NE(0, st.sz);
	ASSERT_EQ(2, st.large_objects);
	ASSERT_LE((1 << 20) + 100000, st.large_bytes);
	ASSERT_EQ(2, st.alloc_large);

	ASSERT_EQ(0, kgc_free(big));
	ASSERT_EQ(-EINVAL, kgc_free(big));	/* twice */
	ASSERT_EQ(-EINVAL, kgc_free(mid + 8));	/* interior */
	ASSERT_EQ(-EINVAL, kgc_free(&x));	/* not the heap */
	ASSERT_EQ(0, kgc_free(NULL));
	small = kgc_alloc_noscan(100);
	small = kgc_alloc_noscan(100);	/* not the first of its span */
	ASSERT_EQ(-EINVAL, kgc_free(small));
	ASSERT_NE(NULL, strstr(kgc_last_error(), "collector"));

	st = read_stats();
	ASSERT_EQ(1, st.large_objects);
	ASSERT_EQ(1, st.frees_large);

	/* The freed pages come back zeroed. */
	again = kgc_alloc_noscan(1 << 20);
	ASSERT_NE(NULL, again);
	ASSERT_TRUE(all_zero(again, 1 << 20));
	ASSERT_TRUE(verify(mid, 100000, 1));
}

/* The counters move with what the program does. */
TEST_F(heap, stats_move)
{
	struct kgc_heap_stats a, b;
	unsigned char *p = NULL;
	int i;

	HEAP_REQUIRED();
	a = read_stats();
	ASSERT_NE(0, a.sz);
	ASSERT_EQ(TEST_HEAP_RESERVE, a.heap_reserved);
	ASSERT_EQ(100, a.gc_percent);
	ASSERT_EQ(KGC_NO_MEMORY_LIMIT, a.memory_limit);
	ASSERT_EQ(0, a.alloc_noscan);

	/*
	 * 64-byte objects, 128 to a span: three spans in two refill calls
	 * (the class's second call brings one more in reserve). One used-up
	 * span went back with the second call; the second waits for the
	 * next one.
	 */
	for (i = 0; i < 3 * 128; i++) {
		p = kgc_alloc_noscan(64);
		ASSERT_NE(NULL, p);
		memset(p, 1, 64);
	}
	b = read_stats();
	ASSERT_EQ(3 * 128, b.alloc_noscan);
	ASSERT_EQ(3 * 128 * 64, b.bytes_allocated);
	ASSERT_EQ(a.refills + 3, b.refills);
	ASSERT_EQ(a.span_returns + 1, b.span_returns);
	ASSERT_EQ(a.kernel_refills + 2, b.kernel_refills);
	/* The attach, two refills and this stats call (two ioctls). */
	ASSERT_EQ(a.syscalls + 5, b.syscalls);
	/* The third, and the second waiting to go back. */
	ASSERT_EQ(a.spans_cached + 2, b.spans_cached);
	ASSERT_LE(3 * KGC_PAGE_SIZE, b.heap_inuse);
	ASSERT_LE(3 * KGC_PAGE_SIZE, b.heap_resident);
	ASSERT_LE(a.faults + 3, b.faults);
	ASSERT_LE(1, b.arenas);
	ASSERT_LE(KGC_ARENA_SIZE, b.heap_sys);
	ASSERT_EQ(1, b.threads);
}

/* Bad sizes fail with the documented errno and a message, no allocation
 * syscall. */
TEST_F(heap, bad_sizes)
{
	const struct kgc_type odd = { .size = 12, .ptrmap = node_ptrmap };
	volatile size_t huge = SIZE_MAX;
	struct kgc_heap_stats a, b;

	HEAP_REQUIRED();
	a = read_stats();
	errno = 0;
	ASSERT_EQ(NULL, kgc_alloc_noscan(0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(NULL, kgc_alloc_conservative(0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(NULL, kgc_alloc(0, &node_type));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(NULL, kgc_alloc(25, &node_type));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(NULL, kgc_alloc(16, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(NULL, kgc_alloc(12, &odd));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(NULL, kgc_alloc_array(&node_type, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(NULL, kgc_alloc_array(&node_type, SIZE_MAX / 16));
	ASSERT_EQ(EOVERFLOW, errno);
	ASSERT_EQ(NULL, kgc_alloc_noscan(huge));
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_EQ(NULL, kgc_alloc_conservative(TEST_HEAP_RESERVE + 1));
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_EQ(0, strncmp(kgc_last_error(), "kgc: ", 5));
	b = read_stats();
	/* The attach (by the first allocation, even one that fails) and the
	 * stats call: no allocation reached the kernel. */
	ASSERT_EQ(a.syscalls + 3, b.syscalls);
	ASSERT_EQ(0, b.alloc_noscan + b.alloc_conservative + b.alloc_precise);
}

/* Running out: ENOMEM with a message, and memory freed is usable again. */
TEST_F(small_heap, out_of_memory)
{
	void *objs[64];
	int n, i;

	HEAP_REQUIRED();
	/* Without the collector: what is dropped below stays allocated. */
	ASSERT_EQ(0, kgc_set_gc_percent(KGC_GOGC_OFF));
	for (n = 0; n < 64; n++) {
		objs[n] = kgc_alloc_noscan(4 << 20);
		if (!objs[n])
			break;
	}
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_NE(NULL, strstr(kgc_last_error(), "out of memory"));
	ASSERT_LE(8, n);
	ASSERT_GE(16, n);
	/* Small objects fail cleanly too once no page is left. */
	for (i = 0; i < 100000; i++)
		if (!kgc_alloc_noscan(4096))
			break;
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_EQ(NULL, kgc_alloc_noscan(4096));
	ASSERT_EQ(ENOMEM, errno);
	/* Give one large object back: its pages serve the next requests. */
	ASSERT_EQ(0, kgc_free(objs[0]));
	ASSERT_NE(NULL, kgc_alloc_noscan(2 << 20));
	ASSERT_NE(NULL, kgc_alloc_noscan(4096));
}

/* After kgc_shutdown() calls fail; kgc_init() gives a fresh heap. */
TEST_F(heap, shutdown_and_init_again)
{
	struct kgc_heap_stats st;
	void *p;

	HEAP_REQUIRED();
	ASSERT_NE(NULL, kgc_alloc_noscan(100));
	ASSERT_EQ(-EBUSY, test_heap_init(TEST_HEAP_RESERVE));
	ASSERT_NE(NULL, kgc_alloc_noscan(100));	/* still usable */

	kgc_shutdown();
	errno = 0;
	ASSERT_EQ(NULL, kgc_alloc_noscan(100));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_NE(NULL, strstr(kgc_last_error(), "shut down"));
	st = read_stats();
	ASSERT_EQ(0, st.sz);
	ASSERT_EQ(-EINVAL, kgc_thread_attach());
	kgc_shutdown();	/* twice: nothing */

	/* The kernel dropped the old heap: a new one can be opened. */
	ASSERT_EQ(0, test_heap_init(TEST_HEAP_RESERVE)) TH_LOG("%s",
							      kgc_last_error());
	p = kgc_alloc_noscan(100);
	ASSERT_NE(NULL, p);
	ASSERT_TRUE(all_zero(p, 100));
	st = read_stats();
	ASSERT_EQ(1, st.alloc_noscan);
}

/* A fork child has no heap (not inherited) but may open its own. */
TEST_F(heap, fork_child)
{
	unsigned char *p;
	int status;
	pid_t pid;

	HEAP_REQUIRED();
	p = kgc_alloc_noscan(4096);
	ASSERT_NE(NULL, p);
	fill(p, 4096, 3);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int bad = 0;
		void *q;

		errno = 0;
		bad |= kgc_alloc_noscan(100) != NULL;
		bad |= (errno != EINVAL) << 1;
		bad |= !strstr(kgc_last_error(), "fork") << 2;
		bad |= (test_heap_init(TEST_HEAP_RESERVE) != 0) << 3;
		q = kgc_alloc_noscan(4096);
		bad |= (q == NULL) << 4;
		if (q)
			memset(q, 0x55, 4096);
		kgc_shutdown();
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_TRUE(verify(p, 4096, 3));
	ASSERT_NE(NULL, kgc_alloc_noscan(100));
}

static void *global_roots[16];

/* Root ranges: registered, refused where they make no sense, removed. */
TEST_F(heap, roots)
{
	struct kgc_heap_stats st;
	uint64_t map = 0x5;
	void *obj;

	HEAP_REQUIRED();
	ASSERT_EQ(0, kgc_add_roots(global_roots, sizeof(global_roots), NULL));
	ASSERT_EQ(-EEXIST, kgc_add_roots(&global_roots[4], 8, &map));
	ASSERT_EQ(-EINVAL, kgc_add_roots((char *)global_roots + 1, 8, NULL));
	obj = kgc_alloc_conservative(64);
	ASSERT_NE(NULL, obj);
	ASSERT_EQ(-EINVAL, kgc_add_roots(obj, 64, NULL));
	kgc_store(&global_roots[0], obj);
	st = read_stats();
	ASSERT_EQ(1, st.roots);
	ASSERT_EQ(sizeof(global_roots), st.root_bytes);
	ASSERT_EQ(0, kgc_remove_roots(global_roots));
	ASSERT_EQ(-ENOENT, kgc_remove_roots(global_roots));
	st = read_stats();
	ASSERT_EQ(0, st.roots);
}

/* Collector settings go to the kernel and are reported. */
TEST_F(heap, gc_settings)
{
	struct kgc_heap_stats st;

	HEAP_REQUIRED();
	ASSERT_EQ(0, kgc_set_gc_percent(300));
	ASSERT_EQ(0, kgc_set_memory_limit(128 << 20));
	ASSERT_EQ(-EINVAL, kgc_set_gc_percent(-5));
	ASSERT_EQ(-EINVAL, kgc_set_memory_limit(-5));
	st = read_stats();
	ASSERT_EQ(300, st.gc_percent);
	ASSERT_EQ(128 << 20, st.memory_limit);
	/* The goal is capped at 95% of the limit, and at least 4 MiB. */
	ASSERT_LE(4 << 20, st.next_gc);
	ASSERT_GE((128 << 20) / 20 * 19, st.next_gc);
	ASSERT_EQ(0, kgc_gc());
	st = read_stats();
	ASSERT_LE(1, st.num_gc);
	ASSERT_LE(1, st.num_forced_gc);
	ASSERT_LT(0, st.pause_total_ns);
	ASSERT_LT(0, st.last_gc_ns);
	ASSERT_EQ(0, st.checkmark_errors);
	ASSERT_TRUE(st.gc_cpu_fraction >= 0 && st.gc_cpu_fraction < 1);
	ASSERT_EQ(0, kgc_set_gc_percent(KGC_GOGC_OFF));
	ASSERT_EQ(0, kgc_set_memory_limit(KGC_NO_MEMORY_LIMIT));
	st = read_stats();
	ASSERT_EQ(KGC_GOGC_OFF, st.gc_percent);
}

/* A list reachable from a local, a tree from a registered global. */
static struct node *global_tree;

static struct node *build_tree(int depth, long *n)
{
	struct node *t = kgc_alloc(sizeof(*t), &node_type);

	if (!t)
		return NULL;
	t->value = (*n)++;
	if (depth > 0) {
		/* A fresh, unpublished object: plain stores are fine. */
		t->next = build_tree(depth - 1, n);
		t->prev = build_tree(depth - 1, n);
	}
	return t;
}

static long tree_sum(const struct node *t)
{
	return t ? t->value + tree_sum(t->next) + tree_sum(t->prev) : 0;
}

/*
 * What the program reaches survives collections (from its stack, a
 * registered global, inside conservative and precise objects); what it
 * dropped is reclaimed and its memory reused.
 */
TEST_F(heap, collection_keeps_reachable_frees_garbage)
{
	struct kgc_heap_stats a, b;
	struct node *list = NULL, *n;
	void **vec;
	long i, count = 0, sum;
	int round;

	HEAP_REQUIRED();
	ASSERT_EQ(0, kgc_add_roots(&global_tree, sizeof(global_tree), NULL));
	KGC_STORE(global_tree, build_tree(8, &count));
	ASSERT_NE(NULL, global_tree);
	sum = tree_sum(global_tree);
	for (i = 0; i < 2000; i++) {
		n = kgc_alloc(sizeof(*n), &node_type);
		ASSERT_NE(NULL, n);
		n->value = i;
		n->next = list;		/* fresh */
		list = n;
	}
	vec = kgc_alloc_conservative(100 * sizeof(void *));
	ASSERT_NE(NULL, vec);
	for (i = 0; i < 100; i++)
		kgc_store(&vec[i], kgc_alloc_noscan(100));
	a = read_stats();
	for (round = 0; round < 3; round++) {
		/* 20 MiB of garbage per round. */
		for (i = 0; i < 20 * 1024; i++)
			ASSERT_NE(NULL, kgc_alloc_noscan(1024));
		ASSERT_EQ(0, kgc_gc());
	}
	b = read_stats();
	ASSERT_LE(a.num_gc + 3, b.num_gc);
	/* The garbage went: the heap did not grow by 60 MiB. */
	ASSERT_GT(a.heap_inuse + (30 << 20), b.heap_inuse)
		TH_LOG("heap in use %llu -> %llu",
		       (unsigned long long)a.heap_inuse,
		       (unsigned long long)b.heap_inuse);
	ASSERT_GT(b.heap_marked, 2000 * 24);
	ASSERT_LT(b.heap_marked, 8 << 20);
	/* And what is reachable is intact. */
	ASSERT_EQ(sum, tree_sum(global_tree));
	for (i = 1999, n = list; n; n = n->next, i--)
		ASSERT_EQ(i, n->value);
	ASSERT_EQ(-1, i);
	for (i = 0; i < 100; i++)
		ASSERT_NE(NULL, vec[i]);
	printf("# %llu cycles, %llu bytes marked, pauses %.3f ms total, %.1f%% CPU\n",
	       (unsigned long long)b.num_gc,
	       (unsigned long long)b.heap_marked,
	       b.pause_total_ns / 1e6, b.gc_cpu_fraction * 100);
	KGC_STORE(global_tree, NULL);
	ASSERT_EQ(0, kgc_remove_roots(&global_tree));
}

#define IDLE_OBJ	1024
#define IDLE_KEEP	4096		/* 4 MiB stays live */
static unsigned char *idle_keep[IDLE_KEEP];

/*
 * A process that drops most of its heap and goes idle gets its memory
 * back without any call: no refill for the module's idle_ms (1 s) starts
 * one collection of what was dropped since the last cycle, and the
 * scavenger then gives back every free page, not just down to its goal
 * (10% over the heap goal, twice the live heap). Within a few seconds the
 * heap's resident pages are within 1.2x the live data (the phase
 * benchmark's criterion), VmRSS has come down as far, and the live
 * objects are intact.
 */
TEST_F_TIMEOUT(heap, idle_heap_returns_to_live, 120)
{
	const uint64_t live = (uint64_t)IDLE_KEEP * IDLE_OBJ;
	struct kgc_heap_stats a, b;
	long rss0, rss1, rss2;
	struct timespec t0, t1;
	double waited;
	long i;

	HEAP_REQUIRED();
	ASSERT_EQ(0, kgc_add_roots(idle_keep, sizeof(idle_keep), NULL));
	rss0 = status_kb("VmRSS:");
	for (i = 0; i < IDLE_KEEP; i++) {
		idle_keep[i] = kgc_alloc_noscan(IDLE_OBJ);
		ASSERT_NE(NULL, idle_keep[i]);
		memset(idle_keep[i], (int)(i & 0xff) | 1, IDLE_OBJ);
	}
	/*
	 * 28 MiB of garbage: the pacer collects on the way. The idle cycle
	 * needs garbage made since the last cycle, 1/16 of what that cycle
	 * marked (kgc_pacer_idle_gc()); if the pacer's last cycle ended just
	 * before the loop did, make twice as much more.
	 */
	for (i = 0; i < 32 * 1024; i++) {
		unsigned char *p;

		if (i >= 28 * 1024 && !(i % 64)) {
			a = read_stats();
			ASSERT_NE(0, a.sz);
			if (a.heap_live >= a.heap_marked + (a.heap_marked >> 3) +
			    (256 << 10))
				break;
		}
		p = kgc_alloc_noscan(IDLE_OBJ);
		ASSERT_NE(NULL, p);
		memset(p, 0x5a, IDLE_OBJ);
	}
	a = read_stats();
	ASSERT_NE(0, a.sz);
	rss1 = status_kb("VmRSS:");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		usleep(100000);
		b = read_stats();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		waited = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	} while ((b.num_gc == a.num_gc || b.heap_resident * 5 > live * 6) &&
		 waited < 60);
	rss2 = status_kb("VmRSS:");
	printf("# after %.1f s idle: %llu -> %llu cycles, heap resident %llu KiB (live %llu KiB), VmRSS +%ld -> +%ld KiB\n",
	       waited, (unsigned long long)a.num_gc,
	       (unsigned long long)b.num_gc,
	       (unsigned long long)b.heap_resident >> 10,
	       (unsigned long long)live >> 10, rss1 - rss0, rss2 - rss0);
	/* One cycle for the idle process, not asked for by anybody. */
	ASSERT_LT(a.num_gc, b.num_gc);
	ASSERT_EQ(a.num_forced_gc, b.num_forced_gc);
	/* Idle means idle: the wait took no span. */
	ASSERT_EQ(a.refills, b.refills);
	ASSERT_GE(live * 6 / 5, b.heap_resident);
	ASSERT_LE(live, b.heap_marked);
	/*
	 * The process as a whole: from about its heap goal (twice the live
	 * data: the pacer collected on the way) to within 1.2x live + 1 MiB.
	 */
	ASSERT_LT((long)(live * 3 / 2 >> 10), rss1 - rss0);
	ASSERT_GE((long)(live * 6 / 5 >> 10) + 1024, rss2 - rss0);
	for (i = 0; i < IDLE_KEEP; i++) {
		ASSERT_EQ((int)(i & 0xff) | 1, idle_keep[i][0]);
		ASSERT_EQ((int)(i & 0xff) | 1, idle_keep[i][IDLE_OBJ - 1]);
	}
	ASSERT_EQ(0, kgc_remove_roots(idle_keep));
}

/*
 * Without a limit of its own, a program's memory limit is its cgroup's
 * memory.max, and follows it: a new memory.max applies from the next
 * cycle on. KGC_MEMLIMIT or kgc_set_memory_limit() replace it.
 */
TEST(memory_max_is_the_default_limit)
{
	struct kgc_heap_stats st;
	char cg[256];
	int ret;

	ret = cg_enter(cg, sizeof(cg));
	if (ret)
		SKIP(return, "no memory cgroup (%d)", ret);
	ASSERT_EQ(0, cg_set(cg, "memory.max", 300 << 20));
	ret = test_heap_init(TEST_HEAP_RESERVE);
	if (ret == -ENOENT) {
		cg_leave(cg);
		SKIP(return, "%s", kgc_last_error());
	}
	ASSERT_EQ(0, ret);
	st = read_stats();
	ASSERT_NE(0, st.sz);
	EXPECT_EQ(300 << 20, st.memory_limit);
	EXPECT_GE((300 << 20) / 20 * 19, st.next_gc);
	ASSERT_EQ(0, cg_set(cg, "memory.max", 200 << 20));
	ASSERT_EQ(0, kgc_gc());
	st = read_stats();
	EXPECT_EQ(200 << 20, st.memory_limit);
	ASSERT_EQ(0, kgc_set_memory_limit(KGC_NO_MEMORY_LIMIT));
	ASSERT_EQ(0, cg_set(cg, "memory.max", 100 << 20));
	ASSERT_EQ(0, kgc_gc());
	st = read_stats();
	EXPECT_EQ(KGC_NO_MEMORY_LIMIT, st.memory_limit);
	kgc_shutdown();
	cg_leave(cg);
}

/* gctrace prints one line per cycle on stderr. */
TEST(gctrace_lines)
{
	KGC_OPTS(opts, .heap_reserve = TEST_HEAP_RESERVE,
		 .debug = KGC_DEBUG_GCTRACE, .flags = KGC_INIT_NOENV);
	char path[] = "/tmp/gctrace-XXXXXX", buf[8192];
	int fd = mkstemp(path), saved = dup(2), ret;
	ssize_t n;

	ASSERT_LE(0, fd);
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	ret = kgc_init(&opts);
	if (ret == 0) {
		ret = kgc_alloc_noscan(100) ? kgc_gc() : -ENOMEM;
		if (!ret)
			ret = kgc_gc();
		kgc_shutdown();
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	if (ret == -ENOENT) {
		close(fd);
		SKIP(return, "%s", kgc_last_error());
	}
	ASSERT_EQ(0, ret);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = 0;
	{
		char *line, *save = NULL, copy[sizeof(buf)];

		memcpy(copy, buf, (size_t)n + 1);
		for (line = strtok_r(copy, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			printf("# %s\n", line);	/* "gc 1 @0.004s ..." */
	}
	ASSERT_NE(NULL, strstr(buf, "\ngc 1 @"));
	ASSERT_NE(NULL, strstr(buf, "\ngc 2 @"));
	ASSERT_NE(NULL, strstr(buf, "ms clock"));
	ASSERT_NE(NULL, strstr(buf, "(forced)"));
}

TEST_HARNESS_MAIN
