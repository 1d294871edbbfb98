// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * gc.c - the library's side of the collector over the fake kernel:
 * handshake acknowledgements (barrier buffer, stack words filtered to the
 * heap, span marks with the tiny block rule, the epoch), mark termination
 * without a rescan, stacks sent in chunks, the signal handler (deferred
 * inside library regions, run on leaving them; a copy of the barrier
 * buffer; chaining to the program's handler), blocking regions, threads
 * attaching during a cycle, automatic and registered roots, the control
 * area in a fork child.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_kernel.h"
#include "internal.h"
#include "tap.h"

static const struct fake_spcall *last_call(void)
{
	if (!fk.nspcalls || fk.nspcalls > FAKE_MAX_SPCALLS)
		return NULL;
	return &fk.spcalls[fk.nspcalls - 1];
}

/* Every word of every call with @flags lies in the heap. */
static bool all_in_heap(void)
{
	unsigned int i;
	uint32_t j;

	for (i = 0; i < MIN(fk.nspcalls, (unsigned int)FAKE_MAX_SPCALLS); i++)
		for (j = 0; j < MIN(fk.spcalls[i].nptrs, (uint32_t)FAKE_SP_PTRS);
		     j++)
			if (!kgc_in_heap(fk.spcalls[i].ptrs[j]))
				return false;
	return true;
}

static volatile sig_atomic_t user_handler_ran;

static void user_handler(int sig)
{
	(void)sig;
	user_handler_ran++;
}

/* Must run first: the library installs its handler once per process. */
static void test_handler_chains_to_program_handler(void)
{
	struct sigaction sa, now;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = user_handler;
	REQUIRE_EQ(sigaction(SIGURG, &sa, NULL), 0);
	REQUIRE_EQ(fake_heap_init(), 0);
	REQUIRE_EQ(sigaction(SIGURG, NULL, &now), 0);
	CHECK(now.sa_flags & SA_SIGINFO);
	CHECK(now.sa_flags & SA_RESTART);
	CHECK(!(now.sa_flags & SA_ONSTACK));
	raise(SIGURG);
	CHECK_EQ(user_handler_ran, 1);
	kgc_shutdown();
	raise(SIGURG);	/* no heap: still chained */
	CHECK_EQ(user_handler_ran, 2);
}

static void *volatile sink;

/* The acknowledgement of mark start, at a safepoint. */
static void test_mark_start_ack(void)
{
	struct kgc_thread *t;
	void *volatile local;
	uint64_t notheap = 12345;
	const struct fake_spcall *c;
	uint32_t e, i;
	unsigned int found = 0;
	char *tiny;

	REQUIRE_EQ(fake_heap_init(), 0);
	local = kgc_alloc_conservative(48);
	REQUIRE(local != NULL);
	CHECK(kgc_alloc_noscan(200) != NULL);
	tiny = kgc_alloc_noscan(3);
	REQUIRE(tiny != NULL);
	CHECK(kgc_alloc_noscan(5) != NULL);	/* same tiny block */
	t = kgc_curthread;
	fake_sp_reset();
	e = fake_handshake(KGC_PHASE_MARK);
	kgc_safepoint();
	c = last_call();
	REQUIRE(c != NULL);
	CHECK_EQ(c->flags, KGC_SP_ACK | KGC_SP_STACK);
	CHECK_EQ(c->epoch, e);
	CHECK_EQ(t->acked, e);
	CHECK(fake_sp_has(-1, (uintptr_t)local));	/* a local found */
	CHECK(!fake_sp_has(-1, notheap));
	CHECK(all_in_heap());
	/* One mark per cached span: 48 scan, 208 noscan, 16 noscan (tiny). */
	REQUIRE_EQ(c->nspans, 3);
	for (i = 0; i < c->nspans; i++) {
		const struct mspan *s = NULL;
		uint32_t k;

		for (k = 0; k < KGC_NR_SPANCLASSES; k++)
			if (t->mcache.alloc[k].base == c->spans[i].base)
				s = &t->mcache.alloc[k];
		REQUIRE(s != NULL);
		if (s->spanclass == KGC_TINY_SPANCLASS) {
			/* The current tiny block, not the freeindex. */
			CHECK_EQ(c->spans[i].freeindex,
				 ((uintptr_t)tiny - s->base) / 16);
			CHECK(c->spans[i].freeindex < s->freeindex);
		} else {
			CHECK_EQ(c->spans[i].freeindex, s->freeindex);
		}
		found++;
	}
	CHECK_EQ(found, 3);
	/* Acked: the next safepoint does nothing. */
	fake_sp_reset();
	kgc_safepoint();
	CHECK_EQ(fk.nspcalls, 0);
	sink = local;
	(void)notheap;
	fake_cycle_done();
	kgc_shutdown();
}

/* Mark termination: no rescan, no span marks, with or without checkmark. */
static void test_mark_term_ack(void)
{
	KGC_OPTS(opts, .heap_reserve = KGC_ARENA_SIZE,
		 .debug = KGC_DEBUG_CHECKMARK,
		 .flags = KGC_INIT_NOENV | KGC_INIT_NOAUTOROOTS);
	const struct fake_spcall *c;
	uint32_t e;

	REQUIRE_EQ(fake_heap_init(), 0);
	CHECK(kgc_alloc_noscan(100) != NULL);
	fake_handshake(KGC_PHASE_MARK);
	kgc_safepoint();
	fake_sp_reset();
	e = fake_handshake(KGC_PHASE_MARK_TERM);
	kgc_safepoint();
	REQUIRE_EQ(fk.nspcalls, 1);
	c = last_call();
	CHECK_EQ(c->flags, KGC_SP_ACK);
	CHECK_EQ(c->epoch, e);
	CHECK_EQ(c->nptrs, 0);
	CHECK_EQ(c->nspans, 0);
	fake_cycle_done();
	/* The next cycle scans again. */
	fake_sp_reset();
	fake_handshake(KGC_PHASE_MARK);
	kgc_safepoint();
	CHECK_EQ(last_call()->flags, KGC_SP_ACK | KGC_SP_STACK);
	fake_cycle_done();
	kgc_shutdown();

	fake_kernel_install();
	REQUIRE_EQ(kgc_init(&opts), 0);
	CHECK(kgc_alloc_noscan(100) != NULL);
	fake_handshake(KGC_PHASE_MARK);
	kgc_safepoint();
	fake_sp_reset();
	fake_handshake(KGC_PHASE_MARK_TERM);
	kgc_safepoint();
	c = last_call();
	REQUIRE(c != NULL);
	/* Not even for checkmark: stale stack words would be false errors. */
	CHECK_EQ(c->flags, KGC_SP_ACK);
	fake_cycle_done();
	kgc_shutdown();
}

/* More heap words than one call holds: chunks, the last with the ACK. */
static void test_stack_in_chunks(void)
{
	const size_t n = 3 * KGC_SCANBUF_WORDS + 100;
	volatile uint64_t *words;
	void *obj;
	unsigned int i;
	size_t total = 0;

	REQUIRE_EQ(fake_heap_init(), 0);
	obj = kgc_alloc_noscan(64);
	REQUIRE(obj != NULL);
	words = __builtin_alloca(n * sizeof(*words));
	for (i = 0; i < n; i++)
		words[i] = (uintptr_t)obj + (i % 8) * 8;
	fake_sp_reset();
	fake_handshake(KGC_PHASE_MARK);
	kgc_safepoint();
	REQUIRE(fk.nspcalls >= 4);
	for (i = 0; i < fk.nspcalls - 1; i++) {
		CHECK_EQ(fk.spcalls[i].flags, KGC_SP_STACK);
		CHECK_EQ(fk.spcalls[i].nptrs, KGC_SCANBUF_WORDS);
		total += fk.spcalls[i].nptrs;
	}
	CHECK_EQ(last_call()->flags, KGC_SP_ACK | KGC_SP_STACK);
	total += last_call()->nptrs;
	CHECK(total >= n);
	CHECK(all_in_heap());
	CHECK_EQ(words[n - 1], (uintptr_t)obj + ((n - 1) % 8) * 8);
	fake_cycle_done();
	kgc_shutdown();
}

/* The handler: deferred inside a library region, run when leaving it. */
static void test_handler_defers_inside_library(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	struct kgc_thread *t;
	uint32_t e;

	REQUIRE_EQ(fake_heap_init(), 0);
	REQUIRE_EQ(kgc_thread_attach(), 0);
	t = kgc_curthread;
	fake_sp_reset();
	e = fake_handshake(KGC_PHASE_MARK);
	kgc_enter(t);
	kgc_enter(t);		/* nested */
	raise(SIGURG);
	CHECK_EQ(t->pending, 1);
	CHECK_EQ(fk.nspcalls, 0);	/* nothing sent from the handler */
	CHECK(t->acked != e);
	kgc_leave(t);
	CHECK_EQ(fk.nspcalls, 0);	/* still inside */
	kgc_leave(t);
	CHECK_EQ(t->pending, 0);
	CHECK_EQ(t->acked, e);
	CHECK_EQ(last_call()->flags, KGC_SP_ACK | KGC_SP_STACK);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.handshakes, 1);
	CHECK_EQ(st.signal_handshakes, 0);
	fake_cycle_done();
	kgc_shutdown();
}

/*
 * A thread that parks while a handshake is raised acknowledges it itself:
 * the collector signals parked threads only when it looks at them, and
 * after its first look it waits for acknowledgements, not polling.
 */
static void test_blocking_begin_acks_pending_handshake(void)
{
	struct kgc_thread *t;
	uint32_t e;

	REQUIRE_EQ(fake_heap_init(), 0);
	REQUIRE(kgc_alloc_noscan(100) != NULL);
	t = kgc_curthread;
	fake_sp_reset();
	e = fake_handshake(KGC_PHASE_MARK);
	kgc_blocking_begin();
	CHECK_EQ(fk.ctl->slots[t->slot], KGC_SLOT_PARKED);
	CHECK_EQ(t->acked, e);
	REQUIRE(fk.nspcalls >= 1);
	CHECK_EQ(fk.spcalls[0].flags, KGC_SP_ACK | KGC_SP_STACK);
	CHECK_EQ(fk.spcalls[0].epoch, e);
	/* Nothing pending: parking sends nothing. */
	kgc_blocking_end();
	fake_cycle_done();
	fake_sp_reset();
	kgc_blocking_begin();
	CHECK_EQ(fk.nspcalls, 0);
	kgc_blocking_end();
	kgc_shutdown();
}

/*
 * An allocating thread acknowledges at its next cache word (64 objects),
 * not only when its span runs out: no refill needed.
 */
static void test_handshake_at_cache_word(void)
{
	unsigned long refills;
	uint32_t e;
	int i;

	REQUIRE_EQ(fake_heap_init(), 0);
	REQUIRE(kgc_alloc_noscan(64) != NULL);	/* a 128-object span */
	refills = fk.refills;
	e = fake_handshake(KGC_PHASE_MARK);
	for (i = 0; i < 64 && kgc_curthread->acked != e; i++)
		REQUIRE(kgc_alloc_noscan(64) != NULL);
	CHECK_EQ(kgc_curthread->acked, e);
	CHECK(i <= 64);
	CHECK_EQ(fk.refills, refills);
	fake_cycle_done();
	kgc_shutdown();
}

/* The handler acknowledges for a thread outside the library. */
static void test_handler_acks_outside_library(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	void *volatile local;
	struct kgc_thread *t;
	unsigned int next;
	void **obj;
	uint32_t e;
	int i;

	REQUIRE_EQ(fake_heap_init(), 0);
	obj = kgc_alloc_conservative(64);
	local = kgc_alloc_noscan(1000);
	REQUIRE(obj && local);
	t = kgc_curthread;
	/* Barrier entries the handler must send but not consume. */
	fk.ctl->phase = KGC_PHASE_MARK;
	for (i = 0; i < 4; i++)
		kgc_store(&obj[i], obj);
	next = t->wbbuf.next;
	CHECK_EQ(next, 4);
	fake_sp_reset();
	e = fake_handshake(KGC_PHASE_MARK);
	errno = 77;
	raise(SIGURG);
	CHECK_EQ(errno, 77);
	CHECK_EQ(t->acked, e);
	CHECK_EQ(t->wbbuf.next, next);	/* untouched */
	REQUIRE(fk.nspcalls >= 2);
	/* Mark start: the ACK, then a copy of the buffer. */
	CHECK_EQ(fk.spcalls[0].flags, KGC_SP_ACK | KGC_SP_STACK);
	CHECK(fake_sp_has(0, (uintptr_t)local));
	CHECK(fk.spcalls[0].nspans >= 2);
	CHECK_EQ(last_call()->flags, 0);
	CHECK(fake_sp_has(-1, (uintptr_t)obj));
	CHECK(all_in_heap());
	/* Again: already acked, nothing sent. */
	fake_sp_reset();
	raise(SIGURG);
	CHECK_EQ(fk.nspcalls, 0);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.signal_handshakes, 1);
	CHECK_EQ(st.handshakes, 0);
	/* The buffer still goes out at the next flush (duplicates are fine). */
	kgc_blocking_begin();
	CHECK_EQ(t->wbbuf.next, 0);
	CHECK_EQ(fk.ctl->slots[t->slot], KGC_SLOT_PARKED);
	/* A parked thread is acknowledged by its handler. */
	fake_sp_reset();
	e = fake_handshake(KGC_PHASE_MARK_TERM);
	raise(SIGURG);
	CHECK_EQ(t->acked, e);
	CHECK_EQ(last_call()->flags, KGC_SP_ACK);
	kgc_blocking_end();
	CHECK_EQ(fk.ctl->slots[t->slot], 0);
	sink = local;
	fake_cycle_done();
	kgc_shutdown();
}

/*
 * The tiny block stays inside the cached tiny span: a block with much
 * room kept across a refill would be named by nobody at the next safepoint.
 */
static void test_tiny_block_stays_in_span(void)
{
	struct mcache *c;
	const struct mspan *s;
	int i;

	REQUIRE_EQ(fake_heap_init(), 0);
	/* A block with 14 bytes of room... */
	REQUIRE(kgc_alloc_noscan(2) != NULL);
	c = &kgc_curthread->mcache;
	s = &c->alloc[KGC_TINY_SPANCLASS];
	/* ...kept while 15-byte objects take a block each, past a refill. */
	for (i = 0; i < 700; i++) {
		REQUIRE(kgc_alloc_noscan(15) != NULL);
		CHECK(c->tiny >= s->base &&
		      c->tiny < s->base + (uintptr_t)s->nelems * 16);
	}
	CHECK(kgc_curthread->mcache.stats.refills >= 2);
	/* 16-byte noscan objects share the tiny span: a refill drops it. */
	REQUIRE(kgc_alloc_noscan(2) != NULL);
	for (i = 0; i < 1100; i++) {
		REQUIRE(kgc_alloc_noscan(16) != NULL);
		CHECK(!c->tiny || (c->tiny >= s->base &&
			c->tiny < s->base + (uintptr_t)s->nelems * 16));
	}
	CHECK(kgc_alloc_noscan(2) != NULL);
	CHECK(c->tiny >= s->base && c->tiny < s->base + (uintptr_t)s->nelems * 16);
	kgc_shutdown();
}

struct late_attach {
	uint32_t epoch;
	pthread_t self;
	int ok;
};

static void *attach_in_cycle(void *arg)
{
	struct late_attach *l = arg;

	l->self = pthread_self();
	l->ok = kgc_alloc_noscan(40) != NULL &&
		kgc_curthread->acked == l->epoch;
	return NULL;
}

/* A thread attaching during a cycle acknowledges it at once. */
static void test_attach_during_cycle(void)
{
	struct late_attach l = { 0 };
	pthread_t th;
	unsigned int i, acks = 0;

	REQUIRE_EQ(fake_heap_init(), 0);
	fake_sp_reset();
	l.epoch = fake_handshake(KGC_PHASE_MARK);
	REQUIRE_EQ(pthread_create(&th, NULL, attach_in_cycle, &l), 0);
	pthread_join(th, NULL);
	CHECK(l.ok);
	for (i = 0; i < MIN(fk.nspcalls, (unsigned int)FAKE_MAX_SPCALLS); i++)
		if (pthread_equal(fk.spcalls[i].thread, l.self) &&
		    (fk.spcalls[i].flags & KGC_SP_ACK))
			acks++;
	CHECK_EQ(acks, 1);
	fake_cycle_done();
	kgc_shutdown();
}

static void test_attach_failure(void)
{
	REQUIRE_EQ(fake_heap_init(), 0);
	fk.attach_errno = ENOSPC;
	errno = 0;
	CHECK(kgc_alloc_noscan(10) == NULL);
	CHECK_EQ(errno, ENOSPC);
	CHECK_STR_CONTAINS(kgc_last_error(), "at most 2048 threads");
	fk.attach_errno = 0;
	CHECK(kgc_alloc_noscan(10) != NULL);
	CHECK_EQ(fake_threads_attached(), 1);
	CHECK_EQ(kgc_thread_detach(), 0);
	CHECK_EQ(fake_threads_attached(), 0);
	kgc_shutdown();
}

static uint64_t bss_words[32];
static uint64_t data_words[4] = { 1, 2, 3, 4 };

/* The data and bss of loaded objects are roots, minus the library's own. */
static void test_auto_roots(void)
{
	KGC_OPTS(opts, .heap_reserve = KGC_ARENA_SIZE, .flags = KGC_INIT_NOENV);
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	uint64_t *m = malloc(64 * sizeof(*m)), map = 0x5;
	unsigned int before;

	REQUIRE(m != NULL);
	kgc_shutdown();
	fake_kernel_install();
	REQUIRE_EQ(kgc_init(&opts), 0);
	CHECK(fk.nroots >= 2);
	CHECK(fake_root_covers((uintptr_t)bss_words, sizeof(bss_words)));
	CHECK(fake_root_covers((uintptr_t)data_words, sizeof(data_words)));
	CHECK(fake_root_covers((uintptr_t)&errno, 8) == false ||
	      true);	/* TLS: not promised either way */
	CHECK(!fake_root_covers((uintptr_t)kgc_ctl(), 8));
	CHECK(!fake_root_covers((uintptr_t)kgc_ctl() + KGC_CTL_SIZE - 8, 8));
	CHECK(!fake_root_covers((uintptr_t)&kgc_heap, 8));
	CHECK(!fake_root_covers((uintptr_t)&kgc_heap.arena_start, 8));
	/* A global is covered already: recorded, nothing new for the kernel. */
	before = fk.nroots;
	CHECK_EQ(kgc_add_roots(bss_words, sizeof(bss_words), &map), 0);
	CHECK_EQ(fk.nroots, before);
	REQUIRE_EQ(kgc_read_stats(&st), 0);
	CHECK_EQ(st.roots, 1);
	/* malloc memory is not: sent, precisely. */
	CHECK_EQ(kgc_add_roots(m, 64 * sizeof(*m), &map), 0);
	REQUIRE_EQ(fk.nroots, before + 1);
	CHECK(fake_root_covers((uintptr_t)m, 64 * sizeof(*m)));
	CHECK(fk.roots[fk.nroots - 1].precise);
	CHECK_EQ(fk.roots[fk.nroots - 1].map0, 0x5);
	CHECK_EQ(kgc_remove_roots(m), 0);
	CHECK_EQ(fk.nroots, before);
	CHECK_EQ(kgc_remove_roots(bss_words), 0);
	CHECK_EQ(fk.nroots, before);
	kgc_shutdown();
	free(m);
	data_words[0]++;
}

/* Roots added or removed while marking: their pointers are shaded. */
static void test_roots_shaded_while_marking(void)
{
	static void *holder[4];
	uint64_t map = 0x1;
	void *obj;

	REQUIRE_EQ(fake_heap_init(), 0);
	obj = kgc_alloc_conservative(32);
	REQUIRE(obj != NULL);
	holder[2] = obj;
	fake_sp_reset();
	CHECK_EQ(kgc_add_roots(holder, sizeof(holder), &map), 0);
	CHECK_EQ(fk.nspcalls, 0);	/* no cycle: nothing to shade */
	CHECK(fake_root_covers((uintptr_t)holder, sizeof(holder)));
	CHECK_EQ(fk.roots[0].map0, 0x1);
	CHECK_EQ(kgc_remove_roots(holder), 0);
	fk.ctl->phase = KGC_PHASE_MARK;	/* marking, already acked */
	CHECK_EQ(kgc_add_roots(holder, sizeof(holder), NULL), 0);
	REQUIRE_EQ(fk.nspcalls, 1);
	CHECK_EQ(fk.spcalls[0].flags, 0);
	CHECK(fake_sp_has(0, (uintptr_t)obj));
	fake_sp_reset();
	CHECK_EQ(kgc_remove_roots(holder), 0);
	CHECK(fake_sp_has(0, (uintptr_t)obj));
	CHECK_EQ(fk.nroots, 0);
	fk.ctl->phase = KGC_PHASE_OFF;
	kgc_shutdown();
}

/* A fork child gets zero pages under the barrier flag. */
static void test_fork_child_flag_reads_zero(void)
{
	int status;
	pid_t pid;

	REQUIRE_EQ(fake_heap_init(), 0);
	fk.ctl->phase = KGC_PHASE_MARK;
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(kgc_write_barrier_enabled == 0 &&
		      kgc_ctl()->epoch == 0 ? 0 : 1);
	REQUIRE_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(kgc_write_barrier_enabled, KGC_PHASE_MARK);
	fk.ctl->phase = KGC_PHASE_OFF;
	kgc_shutdown();
}

/*
 * Spans held in reserve (batched refills) are reported at mark start like
 * the cached ones, black from where they were handed out: whatever the
 * thread later allocates from them during the cycle is black.
 */
static void test_reserve_spans_reported(void)
{
	const struct fake_spcall *c;
	unsigned int i, reserve = 0;

	REQUIRE_EQ(fake_heap_init(), 0);
	/* Two 48-byte spans used: the second refill brought one more. */
	for (i = 0; i < 170 + 1; i++)
		REQUIRE(kgc_alloc_noscan(48) != NULL);
	REQUIRE_EQ(fk.more_spans, 1);
	fake_sp_reset();
	fake_handshake(KGC_PHASE_MARK);
	kgc_safepoint();
	c = last_call();
	REQUIRE(c != NULL);
	REQUIRE_EQ(c->nspans, 2);
	for (i = 0; i < c->nspans; i++) {
		struct fake_span *s = fake_span_of(c->spans[i].base);

		REQUIRE(s != NULL);
		CHECK(s->cached);
		if (c->spans[i].freeindex == 0)
			reserve++;
		else
			CHECK_EQ(c->spans[i].freeindex, 1);
	}
	CHECK_EQ(reserve, 1);
	fake_cycle_done();
	kgc_shutdown();
}

/*
 * A used-up span waits in the mcache's queue for the next refill system
 * call; the mark-start acknowledgement gives it back first, also when the
 * handler makes it for an idle thread, so that the cycle sweeps it. The
 * mark termination acknowledgement and a thread without such spans make
 * no extra call.
 */
static void test_mark_start_returns_used_spans(void)
{
	struct kgc_thread *t;
	struct fake_span *s;
	unsigned long refills;
	uintptr_t put;
	unsigned int i;
	uint32_t e;

	REQUIRE_EQ(fake_heap_init(), 0);
	t = kgc_curthread;
	/* Span 1 used up: a system call brings span 2 and a reserve one. */
	for (i = 0; i < 170 + 1; i++)
		REQUIRE(kgc_alloc_noscan(48) != NULL);
	REQUIRE_EQ(fk.more_spans, 1);
	/* Span 2 used up: the reserve one, no call; span 2 waits. */
	refills = fk.refills;
	for (i = 0; i < 170; i++)
		REQUIRE(kgc_alloc_noscan(48) != NULL);
	REQUIRE_EQ(fk.refills, refills);
	REQUIRE_EQ(t->mcache.nputs, 1);
	put = (uintptr_t)t->mcache.puts[0].base;
	s = fake_span_of(put);
	REQUIRE(s != NULL);
	CHECK(s->cached);
	/* Mark termination: the queue stays. */
	fake_handshake(KGC_PHASE_MARK);
	kgc_safepoint();
	fake_cycle_done();
	REQUIRE_EQ(t->mcache.nputs, 0);
	CHECK(!s->cached);
	CHECK_EQ(fk.refills, refills + 1);
	/*
	 * Again, and this time the handler acknowledges: span 3 used up (a
	 * call brings span 4 and reserves), then span 4 (a reserve one).
	 */
	for (i = 0; i < 169 + 1 + 170; i++)
		REQUIRE(kgc_alloc_noscan(48) != NULL);
	REQUIRE_EQ(t->mcache.nputs, 1);
	s = fake_span_of((uintptr_t)t->mcache.puts[0].base);
	REQUIRE(s != NULL);
	refills = fk.refills;
	e = fake_handshake(KGC_PHASE_MARK_TERM);
	raise(SIGURG);
	CHECK_EQ(t->acked, e);
	CHECK_EQ(t->mcache.nputs, 1);
	CHECK_EQ(fk.refills, refills);
	fake_cycle_done();
	e = fake_handshake(KGC_PHASE_MARK);
	raise(SIGURG);
	CHECK_EQ(t->acked, e);
	CHECK_EQ(t->mcache.nputs, 0);
	CHECK(!s->cached);
	CHECK_EQ(fk.refills, refills + 1);
	/* Nothing queued: no call. */
	fake_cycle_done();
	fake_handshake(KGC_PHASE_MARK);
	raise(SIGURG);
	CHECK_EQ(fk.refills, refills + 1);
	fake_cycle_done();
	kgc_shutdown();
}

TAP_MAIN(
	TAP_CASE(test_handler_chains_to_program_handler),
	TAP_CASE(test_mark_start_ack),
	TAP_CASE(test_mark_term_ack),
	TAP_CASE(test_stack_in_chunks),
	TAP_CASE(test_handler_defers_inside_library),
	TAP_CASE(test_handler_acks_outside_library),
	TAP_CASE(test_blocking_begin_acks_pending_handshake),
	TAP_CASE(test_handshake_at_cache_word),
	TAP_CASE(test_tiny_block_stays_in_span),
	TAP_CASE(test_attach_during_cycle),
	TAP_CASE(test_attach_failure),
	TAP_CASE(test_auto_roots),
	TAP_CASE(test_roots_shaded_while_marking),
	TAP_CASE(test_fork_child_flag_reads_zero),
	TAP_CASE(test_reserve_spans_reported),
	TAP_CASE(test_mark_start_returns_used_spans),
)
