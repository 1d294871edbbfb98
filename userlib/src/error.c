// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * error.c - the calling thread's last error message, and kgc_strerror().
 *
 * Every failing path of libkgc goes through kgc_seterr(), which sets errno
 * and formats one sentence, starting with "kgc: ", into a thread-local
 * buffer: the program gets both a code it can test and a message it can
 * show. Successful calls leave both alone, like errno.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define KGC_ERRBUF_SIZE	512

static __thread char kgc_errbuf[KGC_ERRBUF_SIZE];
static __thread char kgc_strerrbuf[128];

int kgc_seterr(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(kgc_errbuf, sizeof(kgc_errbuf), fmt, ap);
	va_end(ap);
	errno = err;
	return -err;
}

KGC_EXPORT const char *kgc_last_error(void)
{
	return kgc_errbuf[0] ? kgc_errbuf : "kgc: no error";
}

KGC_EXPORT const char *kgc_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case ENOENT:
		return "kgc device not found (is kgc.ko loaded?)";
	case EBUSY:
		return "the process already has a kgc heap";
	case EPERM:
		return "the heap belongs to another process (fork child or passed fd)";
	case EPROTO:
		return "kgc.ko and libkgc do not speak the same protocol";
	case ENOSYS:
		return "not available in this version of kgc";
	case EOVERFLOW:
		return "size computation overflows";
	case E2BIG:
		return "struct from a newer kgc.h with unknown fields set";
	case ENOMEM:
		return "out of memory (kgc heap full or memory limit reached)";
	case EINVAL:
		return "invalid argument, or no kgc heap (kgc_init() not called or kgc_shutdown() done)";
	default:
		/* GNU strerror_r returns a string that may not be the buffer. */
		return strerror_r(err, kgc_strerrbuf, sizeof(kgc_strerrbuf));
	}
}
