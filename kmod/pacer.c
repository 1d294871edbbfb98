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
 * Mutator assists (Go's assist ratio with background credit): a cycle is
 * expected to take as much mark work as the last one did (bytes of objects
 * scanned plus one per object; the first cycle: its whole live heap), and
 * must finish it before the heap grows from where marking started to the
 * goal. So by the time the mutator has handed out a fraction f of that
 * distance, f of the expected work should be done. Marking done by anyone
 * counts (the marker thread, mark workers, other assists): a refill assists
 * only when the total is behind that schedule by more than a slack (1/16 of
 * the expected work, at least 64 KiB: the marker publishes its work a batch
 * at a time, and one large object is one item), and then by the deficit,
 * at most its own share (what it allocates times expected work over
 * distance) plus 64 KiB, so that one thread does not pay for all. A marker
 * that keeps up on its own CPU thus costs the allocating threads nothing.
 * Two
 * backstops, for estimates that turn out wrong: once the work done passes
 * the estimate, every refill past the trigger assists 1 to 4 times what it
 * allocates (rising to the goal), and at and beyond the goal 4 times.
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

/* Bytes an assist may scan beyond its own share (Go's gcOverAssistWork). */
#define KGC_OVER_ASSIST		(64ULL << 10)
/* How far marking may fall behind the schedule before anyone assists. */
#define KGC_ASSIST_SLACK	(64ULL << 10)

/* @x times a 16.16 fixed-point @ratio, saturating at U64_MAX. */
static u64 kgc_pacer_scale(u64 x, u64 ratio)
{
	u64 r;

	if (check_mul_overflow(x, ratio, &r))
		return ~0ULL;
	return r >> 16;
}

/**
 * kgc_pacer_assist_budget() - mark work a refill must do while marking
 * @a: where the cycle stands
 * @alloc: bytes the refill hands out
 *
 * Return: work to do, in the units of &struct kgc_assist (0: no assist).
 */
long kgc_pacer_assist_budget(const struct kgc_assist *a, u64 alloc)
{
	u64 ratio, since, dist, due, share, slack;

	if (a->live >= a->goal)
		return (long)min_t(u64, alloc, LONG_MAX / 8) * 4;
	if (a->done >= a->expected) {
		if (a->live <= a->trigger || a->goal <= a->trigger)
			return 0;
		/* 1x at the trigger rising to 4x at the goal. */
		ratio = 16 + 48 * (a->live - a->trigger) /
			(a->goal - a->trigger);
		/* ratio sixteenths in 16.16, through the saturating scale. */
		return (long)min_t(u64, kgc_pacer_scale(alloc, ratio << 12),
				   LONG_MAX / 2);
	}
	since = a->live > a->live0 ? a->live - a->live0 : 0;
	dist = a->goal > a->live0 ? a->goal - a->live0 : 1;
	/* Work per byte allocated, 16.16 (the estimate capped at 2^47). */
	ratio = (min_t(u64, a->expected, 1ULL << 47) << 16) / dist;
	due = kgc_pacer_scale(since, ratio);
	/*
	 * Slack: the marker publishes its work a batch at a time and may be
	 * a large object into it; it runs on its own CPU and catches up.
	 */
	slack = max_t(u64, KGC_ASSIST_SLACK, a->expected / 16);
	if (a->done >= due || due - a->done <= slack)
		return 0;
	share = kgc_pacer_scale(alloc, ratio);
	share = min_t(u64, share, LONG_MAX / 2) + KGC_OVER_ASSIST;
	return (long)min(due - a->done, share);
}

/**
 * kgc_pacer_idle_gc() - is an idle process worth a collection?
 * @live: live bytes now (marked by the last cycle plus handed out since)
 * @marked: bytes marked by the last cycle, @black included
 * @black: the part of @marked handed out while that cycle marked
 * @gc_percent: GOGC, negative for off
 *
 * An idle process makes no refills, so the pacer never collects the
 * garbage it made before it went idle. What may be garbage is what was
 * handed out since the last cycle began marking: since it ended, and
 * during it, as those objects were allocated black and survived it
 * whatever became of them. A process that goes idle while a cycle marks
 * ends that cycle with all it made meanwhile counted as marked, and
 * nothing handed out since. Collect when that much is at least 1/16 of
 * what the last cycle found reachable (so an idle heap ends within about
 * 6% of its live data) and at least 128 KiB (so a small idle program is
 * left alone); never with GOGC off.
 *
 * Return: true to start a cycle.
 */
bool kgc_pacer_idle_gc(u64 live, u64 marked, u64 black, s64 gc_percent)
{
	u64 found, since;

	black = min(black, marked);
	found = marked - black;
	if (gc_percent < 0 || live <= found)
		return false;
	since = live - found;
	return since >= KGC_IDLE_GC_MIN && since >= found >> KGC_IDLE_GC_SHIFT;
}

#ifdef __KERNEL__
#if IS_ENABLED(CONFIG_KUNIT)
#include "pacer-test.h"
#endif
#endif
