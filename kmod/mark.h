/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mark.h - tri-colour marking over an abstract heap reader.
 */
#ifndef _KGC_MARK_H
#define _KGC_MARK_H

#include "mheap.h"

/* Objects per work buffer: a buffer is one 4 KiB allocation. */
#define KGC_WORKBUF_OBJS	509
/* Objects larger than this are scanned in oblets of this size. */
#define KGC_OBLET_SIZE		(128 * 1024)
/* Bytes of heap read and scanned at once. */
#define KGC_SCAN_CHUNK		4096

/**
 * struct kgc_workbuf - a buffer of grey object addresses
 * @list: link in struct kgc_mark.full or .empty
 * @n: entries used
 * @obj: object (or oblet) addresses
 */
struct kgc_workbuf {
	struct list_head list;
	u32 n;
	u64 obj[KGC_WORKBUF_OBJS];
};

/* The kinds of heap reads; the marker caches one page per kind. */
enum { KGC_READ_DATA, KGC_READ_BITS, KGC_READ_KINDS };

/**
 * struct kgc_mark_cache - per worker, the page each kind of read hit last
 * @kaddr: the page's bytes, or NULL when nothing is cached
 * @off: where the page lies, in bytes: heap data from the heap's base, the
 *	pointer bitmap from its first word; a multiple of PAGE_SIZE
 * @gen: *@genp when the page was looked up
 * @priv: the reader's own, per kind (the module: its page reference)
 * @genp: the reader's generation; a cached page is good while *@genp
 *	equals its @gen (the module counts the runs of pages taken out of the
 *	heap, so a page that went away and came back is looked up anew)
 *
 * The reader fills this when it returns words in place; the marker reads
 * words that lie within a cached page without calling the reader.
 */
struct kgc_mark_cache {
	const u8 *kaddr[KGC_READ_KINDS];
	u64 off[KGC_READ_KINDS];
	long gen[KGC_READ_KINDS];
	void *priv[KGC_READ_KINDS];
	const atomic_long_t *genp;
};

/**
 * kgc_mark_cache_set() - a reader records the page a read hit
 * @c: the worker's cache
 * @kind: KGC_READ_DATA or KGC_READ_BITS
 * @kaddr: the page's bytes, or NULL (not resident: nothing to cache)
 * @off: where the page lies in the kind's space (multiple of PAGE_SIZE)
 * @genp: the reader's generation counter
 * @gen: its value read before the page was looked up
 */
static inline void kgc_mark_cache_set(struct kgc_mark_cache *c, int kind,
				      const void *kaddr, u64 off,
				      const atomic_long_t *genp, long gen)
{
	c->kaddr[kind] = kaddr;
	c->off[kind] = off;
	c->gen[kind] = gen;
	c->genp = genp;
}

/**
 * struct kgc_mark_ops - how the marker reads the heap
 * @read: the @len bytes of heap at user address @addr: in place when the
 *	reader can (they lie in one page it holds; it then caches the page
 *	in the worker's @cache), else copied into @buf;
 *	pages that are not resident read as zero. Return the words, or NULL
 *	on error.
 * @read_bits: the @nwords 64-bit words of the pointer bitmap starting at
 *	bitmap word @word (covering heap words @word * 64 ...), in place or
 *	in @buf like @read; a heap without a bitmap reads all ones
 *	(conservative). Return the words, or NULL on error.
 * @release: drop what the reads left in @cache (may be NULL)
 *
 * Each gets the worker's @cache, which the marker releases at the end of
 * every drain. Words returned in place stay readable until the next call
 * of the same op with the same @cache, or its release; user space may
 * write them meanwhile, so the marker reads each word once.
 */
struct kgc_mark_ops {
	const u64 *(*read)(void *ctx, struct kgc_mark_cache *cache, u64 addr,
			   u64 *buf, size_t len);
	const u64 *(*read_bits)(void *ctx, struct kgc_mark_cache *cache,
				u64 word, u64 *buf, size_t nwords);
	void (*release)(void *ctx, struct kgc_mark_cache *cache);
};

/**
 * struct kgc_mark - the grey set of one heap
 * @h: the heap
 * @ops: heap reader
 * @ctx: argument of @ops
 * @lock: protects @full, @empty, @nfull, @nempty and @overflow
 * @full: work buffers with grey objects
 * @empty: spare empty work buffers
 * @nfull: buffers on @full
 * @nempty: buffers on @empty
 * @overflow: a grey object could not be queued (no memory): marked but not
 *	scanned; kgc_mark_rescan() must scan every marked object again
 * @check: this is the checkmark pass: mark into checkbits
 * @work: mark work done by every worker since the collector last reset it
 *	(bytes of objects scanned plus one per object: the pacer's unit)
 *
 * Marking sets bits atomically and needs no other lock: any number of
 * workers (struct kgc_marker) may shade and drain at once.
 */
struct kgc_mark {
	struct kgc_mheap *h;
	const struct kgc_mark_ops *ops;
	void *ctx;
	spinlock_t lock;	/* full, empty, their counts, overflow */
	struct list_head full;
	struct list_head empty;
	unsigned long nfull;
	unsigned long nempty;
	bool overflow;
	bool check;
	atomic_long_t work;
};

/**
 * struct kgc_marker - one worker's view of the grey set (Go's gcWork)
 * @m: the grey set
 * @wbuf: local buffer, or NULL
 * @scratch: KGC_SCAN_CHUNK bytes of heap being scanned
 * @bits: the pointer bitmap words for @scratch
 * @marked_bytes: bytes of objects this worker marked
 * @scanned_bytes: bytes this worker scanned
 * @objects: objects this worker marked
 * @cache: the heap reader's state between reads
 */
struct kgc_marker {
	struct kgc_mark *m;
	struct kgc_workbuf *wbuf;
	struct kgc_mark_cache cache;
	u64 *scratch;
	u64 bits[KGC_SCAN_CHUNK / 8 / 64 + 1];
	u64 marked_bytes;
	u64 scanned_bytes;
	u64 objects;
};

void kgc_mark_init(struct kgc_mark *m, struct kgc_mheap *h,
		   const struct kgc_mark_ops *ops, void *ctx);
void kgc_mark_destroy(struct kgc_mark *m);
int kgc_marker_init(struct kgc_marker *w, struct kgc_mark *m);
void kgc_marker_flush(struct kgc_marker *w);
void kgc_marker_destroy(struct kgc_marker *w);
bool kgc_mark_shade(struct kgc_marker *w, u64 p);
void kgc_mark_scan_words(struct kgc_marker *w, const u64 *words,
			 const u64 *bits, size_t n);
bool kgc_mark_drain(struct kgc_marker *w, long budget);
bool kgc_mark_has_work(struct kgc_mark *m);
bool kgc_mark_is_marked(struct kgc_span *s, u32 idx, bool check);
void kgc_mark_rescan(struct kgc_marker *w);

#endif /* _KGC_MARK_H */
