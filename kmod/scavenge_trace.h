/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scavenge_trace.h - the scavenger's tracepoint: one event per run of free
 * heap pages given back to the system (reclaim.c defines it).
 *
 *   echo 1 > /sys/kernel/tracing/events/kgc/kgc_scavenge/enable
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kgc

#if !defined(_KGC_SCAVENGE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KGC_SCAVENGE_TRACE_H

#include <linux/tracepoint.h>

/**
 * kgc_scavenge - a run of free heap pages was given back
 * @pid: the heap owner's process id
 * @path: 0 background scavenger, 1 shrinker (memory reclaim), 2 explicit
 * @base: first heap page of the run (KGC_PAGE_SIZE units from the heap base)
 * @npages: heap pages in the run
 * @freed: base pages that were resident and are now freed
 * @age_ms: time since a span was last freed into the run's chunk
 */
TRACE_EVENT(kgc_scavenge,
	    TP_PROTO(int pid, unsigned int path, unsigned long base,
		     unsigned long npages, unsigned long freed, u64 age_ms),
	    TP_ARGS(pid, path, base, npages, freed, age_ms),
	    TP_STRUCT__entry(__field(int, pid)
			     __field(unsigned int, path)
			     __field(unsigned long, base)
			     __field(unsigned long, npages)
			     __field(unsigned long, freed)
			     __field(u64, age_ms)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->path = path;
			   __entry->base = base;
			   __entry->npages = npages;
			   __entry->freed = freed;
			   __entry->age_ms = age_ms;),
	    TP_printk("pid=%d path=%s base=%lu npages=%lu freed=%lu age_ms=%llu",
		      __entry->pid,
		      __print_symbolic(__entry->path, { 0, "background" },
				       { 1, "shrinker" }, { 2, "explicit" }),
		      __entry->base, __entry->npages, __entry->freed,
		      __entry->age_ms)
);

#endif /* _KGC_SCAVENGE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE scavenge_trace
#include <trace/define_trace.h>
