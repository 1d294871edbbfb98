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

/* ioctl() returning -errno, so tests can compare against -EINVAL etc. */
static inline int kgc_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline int kgc_handshake(int fd, struct kgc_api *api)
{
	memset(api, 0, sizeof(*api));
	api->api = KGC_API;
	api->features = KGC_FEATURES_ALL;
	return kgc_ioctl(fd, KGC_IOC_API, api);
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
