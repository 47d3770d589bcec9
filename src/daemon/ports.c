#include "daemon/ports_int.h"
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
void dl_ports_fwd_target(const struct fwd *f, char *buf, size_t len)
{
	const char *proto = f->map.proto == IPPROTO_UDP ? "udp" : "tcp";
	const char *a = f->map.ctr_addr;

	if (f->ps->cfg->addr_targets && a[0] && f->map.ctr_port)
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

	dl_ports_fwd_target(f, target, sizeof(target));
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
		if (dl_chan_open(ps->base, ps->cfg, target, tconn_open, t) < 0)
			tconn_free(t);
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
		     tcp ? tcp_accept_cb : dl_ports_udp_read_cb, l);
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
		dl_ports_uassoc_free(f->assocs);
	free(f);
}

struct dl_ports *dl_ports_new(struct event_base *base, const struct dl_chan_cfg *cfg)
{
	struct dl_ports *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return NULL;
	ps->base = base;
	ps->cfg = cfg;
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
	ps->cfg = cfg;
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
		out[n].open = f->map.proto == IPPROTO_TCP ? f->ntcp : f->nudp;
		dl_ports_fwd_target(f, out[n].target, sizeof(out[n].target));
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
