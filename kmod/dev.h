/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dev.h - /dev/kgc.
 */
#ifndef _KGC_DEV_H
#define _KGC_DEV_H

#include <linux/kgc.h>

struct kgc_heap;
struct kgc_ioctl_desc;

/* Bit n set: the command with number n is supported (struct kgc_api). */
#define KGC_IOCTLS_SUPPORTED				\
	(1ULL << KGC_IOC_NR_API |			\
	 1ULL << KGC_IOC_NR_REFILL |			\
	 1ULL << KGC_IOC_NR_LARGE_ALLOC |		\
	 1ULL << KGC_IOC_NR_FREE |			\
	 1ULL << KGC_IOC_NR_STATS |			\
	 1ULL << KGC_IOC_NR_THREAD_ATTACH |		\
	 1ULL << KGC_IOC_NR_THREAD_DETACH |		\
	 1ULL << KGC_IOC_NR_SAFEPOINT |		\
	 1ULL << KGC_IOC_NR_ROOTS |			\
	 1ULL << KGC_IOC_NR_GC |			\
	 1ULL << KGC_IOC_NR_GC_STATS |			\
	 1ULL << KGC_IOC_NR_SCAVENGE |			\
	 1ULL << KGC_IOC_NR_OBJ_STATE)

int kgc_dev_init(void);
void kgc_dev_exit(void);
int kgc_api_handshake(struct kgc_heap *heap, struct kgc_api *a);
const struct kgc_ioctl_desc *kgc_ioctl_lookup(unsigned int cmd);

#endif /* _KGC_DEV_H */
