/* SPDX-License-Identifier: GPL-2.0 */
/*
 * debugfs.h - /sys/kernel/debug/kgc: the heaps seen from the inside.
 *
 * Without CONFIG_DEBUG_FS these are empty inlines and debugfs.o is not
 * built (kmod/Kbuild).
 */
#ifndef _KGC_DEBUGFS_H
#define _KGC_DEBUGFS_H

struct kgc_heap;

#if IS_ENABLED(CONFIG_DEBUG_FS)
void kgc_debugfs_init(void);
void kgc_debugfs_exit(void);
void kgc_debugfs_heap_add(struct kgc_heap *heap);
void kgc_debugfs_heap_remove(struct kgc_heap *heap);
#else
static inline void kgc_debugfs_init(void) { }
static inline void kgc_debugfs_exit(void) { }
static inline void kgc_debugfs_heap_add(struct kgc_heap *heap) { }
static inline void kgc_debugfs_heap_remove(struct kgc_heap *heap) { }
#endif

#endif /* _KGC_DEBUGFS_H */
