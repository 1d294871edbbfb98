/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the kgc kselftests that talk to /dev/kgc directly.
 */
#ifndef _KGC_TEST_UTIL_H
#define _KGC_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kgc.h>

#define KGC_DEV "/dev/kgc"

/*
 * The 6.1 kselftest harness still runs the test body after SKIP() in
 * FIXTURE_SETUP (SKIP marks the test passed and skipped, and the wrapper
 * only returns early for failures): every TEST_F body whose setup may skip
 * starts with DEV_REQUIRED().
 */
#define DEV_REQUIRED() do {						\
	if (_metadata->skip)						\
		return;							\
} while (0)

/* ioctl() returning -errno, so tests can compare against -EINVAL etc. */
static inline int kgc_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline int kgc_handshake_features(int fd, struct kgc_api *api,
					 uint64_t features)
{
	memset(api, 0, sizeof(*api));
	api->api = KGC_API;
	api->features = features;
	return kgc_ioctl(fd, KGC_IOC_API, api);
}

/* The handshake with every feature, the collector included. */
static inline int kgc_handshake(int fd, struct kgc_api *api)
{
	return kgc_handshake_features(fd, api, KGC_FEATURES_ALL);
}

/*
 * The heap without the collector: objects stay allocated until they are
 * freed or their span is given back, whatever points at them.
 */
static inline int kgc_handshake_nogc(int fd, struct kgc_api *api)
{
	return kgc_handshake_features(fd, api,
				      KGC_FEATURES_ALL & ~KGC_FEATURE_GC);
}

static inline void *kgc_map_heap(int fd, const struct kgc_api *api, size_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    api->heap_offset);
}

static inline int kgc_get_span(int fd, uint32_t spanclass, struct kgc_refill *r)
{
	memset(r, 0, sizeof(*r));
	r->spanclass = spanclass;
	return kgc_ioctl(fd, KGC_IOC_REFILL, r);
}

static inline int kgc_put_span(int fd, uint64_t base, uint32_t freeindex,
			       uint32_t flags)
{
	struct kgc_refill r = {
		.put_base = base,
		.put_freeindex = freeindex,
		.spanclass = KGC_NO_SPANCLASS,
		.flags = flags,
	};

	return kgc_ioctl(fd, KGC_IOC_REFILL, &r);
}

#endif /* _KGC_TEST_UTIL_H */
