// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - /dev/kgc: the misc device and its ioctls.
 *
 * Every command goes through one dispatcher (kgc_ioctl()) driven by the
 * table kgc_ioctls[]: it checks the command's type, number and direction
 * (ENOTTY otherwise), that the caller is the heap's mm (EPERM), copies the
 * argument in with copy_struct_from_user() (so a struct shorter than its
 * first version gets EINVAL, a longer one with non-zero extra bytes E2BIG),
 * checks the heap is far enough set up, calls the handler on a kernel copy
 * and copies the result out, zeroing any part of a larger user struct the
 * kernel does not know. Handlers therefore only see kernel memory and fully
 * initialised structs: nothing of the kernel's leaks past the fields a
 * handler sets.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/uaccess.h>

#include "dev.h"
#include "heap.h"
#include "objstate.h"
#include "sizeclass.h"
#include "trace.h"

/**
 * kgc_api_handshake() - the KGC_IOC_API handshake on a kernel copy
 * @heap: heap
 * @a: request; on success rewritten with the answer
 *
 * Return: 0, or -EINVAL for a wrong API version, unknown feature bits,
 * non-zero reserved fields or a second handshake.
 */
int kgc_api_handshake(struct kgc_heap *heap, struct kgc_api *a)
{
	u64 want = a->features;
	int ret = 0;

	if (a->api != KGC_API || want & ~KGC_FEATURES_ALL || a->resv[0] ||
	    a->resv[1])
		return -EINVAL;

	mutex_lock(&heap->setup_lock);
	if (heap->api_done) {
		ret = -EINVAL;
	} else {
		heap->api_done = true;
		heap->features = want;
	}
	mutex_unlock(&heap->setup_lock);
	if (ret)
		return ret;

	memset(a, 0, sizeof(*a));
	a->api = KGC_API;
	a->features = KGC_FEATURES_ALL;
	a->ioctls = KGC_IOCTLS_SUPPORTED;
	a->heap_offset = (u64)heap->pgoff << PAGE_SHIFT;
	a->bitmap_offset = a->heap_offset + KGC_BITMAP_WINDOW;
	a->max_heap_size = (u64)kgc_max_heap_mb << 20;
	a->page_size = KGC_PAGE_SIZE;
	a->nr_size_classes = KGC_NR_SIZE_CLASSES;
	a->ctl_offset = a->heap_offset + KGC_CTL_WINDOW;
	return 0;
}

static long kgc_ioctl_api(struct kgc_heap *heap, void *arg)
{
	return kgc_api_handshake(heap, arg);
}

/* Spans given back per step of a batched refill (kernel stack copy). */
#define KGC_PUTS_CHUNK	16

/* The spans of @r->puts go back, in order. */
static long kgc_refill_puts(struct kgc_heap *heap, const struct kgc_refill *r)
{
	struct kgc_span_mark m[KGC_PUTS_CHUNK];
	struct kgc_span_mark __user *up = u64_to_user_ptr(r->puts);
	u32 done, n;
	long ret;

	for (done = 0; done < r->nputs; done += n) {
		n = min_t(u32, r->nputs - done, KGC_PUTS_CHUNK);
		if (copy_from_user(m, up + done, n * sizeof(m[0])))
			return -EFAULT;
		ret = kgc_mheap_put(&heap->mheap, m, n,
				    r->flags & KGC_REFILL_DISCARD);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A batched refill's further spans hold at most this share (1/n) of the
 * heap goal: more spans per system call, while what one thread holds in
 * reserve stays small against the heap.
 */
#define KGC_REFILL_GOAL_SHARE	64

/*
 * Up to @r->more_max further spans of the class to @r->more, within the
 * share above. Returns how many were handed out, or -EFAULT after taking
 * all of them back, @r->span too.
 */
static long kgc_refill_more(struct kgc_heap *heap, struct kgc_refill *r,
			    const void *owner, bool black)
{
	struct kgc_span_desc __user *up = u64_to_user_ptr(r->more);
	u64 span = (u64)kgc_class_npages[KGC_SPANCLASS_SIZECLASS(r->spanclass)] *
		   KGC_PAGE_SIZE;
	u64 share = READ_ONCE(heap->gc.heap_goal) / KGC_REFILL_GOAL_SHARE;
	u32 want = min_t(u64, r->more_max, share / span), i;
	struct kgc_span_mark taken[KGC_REFILL_MORE_MAX];
	struct kgc_span_desc d;

	for (i = 0; i < want; i++) {
		if (kgc_mheap_take(&heap->mheap, r->spanclass, owner, black,
				   &d))
			break;	/* the heap is full: what we have */
		taken[i].base = d.base;
		taken[i].freeindex = d.freeindex;
		if (copy_to_user(up + i, &d, sizeof(d))) {
			i++;
			goto fault;
		}
	}
	return i;
fault:
	while (i--)
		kgc_mheap_untake(&heap->mheap, taken[i].base,
				 taken[i].freeindex);
	kgc_mheap_untake(&heap->mheap, r->span.base, r->span.freeindex);
	memset(&r->span, 0, sizeof(r->span));
	return -EFAULT;
}

static long kgc_ioctl_refill(struct kgc_heap *heap, void *arg)
{
	const void *owner = task_pid(current);
	struct kgc_refill *r = arg;
	long ret, more = 0;
	bool black;

	ret = kgc_mheap_refill_valid(r);
	if (ret)
		return ret;
	r->more_count = 0;
	if (r->nputs) {
		ret = kgc_refill_puts(heap, r);
		if (ret)
			return ret;
	}
	black = kgc_gc_alloc_black(&heap->gc);
	ret = kgc_mheap_refill_for(&heap->mheap, r, owner, black);
	if (!ret && r->more_max) {
		more = kgc_refill_more(heap, r, owner, black);
		if (more < 0)
			ret = more;
		else
			r->more_count = more;
	}
	trace_kgc_refill(r->put_base, r->spanclass, r->span.base,
			 r->span.nelems, r->span.freeindex, ret);
	/*
	 * Spans only given back (libkgc does that at mark start) are no
	 * allocation: they must not end an idle period.
	 */
	if (!ret && r->spanclass != KGC_NO_SPANCLASS)
		kgc_gc_after_refill(&heap->gc, r->span.nelems ? 1 + more : 0);
	return ret;
}

static long kgc_ioctl_large_alloc(struct kgc_heap *heap, void *arg)
{
	struct kgc_large *l = arg;
	bool needzero = false;
	long ret;

	ret = kgc_mheap_alloc_large(&heap->mheap, l, &needzero,
				    kgc_gc_alloc_black(&heap->gc));
	trace_kgc_large_alloc(l->size, l->addr, l->npages, needzero && !ret,
			      ret);
	if (ret)
		return ret;
	/* Reused pages hold old objects: the kernel promises zero. */
	if (needzero)
		kgc_heap_zero(heap, l->addr, l->npages << KGC_PAGE_SHIFT);
	kgc_gc_after_refill(&heap->gc, 1);
	return 0;
}

static long kgc_ioctl_free(struct kgc_heap *heap, void *arg)
{
	struct kgc_free *f = arg;

	long ret;

	if (f->resv)
		return -EINVAL;
	ret = kgc_mheap_free(&heap->mheap, f->addr);
	if (!ret)
		kgc_scav_kick(heap);
	return ret;
}

static long kgc_ioctl_stats(struct kgc_heap *heap, void *arg)
{
	struct kgc_stats *st = arg;

	kgc_mheap_stats(&heap->mheap, st);
	st->heap_resident = (u64)atomic_long_read(&heap->resident) << PAGE_SHIFT;
	st->faults = atomic_long_read(&heap->faults);
	return 0;
}

static long kgc_ioctl_thread_attach(struct kgc_heap *heap, void *arg)
{
	return kgc_gc_thread_attach(&heap->gc, arg);
}

static long kgc_ioctl_thread_detach(struct kgc_heap *heap, void *arg)
{
	return kgc_gc_thread_detach(&heap->gc);
}

static long kgc_ioctl_safepoint(struct kgc_heap *heap, void *arg)
{
	return kgc_gc_safepoint(&heap->gc, arg);
}

static long kgc_ioctl_roots(struct kgc_heap *heap, void *arg)
{
	return kgc_gc_roots(&heap->gc, arg);
}

static long kgc_ioctl_gc(struct kgc_heap *heap, void *arg)
{
	return kgc_gc_ctl(&heap->gc, arg);
}

static long kgc_ioctl_gc_stats(struct kgc_heap *heap, void *arg)
{
	kgc_gc_stats(&heap->gc, arg);
	return 0;
}

static long kgc_ioctl_scavenge(struct kgc_heap *heap, void *arg)
{
	return kgc_scav_ioctl(heap, arg);
}

static long kgc_ioctl_obj_state(struct kgc_heap *heap, void *arg)
{
	return kgc_obj_state(heap, arg);
}

/**
 * struct kgc_ioctl_desc - how to run one command
 * @cmd: the command as defined in the uapi header (type, number, direction
 *	and the current struct size)
 * @ver0: size of the first version of its struct
 * @needs_heap: the heap mapping must exist (else EINVAL)
 * @needs_gc: the handshake must have asked for KGC_FEATURE_GC (else EINVAL)
 * @fn: handler, called with a kernel copy of the argument
 */
struct kgc_ioctl_desc {
	unsigned int cmd;
	unsigned int ver0;
	bool needs_heap;
	bool needs_gc;
	long (*fn)(struct kgc_heap *heap, void *arg);
};

#define KGC_IOCTL(nr, c, v0, heap, gc, f) \
	[nr] = { .cmd = c, .ver0 = v0, .needs_heap = heap, .needs_gc = gc, \
		 .fn = f }

static const struct kgc_ioctl_desc kgc_ioctls[] = {
	KGC_IOCTL(KGC_IOC_NR_API, KGC_IOC_API, KGC_API_SIZE_VER0,
		  false, false, kgc_ioctl_api),
	KGC_IOCTL(KGC_IOC_NR_REFILL, KGC_IOC_REFILL, KGC_REFILL_SIZE_VER0,
		  true, false, kgc_ioctl_refill),
	KGC_IOCTL(KGC_IOC_NR_LARGE_ALLOC, KGC_IOC_LARGE_ALLOC,
		  KGC_LARGE_SIZE_VER0, true, false, kgc_ioctl_large_alloc),
	KGC_IOCTL(KGC_IOC_NR_FREE, KGC_IOC_FREE, KGC_FREE_SIZE_VER0,
		  true, false, kgc_ioctl_free),
	KGC_IOCTL(KGC_IOC_NR_STATS, KGC_IOC_STATS, KGC_STATS_SIZE_VER0,
		  true, false, kgc_ioctl_stats),
	KGC_IOCTL(KGC_IOC_NR_THREAD_ATTACH, KGC_IOC_THREAD_ATTACH,
		  KGC_THREAD_ATTACH_SIZE_VER0, true, true,
		  kgc_ioctl_thread_attach),
	KGC_IOCTL(KGC_IOC_NR_THREAD_DETACH, KGC_IOC_THREAD_DETACH, 0,
		  true, true, kgc_ioctl_thread_detach),
	KGC_IOCTL(KGC_IOC_NR_SAFEPOINT, KGC_IOC_SAFEPOINT,
		  KGC_SAFEPOINT_SIZE_VER0, true, true, kgc_ioctl_safepoint),
	KGC_IOCTL(KGC_IOC_NR_ROOTS, KGC_IOC_ROOTS, KGC_ROOTS_SIZE_VER0,
		  true, true, kgc_ioctl_roots),
	KGC_IOCTL(KGC_IOC_NR_GC, KGC_IOC_GC, KGC_GC_CTL_SIZE_VER0,
		  true, true, kgc_ioctl_gc),
	KGC_IOCTL(KGC_IOC_NR_GC_STATS, KGC_IOC_GC_STATS,
		  KGC_GC_STATS_SIZE_VER0, true, true, kgc_ioctl_gc_stats),
	KGC_IOCTL(KGC_IOC_NR_SCAVENGE, KGC_IOC_SCAVENGE,
		  KGC_SCAVENGE_SIZE_VER0, true, false, kgc_ioctl_scavenge),
	KGC_IOCTL(KGC_IOC_NR_OBJ_STATE, KGC_IOC_OBJ_STATE,
		  KGC_OBJ_STATE_SIZE_VER0, true, false, kgc_ioctl_obj_state),
};

/*
 * Argument structures up to this many words are copied to the kernel
 * stack, larger ones (statistics, GC statistics) to kmalloc memory.
 */
#define KGC_IOCTL_STACK_WORDS	32

/**
 * kgc_ioctl_lookup() - find the descriptor of a command
 * @cmd: command from user space
 *
 * Return: the descriptor, or NULL when the type, number or direction is not
 * one of ours (the caller answers ENOTTY).
 */
const struct kgc_ioctl_desc *kgc_ioctl_lookup(unsigned int cmd)
{
	const struct kgc_ioctl_desc *d;
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != KGC_IOC_MAGIC || nr >= ARRAY_SIZE(kgc_ioctls))
		return NULL;
	d = &kgc_ioctls[nr];
	if (!d->fn || _IOC_DIR(cmd) != _IOC_DIR(d->cmd))
		return NULL;
	return d;
}

static long kgc_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	const struct kgc_ioctl_desc *d = kgc_ioctl_lookup(cmd);
	struct kgc_heap *heap = file->private_data;
	void __user *uarg = u64_to_user_ptr((u64)arg);
	size_t usize = _IOC_SIZE(cmd), ksize;
	/* The hot commands' arguments (refill, safepoint) fit here. */
	u64 onstack[KGC_IOCTL_STACK_WORDS];
	void *karg;
	long ret;

	BUILD_BUG_ON(sizeof(struct kgc_refill) > sizeof(onstack) ||
		     sizeof(struct kgc_safepoint) > sizeof(onstack) ||
		     sizeof(struct kgc_large) > sizeof(onstack));
	if (!d)
		return -ENOTTY;
	if (current->mm != heap->mm)
		return -EPERM;
	if (usize < d->ver0)
		return -EINVAL;
	ksize = _IOC_SIZE(d->cmd);
	/*
	 * Zeroed: handlers never return uninitialised kernel memory. Only
	 * this command's structure: the union is sized by the largest.
	 */
	if (ksize <= sizeof(onstack)) {
		karg = onstack;
		memset(karg, 0, ksize);
	} else {
		karg = kzalloc(ksize, GFP_KERNEL);
		if (!karg)
			return -ENOMEM;
	}
	if (_IOC_DIR(d->cmd) & _IOC_WRITE) {
		ret = copy_struct_from_user(karg, ksize, uarg, usize);
		if (ret)
			goto out;
	}
	ret = -EINVAL;
	if (d->cmd != KGC_IOC_API && !READ_ONCE(heap->api_done))
		goto out;
	if (d->needs_heap && !kgc_heap_ready(heap))
		goto out;
	if (d->needs_gc && !(heap->features & KGC_FEATURE_GC))
		goto out;

	ret = d->fn(heap, karg);
	if (ret)
		goto out;

	if (_IOC_DIR(d->cmd) & _IOC_READ) {
		ret = -EFAULT;
		if (copy_to_user(uarg, karg, min(usize, ksize)))
			goto out;
		if (usize > ksize && clear_user(uarg + ksize, usize - ksize))
			goto out;
		ret = 0;
	}
out:
	if (karg != onstack)
		kfree(karg);
	return ret;
}

static int kgc_open(struct inode *inode, struct file *file)
{
	struct kgc_heap *heap = kgc_heap_create(file);

	if (IS_ERR(heap))
		return PTR_ERR(heap);
	file->private_data = heap;
	return 0;
}

static int kgc_release(struct inode *inode, struct file *file)
{
	kgc_heap_destroy(file->private_data);
	return 0;
}

static int kgc_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kgc_heap *heap = file->private_data;

	if (current->mm != heap->mm)
		return -EPERM;
	return kgc_heap_mmap(heap, vma);
}

static unsigned long kgc_get_unmapped_area(struct file *file,
					   unsigned long addr,
					   unsigned long len,
					   unsigned long pgoff,
					   unsigned long flags)
{
	return kgc_heap_get_unmapped_area(file->private_data, addr, len, pgoff,
					  flags);
}

static const struct file_operations kgc_fops = {
	.owner = THIS_MODULE,
	.open = kgc_open,
	.release = kgc_release,
	.unlocked_ioctl = kgc_ioctl,
	.mmap = kgc_mmap,
	.get_unmapped_area = kgc_get_unmapped_area,
	.llseek = noop_llseek,
};

static struct miscdevice kgc_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KGC_DEVICE_NAME,
	.fops = &kgc_fops,
	.mode = 0666,
};

/**
 * kgc_dev_init() - register /dev/kgc
 *
 * Return: 0 or a negative errno from misc_register().
 */
int kgc_dev_init(void)
{
	return misc_register(&kgc_miscdev);
}

/** kgc_dev_exit() - unregister /dev/kgc */
void kgc_dev_exit(void)
{
	misc_deregister(&kgc_miscdev);
}

#if IS_ENABLED(CONFIG_KUNIT)
#include "dev-test.h"
#endif
