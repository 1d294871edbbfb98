/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tap.h - a tiny TAP producer for the host tests of the portable core.
 *
 * A test program lists its tests in a table and hands it to tap_main(),
 * which prints "1..N", then "ok N - name" or "not ok N - name" per test,
 * and exits 1 if any test failed. Inside a test, EXPECT()/EXPECT_EQ()
 * record a failure with a "# file:line" diagnostic and carry on; ASSERT()
 * ends the test. A test also fails when it makes the core warn (WARN_ON)
 * a different number of times than its table entry says.
 */
#ifndef _KGC_TAP_H
#define _KGC_TAP_H

#include "host_shim.h"

/*
 * Deterministic random numbers for the model-based tests (xorshift64*):
 * the same sequence on every host. tap_seed() takes the seed from KGC_SEED
 * when it is set, so a failing run can be repeated.
 */
static inline unsigned long long *tap_rnd_state(void)
{
	static unsigned long long state = 1;

	return &state;
}

static inline unsigned long rnd(void)
{
	unsigned long long *s = tap_rnd_state();

	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 0x2545f4914f6cdd1dULL) >> 11;
}

static inline unsigned long rnd_range(unsigned long lo, unsigned long hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static inline void tap_seed(unsigned long long dflt)
{
	const char *seed = getenv("KGC_SEED");

	*tap_rnd_state() = seed ? strtoull(seed, NULL, 0) | 1 : dflt;
	printf("# seed %#llx\n", *tap_rnd_state());
}

/**
 * struct tap_test - one named test
 * @name: what the test shows, printed after "ok N - "
 * @fn: the test
 * @warnings: WARN_ON()s the test is meant to trigger
 */
struct tap_test {
	const char *name;
	void (*fn)(void);
	int warnings;
};

static int tap_failures;

#define EXPECT(cond) do {						\
	if (!(cond)) {							\
		tap_failures++;						\
		printf("# %s:%d: expected %s\n", __FILE__, __LINE__,	\
		       #cond);						\
	}								\
} while (0)

#define EXPECT_EQ(a, b) do {						\
	long long __a = (long long)(a), __b = (long long)(b);		\
	if (__a != __b) {						\
		tap_failures++;						\
		printf("# %s:%d: expected %s == %s, got %lld != %lld\n",\
		       __FILE__, __LINE__, #a, #b, __a, __b);		\
	}								\
} while (0)

/* Stop the current test (its caller must return early on failure). */
#define ASSERT(cond) do {						\
	if (!(cond)) {							\
		tap_failures++;						\
		printf("# %s:%d: assertion %s failed\n", __FILE__,	\
		       __LINE__, #cond);				\
		return;							\
	}								\
} while (0)

/**
 * tap_main() - run a table of tests and print TAP
 * @tests: the tests
 * @n: number of tests
 *
 * Return: 0 when every test passed, 1 otherwise (the process exit code).
 */
static inline int tap_main(const struct tap_test *tests, int n)
{
	int i, failed = 0;

	printf("1..%d\n", n);
	for (i = 0; i < n; i++) {
		int before = tap_failures, warn = host_warnings;

		fflush(stdout);
		tests[i].fn();
		if (host_warnings - warn != tests[i].warnings) {
			printf("# %d warnings, expected %d\n",
			       host_warnings - warn, tests[i].warnings);
			tap_failures++;
		}
		if (tap_failures != before)
			failed++;
		printf("%sok %d - %s\n", tap_failures != before ? "not " : "",
		       i + 1, tests[i].name);
	}
	if (failed)
		printf("# %d of %d tests failed\n", failed, n);
	fflush(stdout);
	return failed ? 1 : 0;
}

#endif /* _KGC_TAP_H */
