// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * memprofile - where does the memory go? The sampled heap profile.
 *
 * A toy document store allocates from three places with three lifetimes:
 *   load_documents()  records and their text, kept for the whole run;
 *   render_page()     a 24 KiB scratch buffer per page, garbage at once;
 *   build_index()     one big hash table (a large object), kept.
 * libkgc samples about one allocation per KGC_MEMPROFILERATE bytes (here
 * 16 KiB; the default is 512 KiB) with its call stack, follows each
 * sampled object until the collector frees it, and writes a profile that
 * Go's pprof reads, function names included:
 *
 *   ./memprofile [FILE]                   (default memprofile.pprof)
 *   go tool pprof -top -sample_index=alloc_space FILE
 *	who allocated how much: render_page leads (about 47 MiB), then
 *	load_documents (about 8 MiB) and build_index (4 MiB)
 *   go tool pprof -top FILE               (inuse_space, the default)
 *	who holds memory now: load_documents and build_index; render_page's
 *	buffers are gone (the collector freed them)
 *   go tool pprof -top -cum FILE          call chains: main, serve, ...
 *   go tool pprof -http=:8080 FILE        graphs and flame graphs
 *
 * Any kgc program can be profiled without changing it:
 *
 *   KGC_HEAPPROFILE=heap.pprof KGC_MEMPROFILERATE=64KiB ./prog
 *
 * writes heap.pprof at exit; add KGC_HEAPPROFILE_SIGNAL=SIGUSR2 to get
 * heap.pprof.1, .2, ... on each `kill -USR2`. The VM has no Go: copy the
 * file out and look at it on the host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kgc.h>

#define NDOCS		20000
#define TEXT_SIZE	400
#define PAGES		2000
#define PAGE_SIZE	(24 << 10)
#define INDEX_SLOTS	(512 * 1024)

struct doc {
	char *text;
	struct doc *next;
	long id;
};

static const uint64_t doc_map[] = {
	KGC_PTRBIT(struct doc, text) | KGC_PTRBIT(struct doc, next),
};
static const struct kgc_type doc_t = {
	.size = sizeof(struct doc), .ptrmap = doc_map, .name = "doc",
};

/* Globals are roots: what they reach stays alive. */
static struct doc *docs;
static struct doc **doc_index;

/* Never inlined, so that each is a frame of its own in the profile. */
#define SITE	__attribute__((noinline, noclone))

static SITE int load_documents(void)
{
	int i;

	for (i = 0; i < NDOCS; i++) {
		struct doc *d = kgc_alloc(sizeof(*d), &doc_t);
		char *text = kgc_alloc_noscan(TEXT_SIZE);

		if (!d || !text)
			return -1;
		snprintf(text, TEXT_SIZE, "document %d: lorem ipsum", i);
		d->text = text;			/* fresh object: plain stores */
		d->id = i;
		d->next = docs;
		KGC_STORE(docs, d);		/* published: the barrier */
	}
	return 0;
}

static SITE long render_page(int page)
{
	char *buf = kgc_alloc_noscan(PAGE_SIZE);	/* garbage after return */
	long sum = 0;
	int i;

	if (!buf)
		return -1;
	memset(buf, 'a' + page % 26, PAGE_SIZE);
	for (i = 0; i < PAGE_SIZE; i += 4096)
		sum += buf[i];
	return sum;
}

static SITE int build_index(void)
{
	struct doc *d;

	KGC_STORE(doc_index, kgc_alloc_conservative(INDEX_SLOTS *
						    sizeof(*doc_index)));
	if (!doc_index)
		return -1;
	for (d = docs; d; d = d->next)
		KGC_STORE(doc_index[d->id % INDEX_SLOTS], d);
	return 0;
}

static SITE int serve(void)
{
	long sum = 0;
	int p;

	for (p = 0; p < PAGES; p++)
		sum += render_page(p);
	return sum > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "memprofile.pprof";

	/* Early, before the allocations to profile; the environment wins. */
	if (!getenv("KGC_MEMPROFILERATE"))
		kgc_set_memprofile_rate(16 << 10);
	if (kgc_init(NULL)) {
		fprintf(stderr, "%s\n", kgc_last_error());
		return 1;
	}
	if (load_documents() || build_index() || serve()) {
		fprintf(stderr, "memprofile: %s\n", kgc_last_error());
		return 1;
	}
	/* "In use" is as of the last collection: collect first. */
	kgc_gc();
	if (kgc_write_heap_profile(path)) {
		fprintf(stderr, "%s\n", kgc_last_error());
		return 1;
	}
	printf("memprofile: heap profile written to %s (one sample per %zu bytes)\n",
	       path, kgc_memprofile_rate());
	printf("  go tool pprof -top -sample_index=alloc_space %s\n", path);
	printf("  go tool pprof -top %s\n", path);
	kgc_shutdown();
	return 0;
}
