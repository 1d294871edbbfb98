/* SPDX-License-Identifier: GPL-2.0 */
/*
 * native_kernel.h - an in-process stand-in for kgc.ko (native_kernel.c),
 * for timing libkgc's user-space paths on a host without /dev/kgc.
 */
#ifndef KGC_BENCH_NATIVE_KERNEL_H
#define KGC_BENCH_NATIVE_KERNEL_H

#include <stdint.h>

/* Route libkgc's system calls to the stand-in; call before kgc_init(). */
void native_kernel_install(void);

/*
 * Hand spans given back out again, once @bytes more have been given back
 * after them (see native_kernel.c); call after kgc_init(). Return 0 or
 * -errno.
 */
int native_kernel_recycle(uint64_t bytes);

#endif
