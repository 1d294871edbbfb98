// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * barrier.c - kgc_store() and the write-barrier buffer: off (the kernel's
 * phase word is 0) it is a plain store; on it records the old and the new
 * value when they are heap pointers (the new one only while the thread's
 * stack is grey); the buffer goes to the kernel
 * (KGC_IOC_SAFEPOINT, flags 0) when full, at handshakes, before blocking
 * regions and at detach, and is dropped without a system call when the
 * cycle is over; a store never fails nor changes errno; nobarrier=1 breaks
 * it on purpose.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "fake_kernel.h"
#include "internal.h"
#include "tap.h"

/* Barrier on without a handshake to acknowledge (epoch stays acked). */
static void barrier_on(void)
{
	__atomic_store_n(&fk.ctl->phase, KGC_PHASE_MARK, __ATOMIC_RELEASE);
}

static void barrier_off(void)
{
	__atomic_store_n(&fk.ctl->phase, KGC_PHASE_OFF, __ATOMIC_RELEASE);
}

/* Pointers sent with flags 0 (barrier buffers), in order. */
static size_t shaded(uint64_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int i;
	uint32_t j;

	for (i = 0; i < MIN(fk.nspcalls, (unsigned int)FAKE_MAX_SPCALLS); i++) {
		if (fk.spcalls[i].flags)
			continue;
		for (j = 0; j < fk.spcalls[i].nptrs && n < cap; j++)
			out[n++] = fk.spcalls[i].ptrs[j];
	}
	return n;
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

static void test_flag_is_the_kernel_phase(void)
{
	REQUIRE_EQ(fake_heap_init(), 0);
	REQUIRE(fk.ctl != NULL);
	CHECK((void *)fk.ctl == (void *)&kgc_write_barrier_enabled);
	CHECK((uintptr_t)fk.ctl % KGC_CTL_SIZE == 0);
	CHECK_EQ(kgc_write_barrier_enabled, 0);
	fk.ctl->phase = KGC_PHASE_MARK_TERM;
	CHECK_EQ(kgc_write_barrier_enabled, KGC_PHASE_MARK_TERM);
	fk.ctl->phase = KGC_PHASE_OFF;
	CHECK_EQ(kgc_write_barrier_enabled, 0);
	fk.ctl->num_gc = 77;
	kgc_shutdown();
	/* Zero pages again: the flag reads 0 and the area is writable. */
	CHECK_EQ(kgc_write_barrier_enabled, 0);
	CHECK_EQ(kgc_ctl()->num_gc, 0);
	kgc_ctl()->slots[5] = 1;
	kgc_ctl()->slots[5] = 0;
}

static void test_store_barrier_off(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	void **obj;
	void *other;

	REQUIRE_EQ(fake_heap_init(), 0);
	obj = kgc_alloc_conservative(16);
	other = kgc_alloc_conservative(16);
	REQUIRE(obj && other);
	fake_sp_reset();
	kgc_store(&obj[0], other);
	KGC_STORE(obj[1], obj);
	CHECK(obj[0] == other && obj[1] == (void *)obj);
	CHECK_EQ(kgc_curthread->wbbuf.next, 0);
	kgc_safepoint();
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.barrier_records, 0);
	CHECK_EQ(st.barrier_flushes, 0);
	CHECK_EQ(fk.nspcalls, 0);
	kgc_shutdown();
}

/*
 * A fresh heap with a 16-byte object holding @a and two 64-byte objects
 * @a and @b, no safepoint call recorded yet: false when it cannot be had.
 */
static bool two_objects(void ***obj, void **a, void **b)
{
	if (fake_heap_init())
		return false;
	*obj = kgc_alloc_conservative(16);
	*a = kgc_alloc_noscan(64);
	*b = kgc_alloc_noscan(64);
	if (!*obj || !*a || !*b)
		return false;
	(*obj)[0] = *a;
	fake_sp_reset();
	return true;
}

static void test_store_barrier_on_records_old_and_new(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	void **obj, *a, *b;
	uint64_t got[8];
	uint32_t e;
	int notheap;

	REQUIRE(two_objects(&obj, &a, &b));
	barrier_on();
	kgc_store(&obj[0], b);		/* old a, new b */
	kgc_store(&obj[1], &notheap);	/* old NULL, new not in heap */
	CHECK(obj[0] == b && obj[1] == (void *)&notheap);
	REQUIRE_EQ(kgc_curthread->wbbuf.next, 2);
	CHECK(kgc_curthread->wbbuf.buf[0] == (uintptr_t)a);
	CHECK(kgc_curthread->wbbuf.buf[1] == (uintptr_t)b);
	kgc_safepoint();		/* no handshake: nothing sent */
	CHECK_EQ(fk.nspcalls, 0);
	CHECK_EQ(kgc_curthread->wbbuf.next, 2);
	/*
	 * Mark start: the ACK, then the buffer (flags 0), outside the
	 * pause (mark termination sends it first: test_mark_term_ack).
	 */
	e = fake_handshake(KGC_PHASE_MARK);
	kgc_safepoint();
	CHECK_EQ(kgc_curthread->wbbuf.next, 0);
	REQUIRE(fk.nspcalls >= 2);
	CHECK_EQ(fk.spcalls[0].flags, KGC_SP_ACK | KGC_SP_STACK);
	CHECK_EQ(fk.spcalls[0].epoch, e);
	CHECK_EQ(fk.spcalls[fk.nspcalls - 1].flags, 0);
	REQUIRE_EQ(shaded(got, 8), 2);
	CHECK(got[0] == (uintptr_t)a && got[1] == (uintptr_t)b);
	CHECK_EQ(kgc_curthread->acked, e);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.barrier_records, 2);
	CHECK_EQ(st.barrier_flushes, 1);
	CHECK_EQ(st.barrier_shaded, 2);
	CHECK_EQ(st.handshakes, 1);
	/* Mark termination: the buffer before the ACK. */
	kgc_store(&obj[0], a);		/* old b; the stack is black now */
	REQUIRE_EQ(kgc_curthread->wbbuf.next, 1);
	fake_sp_reset();
	e = fake_handshake(KGC_PHASE_MARK_TERM);
	kgc_safepoint();
	REQUIRE(fk.nspcalls >= 2);
	CHECK_EQ(fk.spcalls[0].flags, 0);
	CHECK(fake_sp_has(0, (uintptr_t)b));
	CHECK_EQ(fk.spcalls[fk.nspcalls - 1].flags, KGC_SP_ACK);
	CHECK_EQ(fk.spcalls[fk.nspcalls - 1].epoch, e);
	fake_cycle_done();
	kgc_shutdown();
}

/*
 * Once the thread's stack scan for the cycle is delivered (its mark-start
 * acknowledgement), its stack is black: a store shades only the value it
 * overwrites. In the next cycle the stack is grey again until scanned.
 */
static void test_black_stack_shades_only_old(void)
{
	void **obj, *a, *b;
	uint64_t cycle;

	REQUIRE(two_objects(&obj, &a, &b));
	fake_handshake(KGC_PHASE_MARK);
	kgc_safepoint();	/* acknowledges with the stack */
	cycle = fk.ctl->num_gc + 1;
	CHECK_EQ(kgc_curthread->scanned, cycle);
	kgc_store(&obj[0], b);		/* old a recorded, new b not */
	kgc_store(&obj[1], a);		/* old NULL, new a not */
	REQUIRE_EQ(kgc_curthread->wbbuf.next, 1);
	CHECK(kgc_curthread->wbbuf.buf[0] == (uintptr_t)a);
	CHECK(obj[0] == b && obj[1] == a);
	fake_cycle_done();
	/* Next cycle, before this thread's scan: grey, both recorded. */
	CHECK_EQ(kgc_curthread->wbbuf.next, 1);
	kgc_curthread->wbbuf.next = 0;
	CHECK(fk.ctl->num_gc + 1 != cycle);
	barrier_on();
	kgc_store(&obj[1], b);		/* old a, new b */
	REQUIRE_EQ(kgc_curthread->wbbuf.next, 2);
	CHECK(kgc_curthread->wbbuf.buf[0] == (uintptr_t)a);
	CHECK(kgc_curthread->wbbuf.buf[1] == (uintptr_t)b);
	barrier_off();
	kgc_shutdown();
}

static void test_full_buffer_flushes(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	static uint64_t got[4 * KGC_WBBUF_ENTRIES];
	size_t i, stores = KGC_WBBUF_ENTRIES + 10, n;
	void **arr;

	REQUIRE_EQ(fake_heap_init(), 0);
	arr = kgc_alloc_conservative(stores * sizeof(void *));
	REQUIRE(arr != NULL);
	fake_sp_reset();
	barrier_on();
	/* Old values are NULL: one entry per store. */
	for (i = 0; i < stores; i++)
		kgc_store(&arr[i], &arr[(i + 1) % stores]);
	n = shaded(got, ARRAY_SIZE(got));
	CHECK_EQ(fk.nspcalls, 1);	/* filled once: flushed once */
	CHECK_EQ(n + kgc_curthread->wbbuf.next, stores);
	CHECK(got[0] == (uintptr_t)&arr[1]);
	/* A blocking region flushes the rest, once, parks, and nests. */
	kgc_blocking_begin();
	CHECK_EQ(kgc_curthread->wbbuf.next, 0);
	CHECK_EQ(fk.ctl->slots[kgc_curthread->slot], KGC_SLOT_PARKED);
	kgc_blocking_begin();
	CHECK_EQ(kgc_curthread->blocking, 2);
	kgc_blocking_end();
	CHECK_EQ(fk.ctl->slots[kgc_curthread->slot], KGC_SLOT_PARKED);
	kgc_blocking_end();
	CHECK_EQ(fk.ctl->slots[kgc_curthread->slot], 0);
	kgc_blocking_end();	/* unbalanced: ignored */
	CHECK_EQ(kgc_curthread->blocking, 0);
	CHECK_EQ(fk.nspcalls, 2);
	CHECK_EQ(shaded(got, ARRAY_SIZE(got)), stores);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.barrier_records, stores);
	CHECK_EQ(st.barrier_flushes, 2);
	CHECK_EQ(st.barrier_shaded, stores);
	barrier_off();
	kgc_shutdown();
}

static void test_cycle_over_drops_buffer(void)
{
	void **obj;

	REQUIRE_EQ(fake_heap_init(), 0);
	obj = kgc_alloc_conservative(16);
	REQUIRE(obj != NULL);
	barrier_on();
	kgc_store(&obj[0], obj);
	barrier_off();
	fake_sp_reset();
	kgc_blocking_begin();	/* flushes: nothing to send outside a cycle */
	kgc_blocking_end();
	CHECK_EQ(kgc_curthread->wbbuf.next, 0);
	CHECK_EQ(fk.nspcalls, 0);
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
	obj = kgc_alloc_conservative(8);
	REQUIRE(obj != NULL);
	fake_sp_reset();
	barrier_on();
	REQUIRE_EQ(pthread_create(&t, NULL, unattached_store, obj), 0);
	pthread_join(t, NULL);
	barrier_off();
	CHECK(obj[0] == (void *)obj);
	/* Flushed by the exiting thread's detach, which unregistered it. */
	REQUIRE_EQ(fk.nspcalls, 1);
	CHECK_EQ(fk.spcalls[0].flags, 0);
	CHECK(fake_sp_has(0, (uintptr_t)obj));
	CHECK(!pthread_equal(fk.spcalls[0].thread, pthread_self()));
	CHECK_EQ(fake_threads_attached(), 1);	/* only this one */
	kgc_shutdown();
}

static void test_store_without_heap(void)
{
	void *slot = NULL;
	int x;

	kgc_shutdown();
	kgc_ctl()->phase = KGC_PHASE_MARK;	/* the zero page is ours */
	errno = 42;
	kgc_store(&slot, &x);
	CHECK(slot == (void *)&x);
	CHECK_EQ(errno, 42);
	kgc_ctl()->phase = KGC_PHASE_OFF;
}

static void test_store_keeps_errno(void)
{
	size_t i;
	void **arr;

	REQUIRE_EQ(fake_heap_init(), 0);
	arr = kgc_alloc_conservative(64 * sizeof(void *));
	REQUIRE(arr != NULL);
	barrier_on();
	errno = 42;
	/* Through full buffers and the flushes they cause. */
	for (i = 0; i < 4 * KGC_WBBUF_ENTRIES; i++)
		kgc_store(&arr[i % 64], &arr[(i + 1) % 64]);
	CHECK_EQ(errno, 42);
	barrier_off();
	kgc_shutdown();
}

static void test_nobarrier_is_broken_on_purpose(void)
{
	KGC_OPTS(opts, .heap_reserve = KGC_ARENA_SIZE,
		 .flags = KGC_INIT_NOENV | KGC_INIT_NOAUTOROOTS,
		 .debug = KGC_DEBUG_NOBARRIER);
	void **obj;

	kgc_shutdown();
	fake_kernel_install();
	REQUIRE_EQ(kgc_init(&opts), 0);
	obj = kgc_alloc_conservative(16);
	REQUIRE(obj != NULL);
	barrier_on();
	kgc_store(&obj[0], obj);
	CHECK(obj[0] == (void *)obj);
	CHECK_EQ(kgc_curthread->wbbuf.next, 0);	/* nothing recorded */
	barrier_off();
	kgc_shutdown();
}

#if defined(__x86_64__)
/* A kgc_store() as a program compiles it. */
__attribute__((noinline)) static void store_fn(void **slot, void *val)
{
	kgc_store(slot, val);
}

/* Its window in store_fn()'s code: the test instruction, or NULL. */
static const unsigned char *store_window(void)
{
	static const unsigned char seq[] = {
		0x83, 0x39, 0x00,			/* cmpl $0, (%rcx) */
		0x0f, 0x85, 0, 0, 0, 0,			/* jne rel32 */
		0x48, 0x89, 0x02,			/* movq %rax, (%rdx) */
	};
	const unsigned char *p = (const unsigned char *)(uintptr_t)store_fn;
	size_t i, k;

	for (i = 0; i < 64; i++) {
		for (k = 0; k < sizeof(seq); k++)
			if ((k < 5 || k > 8) && p[i + k] != seq[k])
				break;
		if (k == sizeof(seq))
			return p + i;
	}
	return NULL;
}

/*
 * A context stopped after a test that read 0 (at the jump with ZF set, or
 * at the store) goes back to the test; any other does not move.
 */
static void test_store_restart(void)
{
	const unsigned char *s = store_window();
	uint64_t ctl = (uintptr_t)kgc_ctl(), base, ip;
	void *slot = NULL;
	int x;

	REQUIRE(s != NULL);
	base = (uintptr_t)s;
	ip = base + 3;
	CHECK(kgc_store_restart(&ip, ctl, 0x46));
	CHECK_EQ(ip, base);
	ip = base + 9;
	CHECK(kgc_store_restart(&ip, ctl, 0x246));
	CHECK_EQ(ip, base);
	/* The test read 1: the jump goes to the barrier. */
	ip = base + 3;
	CHECK(!kgc_store_restart(&ip, ctl, 0x202));
	CHECK_EQ(ip, base + 3);
	/* Not yet tested, or stored already. */
	ip = base;
	CHECK(!kgc_store_restart(&ip, ctl, 0x46));
	ip = base + 12;
	CHECK(!kgc_store_restart(&ip, ctl, 0x46));
	/* Some other flag word in rcx. */
	ip = base + 9;
	CHECK(!kgc_store_restart(&ip, ctl + 8, 0x46));
	CHECK_EQ(ip, base + 9);
	/* And the function stores. */
	store_fn(&slot, &x);
	CHECK(slot == (void *)&x);
}

/* Signal frames on a stack: found by the trampoline below their context. */
static void test_restart_frames(void)
{
	static _Alignas(16) uint64_t stack[512];
	const uintptr_t restorer = 0x7f0000123450;
	const unsigned char *s = store_window();
	ucontext_t *uc = (ucontext_t *)&stack[10];
	greg_t *g = uc->uc_mcontext.gregs;
	uintptr_t lo = (uintptr_t)stack, hi = (uintptr_t)(stack + 512);

	REQUIRE(s != NULL);
	REQUIRE(sizeof(*uc) + 80 <= sizeof(stack));
	memset(stack, 0, sizeof(stack));
	stack[9] = restorer;
	g[REG_RSP] = (greg_t)hi;
	g[REG_RIP] = (greg_t)(uintptr_t)(s + 9);
	g[REG_RCX] = (greg_t)(uintptr_t)kgc_ctl();
	g[REG_EFL] = 0x246;
	CHECK_EQ(kgc_restart_frames(lo, hi, restorer), 1);
	CHECK_EQ((uintptr_t)g[REG_RIP], (uintptr_t)s);
	/* Moved back already: nothing more to do. */
	CHECK_EQ(kgc_restart_frames(lo, hi, restorer), 0);
	/* Another trampoline, or none known. */
	g[REG_RIP] = (greg_t)(uintptr_t)(s + 9);
	CHECK_EQ(kgc_restart_frames(lo, hi, restorer + 16), 0);
	CHECK_EQ(kgc_restart_frames(lo, hi, 0), 0);
	/* A context whose stack pointer is below it is not a frame. */
	g[REG_RSP] = (greg_t)lo;
	CHECK_EQ(kgc_restart_frames(lo, hi, restorer), 0);
	CHECK_EQ((uintptr_t)g[REG_RIP], (uintptr_t)(s + 9));
}

static uint64_t usr1_ip;

/*
 * A handler of the program, which pretends to have interrupted a
 * kgc_store() between its test and its store, and gets the safepoint
 * signal: the acknowledgement must move its frame back to the test.
 */
static void usr1_in_window(int sig, siginfo_t *si, void *ucv)
{
	greg_t *g = ((ucontext_t *)ucv)->uc_mcontext.gregs;
	greg_t ip = g[REG_RIP], rcx = g[REG_RCX], efl = g[REG_EFL];

	(void)sig;
	(void)si;
	g[REG_RIP] = (greg_t)(uintptr_t)(store_window() + 9);
	g[REG_RCX] = (greg_t)(uintptr_t)kgc_ctl();
	g[REG_EFL] = 0x246;
	raise(SIGURG);
	usr1_ip = (uint64_t)g[REG_RIP];
	g[REG_RIP] = ip;
	g[REG_RCX] = rcx;
	g[REG_EFL] = efl;
}

/*
 * A barrier handshake, in the handler of the only thread: it first sends
 * the stores of the signal frames on the stack back, then acknowledges
 * the barrier and, being the last, mark start with it, in one call.
 */
static void test_barrier_ack_restarts_outer_frame(void)
{
	struct sigaction sa = { .sa_sigaction = usr1_in_window,
				.sa_flags = SA_SIGINFO };
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	struct kgc_thread *t;
	uint32_t e;

	REQUIRE_EQ(fake_heap_init(), 0);
	REQUIRE(kgc_alloc_conservative(64) != NULL);
	t = kgc_curthread;
	REQUIRE_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	fake_sp_reset();
	e = fake_handshake(KGC_PHASE_BARRIER);
	raise(SIGUSR1);
	CHECK_EQ(usr1_ip, (uintptr_t)store_window());
	REQUIRE_EQ(fk.nspcalls, 1);
	CHECK_EQ(fk.spcalls[0].flags, KGC_SP_ACK | KGC_SP_STACK);
	CHECK_EQ(fk.spcalls[0].epoch, e);
	CHECK(fk.spcalls[0].nspans >= 1);
	CHECK_EQ(fk.ctl->phase, KGC_PHASE_MARK);
	CHECK_EQ(t->acked, e + 1);
	CHECK_EQ(t->scanned, fk.ctl->num_gc + 1);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.barrier_restarts, 1);
	CHECK_EQ(st.signal_handshakes, 1);
	signal(SIGUSR1, SIG_DFL);
	fake_cycle_done();
	kgc_shutdown();
}
#else
/* kgc_store() is plain C here: nothing to restart. */
static void test_store_restart(void)
{
}

static void test_restart_frames(void)
{
}

static void test_barrier_ack_restarts_outer_frame(void)
{
}
#endif

static pthread_barrier_t two;

static void *second_thread(void *arg)
{
	(void)arg;
	kgc_thread_attach();
	pthread_barrier_wait(&two);	/* attached */
	pthread_barrier_wait(&two);	/* the test is done */
	return NULL;
}

/*
 * With another thread attached, a barrier acknowledgment is the epoch
 * alone: no stack, no span marks, and the stack stays grey.
 */
static void test_barrier_ack_with_two_threads(void)
{
	struct kgc_thread *t;
	pthread_t th;
	uint32_t e;

	REQUIRE_EQ(fake_heap_init(), 0);
	REQUIRE(kgc_alloc_conservative(64) != NULL);
	t = kgc_curthread;
	pthread_barrier_init(&two, NULL, 2);
	REQUIRE_EQ(pthread_create(&th, NULL, second_thread, NULL), 0);
	pthread_barrier_wait(&two);
	REQUIRE_EQ(fake_threads_attached(), 2);
	fake_sp_reset();
	e = fake_handshake(KGC_PHASE_BARRIER);
	kgc_safepoint();
	REQUIRE_EQ(fk.nspcalls, 1);
	CHECK_EQ(fk.spcalls[0].flags, KGC_SP_ACK);
	CHECK_EQ(fk.spcalls[0].epoch, e);
	CHECK_EQ(fk.spcalls[0].nptrs, 0);
	CHECK_EQ(fk.spcalls[0].nspans, 0);
	CHECK_EQ(t->acked, e);
	CHECK_EQ(fk.ctl->phase, KGC_PHASE_BARRIER);
	CHECK(t->scanned != fk.ctl->num_gc + 1);
	pthread_barrier_wait(&two);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&two);
	fake_cycle_done();
	kgc_shutdown();
}

TAP_MAIN(
	TAP_CASE(test_filter),
	TAP_CASE(test_flag_is_the_kernel_phase),
	TAP_CASE(test_store_barrier_off),
	TAP_CASE(test_store_barrier_on_records_old_and_new),
	TAP_CASE(test_black_stack_shades_only_old),
	TAP_CASE(test_full_buffer_flushes),
	TAP_CASE(test_cycle_over_drops_buffer),
	TAP_CASE(test_unattached_thread_and_detach_flush),
	TAP_CASE(test_store_without_heap),
	TAP_CASE(test_store_keeps_errno),
	TAP_CASE(test_nobarrier_is_broken_on_purpose),
	TAP_CASE(test_store_restart),
	TAP_CASE(test_restart_frames),
	TAP_CASE(test_barrier_ack_restarts_outer_frame),
	TAP_CASE(test_barrier_ack_with_two_threads),
)
