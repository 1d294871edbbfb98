/* SPDX-License-Identifier: (LGPL-2.1 OR MIT) */
/*
 * tap.h - a minimal TAP producer for the libkgc unit tests.
 *
 * A test program lists its cases in a struct tap_case array and calls
 * tap_run(): it prints "1..N", runs each case and prints "ok N - name" or
 * "not ok N - name", with "# file:line: ..." diagnostics for every failed
 * check. CHECK*() record a failure and go on; REQUIRE*() also return from
 * the case.
 */
#ifndef KGC_TAP_H
#define KGC_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_case {
	const char *name;
	void (*fn)(void);
};

static int tap_case_failed;
static const char *tap_skip_reason;

/* Mark the running case skipped (it still counts as passed). */
#define TAP_SKIP(reason) do { tap_skip_reason = (reason); return; } while (0)

static inline void tap_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void tap_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	tap_case_failed = 1;
}

#define CHECK(cond) do {						\
	if (!(cond))							\
		tap_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond); \
} while (0)

#define REQUIRE(cond) do {						\
	if (!(cond)) {							\
		tap_fail(__FILE__, __LINE__, "REQUIRE(%s) failed", #cond); \
		return;							\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b)							\
		tap_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld",	\
			 #a, #b, _a, _b);				\
} while (0)

#define REQUIRE_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		tap_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld",	\
			 #a, #b, _a, _b);				\
		return;							\
	}								\
} while (0)

#define CHECK_STR_CONTAINS(s, sub) do {					\
	const char *_s = (s);						\
	if (!_s || !strstr(_s, (sub)))					\
		tap_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", \
			 _s ? _s : "(null)", (sub));			\
} while (0)

#define TAP_CASE(fn)	{ #fn, fn }

static inline int tap_run(const struct tap_case *cases, size_t n)
{
	int failed = 0;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", n);
	for (i = 0; i < n; i++) {
		tap_case_failed = 0;
		tap_skip_reason = NULL;
		cases[i].fn();
		if (tap_skip_reason && !tap_case_failed)
			printf("ok %zu - %s # SKIP %s\n", i + 1, cases[i].name,
			       tap_skip_reason);
		else
			printf("%sok %zu - %s\n", tap_case_failed ? "not " : "",
			       i + 1, cases[i].name);
		failed |= tap_case_failed;
	}
	return failed ? 1 : 0;
}

#define TAP_MAIN(...)							\
	int main(void)							\
	{								\
		static const struct tap_case cases[] = { __VA_ARGS__ };	\
		return tap_run(cases, sizeof(cases) / sizeof(cases[0])); \
	}

#endif /* KGC_TAP_H */
