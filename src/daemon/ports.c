#include "daemon/ports.h"
#include "daemon/guard.h"
#include "daemon/log.h"
#include "daemon/relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#define ACCEPT_BATCH      64
#define ACCEPT_BACKOFF_MS 200
#define UDP_BATCH         64
#define UDP_QUEUE_MAX     (256 * 1024) /* bytes queued per association */

struct fwd;
struct dl_ports;

struct lst {
	int fd, family;
	struct event ev, backoff;
	struct fwd *f;
	char addr[64]; /* "127.0.0.1:8080" for logs */
};

struct tconn { /* a TCP connection: opening, then relayed */
	struct dl_ports *ps; /* NULL: ports object gone while opening */
	struct fwd *f;       /* NULL once its forward is gone */
	int cfd;
	time_t active;       /* last time its byte count was seen moving */
	uint64_t seen;
	struct dl_relay *relay;
	struct tconn *prev, *next;
};

struct uassoc { /* one UDP client address on one listener */
	struct fwd *f;
	struct lst *l;
	struct sockaddr_storage peer;
	socklen_t plen;
	struct bufferevent *bev;   /* the channel, once open */
	struct evbuffer *queue;    /* datagrams framed while opening */
	struct event idle;
	time_t last;
	int opening;
	struct uassoc *next;
};

struct fwd {
	struct dl_ports *ps;
	struct dl_portmap map;
	struct lst l[2];
	int nl, ok, mark, logged_fail;
	char error[160];
	unsigned long conns;
	unsigned ntcp, nudp; /* open now (TCP: opening or relayed) */
	struct uassoc *assocs;
	struct fwd *next;
};

struct dl_ports {
	struct event_base *base;
	struct dl_chan_cfg cfg;
	struct fwd *fwds;
	struct tconn *tconns;
	unsigned ntcp;
	unsigned max_conns, max_udp; /* per port */
	unsigned char *udpbuf; /* DL_UDP_MAX + 2 */
};

/* ---- TCP ---- */

static void tconn_free(struct tconn *t)
{
	if (t->f)
		t->f->ntcp--;
	if (t->ps) {
		t->ps->ntcp--;
		if (t->prev)
			t->prev->next = t->next;
		else
			t->ps->tconns = t->next;
		if (t->next)
			t->next->prev = t->prev;
	}
	if (t->cfd >= 0)
		close(t->cfd);
	free(t);
}

static void tconn_done(void *arg)
{
	struct tconn *t = arg;
	t->relay = NULL;
	t->cfd = -1;
	tconn_free(t);
}

static void tconn_open(int fd, int err, void *arg)
{
	struct tconn *t = arg;

	if (!t->ps || fd < 0) {
		if (fd >= 0)
			close(fd);
		else if (t->ps)
			dl_log(DL_LOG_DEBUG, "ports: channel open failed: %s", strerror(err));
		tconn_free(t); /* closing the client tells it */
		return;
	}
	t->relay = dl_relay_new(t->ps->base, t->cfd, fd, tconn_done, t);
	if (!t->relay) {
		close(fd);
		tconn_free(t);
	}
}

static void lst_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lst *l = arg;
	event_add(&l->ev, NULL);
}

/* All ports together: a quarter of the fds beyond 256 kept for the rest. */
static unsigned total_cap(void)
{
	long n = dl_nofile();
	long cap = n > 256 + 4 * 64 ? (n - 256) / 4 : 64;
	return cap > 1000000 ? 1000000 : (unsigned)cap;
}

/* Close the relay idle the longest (of forward f, or of all when f is NULL).
 * Idle: its byte count has not moved since it was last looked at here.
 * Returns 0 when every candidate is still opening its channel. */
static int tconn_evict(struct dl_ports *ps, struct fwd *f)
{
	struct tconn *best = NULL;
	time_t now = time(NULL);

	for (struct tconn *t = ps->tconns; t; t = t->next) {
		uint64_t ab, ba;
		if ((f && t->f != f) || !t->relay)
			continue;
		dl_relay_bytes(t->relay, &ab, &ba);
		if (ab + ba != t->seen) {
			t->seen = ab + ba;
			t->active = now;
		}
		if (!best || t->active <= best->active)
			best = t; /* the list is newest first: ties go to the oldest */
	}
	if (!best)
		return 0;
	dl_relay_free(best->relay); /* closes both fds; done is not called */
	best->relay = NULL;
	best->cfd = -1;
	tconn_free(best);
	return 1;
}

/* The channel target of a forward: the container's own address when it is
 * known and the agent takes addresses (no docker-proxy copy in the guest),
 * else the published port on the guest's loopback. */
static void fwd_target(const struct fwd *f, char *buf, size_t len)
{
	const char *proto = f->map.proto == IPPROTO_UDP ? "udp" : "tcp";
	const char *a = f->map.ctr_addr;

	if (f->ps->cfg.addr_targets && a[0] && f->map.ctr_port)
		snprintf(buf, len, strchr(a, ':') ? "%s:[%s]:%u" : "%s:%s:%u", proto, a,
			 f->map.ctr_port);
	else
		snprintf(buf, len, "%s:%u", proto, f->map.guest_port);
}

static void tcp_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct lst *l = arg;
	struct fwd *f = l->f;
	struct dl_ports *ps = f->ps;
	char target[DL_TARGET_LEN];

	fwd_target(f, target, sizeof(target));
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = dl_accept_nb(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				struct timeval tv = { 0, ACCEPT_BACKOFF_MS * 1000 };
				dl_log_rl(DL_LOG_WARN, "ports: accept", "ports: accept on %s: %s; backing off",
					  l->addr, strerror(errno));
				event_del(&l->ev);
				evtimer_add(&l->backoff, &tv);
			}
			return;
		}
		int over_port = f->ntcp >= ps->max_conns;
		if ((over_port || ps->ntcp >= total_cap()) && !tconn_evict(ps, over_port ? f : NULL)) {
			dl_log_rl(DL_LOG_WARN, "ports: tcp cap refused",
				  "ports: %s: %u connections still opening; refused one", l->addr,
				  f->ntcp);
			close(fd);
			continue;
		}
		if (over_port)
			dl_log_rl(DL_LOG_WARN, "ports: tcp cap",
				  "ports: %s: %u connections (port_max_conns); closed the one idle longest",
				  l->addr, ps->max_conns);
		struct tconn *t = calloc(1, sizeof(*t));
		if (!t) {
			close(fd);
			continue;
		}
		dl_set_nodelay(fd);
		t->ps = ps;
		t->f = f;
		t->active = time(NULL);
		f->ntcp++;
		ps->ntcp++;
		t->cfd = fd;
		t->next = ps->tconns;
		if (ps->tconns)
			ps->tconns->prev = t;
		ps->tconns = t;
		f->conns++;
		if (dl_chan_open(ps->base, &ps->cfg, target, tconn_open, t) < 0)
			tconn_free(t);
	}
}

/* ---- UDP ---- */

static void uassoc_free(struct uassoc *a)
{
	struct uassoc **pp = &a->f->assocs;
	while (*pp && *pp != a)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = a->next;
		a->f->nudp--;
	}
	event_del(&a->idle);
	if (a->bev)
		bufferevent_free(a->bev); /* BEV_OPT_CLOSE_ON_FREE */
	if (a->queue)
		evbuffer_free(a->queue);
	if (a->opening) {
		/* the open callback still points at a: it frees it */
		a->f = NULL;
		return;
	}
	free(a);
}

static void uassoc_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct uassoc *a = arg;
	time_t now = time(NULL);

	if (now - a->last < DL_PORTS_UDP_IDLE_S) {
		struct timeval tv = { DL_PORTS_UDP_IDLE_S - (now - a->last), 0 };
		evtimer_add(&a->idle, &tv);
		return;
	}
	uassoc_free(a);
}

/* datagrams from the guest: 2-byte big-endian length + payload */
static void uassoc_read_cb(struct bufferevent *bev, void *arg)
{
	struct uassoc *a = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned char *buf = a->f->ps->udpbuf;

	for (;;) {
		unsigned char hdr[2];
		size_t have = evbuffer_get_length(in);
		if (have < 2 || evbuffer_copyout(in, hdr, 2) != 2)
			break;
		size_t len = (size_t)hdr[0] << 8 | hdr[1];
		if (have < 2 + len)
			break;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, buf, len);
		if (sendto(a->l->fd, buf, len, 0, (struct sockaddr *)&a->peer, a->plen) < 0 &&
		    errno != EAGAIN && errno != EWOULDBLOCK)
			dl_log(DL_LOG_DEBUG, "ports: udp %s: sendto: %s", a->l->addr, strerror(errno));
	}
	a->last = time(NULL);
}

static void uassoc_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		uassoc_free(arg);
}

static void uassoc_open(int fd, int err, void *arg)
{
	struct uassoc *a = arg;

	a->opening = 0;
	if (!a->f) { /* freed while opening */
		if (fd >= 0)
			close(fd);
		free(a);
		return;
	}
	if (fd < 0) {
		dl_log(DL_LOG_DEBUG, "ports: udp %s: channel: %s", a->l->addr, strerror(err));
		uassoc_free(a);
		return;
	}
	a->bev = bufferevent_socket_new(a->f->ps->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!a->bev) {
		close(fd);
		uassoc_free(a);
		return;
	}
	bufferevent_setcb(a->bev, uassoc_read_cb, NULL, uassoc_event_cb, a);
	bufferevent_enable(a->bev, EV_READ | EV_WRITE);
	bufferevent_write_buffer(a->bev, a->queue);
	evbuffer_free(a->queue);
	a->queue = NULL;
}

/* Beyond port_max_udp: the association idle the longest goes (not one
 * still opening its channel); 0 when there is none. */
static int uassoc_evict(struct fwd *f)
{
	struct uassoc *best = NULL;

	for (struct uassoc *a = f->assocs; a; a = a->next)
		if (!a->opening && (!best || a->last <= best->last))
			best = a;
	if (!best)
		return 0;
	dl_log_rl(DL_LOG_WARN, "ports: udp cap",
		  "ports: %s: %u UDP associations (port_max_udp); closed the one idle longest",
		  best->l->addr, f->ps->max_udp);
	uassoc_free(best);
	return 1;
}

static void udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lst *l = arg;
	struct fwd *f = l->f;
	struct dl_ports *ps = f->ps;
	unsigned char *buf = ps->udpbuf;

	for (int i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(fd, buf + 2, DL_UDP_MAX, 0, (struct sockaddr *)&peer, &plen);
		if (n < 0)
			return; /* EAGAIN, or an ICMP error for an earlier reply */
		struct uassoc *a;
		for (a = f->assocs; a; a = a->next)
			if (a->l == l && a->plen == plen && memcmp(&a->peer, &peer, plen) == 0)
				break;
		if (!a && f->nudp >= ps->max_udp && !uassoc_evict(f)) {
			dl_log_rl(DL_LOG_WARN, "ports: udp cap refused",
				  "ports: %s: %u associations still opening; dropped a datagram",
				  l->addr, f->nudp);
			continue;
		}
		if (!a) {
			char target[DL_TARGET_LEN];
			if (!(a = calloc(1, sizeof(*a))))
				continue;
			a->f = f;
			a->l = l;
			memcpy(&a->peer, &peer, plen);
			a->plen = plen;
			a->queue = evbuffer_new();
			a->opening = 1;
			evtimer_assign(&a->idle, ps->base, uassoc_idle_cb, a);
			a->next = f->assocs;
			f->assocs = a;
			f->conns++;
			f->nudp++;
			struct timeval tv = { DL_PORTS_UDP_IDLE_S, 0 };
			evtimer_add(&a->idle, &tv);
			fwd_target(f, target, sizeof(target));
			if (!a->queue || dl_chan_open(ps->base, &ps->cfg, target, uassoc_open, a) < 0) {
				a->opening = 0;
				uassoc_free(a);
				continue;
			}
		}
		a->last = time(NULL);
		buf[0] = (unsigned char)(n >> 8);
		buf[1] = (unsigned char)n;
		struct evbuffer *out = a->bev ? bufferevent_get_output(a->bev) : a->queue;
		/* UDP may drop: do not queue without bound behind a slow channel */
		if (evbuffer_get_length(out) + (size_t)n + 2 <= UDP_QUEUE_MAX)
			evbuffer_add(out, buf, (size_t)n + 2);
	}
}

/* ---- listeners ---- */

static int is_loopback(const char *ip, int *family)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, ip, &a4) == 1) {
		*family = AF_INET;
		return (ntohl(a4.s_addr) >> 24) == 127;
	}
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		*family = AF_INET6;
		return IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return 0;
}

static void norm_ip(char out[46], const char *ip)
{
	if (!*ip || !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::") || !strcmp(ip, "localhost"))
		out[0] = '\0';
	else
		snprintf(out, 46, "%s", ip);
}

static void lst_close(struct lst *l)
{
	if (l->fd < 0)
		return;
	event_del(&l->ev);
	event_del(&l->backoff);
	close(l->fd);
	l->fd = -1;
}

/* Returns 0, or an errno. */
static int lst_open(struct fwd *f, struct lst *l, const char *ip, int family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, tcp = f->map.proto == IPPROTO_TCP;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(f->map.host_port);
		inet_pton(AF_INET, ip, &s->sin_addr);
		len = sizeof(*s);
		snprintf(l->addr, sizeof(l->addr), "%s:%u/%s", ip, f->map.host_port, tcp ? "tcp" : "udp");
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(f->map.host_port);
		inet_pton(AF_INET6, ip, &s->sin6_addr);
		len = sizeof(*s);
		snprintf(l->addr, sizeof(l->addr), "[%s]:%u/%s", ip, f->map.host_port, tcp ? "tcp" : "udp");
	}
	l->fd = dl_socket_nb(family, tcp ? SOCK_STREAM : SOCK_DGRAM);
	if (l->fd < 0)
		return errno;
	if (family == AF_INET6)
		setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* TCP: rebinding over TIME_WAIT; never for UDP, where it would let us
	 * share a port someone else holds */
	if (tcp)
		setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->fd, (struct sockaddr *)&ss, len) < 0 || (tcp && listen(l->fd, 511) < 0)) {
		int err = errno;
		close(l->fd);
		l->fd = -1;
		return err;
	}
	l->family = family;
	l->f = f;
	event_assign(&l->ev, f->ps->base, l->fd, EV_READ | EV_PERSIST,
		     tcp ? tcp_accept_cb : udp_read_cb, l);
	evtimer_assign(&l->backoff, f->ps->base, lst_backoff_cb, l);
	event_add(&l->ev, NULL);
	return 0;
}

/* Open whatever listeners f lacks; sets ok/error. */
static void fwd_listen(struct fwd *f)
{
	const char *ips[2];
	int fams[2], n = 0, family;
	char where[64];

	if (!f->map.host_ip[0]) {
		ips[0] = "127.0.0.1", fams[0] = AF_INET;
		ips[1] = "::1", fams[1] = AF_INET6;
		n = 2;
	} else if (is_loopback(f->map.host_ip, &family)) {
		ips[0] = f->map.host_ip, fams[0] = family;
		n = 1;
	} else {
		f->ok = 0;
		snprintf(f->error, sizeof(f->error),
			 "%s is not a loopback address; not forwarded", f->map.host_ip);
		goto log;
	}
	f->ok = 1;
	f->error[0] = '\0';
	f->nl = n;
	for (int i = 0; i < n; i++) {
		if (f->l[i].fd >= 0)
			continue;
		int err = lst_open(f, &f->l[i], ips[i], fams[i]);
		if (!err)
			continue;
		/* no IPv6 on this host: 127.0.0.1 alone is fine */
		if (n == 2 && fams[i] == AF_INET6 &&
		    (err == EADDRNOTAVAIL || err == EAFNOSUPPORT || err == EPROTONOSUPPORT))
			continue;
		f->ok = 0;
		snprintf(where, sizeof(where), fams[i] == AF_INET6 ? "[%s]:%u" : "%s:%u", ips[i],
			 f->map.host_port);
		snprintf(f->error, sizeof(f->error), "%s: %s%s", where, strerror(err),
			 err == EADDRINUSE ? " (another program uses it)" : "");
	}
log:
	if (!f->ok && !f->logged_fail) {
		dl_log(DL_LOG_WARN, "ports: %s port %u for %s: %s", 
		       f->map.proto == IPPROTO_TCP ? "tcp" : "udp", f->map.host_port,
		       f->map.owner[0] ? f->map.owner : "?", f->error);
		f->logged_fail = 1;
	} else if (f->ok && f->logged_fail) {
		dl_log(DL_LOG_INFO, "ports: %s port %u for %s: now forwarded",
		       f->map.proto == IPPROTO_TCP ? "tcp" : "udp", f->map.host_port,
		       f->map.owner[0] ? f->map.owner : "?");
		f->logged_fail = 0;
	}
}

static void fwd_free(struct fwd *f)
{
	for (struct tconn *t = f->ps->tconns; t; t = t->next)
		if (t->f == f)
			t->f = NULL; /* it goes on; only the count goes */
	for (int i = 0; i < 2; i++)
		lst_close(&f->l[i]);
	while (f->assocs)
		uassoc_free(f->assocs);
	free(f);
}

struct dl_ports *dl_ports_new(struct event_base *base, const struct dl_chan_cfg *cfg)
{
	struct dl_ports *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return NULL;
	ps->base = base;
	ps->cfg = *cfg;
	ps->max_conns = 1024;
	ps->max_udp = 256;
	return ps;
}

void dl_ports_set_caps(struct dl_ports *ps, unsigned max_conns, unsigned max_udp)
{
	ps->max_conns = max_conns ? max_conns : 1;
	ps->max_udp = max_udp ? max_udp : 1;
}

void dl_ports_set_chan(struct dl_ports *ps, const struct dl_chan_cfg *cfg)
{
	ps->cfg = *cfg;
}

int dl_ports_set(struct dl_ports *ps, const struct dl_portmap *maps, size_t n)
{
	struct fwd *f, **pp;
	int failed = 0;

	for (f = ps->fwds; f; f = f->next)
		f->mark = 0;
	for (size_t i = 0; i < n; i++) {
		const struct dl_portmap *m = &maps[i];
		char ip[46];

		if ((m->proto != IPPROTO_TCP && m->proto != IPPROTO_UDP) || !m->host_port ||
		    !m->guest_port)
			continue;
		norm_ip(ip, m->host_ip);
		for (f = ps->fwds; f; f = f->next)
			if (f->map.proto == m->proto && f->map.host_port == m->host_port &&
			    !strcmp(f->map.host_ip, ip))
				break;
		if (f && f->mark)
			continue; /* a duplicate in this list */
		if (!f) {
			if (!(f = calloc(1, sizeof(*f))))
				return -1;
			f->ps = ps;
			f->l[0].fd = f->l[1].fd = -1;
			for (pp = &ps->fwds; *pp; pp = &(*pp)->next)
				;
			*pp = f;
			if (!ps->udpbuf && m->proto == IPPROTO_UDP &&
			    !(ps->udpbuf = malloc(DL_UDP_MAX + 2)))
				return -1;
		}
		f->mark = 1;
		f->map = *m;
		memcpy(f->map.host_ip, ip, sizeof(ip));
		f->map.owner[sizeof(f->map.owner) - 1] = '\0';
		if (!f->ok || f->l[0].fd < 0)
			fwd_listen(f);
		if (!f->ok)
			failed++;
	}
	for (pp = &ps->fwds; *pp;) {
		f = *pp;
		if (f->mark) {
			pp = &f->next;
			continue;
		}
		*pp = f->next;
		fwd_free(f);
	}
	return failed;
}

size_t dl_ports_status(const struct dl_ports *ps, struct dl_port_status *out, size_t max)
{
	size_t n = 0;
	for (const struct fwd *f = ps->fwds; f; f = f->next, n++) {
		if (n >= max)
			continue;
		out[n].map = f->map;
		out[n].ok = f->ok;
		snprintf(out[n].error, sizeof(out[n].error), "%s", f->error);
		out[n].conns = f->conns;
		fwd_target(f, out[n].target, sizeof(out[n].target));
	}
	return n;
}

void dl_ports_free(struct dl_ports *ps)
{
	if (!ps)
		return;
	while (ps->fwds) {
		struct fwd *f = ps->fwds;
		ps->fwds = f->next;
		fwd_free(f);
	}
	while (ps->tconns) {
		struct tconn *t = ps->tconns;
		ps->tconns = t->next;
		t->prev = NULL;
		t->f = NULL;
		if (t->relay) {
			t->ps = NULL;
			dl_relay_free(t->relay);
			t->cfd = -1;
			free(t);
		} else {
			t->ps = NULL; /* opening: tconn_open frees it */
		}
	}
	free(ps->udpbuf);
	free(ps);
}
