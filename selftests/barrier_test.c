// SPDX-License-Identifier: GPL-2.0
/*
 * barrier_test - turning the write barrier on at mark start, with libkgc
 * against the real kgc.ko.
 *
 * A thread that tested the barrier flag as off, and is stopped before its
 * store while a cycle starts, must not store unseen once marking has begun.
 * The test makes that happen for certain: it stops a thread of a child
 * process with ptrace(2) between kgc_store()'s test and its store (single
 * steps until the thread stands on the store), has the child start a
 * cycle, and checks that
 *  - the kernel keeps the cycle in its first handshake (phase BARRIER:
 *    nothing scanned, nothing black) for as long as the thread has not
 *    acknowledged it, although the safepoint signal is pending for it;
 *  - once the thread runs, its signal handler sends it back to the test
 *    (one barrier restart), and the cycle completes.
 * Without the restart the thread would resume at the store itself, after
 * its handler had acknowledged.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kgc_lib_util.h"

/* What the child reports. */
struct report {
	int err;		/* -errno of setup, or 0 */
	pid_t tid;		/* the storing thread */
	uint64_t restarts;	/* struct kgc_heap_stats.barrier_restarts */
	uint64_t num_gc;
	char msg[128];
};

static void **slot_obj;
static void *stored;
static volatile int stop_storing;
static int report_fd;

static void *store_loop(void *arg)
{
	struct report r = { .tid = gettid() };

	(void)arg;
	/* It allocates nothing: known to the collector only this way. */
	r.err = kgc_thread_attach();
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		return NULL;
	while (!stop_storing)
		kgc_store(&slot_obj[0], stored);
	return NULL;
}

/* The child: a heap, a storing thread, a cycle when told to. */
static int child(int rfd, int cmd)
{
	struct report r = { 0 };
	struct kgc_heap_stats st;
	pthread_t th;
	char c;

	report_fd = rfd;
	r.err = test_heap_init(TEST_HEAP_RESERVE);
	if (!r.err) {
		slot_obj = kgc_alloc_conservative(64);
		stored = kgc_alloc_conservative(64);
		if (!slot_obj || !stored)
			r.err = -ENOMEM;
	}
	/* Nothing left to collect: no idle cycle while the thread is held. */
	if (!r.err)
		r.err = kgc_gc();
	if (!r.err)
		r.err = -pthread_create(&th, NULL, store_loop, NULL);
	if (r.err) {
		snprintf(r.msg, sizeof(r.msg), "%s", kgc_last_error());
		return write(rfd, &r, sizeof(r)) == sizeof(r) ? 0 : 1;
	}
	/* store_loop() reports its tid first. */
	if (read(cmd, &c, 1) != 1)
		return 1;
	r.err = kgc_gc();
	stop_storing = 1;
	pthread_join(th, NULL);
	st = read_stats();
	r.restarts = st.barrier_restarts;
	r.num_gc = st.num_gc;
	if (write(rfd, &r, sizeof(r)) != sizeof(r))
		return 1;
	kgc_shutdown();
	return 0;
}

/* Whether @rip stands on kgc_store()'s store, its test having read 0. */
static bool at_store(const struct user_regs_struct *regs)
{
	const unsigned char *p = (const unsigned char *)regs->rip;

	if (regs->rcx != (uintptr_t)&kgc_write_barrier_enabled ||
	    !(regs->eflags & 0x40))
		return false;
	/* Our own text is the child's: forked from this process. */
	return p[0] == 0x48 && p[1] == 0x89 && p[2] == 0x02 &&
	       p[-6] == 0x0f && p[-5] == 0x85 &&
	       p[-9] == 0x83 && p[-8] == 0x39 && p[-7] == 0x00;
}

/* The child's phase word, read through its stopped, traced thread @tid. */
static uint32_t child_phase(pid_t tid)
{
	long word;

	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, tid, (void *)&kgc_write_barrier_enabled,
		      NULL);
	if (errno)
		return ~0U;
	return (uint32_t)word;	/* little-endian: the first four bytes */
}

/* Whether @sig is pending for thread @tid (/proc/.../status SigPnd). */
static bool sig_pending(pid_t pid, pid_t tid, int sig)
{
	char path[64], line[128];
	unsigned long long mask = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigPnd: %llx", &mask) == 1) {
			found = true;
			break;
		}
	fclose(f);
	return found && (mask & (1ULL << (sig - 1)));
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

TEST(store_caught_before_the_barrier_is_restarted)
{
	int rp[2], cp[2], st, i, steps;
	struct user_regs_struct regs;
	struct report r;
	pid_t pid, tid;

	if (access("/dev/kgc", F_OK))
		SKIP(return, "no /dev/kgc");
	ASSERT_EQ(0, pipe(rp));
	ASSERT_EQ(0, pipe(cp));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(rp[0]);
		close(cp[1]);
		_exit(child(rp[1], cp[0]));
	}
	close(rp[1]);
	close(cp[0]);
	ASSERT_EQ(sizeof(r), read(rp[0], &r, sizeof(r)));
	/* The storing thread's tid and attach, or the setup's error. */
	ASSERT_EQ(0, r.err) TH_LOG("child: %s", r.msg);
	tid = r.tid;

	/* Stop the storing thread on a store whose test read 0. */
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, tid, NULL, NULL));
	ASSERT_EQ(0, ptrace(PTRACE_INTERRUPT, tid, NULL, NULL));
	ASSERT_EQ(tid, waitpid(tid, &st, __WALL));
	for (i = 0; i < 100000; i++) {
		ASSERT_EQ(0, ptrace(PTRACE_GETREGS, tid, NULL, &regs));
		if (at_store(&regs))
			break;
		ASSERT_EQ(0, ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL));
		ASSERT_EQ(tid, waitpid(tid, &st, __WALL));
	}
	ASSERT_TRUE(at_store(&regs));
	steps = i;
	ASSERT_EQ(KGC_PHASE_OFF, child_phase(tid));

	/* A cycle: the kernel turns the barrier on and signals the thread. */
	ASSERT_EQ(1, write(cp[1], "g", 1));
	for (i = 0; i < 5000 && !sig_pending(pid, tid, SIGURG); i++)
		sleep_ms(1);
	ASSERT_TRUE(sig_pending(pid, tid, SIGURG))
		TH_LOG("phase %u", child_phase(tid));
	/* It waits for this thread before it scans any stack. */
	sleep_ms(200);
	ASSERT_EQ(KGC_PHASE_BARRIER, child_phase(tid));

	/* Let it go: its handler acknowledges, after the restart. */
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, tid, NULL, NULL));
	ASSERT_EQ(sizeof(r), read(rp[0], &r, sizeof(r)));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	EXPECT_EQ(0, r.err);
	EXPECT_EQ(1, r.restarts);
	EXPECT_EQ(2, r.num_gc);
	printf("# %d single steps to the store, %llu restart(s), %llu cycles\n",
	       steps, (unsigned long long)r.restarts,
	       (unsigned long long)r.num_gc);
}

TEST_HARNESS_MAIN
