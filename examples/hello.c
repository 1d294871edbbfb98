// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * hello - the smallest kgc program (the one in README.md).
 *
 * A linked list of typed nodes in the kgc heap, with a registered global
 * root; every thousandth node starts a new list, so the old ones become
 * garbage. Build it against an installed libkgc with
 *
 *   cc hello.c $(pkg-config --cflags --libs kgc) -o hello
 *
 * (tools/test-install.sh does exactly that in a staging root).
 */
#include <stdio.h>
#include <kgc.h>

struct node {
	struct node *next;
	long v;
};

static const uint64_t node_map[] = { KGC_PTRBIT(struct node, next) };
static const struct kgc_type node_t = {
	.size = sizeof(struct node), .ptrmap = node_map,
};
static struct node *head;		/* a global root */

int main(void)
{
	long n = 0;
	int i;

	if (kgc_init(NULL)) {		/* options also from KGC_* env */
		fprintf(stderr, "%s\n", kgc_last_error());
		return 1;
	}
	if (kgc_add_roots(&head, sizeof(head), NULL)) {
		fprintf(stderr, "%s\n", kgc_last_error());
		return 1;
	}
	for (i = 0; i < 1000000; i++) {
		struct node *p = kgc_alloc(sizeof(*p), &node_t);

		if (!p) {
			fprintf(stderr, "%s\n", kgc_last_error());
			return 1;
		}
		p->v = i;
		p->next = i % 1000 ? head : NULL;	/* new object: plain store */
		KGC_STORE(head, p);			/* published: the barrier */
	}
	kgc_gc();				/* optional: the pacer runs cycles */
	for (struct node *p = head; p; p = p->next)
		n++;
	printf("hello from kgc %s: %ld nodes reachable\n", kgc_version(), n);
	kgc_shutdown();
	return n == 1000 ? 0 : 1;
}
