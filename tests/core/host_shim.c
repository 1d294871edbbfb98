// SPDX-License-Identifier: GPL-2.0
/* host_shim.c - native implementations behind host_shim.h. */
#include "host_shim.h"

int host_warnings;
long host_fail_alloc_after = -1;

void *host_alloc(size_t size, int zero)
{
	if (host_fail_alloc_after == 0)
		return NULL;
	if (host_fail_alloc_after > 0)
		host_fail_alloc_after--;
	return zero ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
}

static unsigned long find_next(const unsigned long *a, unsigned long size,
			       unsigned long off, unsigned long invert)
{
	unsigned long w;

	if (off >= size)
		return size;
	w = (a[BIT_WORD(off)] ^ invert) & (~0UL << (off % BITS_PER_LONG));
	off -= off % BITS_PER_LONG;
	while (!w) {
		off += BITS_PER_LONG;
		if (off >= size)
			return size;
		w = a[BIT_WORD(off)] ^ invert;
	}
	off += __ffs(w);
	return off < size ? off : size;
}

unsigned long find_next_bit(const unsigned long *a, unsigned long size, unsigned long off)
{
	return find_next(a, size, off, 0);
}

unsigned long find_next_zero_bit(const unsigned long *a, unsigned long size, unsigned long off)
{
	return find_next(a, size, off, ~0UL);
}

void bitmap_set(unsigned long *a, unsigned int start, unsigned int n)
{
	while (n--)
		__set_bit(start++, a);
}

void bitmap_clear(unsigned long *a, unsigned int start, unsigned int n)
{
	while (n--)
		__clear_bit(start++, a);
}

unsigned int bitmap_weight(const unsigned long *a, unsigned int n)
{
	unsigned int i, w = 0;

	for (i = 0; i < n; i++)
		w += test_bit(i, a);
	return w;
}

struct kmem_cache *host_kmem_cache_create(size_t size)
{
	struct kmem_cache *c = malloc(sizeof(*c));

	if (c)
		c->size = size;
	return c;
}
