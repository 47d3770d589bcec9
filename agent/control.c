/*
 * The "control" target: one request line -> one reply line (see proto.h),
 * and a tiny asynchronous HTTP/1.0 client for dockerd's unix socket.
 */
#include "agent.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- HTTP GET over a unix socket --------------------------------------- */

struct http {
	struct watch w;
	struct timer tm;
	char req[160];
	size_t reqoff, reqlen;
	char resp[4096];
	size_t resplen;
	http_fn fn;
	void *arg;
	bool finished;
};

static void http_finish(struct http *h, int status, const char *body)
{
	if (h->finished)
		return;
	h->finished = true;
	timer_cancel(&h->tm);
	loop_close(&h->w);
	loop_defer_free(h);
	h->fn(h->arg, status, body);
}

void http_cancel(struct http *h)
{
	if (!h || h->finished)
		return;
	h->finished = true;
	timer_cancel(&h->tm);
	loop_close(&h->w);
	loop_defer_free(h);
}

static void http_parse(struct http *h)
{
	int status = 0;
	char *body = strstr(h->resp, "\r\n\r\n");

	if (sscanf(h->resp, "HTTP/1.%*1d %3d", &status) != 1)
		status = -EPROTO;
	http_finish(h, status, body ? body + 4 : "");
}

static void http_event(struct watch *w, uint32_t ev)
{
	struct http *h = w->data;

	while (h->reqoff < h->reqlen) {
		ssize_t n = send(w->fd, h->req + h->reqoff, h->reqlen - h->reqoff, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			http_finish(h, -(errno ? errno : EPIPE), NULL);
			return;
		}
		h->reqoff += (size_t)n;
	}
	for (;;) {
		if (h->resplen == sizeof(h->resp) - 1) { /* enough to judge */
			http_parse(h);
			return;
		}
		ssize_t n = read(w->fd, h->resp + h->resplen, sizeof(h->resp) - 1 - h->resplen);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			http_finish(h, -errno, NULL);
			return;
		}
		if (n == 0) { /* HTTP/1.0: the server closes after the response */
			http_parse(h);
			return;
		}
		h->resplen += (size_t)n;
		h->resp[h->resplen] = '\0';
	}
}

static void http_timeout(struct timer *t)
{
	struct http *h = t->data;

	/* A failed connect is reported through a 0 ms timer too, so the
	 * callback never runs inside http_get(). */
	http_finish(h, h->w.fd < 0 ? -ECONNREFUSED : -ETIMEDOUT, NULL);
}

struct http *http_get(const char *sock, const char *path, unsigned timeout_ms,
		      http_fn fn, void *arg)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct http *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->fn = fn;
	h->arg = arg;
	h->tm = (struct timer){ .fn = http_timeout, .data = h };
	h->w = (struct watch){ .fd = -1, .fn = http_event, .data = h };
	int n = snprintf(h->req, sizeof(h->req), "GET %s HTTP/1.0\r\nHost: docker\r\n\r\n", path);
	if (n < 0 || (size_t)n >= sizeof(h->req) || strlen(sock) >= sizeof(un.sun_path)) {
		free(h);
		return NULL;
	}
	h->reqlen = (size_t)n;
	strcpy(un.sun_path, sock);
	h->w.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->w.fd >= 0 && connect(h->w.fd, (struct sockaddr *)&un, sizeof(un)) == 0 &&
	    loop_add(&h->w, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) == 0) {
		timer_arm(&h->tm, timeout_ms);
		return h;
	}
	if (h->w.fd >= 0)
		close(h->w.fd);
	h->w.fd = -1;
	timer_arm(&h->tm, 0);
	return h;
}

/* ---- the line protocol ------------------------------------------------- */

#define LINE_MAX_LEN DL_FSEV_LINE_MAX /* "fsevents" lines carry paths */

struct ctl {
	struct watch *w;
	void (*close_fn)(void *);
	void *close_arg;
	char in[LINE_MAX_LEN + 1];
	size_t inlen;
	char out[8192];
	size_t outlen;
	struct http *probe; /* an outstanding "ready" */
	bool eof, broken, fsev;
};

struct ctl *ctl_new(struct watch *client, void (*close_fn)(void *), void *arg)
{
	struct ctl *c = calloc(1, sizeof(*c));

	if (c) {
		c->w = client;
		c->close_fn = close_fn;
		c->close_arg = arg;
	}
	return c;
}

void ctl_free(struct ctl *c)
{
	http_cancel(c->probe);
	free(c);
}

static void reply(struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct ctl *c, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(c->out) - c->outlen;

	va_start(ap, fmt);
	int n = vsnprintf(c->out + c->outlen, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 1 >= room) { /* never a truncated line */
		c->broken = true;
		return;
	}
	c->outlen += (size_t)n;
	c->out[c->outlen++] = '\n';
}

static bool flush(struct ctl *c)
{
	size_t off = 0;

	while (off < c->outlen) {
		ssize_t n = send(c->w->fd, c->out + off, c->outlen - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return false;
		off += (size_t)n;
	}
	memmove(c->out, c->out + off, c->outlen - off);
	c->outlen -= off;
	return true;
}

static const char *safe(const char *s)
{
	return s && *s ? s : "unknown";
}

static void do_status(struct ctl *c)
{
	bool up = g.pid1 ? svc_dockerd_up() : false;

	reply(c, "ok uptime=%llu dockerd=%s dockerd_restarts=%u data=%s "
		 "docker_version=%s image_version=%s caps=" DL_CAPS,
	      (unsigned long long)(boot_ms() / 1000), up ? "up" : "down",
	      g.pid1 ? svc_dockerd_restarts() : 0, safe(g.data_state),
	      safe(g.docker_version), safe(g.image_version));
}

/* "time SEC.NSEC", parsed by dl_ctl_parse (src/core/proto.c). */
static void do_time(struct ctl *c, const struct dl_ctl_req *r)
{
	struct timespec ts = { .tv_sec = (time_t)r->sec, .tv_nsec = r->nsec };

	if (!g.pid1) {
		reply(c, "err time is only set inside the VM");
		return;
	}
	if (clock_settime(CLOCK_REALTIME, &ts) < 0) {
		reply(c, "err clock_settime: %s", strerror(errno));
		return;
	}
	reply(c, "ok");
}

static void ctl_resume(struct ctl *c);

static void on_ready(void *arg, int status, const char *body)
{
	struct ctl *c = arg;

	c->probe = NULL;
	if (status == 200 && body && strncmp(body, "OK", 2) == 0)
		reply(c, "ok ready");
	else if (status < 0)
		reply(c, "err dockerd not answering: %s", strerror(-status));
	else
		reply(c, "err dockerd answered _ping with HTTP %d", status);
	ctl_resume(c);
}

static void do_ready(struct ctl *c)
{
	if (g.pid1 && strcmp(safe(g.data_state), "unknown") == 0) {
		reply(c, "err no data disk: dockerd not started");
		return;
	}
	c->probe = http_get(g.docker_sock, "/_ping", 3000, on_ready, c);
	if (!c->probe)
		reply(c, "err out of memory");
}

void ctl_fsevents(struct ctl *c)
{
	c->fsev = true;
}

static void handle_line(struct ctl *c, const char *line)
{
	struct dl_ctl_req r;
	struct timespec ts;

	if (c->fsev) { /* the "fsevents" target: one path event per line */
		char rep[64], buf[DL_FSEV_LINE_MAX + 1];
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			n--;
		if (n > DL_FSEV_LINE_MAX)
			n = DL_FSEV_LINE_MAX;
		memcpy(buf, line, n);
		buf[n] = '\0';
		fsev_request(buf, rep, sizeof(rep));
		reply(c, "%s", rep);
		return;
	}
	switch (dl_ctl_parse(line, &r)) {
	case DL_CTL_PING:
		reply(c, "ok pong");
		break;
	case DL_CTL_READY:
		do_ready(c);
		break;
	case DL_CTL_STATUS:
		do_status(c);
		break;
	case DL_CTL_TIME:
		do_time(c, &r);
		break;
	case DL_CTL_BADTIME:
		reply(c, g.pid1 ? "err bad time" : "err time is only set inside the VM");
		break;
	case DL_CTL_GETTIME:
		clock_gettime(CLOCK_REALTIME, &ts);
		reply(c, "ok %lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
		break;
	case DL_CTL_POWEROFF:
		reply(c, "ok");
		flush(c);
		agent_poweroff("control request");
		break;
	default:
		reply(c, "err unknown request");
	}
}

/* Take complete lines out of the input buffer while no reply is pending
 * asynchronously and the output has room. */
static void process_lines(struct ctl *c)
{
	while (!c->probe && !c->broken && c->outlen < sizeof(c->out) / 2) {
		char *nl = memchr(c->in, '\n', c->inlen);
		if (!nl) {
			if (c->inlen == LINE_MAX_LEN) {
				reply(c, "err line too long");
				c->broken = true;
			}
			return;
		}
		*nl = '\0';
		handle_line(c, c->in);
		size_t used = (size_t)(nl - c->in) + 1;
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
	}
}

bool ctl_event(struct ctl *c)
{
	for (;;) {
		if (!flush(c)) {
			return false;
		}
		process_lines(c);
		if (c->probe || c->broken || c->eof || c->outlen >= sizeof(c->out) / 2 ||
		    c->inlen == LINE_MAX_LEN)
			break;
		ssize_t n = read(c->w->fd, c->in + c->inlen, LINE_MAX_LEN - c->inlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			c->eof = true;
			/* a last request without its newline still counts */
			if (c->inlen > 0 && !memchr(c->in, '\n', c->inlen))
				c->in[c->inlen++] = '\n';
			continue; /* answer what is left, then finish */
		}
		c->inlen += (size_t)n;
	}
	if (!flush(c)) {
		return false;
	}
	/* Done once the client has said all it will and heard every answer. */
	if ((c->eof || c->broken) && !c->probe && c->outlen == 0)
		return false;
	return true;
}

static void ctl_resume(struct ctl *c)
{
	if (!ctl_event(c))
		c->close_fn(c->close_arg);
}
