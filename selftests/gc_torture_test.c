// SPDX-License-Identifier: GPL-2.0
/*
 * gc_torture_test - the collector, through libkgc, against a shadow model.
 *
 * T worker threads each build and mutate a random object graph while
 * cycles run (the pacer with a small GOGC, and kgc_gc() from worker 0 now
 * and then). Objects come in every size class, a few large ones, precise
 * (a typed ptrmap), conservative and noscan; each carries a header
 *
 *	word 0  magic | kind        word 2  checksum of the data (bit 63 set)
 *	word 1  id (high bits set)  word 3  size | slots << 32 | kind << 48
 *	words 4 .. 4 + slots: pointer slots; then data words (bit 63 set, so
 *	a conservative scan never mistakes them for heap pointers)
 *
 * (objects under 32 bytes carry only a tagged id and data words). Roots
 * are the worker's part of a global array registered with
 * kgc_add_roots() and an array of local variables on its stack. Every
 * store of a pointer into the heap or the global roots goes through
 * KGC_STORE(), except the initialisation of a fresh object (the
 * documented rule). The worker only ever touches objects it reaches from
 * its roots, validating each pointer it loads against the model before
 * following it, so a collector bug shows up as a failed check, never as a
 * crash.
 *
 * The model lives in malloc memory (never scanned) and holds object
 * addresses XOR-ed with a constant that makes them non-canonical, so it
 * keeps nothing alive. Whenever the worker sees that a cycle completed
 * (the control area's num_gc), it walks the model from its roots and
 * checks every reachable object in memory: header, id, checksum, and
 * that each slot holds exactly the object the model says. Objects the
 * walk no longer reaches are dropped; once two further cycles have run and
 * been swept, their old memory (read only through the XOR-ed address)
 * must be poisoned (KGC_DEBUG=poison=1: 0xdb), zero, or hold another
 * object: reclaimed. Conservative stack scanning may keep a few alive, so
 * the test wants most of them reclaimed, not all.
 *
 * Besides random mutations (allocate and hang somewhere, overwrite, move a
 * pointer and clear the source, clear a root), each worker runs barrier
 * probes (see probes()): objects hidden from the marker in exactly the way
 * only the deletion barrier prevents.
 *
 * Tests: poison (registered roots only, most dropped objects reclaimed
 * within two cycles), checkmark (automatic roots too; the kernel's
 * checkmark must count no error), and the proof that the torture notices a
 * broken collector: run with KGC_DEBUG=nobarrier=1 (no write barrier) and
 * noroots=1 (no roots or stacks) in a forked child, which must report
 * corruption. Each prints what it did as TAP comments.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kgc_lib_util.h"
#include "kgc_param_util.h"

#define MAX_THREADS	8
#define NGLOBAL		16	/* global roots per worker */
#define NLOCAL		16	/* local roots per worker */
#define NPROBE		4	/* of each, reserved for barrier probes */
#define MAX_SLOTS	6
#define MAX_LIVE	1200	/* soft cap on a worker's reachable objects */
#define GC_EVERY	3000	/* worker 0 calls kgc_gc() every so many ops */
#define CHECK_EVERY	16	/* ops between looks at num_gc */

#define KEY		0xa5c3000000000000ULL	/* model addresses: non-canonical */
#define MAGIC		0x6b67637400000000ULL	/* "kgct" */
#define ID_TAG		(0x5ULL << 60)
#define MINI		(0xc8ULL << 56)	/* | size << 40 | id */
#define HDR_WORDS	4
#define LARGE_MIN	(KGC_MAX_SMALL_SIZE + 8)
#define MIN(a, b)	((a) < (b) ? (a) : (b))

enum kind { PRECISE, CONSERVATIVE, NOSCAN };

/* One object of the model. */
struct mobj {
	uint64_t xaddr;		/* address ^ KEY */
	uint64_t id;
	uint32_t size;
	uint16_t nslots;
	uint8_t kind;
	uint8_t state;		/* S_* */
	uint64_t drop_gc;	/* num_gc when found unreachable */
	uint32_t hist;		/* TORTURE_DIAG: index in the history */
	uint32_t mark;
	int32_t slots[MAX_SLOTS];	/* model indices, -1 for NULL */
};

enum { S_FREE, S_LIVE, S_DROPPED };

struct torture_cfg {
	int threads;
	int min_cycles;
	int max_seconds;
	unsigned int debug;
	unsigned int flags;
	int gogc;
	bool stop_on_failure;
};

/* TORTURE_DIAG=1: every object ever allocated (num_gc | phase << 32). */
struct hist {
	uint64_t addr, id, alloc_gc, drop_gc;
	uint32_t size;
	uint8_t kind, state;
};

struct worker {
	struct hist *h;
	uint32_t nh, caph;
	pthread_t tid;
	int idx;
	uint64_t rng;
	struct mobj *m;
	int32_t nm, cap;
	int32_t freelist;	/* via slots[0] */
	uint32_t epoch;
	int32_t groot[NGLOBAL];	/* model of this worker's global roots */
	int32_t lroot[NLOCAL];	/* model of its local roots */
	void **lroots;		/* the local roots: an array on its stack */
	uint64_t next_id;
	uint64_t last_gc;
	uint64_t *ptrmap;	/* scratch for precise types */
	int32_t *queue;
	int32_t live;		/* reachable at the last verification */
	int probe_state;	/* 0 none, 1 in the globals, 2 on the stack */
	uint64_t probe_gc;
	uint64_t probes;
	/* results */
	uint64_t ops, allocs, stores, moves, verifications, checked;
	uint64_t dropped, eligible, reclaimed, retained;
	int failed;
	char msg[256];
};

/* Registered global roots: the only non-stack roots of the test. */
static void *groots[MAX_THREADS][NGLOBAL];

static volatile int stop;
static bool diag;
static volatile int any_failed;
static pthread_barrier_t done_barrier, check_barrier;
static const struct torture_cfg *cfg;

static const volatile struct kgc_ctl *ctl(void)
{
	uintptr_t p = (uintptr_t)&kgc_write_barrier_enabled;

	__asm__("" : "+r"(p));
	return (const volatile struct kgc_ctl *)p;
}

static uint64_t num_gc(void)
{
	return __atomic_load_n(&ctl()->num_gc, __ATOMIC_ACQUIRE);
}

static uint64_t rnd(struct worker *w)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint32_t rndn(struct worker *w, uint32_t n)
{
	return (uint32_t)(rnd(w) % n);
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void fail(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failed)
		return;
	w->failed = 1;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	any_failed = 1;
	if (cfg->stop_on_failure)
		stop = 1;
}

static inline uint64_t *addr_of(const struct mobj *o)
{
	return (uint64_t *)(uintptr_t)(o->xaddr ^ KEY);
}

static inline bool is_mini(const struct mobj *o)
{
	return o->size < 8 * HDR_WORDS;
}

static inline uint64_t mini_tag(const struct mobj *o)
{
	return MINI | (uint64_t)o->size << 40 | o->id;
}

/* ---- the model ---- */

static int32_t model_new(struct worker *w)
{
	int32_t i;

	if (w->freelist >= 0) {
		i = w->freelist;
		w->freelist = w->m[i].slots[0];
	} else {
		if (w->nm == w->cap) {
			int32_t cap = w->cap ? w->cap * 2 : 4096;
			struct mobj *m = realloc(w->m, cap * sizeof(*m));
			int32_t *q = realloc(w->queue, cap * sizeof(*q));

			if (!m || !q) {
				fail(w, "model: out of memory");
				free(m ? NULL : q);
				if (m)
					w->m = m;
				return -1;
			}
			w->m = m;
			w->queue = q;
			w->cap = cap;
		}
		i = w->nm++;
	}
	memset(&w->m[i], 0, sizeof(w->m[i]));
	memset(w->m[i].slots, 0xff, sizeof(w->m[i].slots));
	return i;
}

static void model_free(struct worker *w, int32_t i)
{
	w->m[i].state = S_FREE;
	w->m[i].slots[0] = w->freelist;
	w->freelist = i;
}

/* ---- objects in memory ---- */

static uint64_t data_word(uint64_t id, size_t i)
{
	return mix(id * 131 + i) | (1ULL << 63);
}

/* The checksum of an object's data words, as the model computes it. */
static uint64_t data_csum(const uint64_t *p, size_t from, size_t words)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = from; i < words; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h | (1ULL << 63);
}

static uint64_t meta_of(const struct mobj *o)
{
	return o->size | (uint64_t)o->nslots << 32 | (uint64_t)o->kind << 48 |
	       (0x3ULL << 62);
}

/*
 * Check an object's memory against the model: header, id, checksum; with
 * @full, also that every slot holds what the model says (and count it as
 * checked). The address comes from the model: reading it is always safe
 * (the heap stays mapped).
 */
static bool check_object(struct worker *w, int32_t i, bool full)
{
	const struct mobj *o = &w->m[i];
	const uint64_t *p = addr_of(o);
	size_t words = o->size / 8, s;

	if (is_mini(o)) {
		for (s = 1; s < words; s++)
			if (p[s] != data_word(o->id, s))
				break;
		if (p[0] != mini_tag(o) || s < words) {
			fail(w, "object %#llx (%u bytes, id %llu) corrupted: %#llx, word %zu %#llx",
			     (unsigned long long)(uintptr_t)p, o->size,
			     (unsigned long long)o->id,
			     (unsigned long long)p[0], s,
			     (unsigned long long)(s < words ? p[s] : 0));
			return false;
		}
		w->checked += full;
		return true;
	}
	if (p[0] != (MAGIC | o->kind) || p[1] != (ID_TAG | o->id) ||
	    p[3] != meta_of(o)) {
		fail(w, "object %#llx (%u bytes, kind %u, id %llu) has a bad header: %#llx %#llx %#llx %#llx",
		     (unsigned long long)(uintptr_t)p, o->size, o->kind,
		     (unsigned long long)o->id, (unsigned long long)p[0],
		     (unsigned long long)p[1], (unsigned long long)p[2],
		     (unsigned long long)p[3]);
		return false;
	}
	if (p[2] != data_csum(p, HDR_WORDS + o->nslots, words)) {
		fail(w, "object %#llx (%u bytes, id %llu): data checksum mismatch",
		     (unsigned long long)(uintptr_t)p, o->size,
		     (unsigned long long)o->id);
		return false;
	}
	for (s = 0; full && s < o->nslots; s++) {
		int32_t c = o->slots[s];
		uint64_t want = c < 0 ? 0 : w->m[c].xaddr ^ KEY;

		if (p[HDR_WORDS + s] != want) {
			fail(w, "object %#llx (id %llu) slot %zu holds %#llx, the model says %#llx",
			     (unsigned long long)(uintptr_t)p,
			     (unsigned long long)o->id, s,
			     (unsigned long long)p[HDR_WORDS + s],
			     (unsigned long long)want);
			return false;
		}
	}
	w->checked += full;
	return true;
}

/* Choose a size: mostly small classes, every class sometimes, few large. */
static size_t pick_size(struct worker *w)
{
	uint32_t r = rndn(w, 1000);

	if (r < 4)
		return LARGE_MIN + 8 * rndn(w, 6000);	/* 32 KiB .. 80 KiB */
	if (r < 60)
		return class_size[1 + rndn(w, 3)];	/* 8, 16, 32 */
	if (r < 160)
		return class_size[1 + rndn(w, KGC_NR_SIZE_CLASSES - 1)];
	return class_size[3 + rndn(w, 12)];		/* 32 .. 256 */
}

/* Allocate and initialise an object (slots NULL). Returns model index. */
static int32_t new_object(struct worker *w, uint64_t **out)
{
	size_t size = pick_size(w), words = size / 8, i;
	int kind = (int)rndn(w, 3);
	struct kgc_type type;
	struct mobj *o;
	uint64_t *p;
	int32_t idx;
	int nslots = 0;

	if (words < HDR_WORDS && kind == PRECISE)
		kind = NOSCAN;
	if (words > HDR_WORDS && kind != NOSCAN)
		nslots = (int)rndn(w, MIN(MAX_SLOTS, words - HDR_WORDS) + 1);
	switch (kind) {
	case PRECISE:
		memset(&type, 0, sizeof(type));
		type.size = size;
		type.ptrmap = nslots ? w->ptrmap : NULL;
		for (i = 0; i < (size_t)nslots; i++)
			w->ptrmap[0] |= 1ULL << (HDR_WORDS + i);
		p = kgc_alloc(size, &type);
		w->ptrmap[0] = 0;
		break;
	case CONSERVATIVE:
		p = kgc_alloc_conservative(size);
		break;
	default:
		p = kgc_alloc_noscan(size);
		break;
	}
	if (!p) {
		fail(w, "allocating %zu bytes failed: %s", size,
		     kgc_last_error());
		return -1;
	}
	for (i = 0; i < words; i++) {
		if (p[i]) {
			uint64_t oid = p[1] & ~ID_TAG;
			int32_t k;

			/* Whose object was it, and what does the model say? */
			for (k = 0; k < w->nm; k++)
				if (w->m[k].id == oid && w->m[k].state &&
				    (w->m[k].xaddr ^ KEY) == (uintptr_t)p)
					break;
			fail(w, "fresh %zu-byte object %p (kind %d) not zero at word %zu: %#llx %#llx %#llx %#llx (thread %llu's object %llu; ours: %s)",
			     size, (void *)p, kind, i,
			     (unsigned long long)p[0], (unsigned long long)p[1],
			     (unsigned long long)p[2], (unsigned long long)p[3],
			     (unsigned long long)(oid >> 32),
			     (unsigned long long)(oid & 0xffffffff),
			     k == w->nm ? "not in the model" :
			     w->m[k].state == S_LIVE ? "live" : "dropped");
			return -1;
		}
	}
	idx = model_new(w);
	if (idx < 0)
		return -1;
	o = &w->m[idx];
	o->xaddr = (uintptr_t)p ^ KEY;
	o->id = w->next_id++;
	o->size = (uint32_t)size;
	o->kind = (uint8_t)kind;
	o->nslots = (uint16_t)nslots;
	o->state = S_LIVE;
	if (diag) {
		/* A history of every object, to explain checkmark errors. */
		if (w->nh == w->caph) {
			w->caph = w->caph ? w->caph * 2 : 65536;
			w->h = realloc(w->h, w->caph * sizeof(*w->h));
			if (!w->h)
				abort();
		}
		o->hist = w->nh;
		w->h[w->nh++] = (struct hist){
			.addr = (uintptr_t)p, .id = o->id, .size = (uint32_t)size,
			.kind = (uint8_t)kind, .state = 1,
			.alloc_gc = num_gc() | (uint64_t)__atomic_load_n(
				&ctl()->phase, __ATOMIC_RELAXED) << 32,
		};
	}
	if (is_mini(o)) {
		p[0] = mini_tag(o);
		for (i = 1; i < words; i++)
			p[i] = data_word(o->id, i);
	} else {
		for (i = HDR_WORDS + nslots; i < words; i++)
			p[i] = data_word(o->id, i);
		p[0] = MAGIC | o->kind;
		p[1] = ID_TAG | o->id;
		p[2] = data_csum(p, HDR_WORDS + nslots, words);
		p[3] = meta_of(o);
	}
	w->allocs++;
	*out = p;
	return idx;
}

/* ---- reaching objects the way a program does ---- */

/*
 * A location holding a pointer: one of the worker's global or local roots,
 * or a slot of a reachable object.
 */
struct loc {
	int kind;	/* 0 global root, 1 local root, 2 heap slot */
	int i;		/* root index, or slot */
	int32_t obj;	/* heap slot: the object */
};

static void **loc_addr(struct worker *w, const struct loc *l)
{
	switch (l->kind) {
	case 0:
		return &groots[w->idx][l->i];
	case 1:
		return &w->lroots[l->i];
	default:
		return (void **)(addr_of(&w->m[l->obj]) + HDR_WORDS + l->i);
	}
}

static int32_t *loc_model(struct worker *w, const struct loc *l)
{
	switch (l->kind) {
	case 0:
		return &w->groot[l->i];
	case 1:
		return &w->lroot[l->i];
	default:
		return &w->m[l->obj].slots[l->i];
	}
}

/*
 * Load the pointer at @l and validate it against the model before anyone
 * follows it: the value must be the model's object, whose header must be
 * intact. Returns the model index, -1 for NULL, -2 on corruption.
 */
static int32_t loc_load(struct worker *w, const struct loc *l, void **ptr)
{
	void *v = *(void *volatile *)loc_addr(w, l);
	int32_t want = *loc_model(w, l);
	uint64_t expect = want < 0 ? 0 : w->m[want].xaddr ^ KEY;

	if ((uint64_t)(uintptr_t)v != expect) {
		fail(w, "%s %d%s holds %p, the model says %#llx",
		     l->kind == 0 ? "global root" : l->kind == 1 ?
		     "local root" : "slot", l->i,
		     l->kind == 2 ? " of a reachable object" : "", v,
		     (unsigned long long)expect);
		return -2;
	}
	*ptr = v;
	if (want >= 0 && !check_object(w, want, false))
		return -2;
	return want;
}

/* Store @val (model @idx) at @l: the barrier for heap and global roots. */
static void loc_store(struct worker *w, const struct loc *l, void *val,
		      int32_t idx)
{
	if (l->kind == 1)
		w->lroots[l->i] = val;	/* the stack: no barrier */
	else
		kgc_store(loc_addr(w, l), val);
	*loc_model(w, l) = idx;
	w->stores++;
}

static void random_root(struct worker *w, struct loc *l)
{
	l->kind = (int)rndn(w, 2);
	l->i = (int)rndn(w, (l->kind ? NLOCAL : NGLOBAL) - NPROBE);
	l->obj = -1;
}

/*
 * A reachable object: a random non-NULL root, then a few random steps
 * along non-NULL slots. Returns its model index (and pointer), -1 when
 * nothing was found, -2 on corruption.
 */
static int32_t pick(struct worker *w, void **ptr)
{
	struct loc l;
	int32_t cur = -1;
	int tries, steps;
	void *p;

	for (tries = 0; tries < 8 && cur < 0; tries++) {
		random_root(w, &l);
		cur = loc_load(w, &l, &p);
		if (cur == -2)
			return -2;
	}
	if (cur < 0)
		return -1;
	for (steps = (int)rndn(w, 5); steps > 0; steps--) {
		const struct mobj *o = &w->m[cur];
		int32_t next;
		void *q;

		if (!o->nslots)
			break;
		l.kind = 2;
		l.obj = cur;
		l.i = (int)rndn(w, o->nslots);
		next = loc_load(w, &l, &q);
		if (next == -2)
			return -2;
		if (next < 0)
			break;
		cur = next;
		p = q;
	}
	*ptr = p;
	return cur;
}

/* A random location to store into: a root, or a slot of a reachable object. */
static bool pick_loc(struct worker *w, struct loc *l)
{
	void *p;
	int32_t o;

	if (rndn(w, 3)) {
		o = pick(w, &p);
		if (o == -2)
			return false;
		if (o >= 0 && w->m[o].nslots) {
			l->kind = 2;
			l->obj = o;
			l->i = (int)rndn(w, w->m[o].nslots);
			return true;
		}
	}
	random_root(w, l);
	return true;
}

/* ---- mutations ---- */

/* A new object, its slots set to reachable objects, hung somewhere. */
static void op_alloc(struct worker *w)
{
	uint64_t *p;
	struct loc l;
	void *old;
	int32_t idx, s;

	idx = new_object(w, &p);
	if (idx < 0)
		return;
	for (s = 0; s < w->m[idx].nslots; s++) {
		void *t;
		int32_t c;

		if (rndn(w, 3) == 0)
			continue;
		c = pick(w, &t);
		if (c == -2)
			return;
		if (c < 0)
			continue;
		if (rndn(w, 2))
			p[HDR_WORDS + s] = (uintptr_t)t;	/* fresh: plain */
		else
			kgc_store((void **)&p[HDR_WORDS + s], t);
		w->m[idx].slots[s] = c;
	}
	if (!pick_loc(w, &l))
		return;
	if (loc_load(w, &l, &old) == -2)
		return;
	loc_store(w, &l, p, idx);
}

/* Overwrite a location with another reachable object, or NULL. */
static void op_overwrite(struct worker *w)
{
	struct loc l;
	void *val = NULL, *old;
	int32_t idx = -1;

	if (!pick_loc(w, &l))
		return;
	if (rndn(w, 3)) {
		idx = pick(w, &val);
		if (idx == -2)
			return;
		if (idx < 0)
			val = NULL;
	}
	if (loc_load(w, &l, &old) == -2)
		return;
	loc_store(w, &l, val, idx);
}

/*
 * Move a pointer from one location to another and clear the first: what
 * hides objects from a collector without a write barrier.
 */
static void op_move(struct worker *w)
{
	struct loc from, to;
	void *p, *old;
	int32_t idx;

	if (!pick_loc(w, &from) || !pick_loc(w, &to))
		return;
	if (from.kind == to.kind && from.i == to.i && from.obj == to.obj)
		return;
	idx = loc_load(w, &from, &p);
	if (idx < 0 || loc_load(w, &to, &old) == -2)
		return;
	if (rndn(w, 2)) {
		loc_store(w, &to, p, idx);
		loc_store(w, &from, NULL, -1);
	} else {
		loc_store(w, &from, NULL, -1);
		loc_store(w, &to, p, idx);
	}
	w->moves++;
}

/*
 * Move a global root to a local one (while the collector marks) or back
 * (while it does not): the classic way to hide an object from a marker
 * that has scanned the stack already and the globals not yet, which only
 * the deletion half of the barrier prevents.
 */
static void op_stash(struct worker *w, bool to_stack)
{
	struct loc from = { .kind = to_stack ? 0 : 1, .obj = -1 };
	struct loc to = { .kind = to_stack ? 1 : 0, .obj = -1 };
	void *p, *old;
	int32_t idx;

	from.i = (int)rndn(w, (to_stack ? NGLOBAL : NLOCAL) - NPROBE);
	to.i = (int)rndn(w, (to_stack ? NLOCAL : NGLOBAL) - NPROBE);
	idx = loc_load(w, &from, &p);
	if (idx < 0 || loc_load(w, &to, &old) == -2)
		return;
	loc_store(w, &to, p, idx);
	loc_store(w, &from, NULL, -1);
	w->moves++;
}

/* Clear a root. */
static void op_clear_root(struct worker *w)
{
	struct loc l;
	void *old;

	random_root(w, &l);
	if (loc_load(w, &l, &old) == -2)
		return;
	loc_store(w, &l, NULL, -1);
}

/* ---- verification ---- */

static bool cycle_swept(uint64_t c)
{
	const volatile struct kgc_cycle *r = &ctl()->cycles[c % KGC_CYCLE_RING];

	return num_gc() > c || r->num >= c;
}

/* Whether the memory a dropped object had was reclaimed. */
static bool reclaimed(const struct mobj *o)
{
	const uint64_t *p = addr_of(o);

	if (p[0] == 0xdbdbdbdbdbdbdbdbULL || p[0] == 0)
		return true;
	if (is_mini(o))
		return p[0] != mini_tag(o);
	return p[0] != (MAGIC | o->kind) || p[1] != (ID_TAG | o->id);
}

/*
 * Walk the model from the roots, check every reachable object in memory,
 * drop what is no longer reachable, and check the memory of objects
 * dropped long enough ago.
 */
static void verify_graph(struct worker *w)
{
	uint64_t gc = num_gc();
	int32_t head = 0, tail = 0, i;
	uint32_t e = ++w->epoch;
	struct loc l;

	w->verifications++;
	for (l.kind = 0; l.kind < 2; l.kind++) {
		for (l.i = 0; l.i < (l.kind ? NLOCAL : NGLOBAL); l.i++) {
			void *p;
			int32_t o;

			l.obj = -1;
			o = loc_load(w, &l, &p);
			if (o == -2)
				return;
			if (o >= 0 && w->m[o].mark != e) {
				w->m[o].mark = e;
				w->queue[tail++] = o;
			}
		}
	}
	while (head < tail) {
		int32_t o = w->queue[head++], s;

		if (!check_object(w, o, true))
			return;
		for (s = 0; s < w->m[o].nslots; s++) {
			int32_t c = w->m[o].slots[s];

			if (c >= 0 && w->m[c].mark != e) {
				w->m[c].mark = e;
				w->queue[tail++] = c;
			}
		}
	}
	w->live = tail;
	for (i = 0; i < w->nm; i++) {
		struct mobj *o = &w->m[i];

		if (o->state == S_LIVE && o->mark != e) {
			o->state = S_DROPPED;
			o->drop_gc = gc;
			if (diag) {
				w->h[o->hist].state = 2;
				w->h[o->hist].drop_gc = gc |
					(uint64_t)__atomic_load_n(&ctl()->phase,
								  __ATOMIC_RELAXED) << 32;
			}
			w->dropped++;
		} else if (o->state == S_DROPPED && cycle_swept(o->drop_gc + 2)) {
			/* Tiny noscan objects share blocks: not checked. */
			if (!(o->size == 8 && o->kind == NOSCAN)) {
				w->eligible++;
				if (reclaimed(o))
					w->reclaimed++;
				else
					w->retained++;
			}
			model_free(w, i);
		}
	}
}

/*
 * Barrier probes. Random mutations keep most objects alive by accident:
 * their addresses linger in dead stack slots, which the conservative scan
 * at the thread's handshake finds. Probes are objects the worker does not
 * touch between creating them and the handshake: created while no cycle
 * runs, parked in the last NPROBE global roots, and the dead stack below
 * scrubbed. When the worker sees a cycle marking, it acknowledges
 * (kgc_safepoint()), then moves each probe to one of its last NPROBE local
 * roots and clears the global one. The globals are scanned only once every
 * thread has acknowledged, so without the deletion barrier the probes are
 * now hidden from the marker: freed, and found poisoned by the next
 * verifications. They are kept for three cycles, then dropped.
 */
__attribute__((noinline))
static void scrub_stack(void)
{
	volatile char pad[16384];

	memset((char *)pad, 0, sizeof(pad));
	__asm__ volatile("" : : "r"(pad) : "memory");
}

static void probes(struct worker *w)
{
	uint32_t phase = kgc_write_barrier_enabled;
	struct loc g = { .kind = 0, .obj = -1 }, l = { .kind = 1, .obj = -1 };
	void *p, *old;
	int32_t idx;
	int i;

	if (w->probe_state == 0 && phase == KGC_PHASE_OFF) {
		for (i = 0; i < NPROBE; i++) {
			g.i = NGLOBAL - NPROBE + i;
			idx = new_object(w, (uint64_t **)&p);
			if (idx < 0 || loc_load(w, &g, &old) == -2)
				return;
			loc_store(w, &g, p, idx);
		}
		p = NULL;
		scrub_stack();
		w->probe_state = 1;
	} else if (w->probe_state == 1 && phase == KGC_PHASE_MARK) {
		kgc_safepoint();
		for (i = 0; i < NPROBE; i++) {
			g.i = NGLOBAL - NPROBE + i;
			l.i = NLOCAL - NPROBE + i;
			idx = loc_load(w, &g, &p);
			if (idx < 0 || loc_load(w, &l, &old) == -2)
				return;
			loc_store(w, &l, p, idx);
			loc_store(w, &g, NULL, -1);
		}
		w->probe_gc = num_gc();
		w->probe_state = 2;
		w->probes++;
	} else if (w->probe_state == 2 && num_gc() >= w->probe_gc + 3) {
		for (i = 0; i < NPROBE; i++) {
			l.i = NLOCAL - NPROBE + i;
			if (loc_load(w, &l, &old) == -2)
				return;
			loc_store(w, &l, NULL, -1);
		}
		w->probe_state = 0;
	}
}

/* ---- workers ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	void *lroots[NLOCAL];	/* local roots: on this stack, scanned */
	uint64_t since_gc = 0;

	memset(lroots, 0, sizeof(lroots));
	w->lroots = lroots;
	if (kgc_thread_attach()) {
		fail(w, "kgc_thread_attach: %s", kgc_last_error());
		goto out;
	}
	w->last_gc = num_gc();
	while (!stop) {
		uint32_t r = rndn(w, 100);

		if (w->live > MAX_LIVE && r < 45)
			r = 90;	/* shrink */
		if (r < 20) {
			op_stash(w, kgc_write_barrier_enabled != 0);
			r = rndn(w, 100);
		}
		if (r < 40)
			op_alloc(w);
		else if (r < 65)
			op_overwrite(w);
		else if (r < 88)
			op_move(w);
		else if (r < 93)
			op_clear_root(w);
		else {
			void *p;
			int32_t o = pick(w, &p);

			if (o >= 0)
				check_object(w, o, true);
		}
		if (w->ops % 8 == 0)
			probes(w);
		w->ops++;
		if (w->failed)
			break;
		if (w->ops % CHECK_EVERY == 0 && num_gc() != w->last_gc) {
			w->last_gc = num_gc();
			verify_graph(w);
		}
		if (w->idx == 0 && ++since_gc == GC_EVERY &&
		    !getenv("TORTURE_NOGC")) {
			since_gc = 0;
			if (kgc_gc())
				fail(w, "kgc_gc: %s", kgc_last_error());
		}
	}
out:
	/* Everyone stops; main runs two more cycles; a last full check. */
	pthread_barrier_wait(&done_barrier);
	pthread_barrier_wait(&check_barrier);
	if (!w->failed)
		verify_graph(w);
	w->lroots = NULL;
	return NULL;
}

struct torture_result {
	uint64_t cycles, ops, allocs, stores, moves, verifications, checked;
	uint64_t dropped, eligible, reclaimed, retained, probes;
	double seconds;
	int failed;
	char msg[300];
	struct kgc_heap_stats st;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * TORTURE_DIAG: for each object the kernel's checkmark reported (its log
 * line in /dev/kmsg), every object of the history that lived there.
 */
static void diag_checkmark(struct worker *ws, int threads)
{
	FILE *f = fopen("/dev/kmsg", "r");
	char line[512];
	int t;

	if (!f)
		return;
	fcntl(fileno(f), F_SETFL, fcntl(fileno(f), F_GETFL) | O_NONBLOCK);
	while (fgets(line, sizeof(line), f)) {
		char *q = strstr(line, "object 0x");
		unsigned long long a;

		if (!strstr(line, "checkmark") || !q)
			continue;
		a = strtoull(q + 7, NULL, 16);
		printf("# diag: checkmark object %#llx:", a);
		for (t = 0; t < threads; t++) {
			const struct worker *w = &ws[t];
			uint32_t k;

			for (k = 0; k < w->nh; k++) {
				const struct hist *o = &w->h[k];

				if (a < o->addr || a >= o->addr + o->size)
					continue;
				printf(" [t%d id %llu, %u bytes, kind %u, %s, allocated at %llu/%llu, dropped at %llu/%llu]",
				       t, (unsigned long long)(o->id & 0xffffffff),
				       o->size, o->kind,
				       o->state == 1 ? "live" : "dropped",
				       (unsigned long long)(o->alloc_gc & 0xffffffff),
				       (unsigned long long)(o->alloc_gc >> 32),
				       (unsigned long long)(o->drop_gc & 0xffffffff),
				       (unsigned long long)(o->drop_gc >> 32));
			}
		}
		printf("\n");
	}
	fclose(f);
}

static int torture(const struct torture_cfg *c, struct torture_result *r)
{
	KGC_OPTS(opts, .heap_reserve = TEST_HEAP_RESERVE, .gc_percent = c->gogc,
		 .debug = c->debug, .flags = KGC_INIT_NOENV | c->flags);
	const char *trace = getenv("TORTURE_GCTRACE");
	static uint64_t rootmap[(MAX_THREADS * NGLOBAL + 63) / 64];
	struct worker *ws;
	uint64_t gc0;
	double t0;
	int t, err;

	memset(r, 0, sizeof(*r));
	if (getenv("TORTURE_THREADS")) {
		static struct torture_cfg copy;

		copy = *c;
		copy.threads = atoi(getenv("TORTURE_THREADS"));
		c = &copy;
	}
	cfg = c;
	diag = getenv("TORTURE_DIAG") != NULL;
	stop = 0;
	any_failed = 0;
	memset(groots, 0, sizeof(groots));
	if (trace && *trace == '1')
		opts.debug |= KGC_DEBUG_GCTRACE;
	if (getenv("TORTURE_NOGC"))
		opts.gc_percent = KGC_GOGC_OFF;
	err = kgc_init(&opts);
	if (err) {
		snprintf(r->msg, sizeof(r->msg), "kgc_init: %s",
			 kgc_last_error());
		return err;
	}
	/* The global roots, precisely: every word a pointer. */
	memset(rootmap, 0xff, sizeof(rootmap));
	err = kgc_add_roots(groots, sizeof(groots), rootmap);
	if (err) {
		snprintf(r->msg, sizeof(r->msg), "kgc_add_roots: %s",
			 kgc_last_error());
		kgc_shutdown();
		return err;
	}
	ws = calloc(c->threads, sizeof(*ws));
	pthread_barrier_init(&done_barrier, NULL, c->threads + 1);
	pthread_barrier_init(&check_barrier, NULL, c->threads + 1);
	gc0 = num_gc();
	t0 = now_s();
	for (t = 0; t < c->threads; t++) {
		ws[t].idx = t;
		ws[t].rng = mix(0x1234 + t * 7919 + (uint64_t)getpid());
		ws[t].freelist = -1;
		ws[t].next_id = ((uint64_t)t << 32) | 1;
		ws[t].ptrmap = calloc(LARGE_MIN, 1);
		memset(ws[t].groot, 0xff, sizeof(ws[t].groot));
		memset(ws[t].lroot, 0xff, sizeof(ws[t].lroot));
		if (pthread_create(&ws[t].tid, NULL, worker_main, &ws[t]))
			abort();
	}
	/* Run until enough cycles, a failure, or the time is up. */
	while (!stop) {
		usleep(20000);
		if (num_gc() - gc0 >= (uint64_t)c->min_cycles ||
		    now_s() - t0 > c->max_seconds || any_failed)
			stop = 1;
	}
	pthread_barrier_wait(&done_barrier);
	/* Workers wait in the barrier: signalled, acknowledged by handlers. */
	if (!any_failed) {
		kgc_gc();
		kgc_gc();
	}
	pthread_barrier_wait(&check_barrier);
	for (t = 0; t < c->threads; t++)
		pthread_join(ws[t].tid, NULL);
	r->seconds = now_s() - t0;
	r->cycles = num_gc() - gc0;
	for (t = 0; t < c->threads; t++) {
		struct worker *w = &ws[t];

		r->ops += w->ops;
		r->allocs += w->allocs;
		r->stores += w->stores;
		r->moves += w->moves;
		r->verifications += w->verifications;
		r->checked += w->checked;
		r->dropped += w->dropped;
		r->eligible += w->eligible;
		r->reclaimed += w->reclaimed;
		r->retained += w->retained;
		r->probes += w->probes;
		if (w->failed && !r->failed) {
			r->failed = 1;
			snprintf(r->msg, sizeof(r->msg), "worker %d: %s", t,
				 w->msg);
		}
	}
	if (diag)
		diag_checkmark(ws, c->threads);
	for (t = 0; t < c->threads; t++) {
		struct worker *w = &ws[t];

		free(w->m);
		free(w->queue);
		free(w->ptrmap);
		free(w->h);
	}
	free(ws);
	r->st = read_stats();
	pthread_barrier_destroy(&done_barrier);
	pthread_barrier_destroy(&check_barrier);
	kgc_shutdown();
	return 0;
}

static uint64_t max_pause(const struct kgc_heap_stats *st)
{
	uint64_t m = 0;
	int i;

	for (i = 0; i < 256; i++)
		if (st->pause_ns[i] > m)
			m = st->pause_ns[i];
	return m;
}

static void report(const char *what, const struct torture_result *r)
{
	fflush(stderr);
	printf("# %s: %.1f s, %llu cycles, %llu ops (%llu objects allocated, %llu pointer stores, %llu moves, %llu probe rounds)\n",
	       what, r->seconds, (unsigned long long)r->cycles,
	       (unsigned long long)r->ops, (unsigned long long)r->allocs,
	       (unsigned long long)r->stores, (unsigned long long)r->moves,
	       (unsigned long long)r->probes);
	printf("# %s: %llu verifications, %llu objects checked, %llu dropped, %llu checked after two cycles: %llu reclaimed, %llu retained\n",
	       what, (unsigned long long)r->verifications,
	       (unsigned long long)r->checked, (unsigned long long)r->dropped,
	       (unsigned long long)r->eligible,
	       (unsigned long long)r->reclaimed,
	       (unsigned long long)r->retained);
	if (r->st.sz && r->st.num_gc)
		printf("# %s: pauses: %llu total, %.3f ms mean, %.3f ms max of the last 256; %llu signals, %llu handshakes at safepoints, %llu in the handler, %llu checkmark errors\n",
		       what, (unsigned long long)r->st.num_gc * 2,
		       r->st.pause_total_ns / 1e6 / (r->st.num_gc * 2),
		       max_pause(&r->st) / 1e6,
		       (unsigned long long)r->st.signals,
		       (unsigned long long)r->st.handshakes,
		       (unsigned long long)r->st.signal_handshakes,
		       (unsigned long long)r->st.checkmark_errors);
	if (r->failed)
		printf("# %s: %s\n", what, r->msg);
	fflush(stdout);	/* the harness _exit()s */
}

static bool have_dev(void)
{
	return access("/dev/kgc", F_OK) == 0;
}

FIXTURE(torture) {
	bool ready;
};

/*
 * Knobs for looking closer (the kselftest harness of 6.1 cannot select
 * tests): TORTURE_ONLY=name runs one test, TORTURE_GCTRACE=1 adds
 * KGC_DEBUG=gctrace=1, TORTURE_THREADS=n changes the number of workers,
 * TORTURE_NOGC=1 turns the collector off (GOGC=off, no kgc_gc()), and
 * TORTURE_DIAG=1 keeps a history of every object and, at the end, prints
 * what it knows about each object the kernel's checkmark reported
 * (from /dev/kmsg).
 */
FIXTURE_SETUP(torture)
{
	const char *only = getenv("TORTURE_ONLY");

	if (!have_dev())
		SKIP(return, "/dev/kgc missing: is kgc.ko loaded?");
	if (only && strcmp(only, _metadata->name))
		SKIP(return, "TORTURE_ONLY=%s", only);
	self->ready = true;
}

FIXTURE_TEARDOWN(torture)
{
}

/*
 * Four threads, poisoning on, only registered roots (no automatic data
 * and bss roots): every reachable object stays intact through every cycle
 * and most dropped objects are reclaimed within two cycles.
 */
TEST_F_TIMEOUT(torture, poison, 300)
{
	const struct torture_cfg c = {
		.threads = 4, .min_cycles = 16, .max_seconds = 40,
		.debug = KGC_DEBUG_POISON, .flags = KGC_INIT_NOAUTOROOTS,
		.gogc = 10,
	};
	struct torture_result r;

	HEAP_REQUIRED();
	ASSERT_EQ(0, torture(&c, &r)) TH_LOG("%s", r.msg);
	report("poison", &r);
	ASSERT_EQ(0, r.failed) TH_LOG("%s", r.msg);
	ASSERT_LE(3, r.cycles);
	ASSERT_LE(r.cycles, r.st.num_gc);
	ASSERT_LE(1000, r.checked);
	ASSERT_LE(c.threads * 2, r.verifications);
	/* Most dropped objects are gone within two cycles. */
	ASSERT_LE(50, r.eligible);
	ASSERT_LE(r.eligible * 8, r.reclaimed * 10)
		TH_LOG("%llu of %llu dropped objects reclaimed",
		       (unsigned long long)r.reclaimed,
		       (unsigned long long)r.eligible);
	ASSERT_EQ(0, r.st.checkmark_errors);
}

/*
 * Checkmark on (the kernel re-marks from the roots in the termination
 * pause and counts what the concurrent mark missed), automatic roots on:
 * no errors, and the model agrees.
 */
TEST_F_TIMEOUT(torture, checkmark, 300)
{
	const struct torture_cfg c = {
		.threads = 4, .min_cycles = 10, .max_seconds = 40,
		.debug = KGC_DEBUG_CHECKMARK | KGC_DEBUG_POISON, .gogc = 10,
	};
	struct torture_result r;

	HEAP_REQUIRED();
	ASSERT_EQ(0, torture(&c, &r)) TH_LOG("%s", r.msg);
	report("checkmark", &r);
	ASSERT_EQ(0, r.failed) TH_LOG("%s", r.msg);
	ASSERT_LE(3, r.cycles);
	ASSERT_EQ(0, r.st.checkmark_errors);
	ASSERT_LE(1000, r.checked);
}

/*
 * Four mark threads per heap (the module parameter mark_workers, read
 * when the heap is created), checkmark on: parallel marking misses
 * nothing either.
 */
TEST_F_TIMEOUT(torture, parallel_mark_workers, 300)
{
	const struct torture_cfg c = {
		.threads = 4, .min_cycles = 10, .max_seconds = 40,
		.debug = KGC_DEBUG_CHECKMARK | KGC_DEBUG_POISON, .gogc = 10,
	};
	struct kgc_param param = { 0 };
	struct torture_result r;
	int ret;

	HEAP_REQUIRED();
	ASSERT_EQ(0, kgc_param_set(&param, "mark_workers", "4"));
	ret = torture(&c, &r);
	kgc_param_restore(&param);
	ASSERT_EQ(0, ret) TH_LOG("%s", r.msg);
	report("parallel", &r);
	ASSERT_EQ(0, r.failed) TH_LOG("%s", r.msg);
	ASSERT_LE(3, r.cycles);
	ASSERT_EQ(0, r.st.checkmark_errors);
	ASSERT_LE(1000, r.checked);
}

/*
 * Run the torture in a child with a collector broken on purpose: the child
 * exits 1 when it detected corruption, 0 when it did not, 2 when it could
 * not run.
 */
static int broken_child(unsigned int debug, const char *what)
{
	const struct torture_cfg c = {
		.threads = 4, .min_cycles = 30, .max_seconds = 40,
		.debug = debug | KGC_DEBUG_POISON, .flags = KGC_INIT_NOAUTOROOTS,
		.gogc = 10, .stop_on_failure = true,
	};
	struct torture_result r;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (torture(&c, &r)) {
			printf("# %s: %s\n", what, r.msg);
			_exit(2);
		}
		report(what, &r);
		fflush(stdout);
		_exit(r.failed ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status)) {
		printf("# %s: child killed by signal %d\n", what,
		       WTERMSIG(status));
		return 3;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Without the write barrier, the torture must see objects disappear. */
TEST_F_TIMEOUT(torture, catches_missing_barrier, 300)
{
	HEAP_REQUIRED();
	ASSERT_EQ(1, broken_child(KGC_DEBUG_NOBARRIER, "nobarrier"));
}

/* Without roots and stacks, likewise. */
TEST_F_TIMEOUT(torture, catches_missing_roots, 300)
{
	HEAP_REQUIRED();
	ASSERT_EQ(1, broken_child(KGC_DEBUG_NOROOTS, "noroots"));
}

TEST_HARNESS_MAIN
