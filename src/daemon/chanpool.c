/* The proxy's channel pool (see chanpool.h). */
#include "daemon/chanpool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "daemon/chan.h"
#include "daemon/log.h"

/* Channel pool: connections to the agent opened ahead (header sent, reply
 * OK, the agent already connected to dockerd), so an accepted client is
 * relayed at once instead of after a connect + header round trip. */
#define CHAN_POOL        DL_CHANPOOL_N
#define CHAN_POOL_LOW    4    /* refill, in one batch, at this many */
#define CHAN_POOL_TOPUP_MS 100 /* else top up after this long */
#define CHAN_POOL_AGE_S  60   /* recycle idle ones (dockerd drops a conn
				 that sends no request for 5 minutes) */
#define CHAN_POOL_YOUNG_S 2   /* one that dies younger: the agent is unwell */
#define CHAN_POOL_BACKOFF_MIN_MS 200
#define CHAN_POOL_BACKOFF_MAX_MS 5000

struct pslot {
	struct dl_chanpool *p;
	int fd;             /* -1: empty */
	time_t born;
	struct event ev;    /* readable (EOF: it died) or too old */
};

/* An open in flight for the pool; p is NULL once the pool is gone. */
struct pool_op {
	struct dl_chanpool *p;
	unsigned gen;
	struct pool_op *prev, *next;
};

struct dl_chanpool {
	struct event_base *base;
	const struct dl_chan_cfg *cfg; /* by reference */
	char target[64];
	struct pslot slot[CHAN_POOL];
	unsigned npool, nopening, gen, backoff_ms;
	int timer_on;  /* timer: first fill, or backing off */
	int up;
	struct event timer, topup;
	struct pool_op *ops;
	long long t_alive_ms; /* the agent last answered an open */
};

static void pool_fill(struct dl_chanpool *p);

static time_t mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}


static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pool_backoff(struct dl_chanpool *p)
{
	unsigned ms = p->backoff_ms ? p->backoff_ms * 2 : CHAN_POOL_BACKOFF_MIN_MS;
	if (ms > CHAN_POOL_BACKOFF_MAX_MS)
		ms = CHAN_POOL_BACKOFF_MAX_MS;
	p->backoff_ms = ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(&p->timer, &tv);
	p->timer_on = 1;
}

static void pool_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dl_chanpool *p = arg;
	p->timer_on = 0;
	pool_fill(p);
}

static void pool_topup_cb(evutil_socket_t fd, short what, void *arg)
{
	pool_fill(arg);
}

static void pool_drop(struct pslot *s)
{
	event_del(&s->ev);
	close(s->fd);
	s->fd = -1;
	s->p->npool--;
}

static void pool_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pslot *s = arg;
	struct dl_chanpool *p = s->p;
	int young = (what & EV_READ) && mono_s() - s->born < CHAN_POOL_YOUNG_S;

	/* readable while idle: EOF or an error (dockerd sends nothing
	 * unasked), or it is old: replace it */
	pool_drop(s);
	if (young) {
		if (!p->timer_on)
			pool_backoff(p);
	} else {
		pool_fill(p);
	}
}

static void pool_opened(int fd, int err, void *arg)
{
	struct pool_op *op = arg;
	struct dl_chanpool *p = op->p;
	unsigned gen = op->gen;

	if (p) {
		if (op->prev)
			op->prev->next = op->next;
		else
			p->ops = op->next;
		if (op->next)
			op->next->prev = op->prev;
		p->nopening--;
	}
	free(op);
	if (!p || gen != p->gen || !p->up) {
		if (fd >= 0)
			close(fd);
		if (p)
			pool_fill(p);
		return;
	}
	if (fd < 0) {
		if (dl_log_enabled(DL_LOG_DEBUG))
			dl_log(DL_LOG_DEBUG, "docker.sock: pool: channel open failed: %s",
			       strerror(err));
		if (!p->timer_on)
			pool_backoff(p);
		return;
	}
	p->t_alive_ms = mono_ms();
	for (int i = 0; i < CHAN_POOL; i++) {
		struct pslot *s = &p->slot[i];
		if (s->fd >= 0)
			continue;
		struct timeval tv = { CHAN_POOL_AGE_S, 0 };
		s->fd = fd;
		s->born = mono_s();
		event_assign(&s->ev, p->base, fd, EV_READ, pool_idle_cb, s);
		event_add(&s->ev, &tv);
		p->npool++;
		p->backoff_ms = 0;
		return;
	}
	close(fd); /* cannot happen: npool + nopening <= CHAN_POOL */
}

/* Top the pool up (not while backing off, not while the VM is down). */
static void pool_fill(struct dl_chanpool *p)
{
	while (p->up && !p->timer_on && p->npool + p->nopening < CHAN_POOL) {
		struct pool_op *op = malloc(sizeof(*op));
		if (!op)
			return;
		op->p = p;
		op->gen = p->gen;
		op->prev = NULL;
		op->next = p->ops;
		if (dl_chan_open(p->base, p->cfg, p->target, pool_opened, op) < 0) {
			free(op);
			pool_backoff(p);
			return;
		}
		if (p->ops)
			p->ops->prev = op;
		p->ops = op;
		p->nopening++;
	}
}

/* Close every idle pooled channel; opens in flight are dropped when they
 * complete (pool_gen). */
static void pool_flush(struct dl_chanpool *p)
{
	for (int i = 0; i < CHAN_POOL; i++)
		if (p->slot[i].fd >= 0)
			pool_drop(&p->slot[i]);
	p->gen++;
	evtimer_del(&p->topup);
	if (p->timer_on) {
		evtimer_del(&p->timer);
		p->timer_on = 0;
	}
	p->backoff_ms = 0;
}

/* After a take: refilling one channel per client would put the agent's
 * accept + header + dockerd connect on the path of the request in flight;
 * instead refill in one batch at the low mark, else top up a bit later. */
static void pool_taken(struct dl_chanpool *p)
{
	if (p->npool + p->nopening <= CHAN_POOL_LOW) {
		pool_fill(p); /* nothing while backing off */
	} else if (!evtimer_pending(&p->topup, NULL)) {
		struct timeval tv = { 0, CHAN_POOL_TOPUP_MS * 1000 };
		evtimer_add(&p->topup, &tv);
	}
}

/* A live pooled channel, or -1. */
static int pool_take(struct dl_chanpool *p)
{
	for (int i = 0; i < CHAN_POOL; i++) {
		struct pslot *s = &p->slot[i];
		if (s->fd < 0)
			continue;
		int fd = s->fd;
		char b;
		event_del(&s->ev);
		s->fd = -1;
		p->npool--;
		/* its EOF may not have been seen yet: nothing may be readable */
		ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return fd;
		close(fd);
	}
	return -1;
}


struct dl_chanpool *dl_chanpool_new(struct event_base *base, const struct dl_chan_cfg *cfg,
				    const char *target)
{
	struct dl_chanpool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->base = base;
	p->cfg = cfg;
	p->up = 1;
	snprintf(p->target, sizeof(p->target), "%s", target);
	for (int i = 0; i < CHAN_POOL; i++) {
		p->slot[i].p = p;
		p->slot[i].fd = -1;
	}
	evtimer_assign(&p->timer, base, pool_timer_cb, p);
	evtimer_assign(&p->topup, base, pool_topup_cb, p);
	/* first fill from the loop: a dl_chanpool_set_up(0) right after
	 * creation (the daemon's start) then costs nothing */
	struct timeval now = { 0, 0 };
	evtimer_add(&p->timer, &now);
	p->timer_on = 1;
	return p;
}

void dl_chanpool_set_up(struct dl_chanpool *p, int up)
{
	if (!up)
		pool_flush(p);
	p->up = up;
	if (up)
		pool_fill(p);
}

void dl_chanpool_reset(struct dl_chanpool *p)
{
	pool_flush(p);
	pool_fill(p);
}

int dl_chanpool_take(struct dl_chanpool *p)
{
	int fd = pool_take(p);
	pool_taken(p);
	return fd;
}

void dl_chanpool_alive(struct dl_chanpool *p)
{
	p->t_alive_ms = mono_ms();
}

int dl_chanpool_fresh(const struct dl_chanpool *p, int ms)
{
	return mono_ms() - p->t_alive_ms < ms;
}

unsigned dl_chanpool_count(const struct dl_chanpool *p)
{
	return p->npool;
}

void dl_chanpool_free(struct dl_chanpool *p)
{
	if (!p)
		return;
	pool_flush(p);
	for (struct pool_op *op = p->ops; op; op = op->next)
		op->p = NULL; /* pool_opened closes the fd and frees op */
	free(p);
}
