// SPDX-License-Identifier: GPL-2.0
/*
 * pacer.c - the pacer's arithmetic (Go's mgcpacer.go, simplified).
 *
 * After a cycle marked M bytes (objects allocated black during the cycle
 * included, as in Go's heapMarked), the next cycle's goal is
 *	goal = max(M * (1 + GOGC / 100), 4 MiB)
 * (GOGC = 100: the heap may double before the next collection). With a
 * memory limit the goal is also capped at 95% of the limit, so the heap
 * collects harder rather than exceed it (GOMEMLIMIT); with GOGC off only the
 * limit triggers cycles. A cycle starts at the trigger, 70% of the way from
 * M to the goal, so that concurrent marking normally finishes before the
 * heap reaches the goal.
 *
 * Mutator assists: when a refill finds the heap past the trigger while
 * marking, the allocating thread scans heap memory itself before it gets its
 * span, in proportion to what it allocates and to how far the heap has
 * overrun: at the trigger an assist scans as many bytes as it allocates; at
 * the goal and beyond, 4 times as many (the marker has fallen behind).
 */
#include "pacer.h"

/**
 * kgc_pacer_goal() - the next cycle's goal and trigger
 * @marked: bytes marked by the last cycle
 * @gc_percent: GOGC, negative for off
 * @memory_limit: bytes, negative for none
 * @goal: out: heap goal in bytes (U64_MAX when nothing triggers)
 * @trigger: out: live bytes at which to start the next cycle
 */
void kgc_pacer_goal(u64 marked, s64 gc_percent, s64 memory_limit,
		    u64 *goal, u64 *trigger)
{
	u64 g = ~0ULL, base = marked;

	if (gc_percent >= 0) {
		if (check_mul_overflow(marked, (u64)(100 + gc_percent), &g))
			g = ~0ULL;
		else
			g /= 100;
		g = max(g, KGC_MIN_HEAP);
	}
	if (memory_limit >= 0)
		g = min(g, (u64)memory_limit - (u64)memory_limit / 20);
	if (g < base)
		base = g;
	*goal = g;
	if (g == ~0ULL)
		*trigger = ~0ULL;
	else
		*trigger = base + (g - base) / 10 * KGC_TRIGGER_TENTHS;
}

/**
 * kgc_pacer_assist_budget() - bytes a refill must scan while marking
 * @live: live bytes now
 * @goal: heap goal
 * @trigger: the cycle's trigger
 * @alloc: bytes the refill hands out
 *
 * Return: bytes of heap to scan (0: no assist).
 */
long kgc_pacer_assist_budget(u64 live, u64 goal, u64 trigger, u64 alloc)
{
	u64 ratio;

	if (live <= trigger || goal <= trigger)
		return 0;
	/* 1x at the trigger rising to 4x at the goal. */
	if (live >= goal)
		ratio = 4 * 16;
	else
		ratio = 16 + 48 * (live - trigger) / (goal - trigger);
	return (long)min_t(u64, alloc * ratio / 16, LONG_MAX / 2);
}

/**
 * kgc_pacer_idle_gc() - is an idle process worth a collection?
 * @live: live bytes now (marked by the last cycle plus handed out since)
 * @marked: bytes marked by the last cycle
 * @gc_percent: GOGC, negative for off
 *
 * An idle process makes no refills, so the pacer never collects the
 * garbage it made before it went idle. Collect when what was handed out
 * since the last cycle is at least 1/16 of what it marked (so an idle heap
 * ends within about 6% of its live data) and at least 128 KiB (so a small
 * idle program is left alone); never with GOGC off.
 *
 * Return: true to start a cycle.
 */
bool kgc_pacer_idle_gc(u64 live, u64 marked, s64 gc_percent)
{
	u64 since;

	if (gc_percent < 0 || live <= marked)
		return false;
	since = live - marked;
	return since >= KGC_IDLE_GC_MIN && since >= marked >> KGC_IDLE_GC_SHIFT;
}

#ifdef __KERNEL__
#if IS_ENABLED(CONFIG_KUNIT)
#include "pacer-test.h"
#endif
#endif
