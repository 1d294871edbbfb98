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
/* Forced GC after this long without one (Go's forcegcperiod). */
#define KGC_FORCE_PERIOD_SEC	120
/*
 * An idle process is collected when what was handed out since the last
 * cycle is at least 1/2^KGC_IDLE_GC_SHIFT of what that cycle marked, and
 * at least KGC_IDLE_GC_MIN bytes.
 */
#define KGC_IDLE_GC_SHIFT	4
#define KGC_IDLE_GC_MIN		(128ULL << 10)

void kgc_pacer_goal(u64 marked, s64 gc_percent, s64 memory_limit,
		    u64 *goal, u64 *trigger);
long kgc_pacer_assist_budget(u64 live, u64 goal, u64 trigger, u64 alloc);
bool kgc_pacer_idle_gc(u64 live, u64 marked, s64 gc_percent);

#endif /* _KGC_PACER_H */
