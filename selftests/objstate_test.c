// SPDX-License-Identifier: GPL-2.0
/*
 * objstate_test - KGC_IOC_OBJ_STATE through the raw device, without
 * libkgc: which addresses lie in allocated objects, for spans an mcache
 * holds, spans given back, large objects, after a collection, across the
 * kernel's chunks; and every malformed request refused.
 */
#include <signal.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "kgc_test_util.h"

#define HEAP_LEN	KGC_ARENA_SIZE
#define SIG		SIGURG

FIXTURE(objstate) {
	int fd;
	struct kgc_api api;
	char *heap;
};

static void ignore(int sig)
{
	(void)sig;
}

FIXTURE_SETUP(objstate)
{
	struct kgc_thread_attach a = { 0 };
	char *stack = (char *)&a;

	self->heap = MAP_FAILED;
	self->fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, KGC_DEV " missing: is kgc.ko loaded?");
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kgc_handshake(self->fd, &self->api));
	self->heap = kgc_map_heap(self->fd, &self->api, HEAP_LEN);
	ASSERT_NE(MAP_FAILED, self->heap);
	signal(SIG, ignore);
	a.stack_lo = (uintptr_t)stack - (1 << 20);
	a.stack_hi = (uintptr_t)stack + 4096;
	a.signo = SIG;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_THREAD_ATTACH, &a));
}

FIXTURE_TEARDOWN(objstate)
{
	if (self->heap != MAP_FAILED)
		munmap(self->heap, HEAP_LEN);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * One call: the state of each of @n addresses into @state (whole words);
 * returns 0 or -errno, the count of set bits in *@allocated.
 */
static int obj_state(int fd, const uint64_t *addrs, uint32_t n,
		     uint64_t *state, uint64_t *allocated)
{
	struct kgc_obj_state o = {
		.addrs = (uintptr_t)addrs,
		.state = (uintptr_t)state,
		.count = n,
	};
	int ret = kgc_ioctl(fd, KGC_IOC_OBJ_STATE, &o);

	if (allocated)
		*allocated = o.allocated;
	return ret;
}

/* The state of one address: 1, 0, or -errno. */
static int allocated(int fd, uint64_t addr)
{
	uint64_t state = ~0ULL;
	int ret = obj_state(fd, &addr, 1, &state, NULL);

	if (ret)
		return ret;
	/* Bits past the count are cleared. */
	if (state & ~1ULL)
		return -EPROTO;
	return (int)state;
}

static int gc_run(int fd)
{
	struct kgc_gc_ctl c = { .op = KGC_GC_RUN };
	int ret;

	do {
		ret = kgc_ioctl(fd, KGC_IOC_GC, &c);
	} while (ret == -EINTR);
	return ret;
}

/* The handshake says the command is there. */
TEST_F(objstate, advertised)
{
	DEV_REQUIRED();
	EXPECT_TRUE(self->api.ioctls & (1ULL << KGC_IOC_NR_OBJ_STATE));
}

/*
 * A span an mcache holds: its objects are the mcache's, allocated as far
 * as the kernel can tell. Given back with freeindex 10: objects 0-9 (any
 * byte of them) are allocated, the others free. Addresses outside any
 * span, outside the heap, or of the kernel's choosing read 0.
 */
TEST_F(objstate, spans)
{
	struct kgc_refill r;
	uint64_t base, size, local = 0;

	DEV_REQUIRED();
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(5, 1), &r));
	base = r.span.base;
	size = r.span.elemsize;
	EXPECT_EQ(1, allocated(self->fd, base));
	EXPECT_EQ(1, allocated(self->fd, base + 30 * size + 1));
	ASSERT_EQ(0, kgc_put_span(self->fd, base, 10, 0));
	EXPECT_EQ(1, allocated(self->fd, base));
	EXPECT_EQ(1, allocated(self->fd, base + 10 * size - 1));
	EXPECT_EQ(0, allocated(self->fd, base + 10 * size));
	EXPECT_EQ(0, allocated(self->fd, base + 30 * size + 1));
	EXPECT_EQ(0, allocated(self->fd, (uintptr_t)self->heap +
					 HEAP_LEN / 2));
	EXPECT_EQ(0, allocated(self->fd, (uintptr_t)&local));
	EXPECT_EQ(0, allocated(self->fd, 0));
	EXPECT_EQ(0, allocated(self->fd, ~0ULL));
	EXPECT_EQ(0, allocated(self->fd, 0xffff888000000000ULL));
}

/* A large object is allocated over all its pages until it is freed. */
TEST_F(objstate, large)
{
	struct kgc_large l = { .size = 100000 };
	struct kgc_free f = { 0 };

	DEV_REQUIRED();
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	EXPECT_EQ(1, allocated(self->fd, l.addr));
	EXPECT_EQ(1, allocated(self->fd, l.addr + 99999));
	f.addr = l.addr;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_FREE, &f));
	EXPECT_EQ(0, allocated(self->fd, l.addr));
}

/*
 * After a collection, what the roots reach is allocated and the rest is
 * not, small or large, whether the sweeper has been there yet or not.
 */
TEST_F(objstate, collection)
{
	static uint64_t root[2];
	struct kgc_roots rr = { .start = (uintptr_t)root, .len = sizeof(root) };
	struct kgc_large keep = { .size = 64 << 10 }, drop = keep;
	struct kgc_refill r;
	uint64_t base, size, addrs[12], state, n;
	int i;

	DEV_REQUIRED();
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(3, 1), &r));
	base = r.span.base;
	size = r.span.elemsize;
	ASSERT_EQ(0, kgc_put_span(self->fd, base, 10, 0));
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &keep));
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &drop));
	root[0] = base + 2 * size;
	root[1] = keep.addr;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &rr));
	for (i = 0; i < 10; i++)
		addrs[i] = base + i * size;
	addrs[10] = keep.addr;
	addrs[11] = drop.addr;
	ASSERT_EQ(0, obj_state(self->fd, addrs, 12, &state, &n));
	EXPECT_EQ(0xfffULL, state);
	EXPECT_EQ(12, n);

	ASSERT_EQ(0, gc_run(self->fd));
	ASSERT_EQ(0, obj_state(self->fd, addrs, 12, &state, &n));
	EXPECT_EQ((1ULL << 2) | (1ULL << 10), state);
	EXPECT_EQ(2, n);
}

/*
 * More addresses than the kernel answers per chunk (512): each bit lands
 * at its index, the bits past the count in the last word are cleared, and
 * the count matches.
 */
TEST_F(objstate, many)
{
	const uint32_t n = 1500;
	struct kgc_large l = { .size = 64 << 10 };
	uint64_t *addrs, *state, set;
	uint32_t i, good = 0;

	DEV_REQUIRED();
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
	addrs = calloc(n, sizeof(*addrs));
	state = malloc(((n + 63) / 64) * sizeof(*state));
	ASSERT_NE(NULL, addrs);
	ASSERT_NE(NULL, state);
	memset(state, 0xff, ((n + 63) / 64) * sizeof(*state));
	for (i = 0; i < n; i++) {
		addrs[i] = i % 7 ? (uintptr_t)self->heap + HEAP_LEN - 8 :
			   l.addr + i;
		good += i % 7 == 0;
	}
	ASSERT_EQ(0, obj_state(self->fd, addrs, n, state, &set));
	EXPECT_EQ(good, set);
	for (i = 0; i < ((n + 63) / 64) * 64; i++)
		EXPECT_EQ(i < n && i % 7 == 0,
			  !!(state[i / 64] & (1ULL << (i % 64))))
			TH_LOG("address %u", i);
	free(addrs);
	free(state);
}

/*
 * Malformed requests: flags, reserved fields, too many addresses, bad
 * pointers (EFAULT), a struct shorter than its first version (EINVAL) or
 * longer with something in the tail (E2BIG). No addresses is no work.
 */
TEST_F(objstate, bad_input)
{
	struct {
		struct kgc_obj_state o;
		uint64_t tail;
	} big;
	struct kgc_obj_state o;
	uint64_t addr = 0, state;

	DEV_REQUIRED();
	o = (struct kgc_obj_state){ .addrs = (uintptr_t)&addr,
				    .state = (uintptr_t)&state, .count = 1,
				    .flags = 1 };
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_OBJ_STATE, &o));
	o.flags = 0;
	o.resv[1] = 1;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_OBJ_STATE, &o));
	o.resv[1] = 0;
	o.count = KGC_OBJ_STATE_MAX + 1;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_OBJ_STATE, &o));
	o.count = 1;
	o.addrs = 8;
	EXPECT_EQ(-EFAULT, kgc_ioctl(self->fd, KGC_IOC_OBJ_STATE, &o));
	o.addrs = (uintptr_t)&addr;
	o.state = 0xffff888000000000ULL;
	EXPECT_EQ(-EFAULT, kgc_ioctl(self->fd, KGC_IOC_OBJ_STATE, &o));
	o = (struct kgc_obj_state){ .count = 0, .allocated = 7 };
	EXPECT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_OBJ_STATE, &o));
	EXPECT_EQ(0, o.allocated);

	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd,
				     _IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_OBJ_STATE,
					   char[KGC_OBJ_STATE_SIZE_VER0 - 8]),
				     &o));
	memset(&big, 0, sizeof(big));
	big.tail = 1;
	EXPECT_EQ(-E2BIG, kgc_ioctl(self->fd,
				    _IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_OBJ_STATE,
					  big), &big));
	big.tail = 0;
	EXPECT_EQ(0, kgc_ioctl(self->fd,
			       _IOWR(KGC_IOC_MAGIC, KGC_IOC_NR_OBJ_STATE, big),
			       &big));
}

/* Before the heap is mapped there is nothing to ask about (EINVAL). */
TEST(objstate_needs_heap)
{
	struct kgc_obj_state o = { 0 };
	struct kgc_api api;
	int fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		SKIP(return, KGC_DEV " missing: is kgc.ko loaded?");
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, kgc_ioctl(fd, KGC_IOC_OBJ_STATE, &o));
	ASSERT_EQ(0, kgc_handshake(fd, &api));
	EXPECT_EQ(-EINVAL, kgc_ioctl(fd, KGC_IOC_OBJ_STATE, &o));
	close(fd);
}

TEST_HARNESS_MAIN
