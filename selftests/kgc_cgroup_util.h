/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory helpers of the kselftests: the process's own figures from
 * /proc/self/status, and memory cgroups (v2 at /sys/fs/cgroup): make a
 * child cgroup, move the calling process into it and out again, read and
 * write its files.
 */
#ifndef _KGC_CGROUP_UTIL_H
#define _KGC_CGROUP_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG_ROOT		"/sys/fs/cgroup"

/* A field of /proc/self/status in KiB, e.g. "VmRSS:"; -1 if missing. */
static inline long status_kb(const char *field)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			kb = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return kb;
}

static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static inline long long read_ll(const char *path, const char *key)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = strncmp(line, "max", 3) ? atoll(line) : -2;
			break;
		}
		if (!strncmp(line, key, strlen(key)) &&
		    line[strlen(key)] == ' ') {
			v = atoll(line + strlen(key) + 1);
			break;
		}
	}
	fclose(f);
	return v;
}

/*
 * A fresh child memory cgroup under the root: its path in @dir, or a
 * negative errno (skip then).
 */
static inline int cg_make(char *dir, size_t len)
{
	int ret;

	if (access(CG_ROOT "/cgroup.controllers", F_OK))
		return -ENOENT;
	ret = write_str(CG_ROOT "/cgroup.subtree_control", "+memory");
	if (ret)
		return ret;
	snprintf(dir, len, CG_ROOT "/kgc-test-%d", getpid());
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Move the calling process into @dir. */
static inline int cg_join(const char *dir)
{
	char file[512];

	snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
	return write_str(file, "0");
}

/* A fresh child memory cgroup, entered by the caller. */
static inline int cg_enter(char *dir, size_t len)
{
	int ret = cg_make(dir, len);

	if (ret)
		return ret;
	ret = cg_join(dir);
	if (ret)
		rmdir(dir);
	return ret;
}

static inline void cg_leave(const char *dir)
{
	write_str(CG_ROOT "/cgroup.procs", "0");
	rmdir(dir);
}

static inline long long cg_get(const char *dir, const char *file, const char *key)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return read_ll(path, key);
}

static inline int cg_set(const char *dir, const char *file, long long v)
{
	char path[512], val[32];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (v < 0)
		snprintf(val, sizeof(val), "max");
	else
		snprintf(val, sizeof(val), "%lld", v);
	return write_str(path, val);
}

#endif /* _KGC_CGROUP_UTIL_H */
