/*
 * GET over a unix socket with http-parser (Debian's libhttp-parser, the
 * parser node.js used before llhttp): we write one request line and read;
 * the parser does the HTTP (status, headers, Content-Length, chunked,
 * close-delimited). Blocking, for the watch thread; poll() gives the
 * timeouts and the once-a-second stop check.
 */
#include "daemon/dockerapi.h"

#include <errno.h>
#include <http_parser.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/chan.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set by dl_socket_nb() */
#endif

struct ctx {
	const struct dl_api_get *g;
	int status;
	bool done, stopped;
};

static bool ok_status(int s)
{
	return s >= 200 && s <= 299;
}

static int on_headers_complete(http_parser *p)
{
	struct ctx *c = p->data;
	c->status = (int)p->status_code;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct ctx *c = p->data;
	if (!ok_status(c->status) || !c->g->on_body)
		return 0; /* an error page: read and drop */
	if (!c->g->on_body(c->g->arg, at, len)) {
		c->stopped = true;
		return -1;
	}
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct ctx *c = p->data;
	c->done = true;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_unix(const char *path, int timeout_ms, struct dl_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

	if (strlen(path) >= sizeof(sa.sun_path))
		return dl_fail(e, ENAMETOOLONG, "socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = dl_socket_nb(AF_UNIX, SOCK_STREAM);
	if (fd < 0)
		return dl_fail(e, errno, "socket");
	/* blocking from here on; a unix connect() waits at most SO_SNDTIMEO
	 * for room in the listener's backlog */
	if (dl_set_nonblock(fd, 0) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(fd);
		return dl_fail(e, err, "cannot connect to %s", path);
	}
	return fd;
}

int dl_api_get(const struct dl_api_get *g, int *status, struct dl_err *e)
{
	struct ctx c = { .g = g };
	http_parser p;
	http_parser_settings s;
	char buf[16384];
	long long deadline = g->timeout_ms > 0 ? now_ms() + g->timeout_ms : 0;
	int r = -1;

	if (status)
		*status = 0;
	int n = snprintf(buf, sizeof(buf),
			 "GET %s HTTP/1.1\r\nHost: docker\r\nUser-Agent: dlite\r\nAccept: */*\r\n"
			 "Connection: close\r\n\r\n", g->path);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return dl_fail(e, 0, "GET %.64s...: path too long", g->path);
	int fd = connect_unix(g->socket, g->connect_timeout_ms > 0 ? g->connect_timeout_ms : 5000, e);
	if (fd < 0)
		return -1;
	for (int off = 0; off < n;) {
		ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			dl_fail(e, errno, "GET %s: cannot send the request", g->path);
			goto out;
		}
		off += (int)w;
	}

	http_parser_init(&p, HTTP_RESPONSE);
	http_parser_settings_init(&s);
	s.on_headers_complete = on_headers_complete;
	s.on_body = on_body;
	s.on_message_complete = on_message_complete;
	p.data = &c;
	for (;;) {
		if (g->stop && g->stop(g->arg)) {
			dl_fail(e, 0, "GET %s: stopped", g->path);
			goto out;
		}
		int wait = 1000;
		if (deadline) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				dl_fail(e, ETIMEDOUT, "GET %s: no complete answer in %d ms", g->path,
					g->timeout_ms);
				goto out;
			}
			if (left < wait)
				wait = (int)left;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, wait);
		if (pr < 0 && errno != EINTR) {
			dl_fail(e, errno, "GET %s: poll", g->path);
			goto out;
		}
		if (pr <= 0)
			continue;
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			dl_fail(e, errno, "GET %s: read", g->path);
			goto out;
		}
		/* got == 0 tells the parser about the end of the stream (which
		 * completes a close-delimited body) */
		http_parser_execute(&p, &s, buf, (size_t)got);
		if (c.stopped) {
			dl_fail(e, 0, "GET %s: stopped", g->path);
			goto out;
		}
		if (c.done)
			break;
		if (got == 0) {
			dl_fail(e, 0, "GET %s: connection closed before the end of the response",
				g->path);
			goto out;
		}
		if (HTTP_PARSER_ERRNO(&p) != HPE_OK) {
			dl_fail(e, 0, "GET %s: bad HTTP response (%s)", g->path,
				http_errno_description(HTTP_PARSER_ERRNO(&p)));
			goto out;
		}
	}
	if (!ok_status(c.status)) {
		dl_fail(e, 0, "GET %s: HTTP %d", g->path, c.status);
		goto out;
	}
	r = 0;
out:
	if (status)
		*status = c.status;
	close(fd);
	return r;
}

struct body {
	char *p;
	size_t len, max;
	bool too_big;
};

static bool collect(void *arg, const char *data, size_t len)
{
	struct body *b = arg;
	if (len > b->max - b->len) {
		b->too_big = true;
		return false;
	}
	return dl_buf_append(&b->p, &b->len, data, len);
}

bool dl_buf_append(char **p, size_t *len, const char *data, size_t n)
{
	char *q = realloc(*p, *len + n + 1);
	if (!q)
		return false;
	*p = q;
	memcpy(q + *len, data, n);
	*len += n;
	q[*len] = '\0';
	return true;
}

char *dl_api_get_body(const char *socket, const char *path, int timeout_ms, size_t max,
		      struct dl_err *e)
{
	struct body b = { .max = max };
	struct dl_api_get g = { .socket = socket, .path = path, .timeout_ms = timeout_ms,
				.on_body = collect, .arg = &b };

	if (dl_api_get(&g, NULL, e) < 0) {
		if (b.too_big)
			dl_fail(e, 0, "GET %s: answer larger than %zu bytes", path, max);
		free(b.p);
		return NULL;
	}
	if (!b.p)
		b.p = calloc(1, 1);
	return b.p;
}
