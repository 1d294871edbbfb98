/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h - kgc's tracepoints (system "kgc").
 *
 * Enable them with tracefs: echo 1 > /sys/kernel/tracing/events/kgc/enable,
 * or perf/bpftrace (kgc:kgc_gc_start ...). One cycle reads:
 *   kgc_gc_start, kgc_handshake (MARK), kgc_mark_done, kgc_handshake
 *   (MARK_TERM), kgc_gc_end, kgc_sweep_done
 * with kgc_refill and kgc_large_alloc from the allocation slow paths in
 * between.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kgc

#if !defined(_KGC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KGC_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(kgc_gc_start,
	    TP_PROTO(int pid, u64 num, u32 reason, u64 heap_live, u64 heap_goal),
	    TP_ARGS(pid, num, reason, heap_live, heap_goal),
	    TP_STRUCT__entry(__field(int, pid)
			     __field(u64, num)
			     __field(u32, reason)
			     __field(u64, heap_live)
			     __field(u64, heap_goal)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->num = num;
			   __entry->reason = reason;
			   __entry->heap_live = heap_live;
			   __entry->heap_goal = heap_goal;),
	    TP_printk("pid=%d gc=%llu reason=%s live=%llu goal=%llu",
		      __entry->pid, __entry->num,
		      __print_symbolic(__entry->reason, { 0, "pacer" },
				       { 1, "manual" }, { 2, "forced" },
				       { 3, "limit" }), __entry->heap_live,
		      __entry->heap_goal)
);

TRACE_EVENT(kgc_handshake,
	    TP_PROTO(int pid, u32 phase, u32 epoch, u64 ns, u32 threads,
		     u64 signals),
	    TP_ARGS(pid, phase, epoch, ns, threads, signals),
	    TP_STRUCT__entry(__field(int, pid)
			     __field(u32, phase)
			     __field(u32, epoch)
			     __field(u64, ns)
			     __field(u32, threads)
			     __field(u64, signals)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->phase = phase;
			   __entry->epoch = epoch;
			   __entry->ns = ns;
			   __entry->threads = threads;
			   __entry->signals = signals;),
	    TP_printk("pid=%d phase=%s epoch=%u ns=%llu threads=%u signals=%llu",
		      __entry->pid,
		      __print_symbolic(__entry->phase, { 3, "barrier" },
				       { 1, "mark" }, { 2, "mark_term" }),
		      __entry->epoch,
		      __entry->ns, __entry->threads, __entry->signals)
);

/*
 * Mark termination waits to be raised by a thread (@expired false), or the
 * wait ran out and the marker raises it (@expired true).
 */
TRACE_EVENT(kgc_term_defer,
	    TP_PROTO(int pid, bool expired),
	    TP_ARGS(pid, expired),
	    TP_STRUCT__entry(__field(int, pid)
			     __field(bool, expired)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->expired = expired;),
	    TP_printk("pid=%d expired=%d", __entry->pid, __entry->expired)
);

TRACE_EVENT(kgc_mark_done,
	    TP_PROTO(int pid, u64 mark_ns, bool overflowed),
	    TP_ARGS(pid, mark_ns, overflowed),
	    TP_STRUCT__entry(__field(int, pid)
			     __field(u64, mark_ns)
			     __field(bool, overflowed)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->mark_ns = mark_ns;
			   __entry->overflowed = overflowed;),
	    TP_printk("pid=%d mark_ns=%llu overflowed=%d", __entry->pid,
		      __entry->mark_ns, __entry->overflowed)
);

TRACE_EVENT(kgc_gc_end,
	    TP_PROTO(int pid, u64 num, u64 marked, u64 next_goal, u64 pause_ns),
	    TP_ARGS(pid, num, marked, next_goal, pause_ns),
	    TP_STRUCT__entry(__field(int, pid)
			     __field(u64, num)
			     __field(u64, marked)
			     __field(u64, next_goal)
			     __field(u64, pause_ns)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->num = num;
			   __entry->marked = marked;
			   __entry->next_goal = next_goal;
			   __entry->pause_ns = pause_ns;),
	    TP_printk("pid=%d gc=%llu marked=%llu next_goal=%llu pause_ns=%llu",
		      __entry->pid, __entry->num, __entry->marked,
		      __entry->next_goal, __entry->pause_ns)
);

TRACE_EVENT(kgc_sweep_done,
	    TP_PROTO(int pid, u64 num, u64 spans, u64 freed),
	    TP_ARGS(pid, num, spans, freed),
	    TP_STRUCT__entry(__field(int, pid)
			     __field(u64, num)
			     __field(u64, spans)
			     __field(u64, freed)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->num = num;
			   __entry->spans = spans;
			   __entry->freed = freed;),
	    TP_printk("pid=%d gc=%llu spans=%llu freed_objects=%llu",
		      __entry->pid, __entry->num, __entry->spans, __entry->freed)
);

TRACE_EVENT(kgc_refill,
	    TP_PROTO(u64 put_base, u32 spanclass, u64 base, u32 nelems,
		     u32 freeindex, int ret),
	    TP_ARGS(put_base, spanclass, base, nelems, freeindex, ret),
	    TP_STRUCT__entry(__field(u64, put_base)
			     __field(u32, spanclass)
			     __field(u64, base)
			     __field(u32, nelems)
			     __field(u32, freeindex)
			     __field(int, ret)),
	    TP_fast_assign(__entry->put_base = put_base;
			   __entry->spanclass = spanclass;
			   __entry->base = base;
			   __entry->nelems = nelems;
			   __entry->freeindex = freeindex;
			   __entry->ret = ret;),
	    TP_printk("put=%#llx spanclass=%u span=%#llx nelems=%u freeindex=%u ret=%d",
		      __entry->put_base, __entry->spanclass, __entry->base,
		      __entry->nelems, __entry->freeindex, __entry->ret)
);

TRACE_EVENT(kgc_large_alloc,
	    TP_PROTO(u64 size, u64 addr, u64 npages, bool zeroed, int ret),
	    TP_ARGS(size, addr, npages, zeroed, ret),
	    TP_STRUCT__entry(__field(u64, size)
			     __field(u64, addr)
			     __field(u64, npages)
			     __field(bool, zeroed)
			     __field(int, ret)),
	    TP_fast_assign(__entry->size = size;
			   __entry->addr = addr;
			   __entry->npages = npages;
			   __entry->zeroed = zeroed;
			   __entry->ret = ret;),
	    TP_printk("size=%llu addr=%#llx npages=%llu zeroed=%d ret=%d",
		      __entry->size, __entry->addr, __entry->npages,
		      __entry->zeroed, __entry->ret)
);

#endif /* _KGC_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
