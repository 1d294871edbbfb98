/* SPDX-License-Identifier: (LGPL-2.1 OR MIT) */
/*
 * fake_kernel.h - a stand-in for kgc.ko in the host unit tests.
 *
 * Installed as kgc_heap.sys, it answers open/ioctl/mmap/munmap/close the
 * way the module does (uapi/linux/kgc.h), with the heap and bitmap in
 * anonymous memory, so that the real library code (handshake, refill,
 * large objects, thread exit) runs without /dev/kgc. Knobs make it
 * misbehave or recycle spans in the ways the library must handle.
 */
#ifndef KGC_FAKE_KERNEL_H
#define KGC_FAKE_KERNEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kgc.h>

#define FAKE_FD			1000
#define FAKE_HEAP_OFFSET	0x100000000ULL
#define FAKE_BITMAP_OFFSET	0x200000000ULL
#define FAKE_CTL_OFFSET		0x300000000ULL
#define FAKE_MAX_SPANS		8192
#define FAKE_MAX_PUTS		4096
#define FAKE_MAX_THREADS	64
#define FAKE_MAX_SPCALLS	64
#define FAKE_SP_PTRS		(2 * 4096)
#define FAKE_MAX_ROOTS		KGC_MAX_ROOTS
/* Bytes written into free objects of recycled spans. */
#define FAKE_SCRIBBLE		0xab

struct fake_span {
	uint64_t base;
	uint32_t spanclass;
	uint32_t nelems;
	uint32_t elemsize;
	uint32_t npages;
	uint32_t freeindex;	/* as handed out */
	bool cached;
	bool large;
	bool live;
	uint64_t allocbits[KGC_ALLOC_WORDS];
};

struct fake_put {
	uint64_t base;
	uint32_t freeindex;
	uint32_t spanclass;	/* of the span */
	pthread_t thread;
};

/* One KGC_IOC_SAFEPOINT call as the fake saw it. */
struct fake_spcall {
	pthread_t thread;
	uint32_t flags;
	uint32_t epoch;
	uint32_t nptrs;
	uint32_t nspans;
	uint64_t ptrs[FAKE_SP_PTRS];	/* the first FAKE_SP_PTRS */
	struct kgc_span_mark spans[KGC_SP_MAX_SPANS];
};

struct fake_thread {
	pthread_t thread;
	uint64_t stack_lo, stack_hi;
	uint32_t signo;
	uint32_t slot;
	uint32_t acked;
	bool live;
};

struct fake_root {
	uint64_t start, len;
	bool precise;
	uint64_t map0;	/* first bitmap word */
};

struct fake_kernel {
	/* knobs, set after fake_kernel_install() */
	int open_errno;
	int api_errno;
	uint64_t api_answer;
	uint64_t features_answer;
	uint64_t ioctls_answer;
	uint64_t max_heap_size;
	uint32_t page_size;
	uint32_t nr_size_classes;
	int mmap_heap_errno;
	int mmap_bitmap_errno;
	bool reuse;		/* hand returned spans with free objects out again */
	bool sweep_all;		/* returned spans come back all free */
	uint64_t prealloc;	/* fresh spans: allocbits words start as this */
	uint64_t max_pages;	/* page budget (0: the whole heap) */
	bool bad_span;		/* describe spans with a wrong elemsize */
	bool full_spans;	/* hand out spans with no free object */
	int gc_eintr;		/* KGC_GC_RUN fails with EINTR this often */
	int attach_errno;	/* KGC_IOC_THREAD_ATTACH fails */
	bool no_ctl;		/* answer no ctl_offset-able control area */
	uint32_t more_cap;	/* further spans a batched refill hands out */

	/* state */
	pthread_mutex_t lock;
	bool open;
	bool api_done;
	uint64_t heap_base;
	uint64_t heap_len;
	uint64_t *bitmap;
	uint64_t next_page;
	unsigned int nspans;
	struct fake_span spans[FAKE_MAX_SPANS];
	unsigned int nputs;
	struct fake_put puts[FAKE_MAX_PUTS];
	struct kgc_ctl *ctl;	/* where the library mapped the control area */
	struct fake_thread threads[FAKE_MAX_THREADS];
	unsigned int nspcalls;	/* calls seen (only the first are kept) */
	struct fake_spcall spcalls[FAKE_MAX_SPCALLS];
	unsigned int nroots;
	struct fake_root roots[FAKE_MAX_ROOTS];
	uint64_t gc_percent, memory_limit, debug;
	uint64_t gc_runs;
	uint64_t scavenges;
	uint64_t gc_run_nptrs;
	uint64_t gc_run_ptrs[FAKE_SP_PTRS];

	/* counters */
	unsigned long ioctls;
	unsigned long refills;
	unsigned long more_spans;	/* further spans of batched refills */
	unsigned long large_allocs;
	unsigned long frees;
	unsigned long stats_calls;
	unsigned long enomem;
};

extern struct fake_kernel fk;

/* Reset the fake (knobs to a well-behaved kernel) and install it. */
void fake_kernel_install(void);
/* Put the real system calls back. */
void fake_kernel_uninstall(void);
/* fake_kernel_install() + kgc_init() with no environment and 64 MiB. */
int fake_heap_init(void);
/* The span (cached or not) containing @addr, or NULL. */
struct fake_span *fake_span_of(uint64_t addr);
/* Spans currently cached by user space. */
unsigned int fake_spans_cached(void);
/* Threads registered with KGC_IOC_THREAD_ATTACH now. */
unsigned int fake_threads_attached(void);
/* Raise a handshake: phase @phase under a new epoch; returns the epoch. */
uint32_t fake_handshake(uint32_t phase);
/* End the cycle: phase OFF, num_gc + 1, a cycle record. */
void fake_cycle_done(void);
/* Whether @ptr is among the ptrs of safepoint call @i (or any, i < 0). */
bool fake_sp_has(int i, uint64_t ptr);
/* Forget the recorded safepoint calls. */
void fake_sp_reset(void);
/* Whether a kernel root range covers [start, start + len). */
bool fake_root_covers(uint64_t start, uint64_t len);

#endif /* KGC_FAKE_KERNEL_H */
