// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * interp - a tiny Lisp whose values live in the kgc heap.
 *
 * What a language runtime built on kgc looks like, in one file: every Lisp
 * value (cons cell, symbol, closure, builtin, string) is a kgc object with a
 * precise pointer map; small integers are tagged immediates (odd words) that
 * are never taken for pointers. The interpreter's own globals (symbol
 * table, global environment) are a registered root range with a pointer
 * map; values the C code is working on sit on its stack, which the
 * collector scans by itself. Every pointer store into an object that
 * already exists (set!, define, appending to a list being built) goes
 * through KGC_STORE, the write barrier; a freshly allocated object is
 * filled with plain stores.
 *
 * The workload, run ROUNDS times (argv[1], default 20): lists built with
 * range/map/filter/fold, a persistent binary search tree of pseudo-random
 * keys (every insert copies a path: lots of short-lived garbage) and a
 * global counter updated with set!. Each round's results are checked
 * against the same values computed in C, so a collector that freed a live
 * object shows up as a wrong answer or a crash. At the end the program
 * prints the heap's and the collector's statistics.
 *
 *   interp [ROUNDS] [TREE_KEYS]      (KGC_DEBUG=gctrace=1 for a line per GC)
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <kgc.h>

/* ---- Values ---------------------------------------------------------- */

enum tag { T_CONS = 1, T_SYM, T_LAMBDA, T_BUILTIN };

/*
 * A value is a pointer to an object (the first word is its tag), NULL for
 * the empty list (also "false"), or a fixnum: (n << 1) | 1.
 */
typedef struct obj *val;

struct obj {
	uint64_t tag;
};

struct cons {
	uint64_t tag;
	val car;
	val cdr;
};

struct sym {
	uint64_t tag;
	char *name;		/* a noscan heap object */
};

struct lambda {
	uint64_t tag;
	val params;
	val body;
	val env;
};

struct builtin {
	uint64_t tag;
	uint64_t op;
};

/* The pointer maps: which 8-byte words hold pointers. */
static const uint64_t cons_map[] = {
	KGC_PTRBIT(struct cons, car) | KGC_PTRBIT(struct cons, cdr),
};
static const uint64_t sym_map[] = { KGC_PTRBIT(struct sym, name) };
static const uint64_t lambda_map[] = {
	KGC_PTRBIT(struct lambda, params) | KGC_PTRBIT(struct lambda, body) |
	KGC_PTRBIT(struct lambda, env),
};

static const struct kgc_type cons_type = {
	.size = sizeof(struct cons), .ptrmap = cons_map, .name = "cons",
};
static const struct kgc_type sym_type = {
	.size = sizeof(struct sym), .ptrmap = sym_map, .name = "symbol",
};
static const struct kgc_type lambda_type = {
	.size = sizeof(struct lambda), .ptrmap = lambda_map, .name = "lambda",
};
static const struct kgc_type builtin_type = {
	.size = sizeof(struct builtin), .ptrmap = NULL, .name = "builtin",
};

/* The interpreter's roots, registered with a pointer map of their own. */
static struct {
	val symbols;		/* list of every symbol (interning) */
	val globals;		/* alist of (symbol . value) */
	val s_quote, s_if, s_define, s_set, s_lambda, s_begin, s_let, s_t;
	long rounds;		/* not a pointer: its bit is clear */
} R;

static const uint64_t roots_map[] = { 0x3ff };	/* the ten vals above */

static long allocs;

static void die(const char *what)
{
	fprintf(stderr, "interp: %s: %s\n", what, kgc_last_error());
	exit(1);
}

static void *xalloc(size_t size, const struct kgc_type *type)
{
	void *p = kgc_alloc(size, type);

	if (!p)
		die("kgc_alloc");
	allocs++;
	return p;
}

static int is_fix(val v) { return ((uintptr_t)v & 1) != 0; }
static val fix(long n) { return (val)(uintptr_t)(((uint64_t)n << 1) | 1); }
static long unfix(val v) { return (long)((intptr_t)v >> 1); }
static int is(val v, enum tag t) { return v && !is_fix(v) && v->tag == t; }

static val cons(val a, val d)
{
	struct cons *c = xalloc(sizeof(*c), &cons_type);

	/* A new object nobody else can see yet: plain stores. */
	c->tag = T_CONS;
	c->car = a;
	c->cdr = d;
	return (val)c;
}

static val car(val v) { return is(v, T_CONS) ? ((struct cons *)v)->car : NULL; }
static val cdr(val v) { return is(v, T_CONS) ? ((struct cons *)v)->cdr : NULL; }

static val intern(const char *name, size_t len)
{
	struct sym *s;
	val l;

	for (l = R.symbols; l; l = cdr(l)) {
		s = (struct sym *)car(l);
		if (strlen(s->name) == len && !memcmp(s->name, name, len))
			return (val)s;
	}
	s = xalloc(sizeof(*s), &sym_type);
	s->tag = T_SYM;
	s->name = kgc_alloc_noscan(len + 1);
	if (!s->name)
		die("kgc_alloc_noscan");
	allocs++;
	memcpy(s->name, name, len);
	KGC_STORE(R.symbols, cons((val)s, R.symbols));
	return (val)s;
}

static val sym(const char *name) { return intern(name, strlen(name)); }

/* ---- Reader ----------------------------------------------------------- */

static val read_expr(const char **p);

static void skip_space(const char **p)
{
	for (;;) {
		while (isspace((unsigned char)**p))
			(*p)++;
		if (**p != ';')
			return;
		while (**p && **p != '\n')
			(*p)++;
	}
}

static val read_list(const char **p)
{
	val head = NULL, tail = NULL, cell;

	for (;;) {
		skip_space(p);
		if (!**p) {
			fprintf(stderr, "interp: missing )\n");
			exit(1);
		}
		if (**p == ')') {
			(*p)++;
			return head;
		}
		cell = cons(read_expr(p), NULL);
		if (tail)
			KGC_STORE(((struct cons *)tail)->cdr, cell);
		else
			head = cell;
		tail = cell;
	}
}

static val read_expr(const char **p)
{
	const char *start;

	skip_space(p);
	if (**p == '(') {
		(*p)++;
		return read_list(p);
	}
	if (**p == '\'') {
		(*p)++;
		return cons(R.s_quote, cons(read_expr(p), NULL));
	}
	start = *p;
	while (**p && !isspace((unsigned char)**p) && **p != '(' &&
	       **p != ')')
		(*p)++;
	if (isdigit((unsigned char)*start) ||
	    (*start == '-' && isdigit((unsigned char)start[1])))
		return fix(strtol(start, NULL, 10));
	return intern(start, *p - start);
}

/* ---- Evaluator -------------------------------------------------------- */

enum op { B_ADD, B_SUB, B_MUL, B_LT, B_EQ, B_MOD, B_CONS, B_CAR, B_CDR,
	  B_NULLP, B_LIST, B_NOT };

static const char *const op_names[] = {
	"+", "-", "*", "<", "=", "mod", "cons", "car", "cdr", "null?",
	"list", "not",
};

static val eval(val x, val env);

/* The (symbol . value) pair of a variable, or NULL. */
static val lookup(val s, val env)
{
	val l;

	for (l = env; l; l = cdr(l))
		if (car(car(l)) == s)
			return car(l);
	for (l = R.globals; l; l = cdr(l))
		if (car(car(l)) == s)
			return car(l);
	return NULL;
}

static void define(val s, val v)
{
	val pair = lookup(s, NULL);

	if (pair)
		KGC_STORE(((struct cons *)pair)->cdr, v);
	else
		KGC_STORE(R.globals, cons(cons(s, v), R.globals));
}

static val truth(int b) { return b ? R.s_t : NULL; }

static val apply_builtin(enum op op, val args)
{
	val a = car(args), b = car(cdr(args));

	switch (op) {
	case B_ADD: return fix(unfix(a) + unfix(b));
	case B_SUB: return fix(unfix(a) - unfix(b));
	case B_MUL: return fix(unfix(a) * unfix(b));
	case B_LT: return truth(unfix(a) < unfix(b));
	case B_EQ: return truth(a == b);
	case B_MOD: return fix(unfix(a) % unfix(b));
	case B_CONS: return cons(a, b);
	case B_CAR: return car(a);
	case B_CDR: return cdr(a);
	case B_NULLP: return truth(a == NULL);
	case B_LIST: return args;
	case B_NOT: return truth(a == NULL);
	}
	return NULL;
}

static val eval_list(val l, val env)
{
	val head = NULL, tail = NULL, cell;

	for (; l; l = cdr(l)) {
		cell = cons(eval(car(l), env), NULL);
		if (tail)
			KGC_STORE(((struct cons *)tail)->cdr, cell);
		else
			head = cell;
		tail = cell;
	}
	return head;
}

static val eval(val x, val env)
{
	val op, args, f, params, pair;

	for (;;) {
		if (!x || is_fix(x))
			return x;
		if (is(x, T_SYM)) {
			pair = lookup(x, env);
			if (!pair) {
				fprintf(stderr, "interp: unbound: %s\n",
					((struct sym *)x)->name);
				exit(1);
			}
			return cdr(pair);
		}
		op = car(x);
		args = cdr(x);
		if (op == R.s_quote)
			return car(args);
		if (op == R.s_if) {
			x = eval(car(args), env) ? car(cdr(args)) :
						   car(cdr(cdr(args)));
			continue;	/* tail position */
		}
		if (op == R.s_define) {
			if (is(car(args), T_CONS)) {	/* (define (f a b) body...) */
				struct lambda *l = xalloc(sizeof(*l), &lambda_type);

				l->tag = T_LAMBDA;
				l->params = cdr(car(args));
				l->body = cdr(args);
				l->env = env;
				define(car(car(args)), (val)l);
			} else {
				define(car(args), eval(car(cdr(args)), env));
			}
			return car(args);
		}
		if (op == R.s_set) {
			pair = lookup(car(args), env);
			if (!pair) {
				fprintf(stderr, "interp: set! of an unbound variable\n");
				exit(1);
			}
			KGC_STORE(((struct cons *)pair)->cdr,
				  eval(car(cdr(args)), env));
			return NULL;
		}
		if (op == R.s_lambda) {
			struct lambda *l = xalloc(sizeof(*l), &lambda_type);

			l->tag = T_LAMBDA;
			l->params = car(args);
			l->body = cdr(args);
			l->env = env;
			return (val)l;
		}
		if (op == R.s_begin) {
			for (; cdr(args); args = cdr(args))
				eval(car(args), env);
			x = car(args);
			continue;
		}
		if (op == R.s_let) {	/* (let ((v e) ...) body...) */
			val b, e = env;

			for (b = car(args); b; b = cdr(b))
				e = cons(cons(car(car(b)),
					      eval(car(cdr(car(b))), env)), e);
			env = e;
			for (args = cdr(args); cdr(args); args = cdr(args))
				eval(car(args), env);
			x = car(args);
			continue;
		}
		f = eval(op, env);
		args = eval_list(args, env);
		if (is(f, T_BUILTIN))
			return apply_builtin(((struct builtin *)f)->op, args);
		if (!is(f, T_LAMBDA)) {
			fprintf(stderr, "interp: not a function\n");
			exit(1);
		}
		/* Bind the parameters in front of the closure's environment. */
		env = ((struct lambda *)f)->env;
		for (params = ((struct lambda *)f)->params; params;
		     params = cdr(params), args = cdr(args))
			env = cons(cons(car(params), car(args)), env);
		x = ((struct lambda *)f)->body;
		for (; cdr(x); x = cdr(x))
			eval(car(x), env);
		x = car(x);
	}
}

static val run(const char *src)
{
	val r = NULL;

	for (;;) {
		skip_space(&src);
		if (!*src)
			return r;
		r = eval(read_expr(&src), NULL);
	}
}

/* ---- The workload ----------------------------------------------------- */

static const char prelude[] =
	"(define (cadr l) (car (cdr l)))\n"
	"(define (caddr l) (car (cdr (cdr l))))\n"
	"(define (range a b) (if (< a b) (cons a (range (+ a 1) b)) '()))\n"
	"(define (map f l) (if (null? l) '() (cons (f (car l)) (map f (cdr l)))))\n"
	"(define (filter p l)\n"
	"  (if (null? l) '()\n"
	"      (if (p (car l)) (cons (car l) (filter p (cdr l))) (filter p (cdr l)))))\n"
	"(define (foldl f acc l) (if (null? l) acc (foldl f (f acc (car l)) (cdr l))))\n"
	"(define (reverse l) (foldl (lambda (acc x) (cons x acc)) '() l))\n"
	"(define (length l) (foldl (lambda (n x) (+ n 1)) 0 l))\n"
	";; A persistent binary search tree: (key left right); insert copies a path.\n"
	"(define (insert t k)\n"
	"  (if (null? t) (list k '() '())\n"
	"      (if (< k (car t)) (list (car t) (insert (cadr t) k) (caddr t))\n"
	"          (if (< (car t) k) (list (car t) (cadr t) (insert (caddr t) k))\n"
	"              t))))\n"
	"(define (tree-size t) (if (null? t) 0 (+ 1 (+ (tree-size (cadr t)) (tree-size (caddr t))))))\n"
	"(define (tree-sum t) (if (null? t) 0 (+ (car t) (+ (tree-sum (cadr t)) (tree-sum (caddr t))))))\n"
	"(define (max a b) (if (< a b) b a))\n"
	"(define (tree-depth t) (if (null? t) 0 (+ 1 (max (tree-depth (cadr t)) (tree-depth (caddr t))))))\n"
	"(define (next s) (mod (+ (* s 1103515245) 12345) 2147483648))\n"
	"(define (build t s n)\n"
	"  (if (= n 0) t (build (insert t (mod s 100000)) (next s) (- n 1))))\n"
	"(define counter 0)\n"
	"(define (bump!) (set! counter (+ counter 1)))\n";

/* The same tree in C, for the expected answers. */
struct cnode {
	long key;
	struct cnode *l, *r;
};

static struct cnode *c_insert(struct cnode *t, long k, int *added)
{
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			exit(1);
		t->key = k;
		*added = 1;
	} else if (k < t->key) {
		t->l = c_insert(t->l, k, added);
	} else if (k > t->key) {
		t->r = c_insert(t->r, k, added);
	}
	return t;
}

static long c_sum(struct cnode *t)
{
	return t ? t->key + c_sum(t->l) + c_sum(t->r) : 0;
}

static int c_depth(struct cnode *t)
{
	int a, b;

	if (!t)
		return 0;
	a = c_depth(t->l);
	b = c_depth(t->r);
	return 1 + (a > b ? a : b);
}

static void c_free(struct cnode *t)
{
	if (t) {
		c_free(t->l);
		c_free(t->r);
		free(t);
	}
}

static struct timespec t0;

/* The heap's and the collector's figures. */
static void report(void)
{
	struct kgc_heap_stats st = { .sz = sizeof(st) };
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (kgc_read_stats(&st))
		die("kgc_read_stats");
	printf("\n%-28s %12.3f\n", "time (s)",
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("%-28s %12ld\n", "objects allocated", allocs);
	printf("%-28s %12.1f\n", "MiB requested",
	       st.bytes_allocated / 1048576.0);
	printf("%-28s %12.1f\n", "heap grown into (MiB)", st.heap_sys / 1048576.0);
	printf("%-28s %12.1f\n", "heap in use (MiB)", st.heap_inuse / 1048576.0);
	printf("%-28s %12.1f\n", "heap resident (MiB)",
	       st.heap_resident / 1048576.0);
	printf("%-28s %12llu\n", "GC cycles", (unsigned long long)st.num_gc);
	printf("%-28s %12.3f\n", "GC pause total (ms)", st.pause_total_ns / 1e6);
	printf("%-28s %12llu\n", "spans taken from the kernel",
	       (unsigned long long)st.refills);
	printf("%-28s %12llu\n", "system calls", (unsigned long long)st.syscalls);
	printf("%-28s %12llu\n", "write-barrier records",
	       (unsigned long long)st.barrier_records);
	printf("%-28s %12llu\n", "checkmark errors",
	       (unsigned long long)st.checkmark_errors);
}

static long expect(const char *what, val got, long want)
{
	if (!is_fix(got) || unfix(got) != want) {
		fprintf(stderr, "interp: %s = %ld, expected %ld\n", what,
			is_fix(got) ? unfix(got) : -1L, want);
		fflush(stderr);
		report();
		exit(1);
	}
	return want;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 20;
	long keys = argc > 2 ? atol(argv[2]) : 1000;
	long tree_size = 0, tree_sum, tree_depth, s = 42, i;
	struct cnode *ct = NULL;
	char prog[512];
	int ret, added;
	unsigned int k;

	if (rounds < 1 || keys < 1) {
		fprintf(stderr, "usage: interp [ROUNDS] [TREE_KEYS]\n");
		return 2;
	}
	ret = kgc_init(NULL);
	if (ret) {
		fprintf(stderr, "%s\n", kgc_last_error());
		return 1;
	}
	ret = kgc_add_roots(&R, sizeof(R), roots_map);
	if (ret)
		die("kgc_add_roots");
	KGC_STORE(R.s_quote, sym("quote"));
	KGC_STORE(R.s_if, sym("if"));
	KGC_STORE(R.s_define, sym("define"));
	KGC_STORE(R.s_set, sym("set!"));
	KGC_STORE(R.s_lambda, sym("lambda"));
	KGC_STORE(R.s_begin, sym("begin"));
	KGC_STORE(R.s_let, sym("let"));
	KGC_STORE(R.s_t, sym("t"));
	for (k = 0; k < sizeof(op_names) / sizeof(op_names[0]); k++) {
		struct builtin *b = xalloc(sizeof(*b), &builtin_type);

		b->tag = T_BUILTIN;
		b->op = k;
		define(sym(op_names[k]), (val)b);
	}
	run(prelude);

	/* Expected answers, computed in C with the same generator. */
	for (i = 0; i < keys; i++) {
		added = 0;
		ct = c_insert(ct, s % 100000, &added);
		tree_size += added;
		s = (s * 1103515245 + 12345) % 2147483648L;
	}
	tree_sum = c_sum(ct);
	tree_depth = c_depth(ct);
	c_free(ct);

	printf("kgc %s: a tiny Lisp on a garbage-collected heap\n",
	       kgc_version());
	printf("workload: %ld rounds of list operations and a %ld-key "
	       "persistent tree\n", rounds, keys);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < rounds; i++) {
		val r;

		r = run("(foldl + 0 (map (lambda (x) (* x x)) (range 0 1000)))");
		expect("sum of squares", r, 332833500);
		r = run("(length (filter (lambda (x) (= (mod x 3) 0)) "
			"(reverse (range 0 3000))))");
		expect("multiples of 3", r, 1000);
		snprintf(prog, sizeof(prog),
			 "(let ((tr (build '() 42 %ld)))"
			 " (list (tree-size tr) (tree-sum tr) (tree-depth tr)))",
			 keys);
		r = run(prog);
		expect("tree size", car(r), tree_size);
		expect("tree sum", car(cdr(r)), tree_sum);
		expect("tree depth", car(cdr(cdr(r))), tree_depth);
		run("(bump!)");
		R.rounds++;
	}
	expect("counter", run("counter"), R.rounds);
	printf("results: sum of squares 332833500, multiples of 3: 1000, "
	       "tree: %ld keys, sum %ld, depth %ld; counter %ld: all as "
	       "computed in C\n", tree_size, tree_sum, tree_depth, rounds);

	ret = kgc_gc();
	if (ret)
		printf("kgc_gc: %s\n", kgc_strerror(ret));
	report();
	kgc_shutdown();
	return 0;
}
