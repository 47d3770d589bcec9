#include "fsev.h"

#include <stdlib.h>
#include <string.h>

/* ---- a small string-keyed chained hash table -------------------------- */

struct node {
	struct node *hnext;
	char *key;
};

struct table {
	struct node **b;
	size_t nb, n;
};

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static struct node **slot(const struct table *t, const char *key)
{
	struct node **p = &t->b[hash(key) & (t->nb - 1)];
	while (*p && strcmp((*p)->key, key) != 0)
		p = &(*p)->hnext;
	return p;
}

static int grow(struct table *t)
{
	if (t->nb && t->n < t->nb)
		return 0;
	size_t nb = t->nb ? t->nb * 2 : 64;
	struct node **b = calloc(nb, sizeof(*b));
	if (!b)
		return -1;
	for (size_t i = 0; i < t->nb; i++)
		for (struct node *x = t->b[i], *next; x; x = next) {
			next = x->hnext;
			struct node **d = &b[hash(x->key) & (nb - 1)];
			x->hnext = *d;
			*d = x;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
	return 0;
}

/* Insert x (its key set, not present yet). */
static int put(struct table *t, struct node *x)
{
	if (grow(t) < 0)
		return -1;
	struct node **p = slot(t, x->key);
	x->hnext = NULL;
	*p = x;
	t->n++;
	return 0;
}

static struct node *get(const struct table *t, const char *key)
{
	return t->nb ? *slot(t, key) : NULL;
}

static void unlink_node(struct table *t, struct node *x)
{
	struct node **p = slot(t, x->key);
	*p = x->hnext;
	t->n--;
}

/* ---- coalescing queue ---------------------------------------------------- */

struct qent {
	struct node h; /* first: the table's node */
	struct qent *next;
	unsigned kinds;
	uint64_t due;
};

struct dl_fsq {
	struct table t;
	struct qent *head, *tail;
	size_t max;
	unsigned window;
};

struct dl_fsq *dl_fsq_new(size_t max, unsigned window_ms)
{
	struct dl_fsq *q = calloc(1, sizeof(*q));
	if (q) {
		q->max = max;
		q->window = window_ms;
	}
	return q;
}

void dl_fsq_free(struct dl_fsq *q)
{
	if (!q)
		return;
	for (struct qent *x = q->head, *next; x; x = next) {
		next = x->next;
		free(x->h.key);
		free(x);
	}
	free(q->t.b);
	free(q);
}

int dl_fsq_add(struct dl_fsq *q, const char *path, unsigned kinds, uint64_t now_ms)
{
	struct qent *x = (struct qent *)get(&q->t, path);

	if (x) {
		x->kinds |= kinds;
		return 0;
	}
	if (q->t.n >= q->max || !(x = calloc(1, sizeof(*x))))
		return -1;
	if (!(x->h.key = strdup(path)) || put(&q->t, &x->h) < 0) {
		free(x->h.key);
		free(x);
		return -1;
	}
	x->kinds = kinds;
	x->due = now_ms + q->window;
	if (q->tail)
		q->tail->next = x;
	else
		q->head = x;
	q->tail = x;
	return 1;
}

int dl_fsq_pop(struct dl_fsq *q, uint64_t now_ms, char **path, unsigned *kinds)
{
	struct qent *x = q->head;

	if (!x || x->due > now_ms)
		return 0;
	q->head = x->next;
	if (!q->head)
		q->tail = NULL;
	unlink_node(&q->t, &x->h);
	*path = x->h.key;
	*kinds = x->kinds;
	free(x);
	return 1;
}

uint64_t dl_fsq_next_due(const struct dl_fsq *q)
{
	return q->head ? q->head->due : UINT64_MAX;
}

size_t dl_fsq_len(const struct dl_fsq *q)
{
	return q->t.n;
}

/* ---- echo tracking ------------------------------------------------------- */

struct eent {
	struct node h;
	struct eent *next; /* all entries, for expiry */
	int inflight, exp_m, exp_w, ate_m, ate_w;
	uint64_t grace_until;
};

struct dl_fsecho {
	struct table t;
	struct eent *all;
	unsigned grace;
};

struct dl_fsecho *dl_fsecho_new(unsigned grace_ms)
{
	struct dl_fsecho *e = calloc(1, sizeof(*e));
	if (e)
		e->grace = grace_ms;
	return e;
}

void dl_fsecho_free(struct dl_fsecho *e)
{
	if (!e)
		return;
	for (struct eent *x = e->all, *next; x; x = next) {
		next = x->next;
		free(x->h.key);
		free(x);
	}
	free(e->t.b);
	free(e);
}

int dl_fsecho_sent(struct dl_fsecho *e, const char *path)
{
	struct eent *x = (struct eent *)get(&e->t, path);

	if (!x) {
		if (!(x = calloc(1, sizeof(*x))))
			return -1;
		if (!(x->h.key = strdup(path)) || put(&e->t, &x->h) < 0) {
			free(x->h.key);
			free(x);
			return -1;
		}
		x->next = e->all;
		e->all = x;
	}
	x->inflight = 1;
	x->exp_m = x->exp_w = 1;
	x->ate_m = x->ate_w = 0;
	return 0;
}

int dl_fsecho_inflight(const struct dl_fsecho *e, const char *path)
{
	const struct eent *x = (const struct eent *)get(&e->t, path);
	return x && x->inflight;
}

int dl_fsecho_eat(struct dl_fsecho *e, const char *path, enum dl_fsecho_kind k,
		  uint64_t now_ms)
{
	struct eent *x = (struct eent *)get(&e->t, path);

	if (!x)
		return 0;
	if (k == DL_ECHO_MODIFY && x->inflight && x->exp_m) {
		x->exp_m = 0;
		x->ate_m = 1;
		return 1;
	}
	if (k == DL_ECHO_CLOSE_WRITE && x->exp_w && (x->inflight || now_ms < x->grace_until)) {
		x->exp_w = 0;
		x->ate_w = 1;
		return 1;
	}
	return 0;
}

int dl_fsecho_done(struct dl_fsecho *e, const char *path, int did_m, int did_w,
		   uint64_t now_ms)
{
	struct eent *x = (struct eent *)get(&e->t, path);

	if (!x || !x->inflight)
		return 0;
	int again = (!did_m && x->ate_m) || (!did_w && x->ate_w);
	x->inflight = 0;
	x->exp_m = 0; /* a setattr is answered only once the host did it */
	if (!did_w)
		x->exp_w = 0;
	x->grace_until = now_ms + e->grace;
	return again;
}

size_t dl_fsecho_expire(struct dl_fsecho *e, uint64_t now_ms)
{
	for (struct eent **p = &e->all; *p;) {
		struct eent *x = *p;
		if (!x->inflight && (!x->exp_w || now_ms >= x->grace_until)) {
			*p = x->next;
			unlink_node(&e->t, &x->h);
			free(x->h.key);
			free(x);
		} else {
			p = &x->next;
		}
	}
	return e->t.n;
}
