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
#define FAKE_MAX_SPANS		8192
#define FAKE_MAX_PUTS		4096
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

	/* counters */
	unsigned long ioctls;
	unsigned long refills;
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

#endif /* KGC_FAKE_KERNEL_H */
