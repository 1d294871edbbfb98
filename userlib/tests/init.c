// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * init.c - kgc_init() and kgc_shutdown(): no device, every handshake and
 * mmap failure (each unwinds completely), the heap size rounding, calls
 * before init and after shutdown, init again, fork children, gctrace.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_kernel.h"
#include "internal.h"
#include "tap.h"

/* Every entry point refuses politely when there is no heap. */
static void check_no_heap(const char *why)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	uint64_t root[2];
	void *slot = NULL;
	int x;

	errno = 0;
	CHECK(kgc_alloc_noscan(8) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), why);
	CHECK(kgc_alloc_conservative(100) == NULL);
	CHECK(kgc_alloc_noscan(1 << 20) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(kgc_free(&x), -EINVAL);
	CHECK_EQ(kgc_add_roots(root, sizeof(root), NULL), -EINVAL);
	CHECK_EQ(kgc_remove_roots(root), -EINVAL);
	CHECK_EQ(kgc_read_stats(&st), -EINVAL);
	CHECK_EQ(kgc_gc(), -EINVAL);
	CHECK_EQ(kgc_free_os_memory(), -EINVAL);
	CHECK_EQ(kgc_set_gc_percent(10), -EINVAL);
	CHECK_EQ(kgc_set_memory_limit(10), -EINVAL);
	CHECK_EQ(kgc_thread_attach(), -EINVAL);
	CHECK_EQ(kgc_thread_detach(), 0);
	kgc_safepoint();
	kgc_blocking_begin();
	kgc_blocking_end();
	kgc_store(&slot, &x);
	CHECK(slot == &x);
	kgc_write_barrier_enabled = 1;
	errno = 1234;
	kgc_store(&slot, NULL);
	CHECK(slot == NULL);
	CHECK_EQ(errno, 1234);
	kgc_write_barrier_enabled = 0;
	kgc_shutdown();	/* nothing to shut down: no crash */
}

static void test_before_init(void)
{
	CHECK(!strcmp(kgc_last_error(), "kgc: no error"));
	check_no_heap("no heap (call kgc_init() first)");
}

static void test_no_device(void)
{
	if (access("/dev/kgc", F_OK) == 0)
		TAP_SKIP("/dev/kgc exists on this machine");
	unsetenv("KGC_GOGC");
	errno = 0;
	CHECK_EQ(kgc_init(NULL), -ENOENT);
	CHECK_EQ(errno, ENOENT);
	CHECK(!strcmp(kgc_last_error(),
		      "kgc: cannot open /dev/kgc: No such file or directory (is kgc.ko loaded?)"));
	check_no_heap("no heap");
}

static void test_no_device_explicit_path(void)
{
	KGC_OPTS(opts, .device = "/nonexistent/kgc", .flags = KGC_INIT_NOENV);

	CHECK_EQ(kgc_init(&opts), -ENOENT);
	CHECK_STR_CONTAINS(kgc_last_error(), "cannot open /nonexistent/kgc");
	CHECK_STR_CONTAINS(kgc_last_error(), "is kgc.ko loaded?");
}

static void test_bad_env_fails_init(void)
{
	setenv("KGC_GOGC", "bad", 1);
	CHECK_EQ(kgc_init(NULL), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "KGC_GOGC");
	unsetenv("KGC_GOGC");
}

/* kgc_init() against a fake kernel broken by @setup fails with @err. */
static void init_fails(void (*setup)(void), int err, const char *msg)
{
	KGC_OPTS(opts, .heap_reserve = KGC_ARENA_SIZE, .flags = KGC_INIT_NOENV);

	fake_kernel_install();
	setup();
	errno = 0;
	CHECK_EQ(kgc_init(&opts), -err);
	CHECK_EQ(errno, err);
	CHECK_STR_CONTAINS(kgc_last_error(), msg);
	/* Everything unwound. */
	CHECK(!fk.open);
	CHECK(!fk.heap_base);
	CHECK(!fk.bitmap);
	CHECK_EQ(kgc_heap.fd, -1);
	CHECK(!kgc_heap_ready());
}

static void brk_open(void) { fk.open_errno = EACCES; }
static void brk_api(void) { fk.api_errno = EINVAL; }
static void brk_api_perm(void) { fk.api_errno = EPERM; }
static void brk_answer(void) { fk.api_answer = KGC_API + 1; }
static void brk_features(void) { fk.features_answer = KGC_FEATURE_HEAP; }
static void brk_ioctls(void) { fk.ioctls_answer &= ~(1ULL << KGC_IOC_NR_REFILL); }
static void brk_pagesize(void) { fk.page_size = 4096; }
static void brk_classes(void) { fk.nr_size_classes = 68; }
static void brk_maxheap(void) { fk.max_heap_size = KGC_ARENA_SIZE - 1; }
static void brk_mmap_heap(void) { fk.mmap_heap_errno = ENOMEM; }
static void brk_mmap_bitmap(void) { fk.mmap_bitmap_errno = ENOMEM; }

static void test_init_failures_unwind(void)
{
	init_fails(brk_open, EACCES, "check the permissions");
	init_fails(brk_api, EPROTO, "do not match");
	init_fails(brk_api_perm, EPERM, "API handshake");
	init_fails(brk_answer, EPROTO, "needs API");
	init_fails(brk_features, EPROTO, "features");
	init_fails(brk_ioctls, EPROTO, "lacks ioctls");
	init_fails(brk_pagesize, EPROTO, "4096-byte pages");
	init_fails(brk_classes, EPROTO, "68 size classes");
	init_fails(brk_maxheap, ENOMEM, "less than one 64 MiB arena");
	init_fails(brk_mmap_heap, ENOMEM, "KGC_HEAP_RESERVE");
	init_fails(brk_mmap_bitmap, ENOMEM, "pointer bitmap");
	fake_kernel_uninstall();
}

static uint64_t reserved_for(size_t reserve, uint64_t max)
{
	KGC_OPTS(opts, .heap_reserve = reserve, .flags = KGC_INIT_NOENV);
	struct kgc_heap_stats st = { .sz = sizeof(st) };

	fake_kernel_install();
	fk.max_heap_size = max;
	if (kgc_init(&opts))
		return 0;
	if (kgc_read_stats(&st))
		st.heap_reserved = 1;
	kgc_shutdown();
	return st.heap_reserved;
}

static void test_heap_size_rounding(void)
{
	CHECK_EQ(reserved_for(1, 256 << 20), 64 << 20);
	CHECK_EQ(reserved_for(100 << 20, 256 << 20), 128 << 20);
	CHECK_EQ(reserved_for(128 << 20, 256 << 20), 128 << 20);
	CHECK_EQ(reserved_for(1ULL << 30, 256 << 20), 256 << 20);
	CHECK_EQ(reserved_for(SIZE_MAX, 256 << 20), 256 << 20);
	CHECK_EQ(reserved_for(200 << 20, 300 << 20), 256 << 20);
	CHECK_EQ(reserved_for(KGC_DEFAULT_HEAP_RESERVE, 256 << 20), 256 << 20);
	fake_kernel_uninstall();
}

static void test_double_init(void)
{
	REQUIRE_EQ(fake_heap_init(), 0);
	CHECK_EQ(kgc_init(NULL), -EBUSY);
	CHECK_STR_CONTAINS(kgc_last_error(), "already initialised");
	CHECK(kgc_heap_ready());	/* the first heap is untouched */
	CHECK(kgc_alloc_noscan(10) != NULL);
	kgc_shutdown();
	fake_kernel_uninstall();
}

static void test_after_shutdown(void)
{
	void *p;

	REQUIRE_EQ(fake_heap_init(), 0);
	p = kgc_alloc_noscan(100);
	CHECK(p != NULL);
	kgc_shutdown();
	CHECK(!fk.open);
	CHECK(!fk.heap_base);
	check_no_heap("the heap was shut down");
	kgc_shutdown();
	fake_kernel_uninstall();
}

static void test_init_again_after_shutdown(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	unsigned int gen;
	char *p;

	REQUIRE_EQ(fake_heap_init(), 0);
	CHECK(kgc_alloc_noscan(64) != NULL);
	CHECK(kgc_alloc_noscan(5) != NULL);	/* a tiny block */
	gen = kgc_heap.gen;
	REQUIRE_EQ(fake_heap_init(), 0);	/* shuts down, inits again */
	CHECK_EQ(kgc_heap.gen, gen + 1);
	p = kgc_alloc_noscan(64);
	REQUIRE(p != NULL);
	CHECK((uintptr_t)p >= fk.heap_base &&
	      (uintptr_t)p < fk.heap_base + fk.heap_len);
	p = kgc_alloc_noscan(5);
	CHECK((uintptr_t)p >= fk.heap_base &&
	      (uintptr_t)p < fk.heap_base + fk.heap_len);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.alloc_noscan, 2);	/* counters start again */
	CHECK_EQ(st.threads, 1);
	kgc_shutdown();
	fake_kernel_uninstall();
}

static void test_fork_child_has_no_heap(void)
{
	int status;
	pid_t pid;

	REQUIRE_EQ(fake_heap_init(), 0);
	CHECK(kgc_alloc_noscan(100) != NULL);
	fflush(stdout);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int bad = 0;

		errno = 0;
		bad |= kgc_alloc_noscan(100) != NULL;
		bad |= (errno != EINVAL) << 1;
		bad |= !strstr(kgc_last_error(), "fork") << 2;
		bad |= (kgc_heap.fd != -1) << 3;
		/* The child may open a heap of its own. */
		bad |= (fake_heap_init() != 0) << 4;
		bad |= (kgc_alloc_noscan(100) == NULL) << 5;
		kgc_shutdown();
		_exit(bad);
	}
	REQUIRE_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	/* The parent's heap is untouched. */
	CHECK(kgc_alloc_noscan(100) != NULL);
	kgc_shutdown();
	fake_kernel_uninstall();
}

static void test_gctrace(void)
{
	KGC_OPTS(opts, .heap_reserve = KGC_ARENA_SIZE,
		 .debug = KGC_DEBUG_GCTRACE, .flags = KGC_INIT_NOENV);
	char path[] = "/tmp/kgc-gctrace-XXXXXX", buf[1024];
	int fd, saved;
	ssize_t n;

	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	unlink(path);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	fake_kernel_install();
	CHECK_EQ(kgc_init(&opts), 0);
	CHECK(kgc_alloc_noscan(100) != NULL);
	kgc_shutdown();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	REQUIRE(n > 0);
	buf[n] = '\0';
	CHECK_STR_CONTAINS(buf, "kgc: heap 64 MiB at 0x");
	CHECK_STR_CONTAINS(buf, "gc 100%");
	/* 100 bytes take a 112-byte slot. */
	CHECK_STR_CONTAINS(buf, "kgc: shutdown: 1 objects, 112 bytes allocated");
	fake_kernel_uninstall();
}

TAP_MAIN(
	TAP_CASE(test_before_init),
	TAP_CASE(test_no_device),
	TAP_CASE(test_no_device_explicit_path),
	TAP_CASE(test_bad_env_fails_init),
	TAP_CASE(test_init_failures_unwind),
	TAP_CASE(test_heap_size_rounding),
	TAP_CASE(test_double_init),
	TAP_CASE(test_after_shutdown),
	TAP_CASE(test_init_again_after_shutdown),
	TAP_CASE(test_fork_child_has_no_heap),
	TAP_CASE(test_gctrace),
)
