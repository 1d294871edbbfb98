// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * pprof.c - writing the heap profile in pprof's format.
 *
 * The format is profile.proto of github.com/google/pprof (what Go's
 * runtime/pprof writes and `go tool pprof` reads), as a plain,
 * uncompressed protobuf message: pprof tries gunzip first and reads the raw
 * message when that fails, and plain bytes keep libkgc free of zlib.
 *
 * Like Go's heap profile:
 *  - sample types alloc_objects/count, alloc_space/bytes,
 *    inuse_objects/count, inuse_space/bytes (pprof shows the last by
 *    default); period type space/bytes, period = the sampling rate;
 *  - one sample per bucket (stack, object size), with a "bytes" label of
 *    the object size, its counts scaled by 1 / (1 - exp(-size / rate)),
 *    the inverse of the probability that an object of that size is
 *    sampled (Go's scaleHeapSample); nothing is scaled at rate 1;
 *  - one location per distinct return address (the address written is the
 *    return address minus one, inside the call instruction, as the frame's
 *    line is that of the call), each with one line naming its function;
 *  - one mapping per executable mapping of /proc/self/maps, the main
 *    program first, marked has_functions so pprof does not try to
 *    symbolize again.
 * Function names are resolved here (symtab.c); GCC's clone suffixes
 * (".constprop.0", ".isra.0", ".part.0", ".cold") are dropped so a function
 * keeps one name. An address without a symbol is named "object+0xoffset".
 *
 * protobuf, the little needed: a field is a varint key (number << 3 |
 * wire type), then a varint (type 0) or a varint length and that many
 * bytes (type 2: strings, nested messages, packed repeated varints).
 * Zero-valued scalars are left out (proto3 defaults).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "profile.h"

/* profile.proto field numbers */
enum {
	PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4, PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9, PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	VALUETYPE_TYPE = 1, VALUETYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
	LABEL_KEY = 1, LABEL_NUM = 3,
	MAPPING_ID = 1, MAPPING_START = 2, MAPPING_LIMIT = 3,
	MAPPING_OFFSET = 4, MAPPING_FILENAME = 5, MAPPING_HAS_FUNCTIONS = 7,
	LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3,
	LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3,
};

/* ---- a growing byte buffer with protobuf encoders ---- */

struct pb {
	unsigned char *buf;
	size_t len;
	size_t cap;
	bool oom;
};

static bool pb_reserve(struct pb *b, size_t n)
{
	size_t cap;
	unsigned char *p;

	if (b->oom)
		return false;
	if (b->len + n <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->buf, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->buf = p;
	b->cap = cap;
	return true;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	if (!pb_reserve(b, 10))
		return;
	while (v >= 0x80) {
		b->buf[b->len++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	b->buf[b->len++] = (unsigned char)v;
}

static size_t pb_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void pb_uint(struct pb *b, unsigned int field, uint64_t v)
{
	if (!v)
		return;
	pb_varint(b, (uint64_t)field << 3);
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, unsigned int field, const void *p,
		     size_t n)
{
	pb_varint(b, (uint64_t)field << 3 | 2);
	pb_varint(b, n);
	if (n && pb_reserve(b, n)) {
		memcpy(b->buf + b->len, p, n);
		b->len += n;
	}
}

/* A nested message, built in @sub, which is emptied for the next one. */
static void pb_msg(struct pb *b, unsigned int field, struct pb *sub)
{
	if (sub->oom)
		b->oom = true;
	pb_bytes(b, field, sub->buf, sub->len);
	sub->len = 0;
}

static void pb_packed(struct pb *b, unsigned int field, const uint64_t *v,
		      size_t n)
{
	size_t i, len = 0;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		len += pb_varint_len(v[i]);
	pb_varint(b, (uint64_t)field << 3 | 2);
	pb_varint(b, len);
	for (i = 0; i < n; i++)
		pb_varint(b, v[i]);
}

/* ---- the string table ---- */

struct strtab {
	char **s;
	size_t n;
	size_t cap;
	uint32_t *index;	/* string number + 1, 0 empty */
	size_t index_cap;	/* a power of two */
	bool oom;
};

static uint64_t str_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static bool strtab_grow_index(struct strtab *t)
{
	size_t cap = t->index_cap ? t->index_cap * 2 : 256, i, j;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return false;
	for (i = 0; i < t->n; i++) {
		j = str_hash(t->s[i], strlen(t->s[i])) & (cap - 1);
		while (idx[j])
			j = (j + 1) & (cap - 1);
		idx[j] = (uint32_t)i + 1;
	}
	free(t->index);
	t->index = idx;
	t->index_cap = cap;
	return true;
}

/* The index of the first @len bytes of @s, added when new (0 on ENOMEM). */
static uint64_t strtab_add(struct strtab *t, const char *s, size_t len)
{
	uint64_t h = str_hash(s, len);
	size_t j;
	char *copy;

	if (t->oom)
		return 0;
	if (t->index_cap) {
		for (j = h & (t->index_cap - 1); t->index[j];
		     j = (j + 1) & (t->index_cap - 1)) {
			const char *x = t->s[t->index[j] - 1];

			if (!strncmp(x, s, len) && !x[len])
				return t->index[j] - 1;
		}
	}
	if ((t->n + 1) * 2 > t->index_cap && !strtab_grow_index(t))
		goto oom;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **p = realloc(t->s, cap * sizeof(*p));

		if (!p)
			goto oom;
		t->s = p;
		t->cap = cap;
	}
	copy = strndup(s, len);
	if (!copy)
		goto oom;
	t->s[t->n] = copy;
	for (j = h & (t->index_cap - 1); t->index[j];
	     j = (j + 1) & (t->index_cap - 1))
		;
	t->index[j] = (uint32_t)t->n + 1;
	return t->n++;
oom:
	t->oom = true;
	return 0;
}

static uint64_t strtab_str(struct strtab *t, const char *s)
{
	return strtab_add(t, s, strlen(s));
}

static void strtab_free(struct strtab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->index);
}

/* ---- mappings ---- */

struct mapping {
	uint64_t start;
	uint64_t limit;
	uint64_t offset;
	uint64_t file;		/* string index */
};

/*
 * The executable mappings of /proc/self/maps, the main program's first.
 * Return the number, or 0 (with *@out NULL) when none could be read.
 */
static size_t read_mappings(struct strtab *st, struct mapping **out)
{
	char line[4096 + 128], exe[4096];
	struct mapping *m = NULL, *p, tmp;
	size_t n = 0, cap = 0, nexe = 0;
	ssize_t len;
	FILE *f;

	*out = NULL;
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char perms[8];
		int pos = 0;
		char *path;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end,
			   perms, &off, &pos) < 4 || !strchr(perms, 'x'))
			continue;
		path = line + pos;
		path[strcspn(path, "\n")] = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			p = realloc(m, cap * sizeof(*m));
			if (!p)
				break;
			m = p;
		}
		m[n].start = start;
		m[n].limit = end;
		m[n].offset = off;
		m[n].file = strtab_str(st, path);
		/* The main program's mappings go first, in order. */
		if (exe[0] && !strcmp(path, exe)) {
			tmp = m[n];
			memmove(&m[nexe + 1], &m[nexe],
				(n - nexe) * sizeof(*m));
			m[nexe++] = tmp;
		}
		n++;
	}
	fclose(f);
	*out = m;
	return m ? n : 0;
}

static uint64_t mapping_of(const struct mapping *m, size_t n, uint64_t addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (addr >= m[i].start && addr < m[i].limit)
			return i + 1;
	return 0;
}

/* ---- the profile ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The index of @v in the sorted, distinct @a[@n] (present). */
static size_t find_u64(const uint64_t *a, size_t n, uint64_t v)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Go's scaleHeapSample: counts of a sampled bucket, unbiased. */
static void scale_sample(uint64_t count, uint64_t size, uint64_t rate,
			 uint64_t *objs, uint64_t *bytes)
{
	double scale = 1;

	if (!count || !size) {
		*objs = 0;
		*bytes = 0;
		return;
	}
	if (rate > 1)
		scale = 1 / (1 - kgc__prof_exp(-(double)size / (double)rate));
	*objs = (uint64_t)((double)count * scale);
	*bytes = (uint64_t)((double)count * (double)size * scale);
}

static void value_type(struct pb *b, struct pb *sub, struct strtab *st,
		       unsigned int field, const char *type, const char *unit)
{
	pb_uint(sub, VALUETYPE_TYPE, strtab_str(st, type));
	pb_uint(sub, VALUETYPE_UNIT, strtab_str(st, unit));
	pb_msg(b, field, sub);
}

/* Length of a function name without GCC's clone suffixes. */
static size_t name_len(const char *name)
{
	const char *dot = name[0] != '.' ? strchr(name, '.') : NULL;

	return dot ? (size_t)(dot - name) : strlen(name);
}

/* Build the whole profile into @out. Return 0 or -ENOMEM. */
static int build_profile(const struct kgc_prof_snapshot *snap, struct pb *out)
{
	struct pb sub = { 0 }, line = { 0 };
	struct kgc_symbolizer *sym = NULL;
	struct strtab st = { 0 };
	struct mapping *maps = NULL;
	uint64_t *pcs = NULL, *fn_name = NULL, *loc_fn = NULL, bytes_key;
	size_t npcs = 0, nfn = 0, nmaps, i, j;
	struct timespec now;
	char comment[256];
	int ret = -ENOMEM;

	strtab_str(&st, "");
	nmaps = read_mappings(&st, &maps);
	for (i = 0; i < snap->nrecs; i++)
		npcs += snap->recs[i].nstk;
	pcs = malloc((npcs ? npcs : 1) * sizeof(*pcs));
	if (!pcs)
		goto out;
	npcs = 0;
	for (i = 0; i < snap->nrecs; i++)
		for (j = 0; j < snap->recs[i].nstk; j++)
			pcs[npcs++] = snap->recs[i].stk[j];
	qsort(pcs, npcs, sizeof(*pcs), cmp_u64);
	for (i = 0, j = 0; i < npcs; i++)
		if (!j || pcs[j - 1] != pcs[i])
			pcs[j++] = pcs[i];
	npcs = j;

	/* Functions: one per distinct name; loc_fn[i] is location i's. */
	fn_name = calloc(npcs ? npcs : 1, sizeof(*fn_name));
	loc_fn = calloc(npcs ? npcs : 1, sizeof(*loc_fn));
	sym = kgc_symbolizer_new();
	if (!fn_name || !loc_fn || !sym)
		goto out;
	for (i = 0; i < npcs; i++) {
		uintptr_t off;
		const char *obj, *name;
		uint64_t s;

		name = kgc_symbolize(sym, (uintptr_t)pcs[i] - 1, &obj, &off);
		if (name) {
			s = strtab_add(&st, name, name_len(name));
		} else if (obj) {
			const char *base = strrchr(obj, '/');

			snprintf(comment, sizeof(comment), "%s+0x%lx",
				 base ? base + 1 : obj, (unsigned long)off);
			s = strtab_str(&st, comment);
		} else {
			continue;	/* no function: pprof shows the address */
		}
		for (j = 0; j < nfn && fn_name[j] != s; j++)
			;
		if (j == nfn)
			fn_name[nfn++] = s;
		loc_fn[i] = j + 1;
	}

	/* Sample types, as Go's heap profile. */
	value_type(out, &sub, &st, PROFILE_SAMPLE_TYPE, "alloc_objects", "count");
	value_type(out, &sub, &st, PROFILE_SAMPLE_TYPE, "alloc_space", "bytes");
	value_type(out, &sub, &st, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(out, &sub, &st, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");

	bytes_key = strtab_str(&st, "bytes");
	for (i = 0; i < snap->nrecs; i++) {
		const struct kgc_prof_record *r = &snap->recs[i];
		uint64_t v[4], ids[KGC_PROF_MAXSTACK];
		uint64_t live = r->allocs > r->frees ? r->allocs - r->frees : 0;

		if (!r->allocs)
			continue;
		for (j = 0; j < r->nstk; j++)
			ids[j] = find_u64(pcs, npcs, r->stk[j]) + 1;
		scale_sample(r->allocs, r->size, r->rate, &v[0], &v[1]);
		scale_sample(live, r->size, r->rate, &v[2], &v[3]);
		pb_packed(&sub, SAMPLE_LOCATION_ID, ids, r->nstk);
		pb_packed(&sub, SAMPLE_VALUE, v, 4);
		pb_uint(&line, LABEL_KEY, bytes_key);
		pb_uint(&line, LABEL_NUM, r->size);
		pb_msg(&sub, SAMPLE_LABEL, &line);
		pb_msg(out, PROFILE_SAMPLE, &sub);
	}

	for (i = 0; i < nmaps; i++) {
		pb_uint(&sub, MAPPING_ID, i + 1);
		pb_uint(&sub, MAPPING_START, maps[i].start);
		pb_uint(&sub, MAPPING_LIMIT, maps[i].limit);
		pb_uint(&sub, MAPPING_OFFSET, maps[i].offset);
		pb_uint(&sub, MAPPING_FILENAME, maps[i].file);
		pb_uint(&sub, MAPPING_HAS_FUNCTIONS, 1);
		pb_msg(out, PROFILE_MAPPING, &sub);
	}

	for (i = 0; i < npcs; i++) {
		pb_uint(&sub, LOCATION_ID, i + 1);
		pb_uint(&sub, LOCATION_MAPPING_ID,
			mapping_of(maps, nmaps, pcs[i] - 1));
		pb_uint(&sub, LOCATION_ADDRESS, pcs[i] - 1);
		if (loc_fn[i]) {
			pb_uint(&line, LINE_FUNCTION_ID, loc_fn[i]);
			pb_msg(&sub, LOCATION_LINE, &line);
		}
		pb_msg(out, PROFILE_LOCATION, &sub);
	}

	for (i = 0; i < nfn; i++) {
		pb_uint(&sub, FUNCTION_ID, i + 1);
		pb_uint(&sub, FUNCTION_NAME, fn_name[i]);
		pb_uint(&sub, FUNCTION_SYSTEM_NAME, fn_name[i]);
		pb_msg(out, PROFILE_FUNCTION, &sub);
	}

	clock_gettime(CLOCK_REALTIME, &now);
	pb_uint(out, PROFILE_TIME_NANOS,
		(uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec);
	value_type(out, &sub, &st, PROFILE_PERIOD_TYPE, "space", "bytes");
	pb_uint(out, PROFILE_PERIOD, snap->rate);
	snprintf(comment, sizeof(comment),
		 "libkgc %s heap profile, one sample per %llu bytes on average",
		 KGC_VERSION_STR, (unsigned long long)snap->rate);
	pb_uint(out, PROFILE_COMMENT, strtab_str(&st, comment));
	if (snap->dropped) {
		snprintf(comment, sizeof(comment),
			 "%llu samples lost for want of memory",
			 (unsigned long long)snap->dropped);
		pb_uint(out, PROFILE_COMMENT, strtab_str(&st, comment));
	}
	if (snap->untracked) {
		snprintf(comment, sizeof(comment),
			 "%llu samples stay in use: the kernel cannot report freed objects (kgc.ko without KGC_IOC_OBJ_STATE)",
			 (unsigned long long)snap->untracked);
		pb_uint(out, PROFILE_COMMENT, strtab_str(&st, comment));
	}

	/* Last: every string is known now. */
	for (i = 0; i < st.n; i++)
		pb_bytes(out, PROFILE_STRING_TABLE, st.s[i], strlen(st.s[i]));
	if (!st.oom && !out->oom && !sub.oom && !line.oom)
		ret = 0;
out:
	kgc_symbolizer_free(sym);
	free(loc_fn);
	free(fn_name);
	free(pcs);
	free(maps);
	free(sub.buf);
	free(line.buf);
	strtab_free(&st);
	return ret;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (!w)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

KGC_EXPORT int kgc_write_heap_profile_fd(int fd)
{
	struct kgc_prof_snapshot snap;
	struct pb out = { 0 };
	int err;

	if (fd < 0)
		return kgc_seterr(EBADF,
			"kgc: kgc_write_heap_profile_fd(%d): not a file descriptor",
			fd);
	err = kgc__profile_snapshot(&snap);
	if (!err)
		err = build_profile(&snap, &out);
	free(snap.recs);
	if (err) {
		free(out.buf);
		return kgc_seterr(-err,
			"kgc: no memory to build the heap profile");
	}
	err = write_all(fd, out.buf, out.len);
	free(out.buf);
	if (err)
		return kgc_seterr(-err,
			"kgc: cannot write the heap profile to fd %d: %s", fd,
			strerror(-err));
	return 0;
}

KGC_EXPORT int kgc_write_heap_profile(const char *path)
{
	int fd, err;

	if (!path || !*path)
		return kgc_seterr(EINVAL,
			"kgc: kgc_write_heap_profile: no path");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kgc_seterr(errno,
			"kgc: cannot create the heap profile %s: %s", path,
			strerror(errno));
	err = kgc_write_heap_profile_fd(fd);
	if (err) {
		close(fd);
		return kgc_seterr(-err, "kgc: cannot write the heap profile %s: %s",
				  path, strerror(-err));
	}
	if (close(fd))
		return kgc_seterr(errno,
			"kgc: cannot write the heap profile %s: %s", path,
			strerror(errno));
	return 0;
}
