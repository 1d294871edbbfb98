// SPDX-License-Identifier: GPL-2.0
/*
 * gc_test - the collector through the raw device, without libkgc: the test
 * plays the mcache itself, so the kernel's side of the protocol is pinned
 * down on its own. Each test: attach, allocate objects from a span, build
 * pointers (with the pointer bitmap), register roots, run KGC_GC_RUN and
 * look at the span's alloc bits when it is handed out again.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "kselftest_harness.h"
#include "kgc_param_util.h"
#include "kgc_test_util.h"

#define HEAP_LEN	KGC_ARENA_SIZE
#define SIG		SIGURG

FIXTURE(gc) {
	int fd;
	struct kgc_api api;
	char *heap;
	uint64_t *bits;
	struct kgc_ctl *ctl;
	struct kgc_refill span;
	uint32_t next;
};

static void ignore(int sig)
{
	(void)sig;
}

FIXTURE_SETUP(gc)
{
	struct kgc_thread_attach a = { 0 };
	char *stack = (char *)&a;

	self->fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, KGC_DEV " missing: is kgc.ko loaded?");
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kgc_handshake(self->fd, &self->api));
	self->heap = kgc_map_heap(self->fd, &self->api, HEAP_LEN);
	ASSERT_NE(MAP_FAILED, self->heap);
	self->bits = mmap(NULL, HEAP_LEN / 64, PROT_READ | PROT_WRITE,
			  MAP_SHARED, self->fd, self->api.bitmap_offset);
	ASSERT_NE(MAP_FAILED, self->bits);
	self->ctl = mmap(NULL, KGC_CTL_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->fd, self->api.ctl_offset);
	ASSERT_NE(MAP_FAILED, self->ctl);
	signal(SIG, ignore);
	a.stack_lo = (uintptr_t)stack - (1 << 20);
	a.stack_hi = (uintptr_t)stack + 4096;
	a.signo = SIG;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_THREAD_ATTACH, &a));
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(3, 0), &self->span));
	ASSERT_EQ(32, self->span.span.elemsize);
	self->next = 0;
}

/* The module parameters a test changed (at most two per test). */
static struct kgc_param param, param2;

FIXTURE_TEARDOWN(gc)
{
	if (self->fd >= 0)
		close(self->fd);
	kgc_param_restore(&param2);
	kgc_param_restore(&param);
}

/* Allocate an object (32 bytes: size class 3) whose word 0 is a pointer. */
static uint64_t *obj_new(FIXTURE_DATA(gc) *self)
{
	uint64_t p = self->span.span.base +
		     (uint64_t)self->span.span.elemsize * self->next++;
	uint64_t w = (p - (uintptr_t)self->heap) / 8;

	self->bits[w / 64] |= 1ULL << (w % 64);
	return (uint64_t *)(uintptr_t)p;
}

/* Run a full cycle; this thread is parked with @nptrs stack words. */
static int gc_run(int fd, uint64_t *ptrs, uint32_t nptrs)
{
	struct kgc_gc_ctl c = { .op = KGC_GC_RUN };
	int ret;

	c.ptrs = (uintptr_t)ptrs;
	c.nptrs = nptrs;
	do {
		ret = kgc_ioctl(fd, KGC_IOC_GC, &c);
	} while (ret == -EINTR);
	return ret;
}

/* Give the span back and get it again: its alloc bits say what lived. */
static void reload(FIXTURE_DATA(gc) *self, struct __test_metadata *_metadata)
{
	struct kgc_refill r = { 0 };

	r.put_base = self->span.span.base;
	r.put_freeindex = self->next;
	r.spanclass = KGC_NO_SPANCLASS;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_REFILL, &r));
	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(3, 0), &self->span));
}

static int live(FIXTURE_DATA(gc) *self, int i)
{
	return !!(self->span.span.allocbits[i / 64] & (1ULL << (i % 64)));
}

/*
 * Objects reachable from a registered root survive; those reachable from
 * nothing are freed by the cycle's sweep; the stats count the cycle.
 */
TEST_F(gc, root_keeps_list_alive)
{
	static uint64_t root[4];
	struct kgc_roots r = { .start = (uintptr_t)root, .len = sizeof(root) };
	struct kgc_gc_stats st;
	uint64_t *o[10];
	int i;

	DEV_REQUIRED();
	for (i = 0; i < 10; i++)
		o[i] = obj_new(self);
	for (i = 0; i < 4; i++)
		*o[i] = (uintptr_t)o[i + 1];	/* 0 -> 1 -> 2 -> 3 -> 4 */
	*o[6] = (uintptr_t)o[7];		/* 6 -> 7, unreachable */
	root[2] = (uintptr_t)o[0];
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &r));
	reload(self, _metadata);	/* objects are now allocated */
	ASSERT_EQ(0, gc_run(self->fd, NULL, 0));
	reload(self, _metadata);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(1, live(self, i));
	for (i = 5; i < 10; i++)
		EXPECT_EQ(0, live(self, i));
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC_STATS, &st));
	EXPECT_LE(1, st.num_gc);
	EXPECT_LE(1, st.num_forced_gc);
	EXPECT_EQ(st.num_gc, self->ctl->num_gc);
	EXPECT_EQ(KGC_PHASE_OFF, self->ctl->phase);
	EXPECT_LT(0, self->ctl->cycles[st.num_gc % KGC_CYCLE_RING].num);
}

/* Stack words handed to KGC_GC_RUN are roots too (the parked thread). */
TEST_F(gc, parked_stack_words_are_roots)
{
	uint64_t *a, *b, *c, stack[2];

	DEV_REQUIRED();
	a = obj_new(self);
	b = obj_new(self);
	c = obj_new(self);
	stack[0] = (uintptr_t)a + 8;	/* interior */
	stack[1] = 12345;
	*a = (uintptr_t)b;
	(void)c;
	reload(self, _metadata);
	ASSERT_EQ(0, gc_run(self->fd, stack, 2));
	reload(self, _metadata);
	EXPECT_EQ(1, live(self, 0));
	EXPECT_EQ(1, live(self, 1));
	EXPECT_EQ(0, live(self, 2));
}

/* Removing a root lets its objects go in the next cycle. */
TEST_F(gc, removed_root_releases)
{
	static uint64_t root[1];
	struct kgc_roots r = { .start = (uintptr_t)root, .len = 8 };
	uint64_t *a;

	DEV_REQUIRED();
	a = obj_new(self);
	root[0] = (uintptr_t)a;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &r));
	reload(self, _metadata);
	ASSERT_EQ(0, gc_run(self->fd, NULL, 0));
	reload(self, _metadata);
	EXPECT_EQ(1, live(self, 0));
	r.len = 0;
	r.flags = KGC_ROOTS_REMOVE;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &r));
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &r));
	ASSERT_EQ(0, gc_run(self->fd, NULL, 0));
	reload(self, _metadata);
	EXPECT_EQ(0, live(self, 0));
}

/* The debug switch that skips roots really breaks marking. */
TEST_F(gc, noroots_switch_breaks_marking)
{
	static uint64_t root[1];
	struct kgc_roots r = { .start = (uintptr_t)root, .len = 8 };
	struct kgc_gc_ctl c = { .op = KGC_GC_SET_DEBUG,
				.value = KGC_GCDEBUG_NOROOTS };
	uint64_t *a;

	DEV_REQUIRED();
	a = obj_new(self);
	root[0] = (uintptr_t)a;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &r));
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC, &c));
	reload(self, _metadata);
	ASSERT_EQ(0, gc_run(self->fd, NULL, 0));
	reload(self, _metadata);
	EXPECT_EQ(0, live(self, 0));	/* freed although reachable */
}

/* Bad requests: roots, safepoints, GC ops. */
TEST_F(gc, bad_input)
{
	static uint64_t root[4];
	struct kgc_roots r = { .start = (uintptr_t)root + 4, .len = 8 };
	struct kgc_safepoint sp = { .flags = 1U << 7 };
	struct kgc_gc_ctl c = { .op = 99 };
	struct kgc_thread_attach a = { .stack_lo = 1, .stack_hi = 2,
				       .signo = SIG };

	DEV_REQUIRED();
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &r));
	r.start = (uintptr_t)root;
	r.len = 12;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &r));
	r.len = 0;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &r));
	r.len = 16;
	EXPECT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &r));
	r.start += 8;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &r)); /* overlap */
	r.start = (uintptr_t)root + 16;
	r.bitmap = 8;	/* unreadable */
	EXPECT_EQ(-EFAULT, kgc_ioctl(self->fd, KGC_IOC_ROOTS, &r));
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_SAFEPOINT, &sp));
	sp.flags = 0;
	sp.nptrs = KGC_SP_MAX_PTRS + 1;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_SAFEPOINT, &sp));
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_GC, &c));
	c.op = KGC_GC_SET_PERCENT;
	c.value = (uint64_t)-5;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_GC, &c));
	c.op = KGC_GC_SET_DEBUG;
	c.value = 1ULL << 40;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_GC, &c));
	/* Attached already. */
	a.stack_lo = 0x1000;
	a.stack_hi = 0x2000;
	EXPECT_EQ(-EBUSY, kgc_ioctl(self->fd, KGC_IOC_THREAD_ATTACH, &a));
	a.signo = 0;
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_THREAD_ATTACH, &a));
	EXPECT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_THREAD_DETACH, NULL));
	EXPECT_EQ(-EINVAL, kgc_ioctl(self->fd, KGC_IOC_THREAD_DETACH, NULL));
	sp.nptrs = 0;
	sp.flags = KGC_SP_ACK;
	EXPECT_EQ(-EPERM, kgc_ioctl(self->fd, KGC_IOC_SAFEPOINT, &sp));
}

static volatile sig_atomic_t acks;
static int sig_fd;
static struct kgc_ctl *sig_ctl;

/* What libkgc's handler does, minus the stack scan. */
static void on_safepoint(int sig)
{
	struct kgc_safepoint sp = { .flags = KGC_SP_ACK };
	int saved = errno;

	(void)sig;
	sp.epoch = __atomic_load_n(&sig_ctl->epoch, __ATOMIC_ACQUIRE);
	if (ioctl(sig_fd, KGC_IOC_SAFEPOINT, &sp) == 0)
		acks++;
	errno = saved;
}

static volatile int spin_stop;

static void *spinner(void *arg)
{
	struct kgc_thread_attach a = { 0 };
	volatile uint64_t x = 0;
	int fd = *(int *)arg;

	a.stack_lo = (uintptr_t)&a - 65536;
	a.stack_hi = (uintptr_t)&a + 4096;
	a.signo = SIG;
	if (ioctl(fd, KGC_IOC_THREAD_ATTACH, &a))
		return (void *)1;
	while (!spin_stop)
		x++;		/* never reaches a safepoint by itself */
	return NULL;
}

/*
 * A thread that never comes to a safepoint is signalled; its handler
 * acknowledges both handshakes and the cycle completes.
 */
TEST_F(gc, spinning_thread_is_signalled)
{
	struct sigaction sa = { .sa_handler = on_safepoint,
				.sa_flags = SA_RESTART };
	struct kgc_gc_stats st;
	pthread_t th;
	void *ret;

	DEV_REQUIRED();
	sig_fd = self->fd;
	sig_ctl = self->ctl;
	ASSERT_EQ(0, sigaction(SIG, &sa, NULL));
	spin_stop = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, spinner, &self->fd));
	usleep(100000);
	ASSERT_EQ(0, gc_run(self->fd, NULL, 0));
	spin_stop = 1;
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(NULL, ret);
	EXPECT_LE(2, acks);
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC_STATS, &st));
	EXPECT_LE(2, st.signals);
	printf("# %d acks, %llu signals, pauses %llu ns + %llu ns\n", acks,
	       (unsigned long long)st.signals,
	       (unsigned long long)st.pause_ns[0],
	       (unsigned long long)st.pause_ns[1]);
}

/* The pacer starts cycles by itself once the heap passes its trigger. */
TEST_F(gc, pacer_triggers_cycles)
{
	struct sigaction sa = { .sa_handler = on_safepoint,
				.sa_flags = SA_RESTART };
	struct kgc_gc_stats st;
	struct kgc_large l;
	int i;

	DEV_REQUIRED();
	/* This thread is attached: it must answer handshakes. */
	sig_fd = self->fd;
	sig_ctl = self->ctl;
	ASSERT_EQ(0, sigaction(SIG, &sa, NULL));
	for (i = 0; i < 40; i++) {
		l = (struct kgc_large){ .size = 1 << 20,
					.flags = KGC_LARGE_NOSCAN };
		ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
		usleep(20000);
	}
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC_STATS, &st));
		if (st.num_gc)
			break;
		usleep(50000);
	}
	EXPECT_LE(1, st.num_gc);
	EXPECT_EQ(0, st.num_forced_gc);
	EXPECT_LE(4 << 20, st.next_gc);
}

/* Run a cycle from another thread: this one stays free to take part. */
static void *gc_runner(void *arg)
{
	return (void *)(intptr_t)gc_run(*(int *)arg, NULL, 0);
}

/*
 * Acknowledge the handshake of @phase once it is raised (mark start: the
 * barrier handshake before it too).
 */
static int ack_phase(const struct kgc_ctl *ctl, int fd, __u32 phase,
		     __u32 flags)
{
	struct kgc_safepoint sp;
	int i, ret = -ETIMEDOUT;

	for (i = 0; i < 20000; i++) {
		__u32 epoch = __atomic_load_n(&ctl->epoch, __ATOMIC_ACQUIRE);
		__u32 now = __atomic_load_n(&ctl->phase, __ATOMIC_ACQUIRE);

		if (now != phase && !(phase == KGC_PHASE_MARK &&
				      now == KGC_PHASE_BARRIER)) {
			usleep(500);
			continue;
		}
		memset(&sp, 0, sizeof(sp));
		sp.epoch = epoch;
		sp.flags = now == phase ? flags : KGC_SP_ACK;
		ret = kgc_ioctl(fd, KGC_IOC_SAFEPOINT, &sp);
		if (!ret && now == phase)
			break;
	}
	return ret;
}

/*
 * Mark start is two handshakes. In the first (phase BARRIER), a thread
 * only acknowledges that its stores see the barrier; the kernel scans no
 * stack and starts no marking until every thread has, however long one
 * takes (it is signalled meanwhile). The last acknowledgment raises the
 * second (phase MARK) before its call returns, which waits in turn.
 */
TEST_F(gc, mark_start_waits_for_the_barrier)
{
	struct kgc_safepoint sp = { .flags = KGC_SP_ACK };
	struct kgc_gc_stats a, b;
	pthread_t th;
	void *ret;
	int i;

	DEV_REQUIRED();
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC_STATS, &a));
	ASSERT_EQ(0, pthread_create(&th, NULL, gc_runner, &self->fd));
	for (i = 0; i < 2000 && self->ctl->phase == KGC_PHASE_OFF; i++)
		usleep(1000);
	ASSERT_EQ(KGC_PHASE_BARRIER, self->ctl->phase);
	/* This thread's handler ignores the signal: the kernel waits. */
	usleep(300000);
	ASSERT_EQ(KGC_PHASE_BARRIER, self->ctl->phase);
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC_STATS, &b));
	ASSERT_LT(a.signals, b.signals);
	ASSERT_EQ(a.num_gc, b.num_gc);

	sp.epoch = self->ctl->epoch;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_SAFEPOINT, &sp));
	/* The last one: mark start is raised by the call itself. */
	ASSERT_EQ(KGC_PHASE_MARK, sp.phase);
	ASSERT_EQ(KGC_PHASE_MARK, self->ctl->phase);
	ASSERT_EQ(sp.epoch + 1, self->ctl->epoch);
	/* And waits for this thread's stack. */
	usleep(300000);
	ASSERT_EQ(KGC_PHASE_MARK, self->ctl->phase);
	ASSERT_EQ(0, ack_phase(self->ctl, self->fd, KGC_PHASE_MARK,
			       KGC_SP_ACK | KGC_SP_STACK));
	ASSERT_EQ(0, ack_phase(self->ctl, self->fd, KGC_PHASE_MARK_TERM,
			       KGC_SP_ACK));
	ASSERT_EQ(0, pthread_join(th, &ret));
	ASSERT_EQ(NULL, ret);
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC_STATS, &b));
	EXPECT_EQ(a.num_gc + 1, b.num_gc);
	EXPECT_EQ(KGC_PHASE_OFF, self->ctl->phase);
}

/*
 * The acknowledgment that completes the barrier handshake may carry the
 * thread's whole stack: it then acknowledges mark start too (the epoch
 * comes back one higher) and the words are its stack scan.
 */
TEST_F(gc, last_barrier_ack_carries_the_stack)
{
	struct kgc_safepoint sp = { .flags = KGC_SP_ACK | KGC_SP_STACK };
	uint64_t *a, word;
	pthread_t th;
	void *ret;
	__u32 e;
	int i;

	DEV_REQUIRED();
	a = obj_new(self);
	obj_new(self);
	reload(self, _metadata);
	ASSERT_EQ(0, pthread_create(&th, NULL, gc_runner, &self->fd));
	for (i = 0; i < 2000 && self->ctl->phase == KGC_PHASE_OFF; i++)
		usleep(1000);
	ASSERT_EQ(KGC_PHASE_BARRIER, self->ctl->phase);
	e = self->ctl->epoch;
	word = (uintptr_t)a;
	sp.epoch = e;
	sp.ptrs = (uintptr_t)&word;
	sp.nptrs = 1;
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_SAFEPOINT, &sp));
	ASSERT_EQ(e + 1, sp.epoch);
	ASSERT_NE(KGC_PHASE_BARRIER, sp.phase);
	/* No other acknowledgment of mark start: on to termination. */
	ASSERT_EQ(0, ack_phase(self->ctl, self->fd, KGC_PHASE_MARK_TERM,
			       KGC_SP_ACK));
	ASSERT_EQ(0, pthread_join(th, &ret));
	ASSERT_EQ(NULL, ret);
	reload(self, _metadata);
	EXPECT_EQ(1, live(self, 0));	/* the stack word */
	EXPECT_EQ(0, live(self, 1));
}

/*
 * Mark termination waits for the threads: one that acknowledged mark start
 * and then stays out of the kernel is not signalled when marking runs out
 * of work. Its next refill raises mark termination, from the kernel call
 * itself, and the cycle ends when it acknowledges.
 */
TEST_F(gc, mark_termination_waits_for_a_safepoint)
{
	struct sigaction sa = { .sa_handler = on_safepoint,
				.sa_flags = SA_RESTART };
	struct kgc_gc_stats a, b;
	struct kgc_refill r;
	struct kgc_large l;
	int i;

	DEV_REQUIRED();
	ASSERT_EQ(0, kgc_param_set(&param, "term_defer_ms", "60000"));
	/*
	 * Once the refill raises mark termination, the marker signals this
	 * thread after the grace period; on the debug kernel the refill
	 * itself can take longer than the default 250 us to return, and the
	 * handler would acknowledge before the test looks. A long grace
	 * keeps the signal out of the test (a marker that raised mark
	 * termination by itself would still show as MARK_TERM below).
	 */
	ASSERT_EQ(0, kgc_param_set(&param2, "handshake_grace_us", "5000000"));
	/* Signals are answered: a collector that signals does not hang. */
	sig_fd = self->fd;
	sig_ctl = self->ctl;
	ASSERT_EQ(0, sigaction(SIG, &sa, NULL));
	/* The pacer starts a cycle past the 4 MiB minimum goal. */
	for (i = 0; i < 64 && self->ctl->phase == KGC_PHASE_OFF; i++) {
		l = (struct kgc_large){ .size = 1 << 20,
					.flags = KGC_LARGE_NOSCAN };
		ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_LARGE_ALLOC, &l));
		usleep(2000);
	}
	ASSERT_EQ(0, ack_phase(self->ctl, self->fd, KGC_PHASE_MARK,
			       KGC_SP_ACK | KGC_SP_STACK));
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC_STATS, &a));
	ASSERT_EQ(0, a.num_gc);

	/* Marking a few noscan objects takes milliseconds: it is done. */
	usleep(500000);
	ASSERT_EQ(KGC_PHASE_MARK, self->ctl->phase);
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC_STATS, &b));
	ASSERT_EQ(a.signals, b.signals);
	ASSERT_EQ(0, b.num_gc);

	ASSERT_EQ(0, kgc_get_span(self->fd, KGC_SPANCLASS(3, 0), &r));
	ASSERT_EQ(KGC_PHASE_MARK_TERM, self->ctl->phase);
	ASSERT_EQ(0, ack_phase(self->ctl, self->fd, KGC_PHASE_MARK_TERM,
			       KGC_SP_ACK));
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC_STATS, &b));
	ASSERT_EQ(1, b.num_gc);
	EXPECT_EQ(a.signals, b.signals);
	EXPECT_EQ(KGC_PHASE_OFF, self->ctl->phase);
	printf("# mark termination pause %llu ns, no signal\n",
	       (unsigned long long)b.pause_ns[0]);
	signal(SIG, ignore);
}

/*
 * A process that goes idle while a cycle marks: everything it allocated
 * during that cycle was black and survived it, and nothing was allocated
 * after it. That is still garbage to collect: the idle collection
 * (kgc_idle_ms without a refill) must come and free it.
 */
TEST_F(gc, idle_after_marking_collects_black_garbage)
{
	struct sigaction sa = { .sa_handler = on_safepoint,
				.sa_flags = SA_RESTART };
	const uint32_t sc = KGC_SPANCLASS(31, 1);
	struct kgc_gc_stats a, b;
	uint64_t black = 0;
	struct kgc_refill r;
	pthread_t th;
	void *ret;
	int i;

	DEV_REQUIRED();
	ASSERT_EQ(0, pthread_create(&th, NULL, gc_runner, &self->fd));
	/* The cycle waits for this thread, whose signal handler ignores it. */
	ASSERT_EQ(0, ack_phase(self->ctl, self->fd, KGC_PHASE_MARK,
			       KGC_SP_ACK | KGC_SP_STACK));
	/* Acknowledged: what this thread allocates now is black. */
	while (black < (1 << 20)) {
		ASSERT_EQ(0, kgc_get_span(self->fd, sc, &r));
		ASSERT_EQ(0, kgc_put_span(self->fd, r.span.base,
					  r.span.nelems, 0));
		black += (uint64_t)r.span.nelems * r.span.elemsize;
	}
	/* Still marking: the cycle waits for this thread to terminate it. */
	ASSERT_NE(KGC_PHASE_OFF, self->ctl->phase);
	ASSERT_EQ(0, ack_phase(self->ctl, self->fd, KGC_PHASE_MARK_TERM,
			       KGC_SP_ACK));
	ASSERT_EQ(0, pthread_join(th, &ret));
	ASSERT_EQ(NULL, ret);
	ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC_STATS, &a));
	/* All of it survived the cycle it was made in. */
	ASSERT_LE(black, a.heap_marked);

	/* Idle from now on, but answering handshakes. */
	sig_fd = self->fd;
	sig_ctl = self->ctl;
	ASSERT_EQ(0, sigaction(SIG, &sa, NULL));
	for (i = 0; i < 100; i++) {
		usleep(100000);
		ASSERT_EQ(0, kgc_ioctl(self->fd, KGC_IOC_GC_STATS, &b));
		if (b.num_gc > a.num_gc)
			break;
	}
	EXPECT_LT(a.num_gc, b.num_gc);
	EXPECT_EQ(a.num_forced_gc, b.num_forced_gc);
	EXPECT_GT(black / 2, b.heap_marked)
		TH_LOG("marked %llu after the idle cycle, %llu black before",
		       (unsigned long long)b.heap_marked,
		       (unsigned long long)black);
	printf("# %llu bytes black, %llu marked after, idle cycle %.1f s on\n",
	       (unsigned long long)black, (unsigned long long)b.heap_marked,
	       i / 10.0);
	signal(SIG, ignore);
}

TEST_HARNESS_MAIN
