/* SPDX-License-Identifier: GPL-2.0 */
/*
 * core.h - what the portable core of kgc may use.
 *
 * The allocator and collector algorithms (size classes, the page heap, span
 * bitmaps, mcentral) are plain C: they use only the kernel facilities listed
 * here. In the module these are the kernel's own; natively (tests/core/) a
 * small shim provides the same names, so the very same .c files run under
 * ASan/UBSan, libFuzzer and native benchmarks.
 */
#ifndef _KGC_CORE_H
#define _KGC_CORE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#else
#include "host_shim.h"
#endif

#include <linux/kgc.h>

#endif /* _KGC_CORE_H */
