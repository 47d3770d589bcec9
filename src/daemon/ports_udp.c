/* Published ports, UDP: one association (a channel "udp:..." stream of
 * 2-byte-length frames) per client address and listener. */
#include "daemon/ports_int.h"
#include "daemon/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

/* ---- UDP ---- */

void dl_ports_uassoc_free(struct uassoc *a)
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
	dl_ports_uassoc_free(a);
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
		dl_ports_uassoc_free(arg);
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
		dl_ports_uassoc_free(a);
		return;
	}
	a->bev = bufferevent_socket_new(a->f->ps->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!a->bev) {
		close(fd);
		dl_ports_uassoc_free(a);
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
	dl_ports_uassoc_free(best);
	return 1;
}

void dl_ports_udp_read_cb(evutil_socket_t fd, short what, void *arg)
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
			dl_ports_fwd_target(f, target, sizeof(target));
			if (!a->queue || dl_chan_open(ps->base, ps->cfg, target, uassoc_open, a) < 0) {
				a->opening = 0;
				dl_ports_uassoc_free(a);
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

