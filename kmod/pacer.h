/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pacer.h - when to collect (GOGC, memory limit) and how much to assist.
 */
#ifndef _KGC_PACER_H
#define _KGC_PACER_H

#include "core.h"

/* The heap goal is never below this (Go's 4 MiB minimum heap). */
#define KGC_MIN_HEAP		(4ULL << 20)
/* A cycle starts when this many tenths of the way to the goal. */
#define KGC_TRIGGER_TENTHS	7
/* The least mark work a cycle is expected to take (assists). */
#define KGC_MIN_MARK_WORK	(64ULL << 10)
/* Forced GC after this long without one (Go's forcegcperiod). */
#define KGC_FORCE_PERIOD_SEC	120
/*
 * An idle process is collected when what was handed out since the last
 * cycle is at least 1/2^KGC_IDLE_GC_SHIFT of what that cycle marked, and
 * at least KGC_IDLE_GC_MIN bytes.
 */
#define KGC_IDLE_GC_SHIFT	4
#define KGC_IDLE_GC_MIN		(128ULL << 10)

/**
 * struct kgc_assist - where a cycle stands, for kgc_pacer_assist_budget()
 * @live0: live bytes when marking started
 * @live: live bytes now
 * @goal: the cycle's heap goal
 * @trigger: the cycle's trigger
 * @expected: mark work the cycle is expected to take (bytes of objects
 *	scanned plus one per object)
 * @done: mark work done so far, by everybody
 */
struct kgc_assist {
	u64 live0;
	u64 live;
	u64 goal;
	u64 trigger;
	u64 expected;
	u64 done;
};

void kgc_pacer_goal(u64 marked, s64 gc_percent, s64 memory_limit,
		    u64 *goal, u64 *trigger);
long kgc_pacer_assist_budget(const struct kgc_assist *a, u64 alloc);
bool kgc_pacer_idle_gc(u64 live, u64 marked, u64 black, s64 gc_percent);

#endif /* _KGC_PACER_H */
