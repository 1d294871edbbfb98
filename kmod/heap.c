// SPDX-License-Identifier: GPL-2.0
/*
 * heap.c - a process's heap: binding to its mm, the mappings, the pages.
 *
 * Opening /dev/kgc creates the caller's heap; the mm that opened it owns it
 * and is the only one allowed to use it. The heap's memory is a shared
 * mapping of the device whose pages the module allocates on first touch
 * (zeroed, charged with __GFP_ACCOUNT to the memory cgroup of the task that
 * touched them) and keeps in an xarray; the page tables hold references of
 * their own, so a page is never freed while it is still mapped.
 *
 * The mapping is VM_DONTCOPY (fork children do not inherit the heap) and
 * VM_DONTEXPAND, refuses to be split (munmap or mprotect of a part) and to
 * be moved by mremap: the heap's address range is fixed for its life, which
 * is what lets user space hand the kernel plain addresses.
 *
 * Lifetime: the vmas hold the file, the file holds the heap. The heap is
 * destroyed at the last close, after exit_mmap() or munmap() removed the
 * mappings, so every page is unmapped by then and simply put. The heap holds
 * the mm_struct with mmgrab() only to keep its identity unique; it never
 * keeps an address space alive.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/idr.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "debugfs.h"
#include "heap.h"

unsigned long kgc_max_heap_mb = 64 * 1024;

/* Protects kgc_heaps: heaps by creation, for the one-heap-per-mm rule. */
static DEFINE_MUTEX(kgc_heaps_lock);
static LIST_HEAD(kgc_heaps);
static DEFINE_IDA(kgc_heap_ida);

/**
 * kgc_heap_create() - create the calling process's heap
 * @file: the file being opened
 *
 * Return: the heap, or ERR_PTR(-EBUSY) when the caller's mm already has
 * one, -ENOMEM, or -EINVAL for a caller without an mm.
 */
struct kgc_heap *kgc_heap_create(struct file *file)
{
	struct kgc_heap *heap, *other;
	struct page *page;
	unsigned long idx;
	unsigned int i;
	int id, ret;

	if (!current->mm)
		return ERR_PTR(-EINVAL);
	heap = kzalloc(sizeof(*heap), GFP_KERNEL_ACCOUNT);
	if (!heap)
		return ERR_PTR(-ENOMEM);
	id = ida_alloc_max(&kgc_heap_ida, KGC_MAX_HEAPS - 1, GFP_KERNEL);
	if (id < 0) {
		ret = id;
		goto err_free;
	}
	heap->id = id;
	heap->pgoff = (unsigned long)id << (KGC_WINDOW_SHIFT - PAGE_SHIFT);
	heap->mapping = file->f_mapping;
	mutex_init(&heap->setup_lock);
	xa_init(&heap->pages);
	atomic_long_set(&heap->resident, 0);
	atomic_long_set(&heap->drops, 0);
	atomic_long_set(&heap->faults, 0);
	ret = kgc_gc_init(&heap->gc, heap);
	if (ret)
		goto err_id;
	/* The page store owns the control pages from here on. */
	for (i = 0; i < ARRAY_SIZE(heap->gc.ctl_pages); i++) {
		ret = xa_err(xa_store(&heap->pages,
				      (KGC_CTL_WINDOW >> PAGE_SHIFT) + i,
				      heap->gc.ctl_pages[i],
				      GFP_KERNEL_ACCOUNT));
		if (ret) {
			for (; i < ARRAY_SIZE(heap->gc.ctl_pages); i++)
				__free_page(heap->gc.ctl_pages[i]);
			goto err_gc;
		}
	}
	ret = kgc_scav_init(heap);
	if (ret)
		goto err_gc;

	mutex_lock(&kgc_heaps_lock);
	list_for_each_entry(other, &kgc_heaps, node) {
		if (other->mm == current->mm) {
			mutex_unlock(&kgc_heaps_lock);
			ret = -EBUSY;
			goto err_gc;
		}
	}
	heap->mm = current->mm;
	mmgrab(heap->mm);
	list_add_tail(&heap->node, &kgc_heaps);
	mutex_unlock(&kgc_heaps_lock);
	kgc_debugfs_heap_add(heap);
	return heap;

err_gc:
	kgc_scav_destroy(heap);
	kgc_gc_destroy(&heap->gc);
	xa_for_each(&heap->pages, idx, page)
		put_page(page);
	xa_destroy(&heap->pages);
err_id:
	ida_free(&kgc_heap_ida, id);
err_free:
	mutex_destroy(&heap->setup_lock);
	kfree(heap);
	return ERR_PTR(ret);
}

/**
 * kgc_heap_destroy() - free a heap and every page it has
 * @heap: heap whose file is being released; no mapping is left
 */
void kgc_heap_destroy(struct kgc_heap *heap)
{
	struct page *page;
	unsigned long idx;

	/* Waits for readers of the heap's debugfs files. */
	kgc_debugfs_heap_remove(heap);
	mutex_lock(&kgc_heaps_lock);
	list_del(&heap->node);
	mutex_unlock(&kgc_heaps_lock);

	kgc_scav_destroy(heap);
	kgc_gc_destroy(&heap->gc);
	if (heap->mapped)
		kgc_mheap_destroy(&heap->mheap);
	xa_for_each(&heap->pages, idx, page)
		put_page(page);
	xa_destroy(&heap->pages);
	mmdrop(heap->mm);
	ida_free(&kgc_heap_ida, heap->id);
	mutex_destroy(&heap->setup_lock);
	kfree(heap);
}

/**
 * kgc_heap_ready() - whether the heap is mapped and usable
 * @heap: heap
 *
 * Return: true once the heap mapping exists. Never goes back to false, so
 * callers need no lock after seeing true.
 */
bool kgc_heap_ready(struct kgc_heap *heap)
{
	/* Pairs with kgc_heap_mmap(): the mheap is initialised. */
	return smp_load_acquire(&heap->mapped);
}

/*
 * A reference to the page at @idx of the page store, or NULL. The
 * scavenger takes pages out of the store and frees them concurrently
 * (kgc_heap_drop_pages()), so this is the page cache's speculative lookup:
 * take a reference only if the page is not already being freed, and keep
 * it only if the page is still the one stored at @idx.
 */
static struct page *kgc_heap_get_page(struct kgc_heap *heap, unsigned long idx)
{
	XA_STATE(xas, &heap->pages, idx);
	struct page *page;

	rcu_read_lock();
repeat:
	xas_reset(&xas);
	page = xas_load(&xas);
	if (xas_retry(&xas, page))
		goto repeat;
	if (page && !get_page_unless_zero(page))
		goto repeat;
	if (page && unlikely(page != xas_reload(&xas))) {
		put_page(page);
		goto repeat;
	}
	rcu_read_unlock();
	return page;
}

static vm_fault_t kgc_heap_fault(struct vm_fault *vmf)
{
	struct kgc_heap *heap = vmf->vma->vm_private_data;
	unsigned long idx = vmf->pgoff - heap->pgoff;
	struct page *page, *old;

	while (!(page = kgc_heap_get_page(heap, idx))) {
		page = alloc_page(GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT);
		if (!page)
			return VM_FAULT_OOM;
		/* The fault's own reference, before anyone can see the page. */
		get_page(page);
		old = xa_cmpxchg(&heap->pages, idx, NULL, page,
				 GFP_KERNEL_ACCOUNT);
		if (!old) {
			atomic_long_inc(&heap->resident);
			atomic_long_inc(&heap->faults);
			break;
		}
		put_page(page);
		__free_page(page);
		if (xa_is_err(old))
			return VM_FAULT_OOM;
		/* Another fault stored one first: look it up again. */
	}
	vmf->page = page;
	return 0;
}

/*
 * The page at @idx of the heap's window for a marker, from its cache when
 * it is the page this kind of read hit last and no run of pages has left
 * the store since it was looked up; else looked up (with a reference the
 * cache keeps) and cached. @start is the window offset of the kind's
 * space (0 or KGC_BITMAP_WINDOW). NULL: not resident. The count of drops
 * is read before the lookup, so a drop that races with it moves the count
 * past the cached value.
 */
static struct page *kgc_heap_cached_page(struct kgc_heap *heap,
					 struct kgc_mark_cache *c, int kind,
					 u64 start, unsigned long idx)
{
	long gen = atomic_long_read_acquire(&heap->drops);
	u64 off = ((u64)idx << PAGE_SHIFT) - start;
	struct page *page = c->priv[kind];

	if (page && c->off[kind] == off && c->gen[kind] == gen)
		return page;
	if (page)
		put_page(page);
	page = kgc_heap_get_page(heap, idx);
	c->priv[kind] = page;
	kgc_mark_cache_set(c, kind, page ? page_address(page) : NULL, off,
			   &heap->drops, gen);
	return page;
}

/*
 * Copy heap memory for the marker from the heap's own pages: no user
 * access, no fault; a page that is not resident reads as zero. @idx is the
 * page offset in the heap's window. A page dropped after the check reads
 * as it was: a dropped run is free, so nothing live was on it.
 */
static void kgc_heap_copy(struct kgc_heap *heap, struct kgc_mark_cache *c,
			  int kind, u64 start, unsigned long idx,
			  unsigned int off, void *buf, size_t len)
{
	struct page *page = kgc_heap_cached_page(heap, c, kind, start, idx);
	void *kaddr;

	if (!page) {
		memset(buf, 0, len);
		return;
	}
	kaddr = kmap_local_page(page);
	memcpy(buf, kaddr + off, len);
	kunmap_local(kaddr);
}

/*
 * Read @len bytes at byte @off of the heap's window for the marker: in
 * place when they lie in one resident page (the cache holds a reference
 * to it, and heap pages are never highmem: GFP_HIGHUSER on x86-64 is
 * ZONE_NORMAL, so page_address() is the direct map, which the marker then
 * reads without calling in here), else copied into @buf page by page.
 */
static const u64 *kgc_heap_words(struct kgc_heap *heap,
				 struct kgc_mark_cache *c, int kind, u64 start,
				 u64 off, u64 *buf, size_t len)
{
	void *to = buf;

	BUILD_BUG_ON(IS_ENABLED(CONFIG_HIGHMEM));
	if (off % PAGE_SIZE + len <= PAGE_SIZE) {
		struct page *page = kgc_heap_cached_page(heap, c, kind, start,
							 off >> PAGE_SHIFT);

		if (page)
			return page_address(page) + off % PAGE_SIZE;
	}
	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - off % PAGE_SIZE);

		kgc_heap_copy(heap, c, kind, start, off >> PAGE_SHIFT,
			      off % PAGE_SIZE, to, n);
		to += n;
		off += n;
		len -= n;
	}
	return buf;
}

static const u64 *kgc_heap_read(void *ctx, struct kgc_mark_cache *c,
				u64 addr, u64 *buf, size_t len)
{
	struct kgc_heap *heap = ctx;

	return kgc_heap_words(heap, c, KGC_READ_DATA, 0,
			      addr - heap->mheap.base, buf, len);
}

static const u64 *kgc_heap_read_bits(void *ctx, struct kgc_mark_cache *c,
				     u64 word, u64 *buf, size_t nwords)
{
	struct kgc_heap *heap = ctx;

	/* Without a pointer bitmap every word may be a pointer. */
	if (!READ_ONCE(heap->bitmap_mapped)) {
		memset(buf, 0xff, nwords * sizeof(u64));
		return buf;
	}
	return kgc_heap_words(heap, c, KGC_READ_BITS, KGC_BITMAP_WINDOW,
			      KGC_BITMAP_WINDOW + word * sizeof(u64), buf,
			      nwords * sizeof(u64));
}

static void kgc_heap_release(void *ctx, struct kgc_mark_cache *c)
{
	int i;

	for (i = 0; i < KGC_READ_KINDS; i++) {
		if (c->priv[i])
			put_page(c->priv[i]);
		c->priv[i] = NULL;
		c->kaddr[i] = NULL;
	}
}

static const struct kgc_mark_ops kgc_heap_mark_ops = {
	.read = kgc_heap_read,
	.read_bits = kgc_heap_read_bits,
	.release = kgc_heap_release,
};

/* Debug poisoning of freed objects (KGC_GCDEBUG_POISON), resident only. */
static void kgc_heap_poison(void *ctx, u64 addr, u64 len)
{
	struct kgc_heap *heap = ctx;
	u64 off = addr - heap->mheap.base;

	if (!(READ_ONCE(heap->gc.debug) & KGC_GCDEBUG_POISON))
		return;
	while (len) {
		size_t n = min_t(u64, len, PAGE_SIZE - off % PAGE_SIZE);
		struct page *page = xa_load(&heap->pages, off >> PAGE_SHIFT);

		if (page)
			memset_page(page, off % PAGE_SIZE, 0xdb, n);
		off += n;
		len -= n;
	}
}

/* The heap's range is fixed: no partial munmap/mprotect. */
static int kgc_heap_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

/* The heap's range is fixed: no mremap move. */
static int kgc_heap_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const struct vm_operations_struct kgc_heap_vm_ops = {
	.fault = kgc_heap_fault,
	.may_split = kgc_heap_may_split,
	.mremap = kgc_heap_mremap,
};

/**
 * kgc_heap_get_unmapped_area() - place the heap on an arena boundary
 * @heap: heap of the caller's mm
 * @addr: hint
 * @len: length
 * @pgoff: file offset in pages
 * @flags: mmap flags
 *
 * Heap pages are 8 KiB and arenas 64 MiB; like Go's arenas, the heap starts
 * on an arena boundary so page and arena arithmetic on addresses is exact.
 * Other mappings (the bitmap) and MAP_FIXED are placed as usual.
 *
 * Return: the address, or a negative errno.
 */
unsigned long kgc_heap_get_unmapped_area(struct kgc_heap *heap,
					 unsigned long addr, unsigned long len,
					 unsigned long pgoff, unsigned long flags)
{
	unsigned long area;

	if (flags & MAP_FIXED || pgoff != heap->pgoff ||
	    len > TASK_SIZE - KGC_ARENA_SIZE)
		return current->mm->get_unmapped_area(NULL, addr, len, 0, flags);
	area = current->mm->get_unmapped_area(NULL, addr, len + KGC_ARENA_SIZE,
					      0, flags);
	if (IS_ERR_VALUE(area))
		return area;
	return ALIGN(area, KGC_ARENA_SIZE);
}

/**
 * kgc_heap_zero() - zero the resident pages of a heap range
 * @heap: heap
 * @addr: user address of the range, in the heap
 * @len: bytes
 *
 * Pages that are not resident fault in zeroed, so only the pages the heap
 * holds are cleared, through the kernel's mapping: no page is faulted in and
 * no user memory is accessed.
 */
void kgc_heap_zero(struct kgc_heap *heap, u64 addr, u64 len)
{
	unsigned long first = (addr - heap->mheap.base) >> PAGE_SHIFT;
	unsigned long last = first + (len >> PAGE_SHIFT) - 1;
	struct page *page;
	unsigned long idx;

	xa_for_each_range(&heap->pages, idx, page, first, last) {
		clear_highpage(page);
		cond_resched();
	}
}

/**
 * kgc_heap_drop_pages() - give the memory of a run of heap pages back
 * @heap: heap
 * @page: first heap page (KGC_PAGE_SIZE units from the heap's base)
 * @npages: heap pages in the run
 *
 * The run must be free and reserved by the caller, so that nobody can
 * allocate it meanwhile (reclaim.c). Its pages leave the page store first,
 * so that a fault from then on gets a fresh zeroed page instead of one
 * about to be freed; then every mapping of the run is zapped, which drops
 * the page tables' references; then, once no fault is still working on a
 * page (the page lock), the store's references are put and the pages
 * freed. Lookups (kgc_heap_get_page(): a speculative reference, checked
 * against the store) see either a page they hold a reference to or none.
 * Sleeps (i_mmap_rwsem): the caller holds no kgc lock.
 *
 * Return: base pages freed (pages of the run that were never touched have
 * none).
 */
unsigned long kgc_heap_drop_pages(struct kgc_heap *heap, unsigned long page,
				  unsigned long npages)
{
	unsigned long first = page << (KGC_PAGE_SHIFT - PAGE_SHIFT);
	unsigned long last = first + (npages << (KGC_PAGE_SHIFT - PAGE_SHIFT)) - 1;
	XA_STATE(xas, &heap->pages, first);
	struct page *p, *tmp;
	unsigned long n = 0;
	LIST_HEAD(dropped);

	xas_lock(&xas);
	xas_for_each(&xas, p, last) {
		xas_store(&xas, NULL);
		/* Ours alone now; heap pages are never on an LRU list. */
		list_add(&p->lru, &dropped);
		n++;
	}
	xas_unlock(&xas);
	if (!n)
		return 0;
	/* Markers holding one of these pages look it up again. */
	atomic_long_inc(&heap->drops);
	atomic_long_sub(n, &heap->resident);
	unmap_mapping_range(heap->mapping,
			    (loff_t)(heap->pgoff + first) << PAGE_SHIFT,
			    (loff_t)(last - first + 1) << PAGE_SHIFT, 1);
	list_for_each_entry_safe(p, tmp, &dropped, lru) {
		list_del(&p->lru);
		/*
		 * A fault may have mapped the page just before the zap: it
		 * holds the page locked until it is done with it (it dirties
		 * and unlocks the page after installing the PTE, whose
		 * reference the zap dropped). Wait for that, as truncation
		 * does, before the last reference goes.
		 */
		lock_page(p);
		unlock_page(p);
		put_page(p);
	}
	return n;
}

/**
 * kgc_heap_mmap() - map the heap or its pointer bitmap
 * @heap: heap of the caller's mm
 * @vma: the new mapping
 *
 * The heap mapping (offset heap->pgoff) must come first: its length, a
 * multiple of KGC_ARENA_SIZE up to the module's limit, sets the heap's size;
 * its start must be KGC_PAGE_SIZE aligned (kgc_heap_get_unmapped_area()
 * aligns it to an arena unless the caller insists on MAP_FIXED).
 * The bitmap mapping (offset + KGC_BITMAP_WINDOW) must be exactly 1/64 of it.
 * Each can be made once.
 *
 * Return: 0, -EINVAL (bad offset, length, private mapping, no handshake) or
 * -EBUSY (already mapped), -ENOMEM.
 */
int kgc_heap_mmap(struct kgc_heap *heap, struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long bitmap_pgoff;
	int ret = 0;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	bitmap_pgoff = heap->pgoff + (KGC_BITMAP_WINDOW >> PAGE_SHIFT);

	mutex_lock(&heap->setup_lock);
	if (!heap->api_done) {
		ret = -EINVAL;
	} else if (vma->vm_pgoff == heap->pgoff) {
		if (heap->mapped)
			ret = -EBUSY;
		else if (vma->vm_start % KGC_PAGE_SIZE)
			ret = -EINVAL;
		else if (!len || len % KGC_ARENA_SIZE ||
			 len > (kgc_max_heap_mb << 20))
			ret = -EINVAL;
		else
			ret = kgc_mheap_init(&heap->mheap, vma->vm_start,
					     len >> KGC_PAGE_SHIFT);
		if (!ret) {
			heap->mheap.poison = kgc_heap_poison;
			heap->mheap.poison_ctx = heap;
			kgc_mark_init(&heap->gc.mark, &heap->mheap,
				      &kgc_heap_mark_ops, heap);
			if (heap->features & KGC_FEATURE_GC)
				ret = kgc_gc_start(&heap->gc);
			if (ret)
				kgc_mheap_destroy(&heap->mheap);
		}
		if (!ret) {
			kgc_scav_attach(heap);
			heap->size = len;
			/* Publish the initialised mheap (kgc_heap_ready()). */
			smp_store_release(&heap->mapped, true);
		}
	} else if (vma->vm_pgoff == bitmap_pgoff) {
		if (heap->bitmap_mapped)
			ret = -EBUSY;
		else if (!heap->mapped || len != heap->size / 64 ||
			 !(heap->features & KGC_FEATURE_PTRBITMAP))
			ret = -EINVAL;
		else
			heap->bitmap_mapped = true;
	} else if (vma->vm_pgoff == heap->pgoff +
		   (KGC_CTL_WINDOW >> PAGE_SHIFT)) {
		if (heap->ctl_mapped)
			ret = -EBUSY;
		else if (len != KGC_CTL_SIZE ||
			 !(heap->features & KGC_FEATURE_GC))
			ret = -EINVAL;
		else
			heap->ctl_mapped = true;
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&heap->setup_lock);
	if (ret)
		return ret;

	vma->vm_flags |= VM_DONTCOPY | VM_DONTEXPAND;
	vma->vm_ops = &kgc_heap_vm_ops;
	vma->vm_private_data = heap;
	return 0;
}
