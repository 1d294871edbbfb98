/* SPDX-License-Identifier: GPL-2.0 */
/*
 * heap.h - a process's kgc heap: the kernel glue around struct kgc_mheap.
 */
#ifndef _KGC_HEAP_H
#define _KGC_HEAP_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/xarray.h>

#include "gc.h"
#include "mheap.h"
#include "reclaim.h"

/*
 * Each heap owns a 1 TiB window of the device's file offsets, so that its
 * pages can be unmapped through the device's address_space without touching
 * another heap's mappings: the heap at id * 1 TiB, its pointer bitmap at
 * id * 1 TiB + 512 GiB, its control area at id * 1 TiB + 768 GiB.
 */
#define KGC_WINDOW_SHIFT	40
#define KGC_BITMAP_WINDOW	(1ULL << (KGC_WINDOW_SHIFT - 1))
#define KGC_CTL_WINDOW		(3ULL << (KGC_WINDOW_SHIFT - 2))
#define KGC_MAX_HEAPS		BIT(20)

/**
 * struct kgc_heap - the heap of one process (one open of /dev/kgc)
 * @mm: the address space that opened the device; every call from another
 *	mm fails with EPERM. Held with mmgrab(): the heap keeps the mm_struct
 *	from being reused, not the address space alive.
 * @mapping: the device inode's address_space the heap is mapped through
 * @id: heap id, selects the heap's window of file offsets
 * @pgoff: first file page (PAGE_SIZE units) of the heap's window
 * @setup_lock: serialises the handshake and the mmap calls; protects
 *	@api_done, @features, @mapped, @bitmap_mapped, @size
 * @api_done: the KGC_IOC_API handshake succeeded
 * @features: features the handshake asked for
 * @mapped: the heap mapping exists (set once, @mheap is initialised)
 * @bitmap_mapped: the pointer bitmap mapping exists (set once)
 * @ctl_mapped: the control area mapping exists (set once)
 * @size: bytes of heap reserved by the mapping
 * @mheap: the heap proper; valid once @mapped is set
 * @pages: backing pages by page offset in the window (PAGE_SIZE units);
 *	the xarray's own lock protects it
 * @resident: pages in @pages
 * @drops: runs of pages taken out of @pages so far (kgc_heap_drop_pages()):
 *	a page a marker looked up before the count last moved may be gone
 * @faults: faults that allocated a page
 * @node: link in the list of heaps (kgc_heaps_lock)
 * @gc: the collector
 * @scav: the scavenger's state (reclaim.c)
 */
struct kgc_heap {
	struct mm_struct *mm;
	struct address_space *mapping;
	int id;
	unsigned long pgoff;
	struct mutex setup_lock;	/* handshake and mmap state */
	bool api_done;
	u64 features;
	bool mapped;
	bool bitmap_mapped;
	bool ctl_mapped;
	unsigned long size;
	struct kgc_mheap mheap;
	struct xarray pages;
	atomic_long_t resident;
	atomic_long_t drops;
	atomic_long_t faults;
	struct list_head node;
	struct kgc_gc gc;
	struct kgc_scav scav;
};

struct kgc_heap *kgc_heap_create(struct file *file);
void kgc_heap_destroy(struct kgc_heap *heap);
int kgc_heap_mmap(struct kgc_heap *heap, struct vm_area_struct *vma);
bool kgc_heap_ready(struct kgc_heap *heap);
unsigned long kgc_heap_get_unmapped_area(struct kgc_heap *heap,
					 unsigned long addr, unsigned long len,
					 unsigned long pgoff, unsigned long flags);
void kgc_heap_zero(struct kgc_heap *heap, u64 addr, u64 len);
unsigned long kgc_heap_drop_pages(struct kgc_heap *heap, unsigned long page,
				  unsigned long npages);

extern unsigned long kgc_max_heap_mb;

#endif /* _KGC_HEAP_H */
