/* SPDX-License-Identifier: (LGPL-2.1 OR MIT) */
/*
 * pprof_read.h - a small reader of pprof's profile.proto, for the tests of
 * the heap profile (userlib/tests/profile.c, selftests/profile_test.c).
 * Written from the .proto's field numbers, independently of the writer
 * (src/pprof.c), so that a test reads what the library wrote the way pprof
 * would: packed or unpacked repeated fields, any field order.
 *
 * decode() fills a struct dprof (large: allocate it); flat_cum() computes
 * pprof's flat and cum figures of a function for one sample type.
 */
#ifndef KGC_PPROF_READ_H
#define KGC_PPROF_READ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DPROF_MAX	4096

struct dsample {
	uint64_t locs[64];
	unsigned int nlocs;
	int64_t v[4];
	unsigned int nv;
	uint64_t label_key, label_num;
};

struct dloc {
	uint64_t id, mapping, address, fn;
};

struct dfn {
	uint64_t id, name;
};

struct dmap {
	uint64_t id, start, limit, file;
	bool has_functions;
};

struct dprof {
	char *strs[DPROF_MAX];
	unsigned int nstrs;
	uint64_t st_type[8], st_unit[8];
	unsigned int nst;
	struct dsample samples[DPROF_MAX];
	unsigned int nsamples;
	struct dloc locs[DPROF_MAX];
	unsigned int nlocs;
	struct dfn fns[DPROF_MAX];
	unsigned int nfns;
	struct dmap maps[256];
	unsigned int nmaps;
	uint64_t pt_type, pt_unit, period, time_nanos;
	uint64_t comments[16];
	unsigned int ncomments;
};

struct rd {
	const unsigned char *p, *end;
	bool bad;
};

static inline uint64_t rd_varint(struct rd *r)
{
	uint64_t v = 0;
	unsigned int shift = 0;

	while (r->p < r->end && shift < 64) {
		unsigned char c = *r->p++;

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
		shift += 7;
	}
	r->bad = true;
	return 0;
}

/*
 * The next field: number, wire type, and its varint value or its bytes
 * (@sub). Return false at the end or on an error.
 */
static inline bool rd_field(struct rd *r, unsigned int *field,
			    unsigned int *wt, uint64_t *val, struct rd *sub)
{
	uint64_t key, len;

	*val = 0;
	memset(sub, 0, sizeof(*sub));
	if (r->bad || r->p >= r->end)
		return false;
	key = rd_varint(r);
	*field = (unsigned int)(key >> 3);
	*wt = (unsigned int)(key & 7);
	if (*wt == 0) {
		*val = rd_varint(r);
	} else if (*wt == 2) {
		len = rd_varint(r);
		if (len > (uint64_t)(r->end - r->p)) {
			r->bad = true;
			return false;
		}
		sub->p = r->p;
		sub->end = r->p + len;
		sub->bad = false;
		r->p += len;
	} else {
		r->bad = true;	/* profile.proto uses only types 0 and 2 */
		return false;
	}
	return !r->bad;
}

/* Repeated varints, packed (type 2) or not (type 0). */
static inline void rd_repeated(unsigned int wt, uint64_t val,
			       struct rd *sub, uint64_t *out, unsigned int *n,
			       unsigned int max, bool *bad)
{
	if (wt == 0) {
		if (*n < max)
			out[(*n)++] = val;
		return;
	}
	while (sub->p < sub->end && !sub->bad) {
		uint64_t v = rd_varint(sub);

		if (*n < max)
			out[(*n)++] = v;
	}
	*bad |= sub->bad;
}

static inline bool decode(const unsigned char *buf, size_t len,
			  struct dprof *d)
{
	struct rd r = { buf, buf + len, false }, s = { 0 }, t = { 0 }, u = { 0 };
	unsigned int f = 0, wt = 0, f2 = 0, wt2 = 0, f3 = 0, wt3 = 0;
	uint64_t v = 0, v2 = 0, v3 = 0;
	bool bad = false;

	memset(d, 0, sizeof(*d));
	while (rd_field(&r, &f, &wt, &v, &s)) {
		switch (f) {
		case 1:	/* sample_type */
		case 11: {	/* period_type */
			uint64_t ty = 0, un = 0;

			while (rd_field(&s, &f2, &wt2, &v2, &t))
				if (f2 == 1)
					ty = v2;
				else if (f2 == 2)
					un = v2;
			if (f == 11) {
				d->pt_type = ty;
				d->pt_unit = un;
			} else if (d->nst < 8) {
				d->st_type[d->nst] = ty;
				d->st_unit[d->nst++] = un;
			}
			break;
		}
		case 2: {	/* sample */
			struct dsample *x = &d->samples[d->nsamples];
			uint64_t vals[8];
			unsigned int nv = 0, i;

			if (d->nsamples == DPROF_MAX)
				return false;
			memset(x, 0, sizeof(*x));
			while (rd_field(&s, &f2, &wt2, &v2, &t)) {
				if (f2 == 1) {
					rd_repeated(wt2, v2, &t, x->locs,
						    &x->nlocs, 64, &bad);
				} else if (f2 == 2) {
					rd_repeated(wt2, v2, &t, vals, &nv, 8,
						    &bad);
				} else if (f2 == 3) {
					while (rd_field(&t, &f3, &wt3, &v3, &u))
						if (f3 == 1)
							x->label_key = v3;
						else if (f3 == 3)
							x->label_num = v3;
				}
			}
			for (i = 0; i < nv && i < 4; i++)
				x->v[i] = (int64_t)vals[i];
			x->nv = nv;
			d->nsamples++;
			break;
		}
		case 3: {	/* mapping */
			struct dmap *m = &d->maps[d->nmaps];

			if (d->nmaps == 256)
				return false;
			memset(m, 0, sizeof(*m));
			while (rd_field(&s, &f2, &wt2, &v2, &t)) {
				if (f2 == 1)
					m->id = v2;
				else if (f2 == 2)
					m->start = v2;
				else if (f2 == 3)
					m->limit = v2;
				else if (f2 == 5)
					m->file = v2;
				else if (f2 == 7)
					m->has_functions = v2;
			}
			d->nmaps++;
			break;
		}
		case 4: {	/* location */
			struct dloc *l = &d->locs[d->nlocs];

			if (d->nlocs == DPROF_MAX)
				return false;
			memset(l, 0, sizeof(*l));
			while (rd_field(&s, &f2, &wt2, &v2, &t)) {
				if (f2 == 1)
					l->id = v2;
				else if (f2 == 2)
					l->mapping = v2;
				else if (f2 == 3)
					l->address = v2;
				else if (f2 == 4)
					while (rd_field(&t, &f3, &wt3, &v3, &u))
						if (f3 == 1)
							l->fn = v3;
			}
			d->nlocs++;
			break;
		}
		case 5: {	/* function */
			struct dfn *fn = &d->fns[d->nfns];

			if (d->nfns == DPROF_MAX)
				return false;
			memset(fn, 0, sizeof(*fn));
			while (rd_field(&s, &f2, &wt2, &v2, &t))
				if (f2 == 1)
					fn->id = v2;
				else if (f2 == 2)
					fn->name = v2;
			d->nfns++;
			break;
		}
		case 6:	/* string_table */
			if (d->nstrs == DPROF_MAX)
				return false;
			d->strs[d->nstrs++] = strndup((const char *)s.p,
						      (size_t)(s.end - s.p));
			break;
		case 9:
			d->time_nanos = v;
			break;
		case 12:
			d->period = v;
			break;
		case 13:
			if (d->ncomments < 16)
				d->comments[d->ncomments++] = v;
			break;
		default:
			return false;
		}
		bad |= s.bad;
	}
	return !r.bad && !bad;
}

static inline void dprof_free(struct dprof *d)
{
	unsigned int i;

	for (i = 0; i < d->nstrs; i++)
		free(d->strs[i]);
	d->nstrs = 0;
}

static inline const char *dstr(const struct dprof *d, uint64_t i)
{
	return i < d->nstrs ? d->strs[i] : "<bad string index>";
}

static inline const char *loc_name(const struct dprof *d,
				   uint64_t locid)
{
	unsigned int i, j;

	for (i = 0; i < d->nlocs; i++) {
		if (d->locs[i].id != locid)
			continue;
		for (j = 0; j < d->nfns; j++)
			if (d->fns[j].id == d->locs[i].fn)
				return dstr(d, d->fns[j].name);
		return NULL;
	}
	return NULL;
}

/* pprof's flat (leaf frame is @fn) and cum (@fn anywhere) of value @vi. */
static inline void flat_cum(const struct dprof *d, const char *fn,
			    unsigned int vi, int64_t *flat, int64_t *cum)
{
	unsigned int i, j;

	*flat = *cum = 0;
	for (i = 0; i < d->nsamples; i++) {
		const struct dsample *x = &d->samples[i];

		for (j = 0; j < x->nlocs; j++) {
			const char *n = loc_name(d, x->locs[j]);

			if (n && !strcmp(n, fn)) {
				*cum += x->v[vi];
				if (!j)
					*flat += x->v[vi];
				break;
			}
		}
	}
}

#endif /* KGC_PPROF_READ_H */
