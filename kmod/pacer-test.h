/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for the pacer's arithmetic. Included at the end of pacer.c.
 */
#ifndef _KGC_PACER_TEST_H
#define _KGC_PACER_TEST_H

#include <kunit/test.h>

#define MiB BIT_ULL(20)

/* GOGC=100 doubles the marked heap; the trigger is 70% of the way. */
static void kgc_pacer_test_gogc_100(struct kunit *test)
{
	u64 goal, trigger;

	kgc_pacer_goal(100 * MiB, 100, -1, &goal, &trigger);
	KUNIT_EXPECT_EQ(test, goal, 200 * MiB);
	KUNIT_EXPECT_EQ(test, trigger, 100 * MiB + 70 * MiB);
	kgc_pacer_goal(100 * MiB, 50, -1, &goal, &trigger);
	KUNIT_EXPECT_EQ(test, goal, 150 * MiB);
}

/* A small heap still gets the 4 MiB minimum goal. */
static void kgc_pacer_test_min_heap(struct kunit *test)
{
	u64 goal, trigger;

	kgc_pacer_goal(0, 100, -1, &goal, &trigger);
	KUNIT_EXPECT_EQ(test, goal, KGC_MIN_HEAP);
	KUNIT_EXPECT_LT(test, trigger, goal);
	KUNIT_EXPECT_GT(test, trigger, 0ULL);
}

/*
 * GOGC off: no goal unless a memory limit is set, which then caps the goal
 * at 95% of the limit (also below what GOGC alone would allow).
 */
static void kgc_pacer_test_off_and_limit(struct kunit *test)
{
	u64 goal, trigger;

	kgc_pacer_goal(100 * MiB, -1, -1, &goal, &trigger);
	KUNIT_EXPECT_EQ(test, goal, ~0ULL);
	KUNIT_EXPECT_EQ(test, trigger, ~0ULL);
	kgc_pacer_goal(100 * MiB, -1, 1000 * MiB, &goal, &trigger);
	KUNIT_EXPECT_EQ(test, goal, 950 * MiB);
	kgc_pacer_goal(100 * MiB, 100, 160 * MiB, &goal, &trigger);
	KUNIT_EXPECT_EQ(test, goal, 152 * MiB);
	/* Limit below the live heap: collect at once. */
	kgc_pacer_goal(100 * MiB, 100, 50 * MiB, &goal, &trigger);
	KUNIT_EXPECT_LE(test, trigger, goal);
	KUNIT_EXPECT_LE(test, goal, 50 * MiB);
}

/* Huge GOGC values saturate instead of overflowing. */
static void kgc_pacer_test_overflow(struct kunit *test)
{
	u64 goal, trigger;

	kgc_pacer_goal(~0ULL / 2, 1000, -1, &goal, &trigger);
	KUNIT_EXPECT_EQ(test, goal, ~0ULL);
}

/*
 * Assists: only when marking is behind the schedule (the expected work in
 * proportion to the heap allocated since marking began) by more than the
 * slack (1/16 of the expected work, at least 64 KiB), by the deficit, at
 * most the refill's share plus 64 KiB.
 */
static void kgc_pacer_test_assist_schedule(struct kunit *test)
{
	/* From 60 to the goal 100 MiB, 80 MiB of work: 2 units a byte. */
	struct kgc_assist a = {
		.live0 = 60 * MiB, .live = 70 * MiB, .goal = 100 * MiB,
		.trigger = 60 * MiB, .expected = 80 * MiB, .done = 20 * MiB,
	};

	/* A quarter of the way, a quarter of the work done: no assist. */
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 8192), 0L);
	a.done = 25 * MiB;
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 8192), 0L);
	/* Behind by the slack, 5 MiB: still none. */
	a.done = 15 * MiB;
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 8192), 0L);
	/* Past it: the share (8 KiB x 2) plus 64 KiB. */
	a.done = 15 * MiB - 1;
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 8192),
			16384L + (64 << 10));
	/* A share larger than the deficit: the deficit. */
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 64 * MiB),
			(long)(5 * MiB + 1));
	/* Nothing allocated since marking began: nothing due. */
	a.live = 60 * MiB;
	a.done = 0;
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 8192), 0L);
}

/* Small heaps: the slack is 64 KiB, not 1/16 of the work. */
static void kgc_pacer_test_assist_slack(struct kunit *test)
{
	/* 1 MiB of work over 1 MiB of heap: 1 unit a byte. */
	struct kgc_assist a = {
		.live0 = MiB, .live = MiB + (64 << 10), .goal = 2 * MiB,
		.trigger = MiB, .expected = MiB, .done = 0,
	};

	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 4096), 0L);
	a.live++;
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 4096),
			(long)(64 << 10) + 1);
	a.live = MiB + (256 << 10);
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 4096),
			(long)(4096 + (64 << 10)));
}

/*
 * The backstops: past the estimate, 1x at the trigger rising to 4x at the
 * goal; at and past the goal 4x, whatever the schedule says.
 */
static void kgc_pacer_test_assist_backstop(struct kunit *test)
{
	struct kgc_assist a = {
		.live0 = 70, .live = 50, .goal = 100, .trigger = 70,
		.expected = 10, .done = 10,
	};

	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 1000), 0L);
	/* 1/30 of the way: ratio 16 + 48 / 30 = 17 sixteenths. */
	a.live = 71;
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 1600), 1700L);
	a.live = 100;
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 1000), 4000L);
	a.live = 500;
	a.done = 0;
	a.expected = 1 << 20;
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 1000), 4000L);
}

/*
 * Huge figures: a share that overflows saturates instead of wrapping (it
 * would come out 0 here, and the budget 64 KiB), so the deficit decides.
 */
static void kgc_pacer_test_assist_overflow(struct kunit *test)
{
	/* 2^47 units of work over 1 MiB of heap, half of it allocated. */
	struct kgc_assist a = {
		.live0 = 0, .live = MiB / 2, .goal = MiB, .trigger = 0,
		.expected = 1ULL << 47, .done = 0,
	};

	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(&a, 1ULL << 62),
			(long)(1ULL << 46));
}

/*
 * Idle collection: only with GOGC on, only for at least 1/16 of the marked
 * heap handed out since the last cycle began marking, and never for less
 * than 128 KiB.
 */
static void kgc_pacer_test_idle(struct kunit *test)
{
	/* Nothing or too little handed out since the cycle. */
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(64 * MiB, 64 * MiB, 0, 100));
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(63 * MiB, 64 * MiB, 0, 100));
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(68 * MiB - 1, 64 * MiB, 0,
						   100));
	/* A sixteenth of the marked heap. */
	KUNIT_EXPECT_TRUE(test, kgc_pacer_idle_gc(68 * MiB, 64 * MiB, 0, 100));
	/* The 128 KiB floor for small heaps, the first cycle included. */
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(100 << 10, 0, 0, 100));
	KUNIT_EXPECT_TRUE(test, kgc_pacer_idle_gc(128 << 10, 0, 0, 100));
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(MiB + (127 << 10), MiB, 0,
						   100));
	/*
	 * Went idle while the last cycle marked: nothing handed out since
	 * it, but what it allocated black may be garbage. 8 of its 64 MiB
	 * were: 56 MiB found reachable, 8 MiB may be garbage.
	 */
	KUNIT_EXPECT_TRUE(test, kgc_pacer_idle_gc(64 * MiB, 64 * MiB, 8 * MiB,
						  100));
	/* 3 MiB is less than 1/16 of the 61 MiB found, 4 MiB is not. */
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(64 * MiB, 64 * MiB,
						   3 * MiB, 100));
	KUNIT_EXPECT_TRUE(test, kgc_pacer_idle_gc(64 * MiB, 64 * MiB,
						  4 * MiB, 100));
	/* Black and handed out since add up; black never exceeds marked. */
	KUNIT_EXPECT_TRUE(test, kgc_pacer_idle_gc(66 * MiB, 64 * MiB, 2 * MiB,
						  100));
	KUNIT_EXPECT_TRUE(test, kgc_pacer_idle_gc(1 * MiB, 512 << 10, MiB,
						  100));
	/* GOGC off: only the memory limit collects. */
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(128 * MiB, 64 * MiB, 8 * MiB,
						   -1));
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(128 * MiB, 0, 0, -1));
	KUNIT_EXPECT_TRUE(test, kgc_pacer_idle_gc(128 * MiB, 0, 0, 0));
}

static struct kunit_case kgc_pacer_test_cases[] = {
	KUNIT_CASE(kgc_pacer_test_gogc_100),
	KUNIT_CASE(kgc_pacer_test_min_heap),
	KUNIT_CASE(kgc_pacer_test_off_and_limit),
	KUNIT_CASE(kgc_pacer_test_overflow),
	KUNIT_CASE(kgc_pacer_test_assist_schedule),
	KUNIT_CASE(kgc_pacer_test_assist_slack),
	KUNIT_CASE(kgc_pacer_test_assist_backstop),
	KUNIT_CASE(kgc_pacer_test_assist_overflow),
	KUNIT_CASE(kgc_pacer_test_idle),
	{}
};

static struct kunit_suite kgc_pacer_test_suite = {
	.name = "kgc_pacer",
	.test_cases = kgc_pacer_test_cases,
};

kunit_test_suite(kgc_pacer_test_suite);

#endif /* _KGC_PACER_TEST_H */
