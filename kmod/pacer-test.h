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

/* Assists: none below the trigger, 1x at the trigger, 4x at the goal. */
static void kgc_pacer_test_assist(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(50, 100, 70, 1000), 0L);
	/* 1/30 of the way: ratio 16 + 48 / 30 = 17 sixteenths. */
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(71, 100, 70, 1600),
			1700L);
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(100, 100, 70, 1000),
			4000L);
	KUNIT_EXPECT_EQ(test, kgc_pacer_assist_budget(500, 100, 70, 1000),
			4000L);
}

/*
 * Idle collection: only with GOGC on, only for at least 1/16 of the marked
 * heap handed out since, and never for less than 128 KiB.
 */
static void kgc_pacer_test_idle(struct kunit *test)
{
	/* Nothing or too little handed out since the cycle. */
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(64 * MiB, 64 * MiB, 100));
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(63 * MiB, 64 * MiB, 100));
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(68 * MiB - 1, 64 * MiB,
						   100));
	/* A sixteenth of the marked heap. */
	KUNIT_EXPECT_TRUE(test, kgc_pacer_idle_gc(68 * MiB, 64 * MiB, 100));
	/* The 128 KiB floor for small heaps, the first cycle included. */
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(100 << 10, 0, 100));
	KUNIT_EXPECT_TRUE(test, kgc_pacer_idle_gc(128 << 10, 0, 100));
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(MiB + (127 << 10), MiB,
						   100));
	/* GOGC off: only the memory limit collects. */
	KUNIT_EXPECT_FALSE(test, kgc_pacer_idle_gc(128 * MiB, 0, -1));
	KUNIT_EXPECT_TRUE(test, kgc_pacer_idle_gc(128 * MiB, 0, 0));
}

static struct kunit_case kgc_pacer_test_cases[] = {
	KUNIT_CASE(kgc_pacer_test_gogc_100),
	KUNIT_CASE(kgc_pacer_test_min_heap),
	KUNIT_CASE(kgc_pacer_test_off_and_limit),
	KUNIT_CASE(kgc_pacer_test_overflow),
	KUNIT_CASE(kgc_pacer_test_assist),
	KUNIT_CASE(kgc_pacer_test_idle),
	{}
};

static struct kunit_suite kgc_pacer_test_suite = {
	.name = "kgc_pacer",
	.test_cases = kgc_pacer_test_cases,
};

kunit_test_suite(kgc_pacer_test_suite);

#endif /* _KGC_PACER_TEST_H */
