// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * options.c - struct kgc_options and the KGC_* environment: parsing,
 * precedence (explicit options win, debug flags add up), the @sz rules
 * (zero -> EINVAL, unknown non-zero tail -> E2BIG, short struct -> defaults)
 * and the messages.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tap.h"

static void clear_env(void)
{
	unsetenv("KGC_GOGC");
	unsetenv("KGC_MEMLIMIT");
	unsetenv("KGC_HEAP_RESERVE");
	unsetenv("KGC_DEBUG");
	unsetenv("KGC_SIGNAL");
}

static void test_parse_gogc(void)
{
	int v = 12345;

	CHECK_EQ(kgc_parse_gogc("off", &v), 0);
	CHECK_EQ(v, KGC_GOGC_OFF);
	CHECK_EQ(kgc_parse_gogc("-1", &v), 0);
	CHECK_EQ(v, -1);
	CHECK_EQ(kgc_parse_gogc("100", &v), 0);
	CHECK_EQ(v, 100);
	CHECK_EQ(kgc_parse_gogc("0", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(kgc_parse_gogc("2147483647", &v), 0);
	CHECK_EQ(v, 2147483647);
	v = 7;
	CHECK_EQ(kgc_parse_gogc("bad", &v), -EINVAL);
	CHECK_EQ(kgc_parse_gogc("", &v), -EINVAL);
	CHECK_EQ(kgc_parse_gogc("-2", &v), -EINVAL);
	CHECK_EQ(kgc_parse_gogc("10x", &v), -EINVAL);
	CHECK_EQ(kgc_parse_gogc(" 5", &v), -EINVAL);
	CHECK_EQ(kgc_parse_gogc("OFF", &v), -EINVAL);
	CHECK_EQ(kgc_parse_gogc("2147483648", &v), -EINVAL);
	CHECK_EQ(kgc_parse_gogc("99999999999999999999999", &v), -EINVAL);
	CHECK_EQ(v, 7);	/* untouched on error */
}

static void test_parse_bytes(void)
{
	uint64_t v = 0;

	CHECK_EQ(kgc_parse_bytes("0", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(kgc_parse_bytes("123", &v), 0);
	CHECK_EQ(v, 123);
	CHECK_EQ(kgc_parse_bytes("123B", &v), 0);
	CHECK_EQ(v, 123);
	CHECK_EQ(kgc_parse_bytes("1KiB", &v), 0);
	CHECK_EQ(v, 1024);
	CHECK_EQ(kgc_parse_bytes("3MiB", &v), 0);
	CHECK_EQ(v, 3 << 20);
	CHECK_EQ(kgc_parse_bytes("2GiB", &v), 0);
	CHECK_EQ(v, 2ULL << 30);
	CHECK_EQ(kgc_parse_bytes("5TiB", &v), 0);
	CHECK_EQ(v, 5ULL << 40);
	CHECK_EQ(kgc_parse_bytes("18446744073709551615", &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_EQ(kgc_parse_bytes("17179869183GiB", &v), 0);
	CHECK(v == 17179869183ULL << 30);

	CHECK_EQ(kgc_parse_bytes("18446744073709551616", &v), -ERANGE);
	CHECK_EQ(kgc_parse_bytes("17179869184GiB", &v), -ERANGE);	/* 2^64 */
	CHECK_EQ(kgc_parse_bytes("16777216TiB", &v), -ERANGE);
	CHECK_EQ(kgc_parse_bytes("", &v), -EINVAL);
	CHECK_EQ(kgc_parse_bytes("KiB", &v), -EINVAL);
	CHECK_EQ(kgc_parse_bytes("-1", &v), -EINVAL);
	CHECK_EQ(kgc_parse_bytes("+1", &v), -EINVAL);
	CHECK_EQ(kgc_parse_bytes(" 1", &v), -EINVAL);
	CHECK_EQ(kgc_parse_bytes("1KB", &v), -EINVAL);
	CHECK_EQ(kgc_parse_bytes("1k", &v), -EINVAL);
	CHECK_EQ(kgc_parse_bytes("1 MiB", &v), -EINVAL);
	CHECK_EQ(kgc_parse_bytes("1MiBs", &v), -EINVAL);
	CHECK_EQ(kgc_parse_bytes("1.5GiB", &v), -EINVAL);
}

static void test_parse_memlimit(void)
{
	int64_t v = 0;

	CHECK_EQ(kgc_parse_memlimit("off", &v), 0);
	CHECK(v == KGC_NO_MEMORY_LIMIT);
	CHECK_EQ(kgc_parse_memlimit("512MiB", &v), 0);
	CHECK_EQ(v, 512 << 20);
	CHECK_EQ(kgc_parse_memlimit("9223372036854775807", &v), 0);
	CHECK(v == INT64_MAX);
	CHECK_EQ(kgc_parse_memlimit("9223372036854775808", &v), -ERANGE);
	CHECK_EQ(kgc_parse_memlimit("8388608TiB", &v), -ERANGE);	/* 2^63 */
	CHECK_EQ(kgc_parse_memlimit("8388607TiB", &v), 0);
	CHECK_EQ(kgc_parse_memlimit("1EiB", &v), -EINVAL);
	CHECK_EQ(kgc_parse_memlimit("none", &v), -EINVAL);
}

static void test_parse_debug(void)
{
	unsigned int f = 0;

	CHECK_EQ(kgc_parse_debug("gctrace=1", &f), 0);
	CHECK_EQ(f, KGC_DEBUG_GCTRACE);
	f = 0;
	CHECK_EQ(kgc_parse_debug("gctrace=1,checkmark=1,poison=1", &f), 0);
	CHECK_EQ(f, KGC_DEBUG_GCTRACE | KGC_DEBUG_CHECKMARK | KGC_DEBUG_POISON);
	CHECK_EQ(kgc_parse_debug("nobarrier=1,noroots", &f), 0);
	CHECK_EQ(f, KGC_DEBUG_ALL);
	CHECK_EQ(kgc_parse_debug("nobarrier=0,noroots=0", &f), 0);
	CHECK_EQ(kgc_parse_debug("checkmark=0", &f), 0);
	CHECK_EQ(f, KGC_DEBUG_GCTRACE | KGC_DEBUG_POISON);
	f = 0;
	CHECK_EQ(kgc_parse_debug("poison", &f), 0);
	CHECK_EQ(f, KGC_DEBUG_POISON);
	f = 0;
	CHECK_EQ(kgc_parse_debug(",,gctrace=2,", &f), 0);
	CHECK_EQ(f, KGC_DEBUG_GCTRACE);
	CHECK_EQ(kgc_parse_debug("", &f), 0);
	CHECK_EQ(f, KGC_DEBUG_GCTRACE);

	f = KGC_DEBUG_POISON;
	CHECK_EQ(kgc_parse_debug("gctrace=1,foo=1", &f), -EINVAL);
	CHECK_EQ(f, KGC_DEBUG_POISON);	/* untouched on error */
	CHECK_EQ(kgc_parse_debug("gctrace=x", &f), -EINVAL);
	CHECK_EQ(kgc_parse_debug("gctrace=", &f), -EINVAL);
	CHECK_EQ(kgc_parse_debug("gctrace=-1", &f), -EINVAL);
	CHECK_EQ(kgc_parse_debug("=1", &f), -EINVAL);
	CHECK_EQ(kgc_parse_debug("gctracex=1", &f), -EINVAL);
	CHECK_EQ(kgc_parse_debug("gctrac=1", &f), -EINVAL);
	CHECK_EQ(kgc_parse_debug("gctrace=1=1", &f), -EINVAL);
	CHECK_EQ(kgc_parse_debug("gctrace=99999999999999999999999", &f),
		 -EINVAL);
	CHECK_EQ(f, KGC_DEBUG_POISON);
}

static void test_parse_signal(void)
{
	int sig = 0;

	CHECK_EQ(kgc_parse_signal("23", &sig), 0);
	CHECK_EQ(sig, 23);
	CHECK_EQ(kgc_parse_signal("SIGURG", &sig), 0);
	CHECK_EQ(sig, SIGURG);
	CHECK_EQ(kgc_parse_signal("USR2", &sig), 0);
	CHECK_EQ(sig, SIGUSR2);
	CHECK_EQ(kgc_parse_signal("SIGRTMIN", &sig), 0);
	CHECK_EQ(sig, SIGRTMIN);
	CHECK_EQ(kgc_parse_signal("SIGRTMIN+3", &sig), 0);
	CHECK_EQ(sig, SIGRTMIN + 3);
	CHECK_EQ(kgc_parse_signal("RTMAX-1", &sig), 0);
	CHECK_EQ(sig, SIGRTMAX - 1);
	sig = 5;
	CHECK_EQ(kgc_parse_signal("SIGKILL", &sig), -EINVAL);
	CHECK_EQ(kgc_parse_signal("9", &sig), -EINVAL);
	CHECK_EQ(kgc_parse_signal("11", &sig), -EINVAL);	/* SEGV */
	CHECK_EQ(kgc_parse_signal("0", &sig), -EINVAL);
	CHECK_EQ(kgc_parse_signal("65", &sig), -EINVAL);
	CHECK_EQ(kgc_parse_signal("SIGRTMIN-1", &sig), -EINVAL);
	CHECK_EQ(kgc_parse_signal("SIGRTMIN+99", &sig), -EINVAL);
	CHECK_EQ(kgc_parse_signal("URGENT", &sig), -EINVAL);
	CHECK_EQ(kgc_parse_signal("", &sig), -EINVAL);
	CHECK_EQ(kgc_parse_signal("12x", &sig), -EINVAL);
	CHECK_EQ(sig, 5);	/* untouched on error */
}

static void test_signal_option(void)
{
	KGC_OPTS(opts, .signal = SIGUSR1);
	struct kgc_config cfg;

	clear_env();
	REQUIRE_EQ(kgc_config_resolve(NULL, &cfg), 0);
	CHECK_EQ(cfg.signo, SIGURG);
	setenv("KGC_SIGNAL", "SIGUSR2", 1);
	REQUIRE_EQ(kgc_config_resolve(NULL, &cfg), 0);
	CHECK_EQ(cfg.signo, SIGUSR2);
	REQUIRE_EQ(kgc_config_resolve(&opts, &cfg), 0);
	CHECK_EQ(cfg.signo, SIGUSR1);	/* the option wins */
	setenv("KGC_SIGNAL", "SIGSEGV", 1);
	CHECK_EQ(kgc_config_resolve(NULL, &cfg), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "KGC_SIGNAL=\"SIGSEGV\"");
	clear_env();
	opts.signal = SIGSTOP;
	CHECK_EQ(kgc_config_resolve(&opts, &cfg), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "safepoint signal");
	opts.signal = 0;
	/* An older, shorter struct has no signal field: the default. */
	opts.sz = offsetof(struct kgc_options, signal);
	opts.signal = SIGSTOP;	/* beyond sz: ignored */
	REQUIRE_EQ(kgc_config_resolve(&opts, &cfg), 0);
	CHECK_EQ(cfg.signo, SIGURG);
}

static void test_defaults(void)
{
	struct kgc_config cfg;

	clear_env();
	REQUIRE_EQ(kgc_config_resolve(NULL, &cfg), 0);
	CHECK_EQ(cfg.gc_percent, 100);
	CHECK(cfg.memory_limit == KGC_NO_MEMORY_LIMIT);
	CHECK(!cfg.memory_limit_set);	/* the kernel's cgroup default */
	CHECK(cfg.heap_reserve == KGC_DEFAULT_HEAP_RESERVE);
	CHECK_EQ(cfg.debug, 0);
	CHECK(!strcmp(cfg.device, "/dev/kgc"));
}

static void test_environment(void)
{
	struct kgc_config cfg;

	clear_env();
	setenv("KGC_GOGC", "off", 1);
	setenv("KGC_MEMLIMIT", "512MiB", 1);
	setenv("KGC_HEAP_RESERVE", "1GiB", 1);
	setenv("KGC_DEBUG", "gctrace=1,poison=1", 1);
	REQUIRE_EQ(kgc_config_resolve(NULL, &cfg), 0);
	CHECK_EQ(cfg.gc_percent, KGC_GOGC_OFF);
	CHECK_EQ(cfg.memory_limit, 512 << 20);
	CHECK(cfg.memory_limit_set);
	CHECK_EQ(cfg.heap_reserve, 1ULL << 30);
	CHECK_EQ(cfg.debug, KGC_DEBUG_GCTRACE | KGC_DEBUG_POISON);

	setenv("KGC_GOGC", "0", 1);
	REQUIRE_EQ(kgc_config_resolve(NULL, &cfg), 0);
	CHECK_EQ(cfg.gc_percent, 0);	/* GOGC=0 only from the environment */

	setenv("KGC_MEMLIMIT", "off", 1);
	REQUIRE_EQ(kgc_config_resolve(NULL, &cfg), 0);
	CHECK(cfg.memory_limit == KGC_NO_MEMORY_LIMIT);
	CHECK(cfg.memory_limit_set);	/* "off" overrides the cgroup's */
	clear_env();
}

static void test_explicit_options_win(void)
{
	KGC_OPTS(opts, .gc_percent = 50, .memory_limit = 1 << 20,
		 .heap_reserve = 128 << 20, .debug = KGC_DEBUG_CHECKMARK);
	struct kgc_config cfg;

	clear_env();
	setenv("KGC_GOGC", "300", 1);
	setenv("KGC_MEMLIMIT", "1GiB", 1);
	setenv("KGC_HEAP_RESERVE", "1GiB", 1);
	setenv("KGC_DEBUG", "gctrace=1", 1);
	REQUIRE_EQ(kgc_config_resolve(&opts, &cfg), 0);
	CHECK_EQ(cfg.gc_percent, 50);
	CHECK_EQ(cfg.memory_limit, 1 << 20);
	CHECK_EQ(cfg.heap_reserve, 128 << 20);
	CHECK_EQ(cfg.debug, KGC_DEBUG_CHECKMARK | KGC_DEBUG_GCTRACE);

	/* Fields left zero still come from the environment. */
	opts.memory_limit = 0;
	REQUIRE_EQ(kgc_config_resolve(&opts, &cfg), 0);
	CHECK_EQ(cfg.memory_limit, 1 << 30);
	opts.gc_percent = KGC_GOGC_OFF;
	REQUIRE_EQ(kgc_config_resolve(&opts, &cfg), 0);
	CHECK_EQ(cfg.gc_percent, KGC_GOGC_OFF);
	clear_env();
}

static void test_bad_environment(void)
{
	struct kgc_config cfg;

	clear_env();
	setenv("KGC_GOGC", "bad", 1);
	errno = 0;
	CHECK_EQ(kgc_config_resolve(NULL, &cfg), -EINVAL);
	CHECK_EQ(errno, EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "KGC_GOGC=\"bad\"");
	CHECK_STR_CONTAINS(kgc_last_error(), "\"off\"");
	clear_env();

	setenv("KGC_MEMLIMIT", "99999999999999999999", 1);
	CHECK_EQ(kgc_config_resolve(NULL, &cfg), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "KGC_MEMLIMIT");
	CHECK_STR_CONTAINS(kgc_last_error(), "too large");
	setenv("KGC_MEMLIMIT", "10GB", 1);
	CHECK_EQ(kgc_config_resolve(NULL, &cfg), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "KiB, MiB, GiB");
	clear_env();

	setenv("KGC_HEAP_RESERVE", "0", 1);
	CHECK_EQ(kgc_config_resolve(NULL, &cfg), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "KGC_HEAP_RESERVE");
	clear_env();

	setenv("KGC_DEBUG", "gctrace=1,nosuch=1", 1);
	CHECK_EQ(kgc_config_resolve(NULL, &cfg), -EINVAL);
	CHECK_STR_CONTAINS(kgc_last_error(), "KGC_DEBUG=\"gctrace=1,nosuch=1\"");
	clear_env();
}

static void test_noenv_ignores_environment(void)
{
	KGC_OPTS(opts, .flags = KGC_INIT_NOENV);
	struct kgc_config cfg;

	setenv("KGC_GOGC", "bad", 1);
	setenv("KGC_DEBUG", "gctrace=1", 1);
	REQUIRE_EQ(kgc_config_resolve(&opts, &cfg), 0);
	CHECK_EQ(cfg.gc_percent, 100);
	CHECK_EQ(cfg.debug, 0);
	clear_env();
}

static void test_opts_sz(void)
{
	struct {
		struct kgc_options o;
		uint64_t newer[2];
	} big;
	struct kgc_options o;
	struct kgc_config cfg;

	clear_env();
	memset(&o, 0, sizeof(o));
	CHECK_EQ(kgc_config_resolve(&o, &cfg), -EINVAL);	/* sz forgotten */
	CHECK_STR_CONTAINS(kgc_last_error(), "sizeof(struct kgc_options)");

	/* An older, shorter struct: fields past its sz are not read. */
	o.sz = offsetofend(struct kgc_options, debug);
	o.gc_percent = 42;
	o.heap_reserve = 12345;
	o.device = "/nonexistent";
	REQUIRE_EQ(kgc_config_resolve(&o, &cfg), 0);
	CHECK_EQ(cfg.gc_percent, 42);
	CHECK(cfg.heap_reserve == KGC_DEFAULT_HEAP_RESERVE);
	CHECK(!strcmp(cfg.device, "/dev/kgc"));

	/* A newer, longer struct: fine while the unknown tail is zero. */
	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.o.gc_percent = 77;
	REQUIRE_EQ(kgc_config_resolve(&big.o, &cfg), 0);
	CHECK_EQ(cfg.gc_percent, 77);
	big.newer[1] = 1;
	errno = 0;
	CHECK_EQ(kgc_config_resolve(&big.o, &cfg), -E2BIG);
	CHECK_EQ(errno, E2BIG);
	CHECK_STR_CONTAINS(kgc_last_error(), "does not know");
}

static void test_bad_option_values(void)
{
	struct kgc_config cfg;

	clear_env();
	{
		KGC_OPTS(o, .gc_percent = -2);
		CHECK_EQ(kgc_config_resolve(&o, &cfg), -EINVAL);
		CHECK_STR_CONTAINS(kgc_last_error(), "gc_percent -2");
	}
	{
		KGC_OPTS(o, .memory_limit = -5);
		CHECK_EQ(kgc_config_resolve(&o, &cfg), -EINVAL);
	}
	{
		KGC_OPTS(o, .debug = 1U << 31);
		CHECK_EQ(kgc_config_resolve(&o, &cfg), -EINVAL);
	}
	{
		KGC_OPTS(o, .flags = 1U << 31);
		CHECK_EQ(kgc_config_resolve(&o, &cfg), -EINVAL);
	}
	{
		KGC_OPTS(o, .device = "");
		CHECK_EQ(kgc_config_resolve(&o, &cfg), -EINVAL);
	}
}

TAP_MAIN(
	TAP_CASE(test_parse_gogc),
	TAP_CASE(test_parse_bytes),
	TAP_CASE(test_parse_memlimit),
	TAP_CASE(test_parse_debug),
	TAP_CASE(test_parse_signal),
	TAP_CASE(test_signal_option),
	TAP_CASE(test_defaults),
	TAP_CASE(test_environment),
	TAP_CASE(test_explicit_options_win),
	TAP_CASE(test_bad_environment),
	TAP_CASE(test_noenv_ignores_environment),
	TAP_CASE(test_opts_sz),
	TAP_CASE(test_bad_option_values),
)
