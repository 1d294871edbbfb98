// SPDX-License-Identifier: GPL-2.0
/*
 * heap_bench - cost of the kernel heap's slow paths through the device.
 *
 * Measures, for a heap with more and more memory in use (1 MiB .. 4 GiB of
 * address space held by large objects in a fragmenting pattern):
 *   - span refill: one KGC_IOC_REFILL that gives a span back and gets one
 *     (the call libkgc makes when an mcache span runs out);
 *   - large objects of 1, 4, 16 and 128 pages: KGC_IOC_LARGE_ALLOC followed
 *     by KGC_IOC_FREE (page-run allocation and freeing in the page heap).
 * Prints ns per call and calls per second. It never passes or fails: the
 * point is that the columns stay flat as the heap grows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kgc.h>

#define HEAP_LEN	(8ULL << 30)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int setup(void)
{
	struct kgc_api api = { .api = KGC_API, .features = KGC_FEATURE_HEAP };
	int fd = open("/dev/kgc", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open /dev/kgc");
	if (ioctl(fd, KGC_IOC_API, &api))
		die("KGC_IOC_API");
	if (mmap(NULL, HEAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 api.heap_offset) == MAP_FAILED)
		die("mmap heap");
	return fd;
}

/* Hold @mib MiB of heap: 2 MiB objects, every other one freed again. */
static void fill(int fd, unsigned long mib)
{
	unsigned long n = mib / 2, i;
	uint64_t *addr = calloc(n + 1, sizeof(*addr));

	for (i = 0; i < n; i++) {
		struct kgc_large l = { .size = 2 << 20 };

		if (ioctl(fd, KGC_IOC_LARGE_ALLOC, &l))
			die("fill");
		addr[i] = l.addr;
	}
	for (i = 0; i < n; i += 2) {
		struct kgc_free f = { .addr = addr[i] };

		if (ioctl(fd, KGC_IOC_FREE, &f))
			die("fill free");
	}
	free(addr);
}

static double bench_refill(int fd, long iters)
{
	struct kgc_refill r = { .spanclass = KGC_SPANCLASS(5, 0) };
	double t;
	long i;

	if (ioctl(fd, KGC_IOC_REFILL, &r))
		die("refill");
	t = now_ns();
	for (i = 0; i < iters; i++) {
		uint64_t base = r.span.base;

		memset(&r, 0, sizeof(r));
		r.put_base = base;
		r.put_freeindex = 0;
		r.spanclass = KGC_SPANCLASS(5 + (i & 7), 0);
		if (ioctl(fd, KGC_IOC_REFILL, &r))
			die("refill loop");
	}
	t = (now_ns() - t) / iters;
	memset(&r, 0, sizeof(r));
	return t;
}

static double bench_large(int fd, unsigned long pages, long iters)
{
	double t = now_ns();
	long i;

	for (i = 0; i < iters; i++) {
		struct kgc_large l = { .size = pages * KGC_PAGE_SIZE,
				       .flags = KGC_LARGE_NOSCAN };
		struct kgc_free f;

		if (pages * KGC_PAGE_SIZE <= KGC_MAX_SMALL_SIZE)
			l.size = KGC_MAX_SMALL_SIZE + 1;
		if (ioctl(fd, KGC_IOC_LARGE_ALLOC, &l))
			die("large");
		f = (struct kgc_free){ .addr = l.addr };
		if (ioctl(fd, KGC_IOC_FREE, &f))
			die("large free");
	}
	return (now_ns() - t) / iters;
}

int main(int argc, char **argv)
{
	static const unsigned long sizes[] = { 1, 16, 256, 1024, 4096 };
	static const unsigned long runs[] = { 5, 16, 128 };
	long iters = argc > 1 ? atol(argv[1]) : 20000;
	unsigned int i, j;

	printf("# heap_bench: ns per ioctl (calls/s in brackets), %ld iterations\n",
	       iters);
	printf("%-10s %-18s", "heap MiB", "refill put+get");
	for (j = 0; j < sizeof(runs) / sizeof(runs[0]); j++)
		printf(" large %3lu pages     ", runs[j]);
	printf("\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		pid_t pid = fork();

		if (pid == 0) {
			int fd = setup();
			double t;

			fill(fd, sizes[i]);
			t = bench_refill(fd, iters);
			printf("%-10lu %6.0f [%8.0f]  ", sizes[i], t, 1e9 / t);
			for (j = 0; j < sizeof(runs) / sizeof(runs[0]); j++) {
				t = bench_large(fd, runs[j], iters / 4);
				printf(" %6.0f [%8.0f]     ", t, 1e9 / t);
			}
			printf("\n");
			fflush(stdout);
			_exit(0);
		}
		if (pid < 0)
			die("fork");
		while (wait(NULL) != pid && errno == EINTR)
			;
	}
	return 0;
}
