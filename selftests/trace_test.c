// SPDX-License-Identifier: GPL-2.0
/*
 * trace_test - kgc's tracepoints seen through tracefs: a span refill, a
 * large allocation and one whole GC cycle appear, with the cycle's events
 * in their order (start, mark handshake, mark done, termination handshake,
 * end, sweep done).
 */
#include <stdlib.h>

#include "kselftest_harness.h"
#include "kgc_test_util.h"

static const char *tracefs(void)
{
	if (!access("/sys/kernel/tracing/events/kgc", F_OK))
		return "/sys/kernel/tracing";
	if (!access("/sys/kernel/debug/tracing/events/kgc", F_OK))
		return "/sys/kernel/debug/tracing";
	return NULL;
}

static int write_file(const char *dir, const char *file, const char *s)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

static char *read_trace(const char *dir)
{
	size_t cap = 1 << 20, len = 0;
	char path[256], *buf = malloc(cap + 1);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/trace", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf)
		return NULL;
	while ((n = read(fd, buf + len, cap - len)) > 0)
		len += n;
	buf[len] = 0;
	close(fd);
	return buf;
}

TEST(gc_cycle_events_in_order)
{
	static const char *const order[] = {
		"kgc_gc_start:", "phase=mark ", "kgc_mark_done:",
		"phase=mark_term", "kgc_gc_end:", "kgc_sweep_done:",
	};
	const char *dir = tracefs(), *p;
	struct kgc_gc_ctl c = { .op = KGC_GC_RUN };
	struct kgc_large l = { .size = 1 << 20 };
	struct kgc_refill r;
	struct kgc_api api;
	unsigned int i;
	char *trace;
	int fd;

	if (!dir)
		SKIP(return, "no kgc events in tracefs");
	fd = open(KGC_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, KGC_DEV " missing");
	ASSERT_EQ(0, write_file(dir, "trace", ""));
	ASSERT_EQ(0, write_file(dir, "events/kgc/enable", "1"));
	ASSERT_EQ(0, write_file(dir, "tracing_on", "1"));

	ASSERT_EQ(0, kgc_handshake(fd, &api));
	ASSERT_NE(MAP_FAILED, kgc_map_heap(fd, &api, KGC_ARENA_SIZE));
	ASSERT_EQ(0, kgc_get_span(fd, KGC_SPANCLASS(7, 0), &r));
	ASSERT_EQ(0, kgc_ioctl(fd, KGC_IOC_LARGE_ALLOC, &l));
	ASSERT_EQ(0, kgc_ioctl(fd, KGC_IOC_GC, &c));
	/* The sweep-done event follows the release; give it a moment. */
	usleep(200000);
	ASSERT_EQ(0, write_file(dir, "events/kgc/enable", "0"));
	trace = read_trace(dir);
	ASSERT_NE(NULL, trace);

	EXPECT_NE(NULL, strstr(trace, "kgc_refill:"));
	EXPECT_NE(NULL, strstr(trace, "spanclass=14"));
	EXPECT_NE(NULL, strstr(trace, "kgc_large_alloc: size=1048576"));
	EXPECT_NE(NULL, strstr(trace, "reason=manual"));
	p = trace;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		p = strstr(p, order[i]);
		EXPECT_NE(NULL, p) {
			TH_LOG("event %s missing or out of order", order[i]);
			break;
		}
		p++;
	}
	free(trace);
	close(fd);
}

TEST_HARNESS_MAIN
