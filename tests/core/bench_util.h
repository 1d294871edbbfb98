/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_util.h - what the native benchmarks of the portable core share: a
 * clock and a fixed random sequence (xorshift64*, the same on every host,
 * so every run builds the same heap).
 */
#ifndef _KGC_BENCH_UTIL_H
#define _KGC_BENCH_UTIL_H

#include <time.h>

static unsigned long long rnd_state = 0x6b6763ULL;

static inline unsigned long rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (rnd_state * 0x2545f4914f6cdd1dULL) >> 11;
}

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#endif /* _KGC_BENCH_UTIL_H */
