// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * ctlarea.c - the object under the collector's control area.
 *
 * The kernel publishes the collector's state in a KGC_CTL_SIZE-byte
 * control area (struct kgc_ctl): phase, epoch, cycle count, the last
 * cycles, the per-thread slots. Its first word, phase, is non-zero exactly
 * while the write barrier must be on. kgc_init() maps the device's control
 * pages (MAP_SHARED | MAP_FIXED) over this object, so that the exported
 * kgc_write_barrier_enabled, which kgc_store() tests inline, *is* the
 * kernel's phase word: switching the barrier costs user space nothing,
 * not even a safepoint. kgc_shutdown() and the fork child put anonymous
 * zero pages back, so the word reads 0 and nothing faults.
 *
 * The public header declares kgc_write_barrier_enabled as one volatile
 * unsigned int; here the symbol names the whole page-aligned area (this
 * file does not include kgc.h, so the two declarations never meet). The
 * symbol's size and alignment matter: a program linked against libkgc.so
 * that reads the variable may get a copy relocation, and the dynamic
 * linker then places a copy of the *whole* object, with the alignment of
 * the original, in the executable, and binds the library's references to
 * it too. The library therefore always takes the address through the
 * exported symbol (kgc_ctl() in internal.h) and maps over whichever copy
 * is in use.
 */
#include <stddef.h>

#include <linux/kgc.h>

union kgc_ctl_area {
	struct kgc_ctl ctl;
	unsigned char bytes[KGC_CTL_SIZE];
};

_Static_assert(offsetof(struct kgc_ctl, phase) == 0,
	       "the barrier flag is the first word of the control area");
_Static_assert(sizeof(struct kgc_ctl) <= KGC_CTL_SIZE,
	       "struct kgc_ctl fits the control area");

/* In .bss: anonymous zero pages until kgc_init() maps the device's. */
__attribute__((visibility("default"), aligned(KGC_CTL_SIZE)))
union kgc_ctl_area kgc_write_barrier_enabled;
