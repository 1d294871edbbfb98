/* SPDX-License-Identifier: (LGPL-2.1 OR MIT) */
/*
 * profile.h - the sampled heap profile: the hooks the rest of the library
 * calls, and what profile.c, pprof.c and symtab.c share.
 *
 * The algorithm is explained at the top of profile.c; the file format at
 * the top of pprof.c.
 */
#ifndef KGC_PROFILE_H
#define KGC_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Most frames of a sampled stack (Go's default depth). */
#define KGC_PROF_MAXSTACK	32

/* Bytes until the calling thread's next sample (profile.c). */
extern __thread intptr_t kgc_prof_left
	__attribute__((tls_model("initial-exec")));
/* kgc_prof_nlive, kgc__profile_cycle_done(): internal.h (kgc_outside()) */

void *kgc__profile_sample(void *p, size_t size, uintptr_t site);
void kgc__profile_freed(void *p);

/*
 * kgc_profile_malloc() - account an allocation of @size bytes at @p (the
 * allocation entry points, after the object is ready): one subtraction
 * and a predictable branch unless this allocation is sampled. @site is the
 * entry point's return address (__builtin_return_address(0) in the
 * entry point), where the caller's frames begin. Returns @p: the sampled
 * case is a tail call, so the entry points need no stack frame.
 */
static inline __attribute__((always_inline)) void *
kgc_profile_malloc(void *p, size_t size, uintptr_t site)
{
	intptr_t left = kgc_prof_left - (intptr_t)size;

	kgc_prof_left = left;
	if (unlikely(left < 0))
		return kgc__profile_sample(p, size, site);
	return p;
}

/* kgc_profile_free() - a large object was freed by kgc_free() */
static inline void kgc_profile_free(void *p)
{
	if (unlikely(__atomic_load_n(&kgc_prof_nlive, __ATOMIC_RELAXED)))
		kgc__profile_freed(p);
}

/* The profile's environment, checked by kgc_init() (profile.c). */
int kgc__profile_configure(const struct kgc_config *cfg);
/* Forget every sample and setting (unit tests). */
void kgc__profile_reset(void);
/* An exponential sampling interval with mean @rate bytes (unit tests). */
intptr_t kgc__profile_interval(size_t rate);
/* Natural log and exponential, without libm. */
double kgc__prof_ln(double x);
double kgc__prof_exp(double x);

/**
 * struct kgc_prof_record - one bucket of the profile, as pprof.c writes it
 * @size: bytes per object
 * @rate: sampling rate the bucket's samples were taken at
 * @allocs: sampled allocations
 * @frees: of those, objects known to be freed
 * @nstk: frames in @stk
 * @stk: return addresses, innermost first
 */
struct kgc_prof_record {
	uint64_t size;
	uint64_t rate;
	uint64_t allocs;
	uint64_t frees;
	uint32_t nstk;
	uintptr_t stk[KGC_PROF_MAXSTACK];
};

/**
 * struct kgc_prof_snapshot - the profile at one moment (profile.c)
 * @recs: buckets
 * @nrecs: how many
 * @rate: current sampling rate
 * @dropped: samples lost for want of memory
 * @untracked: samples taken while the kernel could not tell freed objects
 *	(no heap, or no KGC_IOC_OBJ_STATE): they count as in use for ever
 */
struct kgc_prof_snapshot {
	struct kgc_prof_record *recs;
	size_t nrecs;
	uint64_t rate;
	uint64_t dropped;
	uint64_t untracked;
};

int kgc__profile_snapshot(struct kgc_prof_snapshot *snap);

/* symtab.c: function names of return addresses, without libdl. */
struct kgc_symbolizer;

struct kgc_symbolizer *kgc_symbolizer_new(void);
/*
 * kgc_symbolize() - the function containing @addr
 * Return: its name (valid until kgc_symbolizer_free()), or NULL; @obj and
 * @off (when non-NULL) are set to the containing object's path and the
 * offset of @addr from its load address (@obj NULL when none contains it).
 */
const char *kgc_symbolize(struct kgc_symbolizer *s, uintptr_t addr,
			  const char **obj, uintptr_t *off);
void kgc_symbolizer_free(struct kgc_symbolizer *s);

#endif /* KGC_PROFILE_H */
