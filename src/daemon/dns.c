/* The DNS responder's sockets; the answers come from src/core/dnsmsg.c. */
#include "daemon/dns.h"
#include "daemon/guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_MAX_CONNS    64
#define TCP_IDLE_SECONDS 10
#define TCP_OUT_HIGH     65536	/* stop reading a client that does not read its replies */
#define UDP_BURST        64	/* datagrams per wakeup, then yield to the loop */

struct dns_conn {
	struct dl_dns_server *srv;
	struct bufferevent *bev;
	struct dns_conn *prev, *next;
};

struct dl_dns_server {
	struct event_base *base;
	evutil_socket_t udp;
	struct event *udp_ev;
	struct evconnlistener *tcp;
	struct dns_conn *conns;
	unsigned nconns;
	uint16_t port;
	struct dl_dns_table *table;
	char *domain;
	unsigned long count;
};

static int parse_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* ---- UDP ----------------------------------------------------------------- */

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct dl_dns_server *s = arg;
	uint8_t q[4096], out[DL_DNS_UDP_MAX];
	struct sockaddr_storage from;

	for (int i = 0; i < UDP_BURST; i++) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return; /* EAGAIN, or an ICMP error for an earlier reply */
		size_t outlen = 0;
		if (dl_dns_answer(q, (size_t)n, s->table, s->domain, out, sizeof(out), &outlen) < 0 ||
		    outlen == 0)
			continue;
		s->count++;
		(void)sendto(fd, out, outlen, 0, (struct sockaddr *)&from, fl);
	}
}

/* ---- TCP ----------------------------------------------------------------- */

static void conn_free(struct dns_conn *c)
{
	struct dl_dns_server *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	bufferevent_free(c->bev);
	free(c);
}

static void on_tcp_read(struct bufferevent *bev, void *arg)
{
	struct dns_conn *c = arg;
	struct dl_dns_server *s = c->srv;
	struct evbuffer *in = bufferevent_get_input(bev), *outb = bufferevent_get_output(bev);
	static uint8_t reply[2 + 65535];

	for (;;) {
		uint8_t lb[2];
		if (evbuffer_copyout(in, lb, 2) < 2)
			break;
		size_t len = (size_t)lb[0] << 8 | lb[1];
		if (len == 0) {
			conn_free(c);
			return;
		}
		if (evbuffer_get_length(in) < 2 + len)
			break;
		uint8_t *msg = evbuffer_pullup(in, (ev_ssize_t)(2 + len));
		size_t outlen = 0;
		int r = msg ? dl_dns_answer(msg + 2, len, s->table, s->domain, reply + 2,
					    sizeof(reply) - 2, &outlen)
			    : -1;
		evbuffer_drain(in, 2 + len);
		if (r < 0) {
			conn_free(c);
			return;
		}
		if (outlen == 0)
			continue;
		s->count++;
		reply[0] = (uint8_t)(outlen >> 8);
		reply[1] = (uint8_t)outlen;
		evbuffer_add(outb, reply, 2 + outlen);
		if (evbuffer_get_length(outb) > TCP_OUT_HIGH) {
			bufferevent_disable(bev, EV_READ);
			break;
		}
	}
}

static void on_tcp_write(struct bufferevent *bev, void *arg)
{
	/* output drained (low watermark 0): resume reading */
	bufferevent_enable(bev, EV_READ);
}

static void on_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct dl_dns_server *s = arg;
	struct dns_conn *c;

	if (s->nconns >= TCP_MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
		evutil_closesocket(fd);
		return;
	}
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->srv = s;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	struct timeval idle = { TCP_IDLE_SECONDS, 0 };
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_setcb(c->bev, on_tcp_read, on_tcp_write, on_tcp_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- setup --------------------------------------------------------------- */

static evutil_socket_t udp_bind(const struct sockaddr_storage *ss, socklen_t len, uint16_t *port,
				struct dl_err *e)
{
	evutil_socket_t fd = socket(ss->ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return dl_fail(e, errno, "dns: udp socket");
	if (evutil_make_socket_closeonexec(fd) < 0 || evutil_make_socket_nonblocking(fd) < 0) {
		dl_fail(e, errno, "dns: udp socket flags");
		goto fail;
	}
	if (ss->ss_family == AF_INET6) {
		int on = 1;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	}
	if (bind(fd, (const struct sockaddr *)ss, len) < 0) {
		dl_fail(e, errno, "dns: bind udp port %u", (unsigned)*port);
		goto fail;
	}
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	if (getsockname(fd, (struct sockaddr *)&got, &gl) < 0) {
		dl_fail(e, errno, "dns: getsockname");
		goto fail;
	}
	*port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
					       : ((struct sockaddr_in6 *)&got)->sin6_port);
	return fd;
fail:
	evutil_closesocket(fd);
	return -1;
}

struct dl_dns_server *dl_dns_server_new(struct event_base *base, const char *addr, uint16_t port,
					struct dl_err *e)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct dl_dns_server *s;

	if (!addr || parse_addr(addr, port, &ss, &len) < 0)
		return dl_fail(e, 0, "dns: not an IP address: %s", addr ? addr : "(none)"), NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return dl_fail(e, ENOMEM, "dns"), NULL;
	s->base = base;
	s->udp = -1;

	/* Port 0: take the port UDP got for TCP too, retrying if TCP's is taken. */
	for (int attempt = 0; attempt < 8; attempt++) {
		uint16_t p = port;
		set_port(&ss, port);
		s->udp = udp_bind(&ss, len, &p, e);
		if (s->udp < 0)
			goto fail;
		set_port(&ss, p);
		s->tcp = evconnlistener_new_bind(base, on_accept, s,
						 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
							 LEV_OPT_REUSEABLE,
						 16, (struct sockaddr *)&ss, (int)len);
		if (s->tcp) {
			s->port = p;
			dl_listener_guard(base, s->tcp, "dns tcp");
			break;
		}
		int err = errno;
		evutil_closesocket(s->udp);
		s->udp = -1;
		if (port != 0 || err != EADDRINUSE) {
			dl_fail(e, err, "dns: listen on tcp %s port %u", addr, (unsigned)p);
			goto fail;
		}
	}
	if (!s->tcp) {
		dl_fail(e, EADDRINUSE, "dns: no port free for both udp and tcp on %s", addr);
		goto fail;
	}
	s->udp_ev = event_new(base, s->udp, EV_READ | EV_PERSIST, on_udp, s);
	if (!s->udp_ev || event_add(s->udp_ev, NULL) < 0) {
		dl_fail(e, ENOMEM, "dns: udp event");
		goto fail;
	}
	return s;
fail:
	dl_dns_server_free(s);
	return NULL;
}

int dl_dns_server_set_table(struct dl_dns_server *s, struct dl_dns_table *t, const char *domain,
			    struct dl_err *e)
{
	char *d = NULL;
	if (domain) {
		size_t n = strlen(domain);
		if (n && domain[n - 1] == '.')
			n--;
		d = strndup(domain, n);
		if (!d) {
			dl_dns_table_free(t);
			return dl_fail(e, ENOMEM, "dns: domain");
		}
	}
	dl_dns_table_free(s->table);
	free(s->domain);
	s->table = t;
	s->domain = d;
	return 0;
}

uint16_t dl_dns_server_port(const struct dl_dns_server *s)
{
	return s->port;
}

unsigned long dl_dns_server_count(const struct dl_dns_server *s)
{
	return s->count;
}

void dl_dns_server_free(struct dl_dns_server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_free(s->conns);
	if (s->udp_ev)
		event_free(s->udp_ev);
	if (s->udp >= 0)
		evutil_closesocket(s->udp);
	if (s->tcp) {
		dl_listener_unguard(s->tcp);
		evconnlistener_free(s->tcp);
	}
	dl_dns_table_free(s->table);
	free(s->domain);
	free(s);
}
