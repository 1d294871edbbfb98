/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Changing one of kgc.ko's module parameters for the length of a test, and
 * putting the old value back afterwards.
 */
#ifndef _KGC_PARAM_UTIL_H
#define _KGC_PARAM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/**
 * struct kgc_param - a parameter a test changed
 * @path: its file under /sys/module/kgc/parameters/
 * @old: its value before
 * @set: whether there is something to put back
 */
struct kgc_param {
	char path[128];
	char old[32];
	bool set;
};

/* Write @value to parameter @name, keeping the old value in @p. */
static inline int kgc_param_set(struct kgc_param *p, const char *name,
				const char *value)
{
	ssize_t n;
	int fd;

	snprintf(p->path, sizeof(p->path), "/sys/module/kgc/parameters/%s",
		 name);
	fd = open(p->path, O_RDWR);
	if (fd < 0)
		return -errno;
	n = read(fd, p->old, sizeof(p->old) - 1);
	if (n <= 0 || pwrite(fd, value, strlen(value), 0) < 0) {
		close(fd);
		return -EIO;
	}
	p->old[n] = 0;
	p->set = true;
	close(fd);
	return 0;
}

/* Put back what kgc_param_set() changed, if anything. */
static inline void kgc_param_restore(struct kgc_param *p)
{
	int fd;

	if (!p->set)
		return;
	p->set = false;
	fd = open(p->path, O_WRONLY);
	if (fd < 0)
		return;
	if (write(fd, p->old, strlen(p->old)) < 0)
		perror(p->path);
	close(fd);
}

#endif /* _KGC_PARAM_UTIL_H */
