/* Asynchronous channel opens and control requests on the daemon's loop
 * (see chan.h). */
#include "daemon/chan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

/* ---- async open ---- */

enum { OP_CONNECTING, OP_SENDING, OP_READING, OP_FAILED };

struct chan_op {
	struct event ev;
	struct event_base *base;
	int fd, state, err, in_open;
	size_t off;
	struct timeval deadline;
	void (*cb)(int fd, int err, void *arg);
	void *arg;
	size_t outlen;	/* preamble (hyperkit) + header */
	uint8_t out[DL_CHAN_PREAMBLE_MAX + DL_HDR_LEN];
	uint8_t reply[DL_REPLY_LEN];
	struct chan_op *next_free;
};

/* A small free list: no malloc per connection in steady state. */
static struct chan_op *op_free;
static unsigned op_nfree;
#define OP_FREE_MAX 64

static struct chan_op *op_alloc(void)
{
	struct chan_op *op = op_free;
	if (op) {
		op_free = op->next_free;
		op_nfree--;
		return op;
	}
	return malloc(sizeof(*op));
}

static void op_release(struct chan_op *op)
{
	if (op_nfree < OP_FREE_MAX) {
		op->next_free = op_free;
		op_free = op;
		op_nfree++;
	} else {
		free(op);
	}
}

static void op_cb(evutil_socket_t fd, short what, void *arg);

static void op_finish(struct chan_op *op, int fd, int err)
{
	void (*cb)(int, int, void *) = op->cb;
	void *arg = op->arg;

	if (op->in_open) {
		/* still inside dl_chan_open(): report through the loop */
		op->err = err;
		op->state = OP_FAILED;
		if (op->fd >= 0)
			close(op->fd);
		op->fd = -1;
		event_assign(&op->ev, op->base, -1, 0, op_cb, op);
		event_active(&op->ev, EV_TIMEOUT, 0);
		return;
	}
	event_del(&op->ev);
	if (fd < 0 && op->fd >= 0)
		close(op->fd);
	op_release(op);
	cb(fd, err, arg);
}

static void op_arm(struct chan_op *op, short what)
{
	struct timeval now, left;
	gettimeofday(&now, NULL);
	if (!timercmp(&now, &op->deadline, <)) {
		left.tv_sec = 0;
		left.tv_usec = 0;
	} else {
		timersub(&op->deadline, &now, &left);
	}
	event_assign(&op->ev, op->base, op->fd, what, op_cb, op);
	event_add(&op->ev, &left);
}

/* Advance as far as possible without blocking. */
static void op_step(struct chan_op *op)
{
	ssize_t n;

	if (op->state == OP_SENDING) {
		while (op->off < op->outlen) {
#ifdef MSG_NOSIGNAL
			n = send(op->fd, op->out + op->off, op->outlen - op->off, MSG_NOSIGNAL);
#else
			n = send(op->fd, op->out + op->off, op->outlen - op->off, 0);
#endif
			if (n > 0) {
				op->off += (size_t)n;
			} else if (n < 0 && errno == EINTR) {
				continue;
			} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				op_arm(op, EV_WRITE);
				return;
			} else {
				op_finish(op, -1, n < 0 ? errno : EPROTO);
				return;
			}
		}
		op->state = OP_READING;
		op->off = 0;
		/* the reply cannot be there yet: wait for it */
		op_arm(op, EV_READ);
		return;
	}
	if (op->state == OP_READING) {
		while (op->off < DL_REPLY_LEN) {
			n = recv(op->fd, op->reply + op->off, DL_REPLY_LEN - op->off, 0);
			if (n > 0) {
				op->off += (size_t)n;
			} else if (n < 0 && errno == EINTR) {
				continue;
			} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				op_arm(op, EV_READ);
				return;
			} else {
				/* EOF: the agent rejected the header */
				op_finish(op, -1, n == 0 ? EPROTO : errno);
				return;
			}
		}
		int err = 0, st = dl_reply_parse(op->reply, &err);
		if (st == DL_ST_OK) {
			int fd = op->fd;
			op->fd = -1;
			op_finish(op, fd, 0);
		} else if (st == DL_ST_UNAVAILABLE) {
			op_finish(op, -1, err ? err : EHOSTUNREACH);
		} else {
			op_finish(op, -1, EPROTO);
		}
	}
}

static void op_cb(evutil_socket_t fd, short what, void *arg)
{
	struct chan_op *op = arg;

	if (op->state == OP_FAILED) {
		op_finish(op, -1, op->err);
		return;
	}
	if (what & EV_TIMEOUT) {
		op_finish(op, -1, ETIMEDOUT);
		return;
	}
	if (op->state == OP_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			op_finish(op, -1, err);
			return;
		}
		op->state = OP_SENDING;
	}
	op_step(op);
}

int dl_chan_open(struct event_base *base, const struct dl_chan_cfg *cfg,
		 const char *target, void (*cb)(int fd, int err, void *arg), void *arg)
{
	return dl_chan_open_ms(base, cfg, target, DL_CHAN_OPEN_TIMEOUT_MS, cb, arg);
}

int dl_chan_open_ms(struct event_base *base, const struct dl_chan_cfg *cfg,
		    const char *target, int timeout_ms, void (*cb)(int fd, int err, void *arg),
		    void *arg)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct chan_op *op;
	struct timeval now, to = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	op = op_alloc();
	if (!op)
		return -1;
	memset(op, 0, offsetof(struct chan_op, out));
	op->outlen = dl_chan_preamble(cfg, op->out);
	if (dl_hdr_encode(op->out + op->outlen, cfg->token, target) < 0) {
		op_release(op);
		errno = EINVAL;
		return -1;
	}
	op->outlen += DL_HDR_LEN;
	op->base = base;
	op->cb = cb;
	op->arg = arg;
	op->fd = -1;
	gettimeofday(&now, NULL);
	timeradd(&now, &to, &op->deadline);

	if (dl_chan_sockaddr(cfg, &ss, &sslen) < 0)
		goto fail_async;
	op->fd = dl_socket_nb(ss.ss_family, SOCK_STREAM);
	if (op->fd < 0)
		goto fail_async;
	if (cfg->kind == DL_CHAN_TCP)
		dl_set_nodelay(op->fd);
	if (connect(op->fd, (struct sockaddr *)&ss, sslen) == 0) {
		op->state = OP_SENDING;
		/* header fits in an empty socket buffer: send it now */
		op->in_open = 1;
		op_step(op);
		op->in_open = 0;
		return 0;
	}
	if (errno == EINPROGRESS || errno == EINTR) {
		/* Over loopback the handshake is usually done by now: try the
		 * header at once and save a loop turn; a socket still connecting
		 * answers EAGAIN and we wait for writability (a failed connect
		 * then shows up as the send's error). */
		op->state = OP_SENDING;
		op->in_open = 1;
		op_step(op);
		op->in_open = 0;
		return 0;
	}
fail_async:
	/* report through the loop so cb never runs inside dl_chan_open() */
	op->err = errno ? errno : EINVAL;
	op->state = OP_FAILED;
	if (op->fd >= 0) {
		close(op->fd);
		op->fd = -1;
	}
	event_assign(&op->ev, base, -1, 0, op_cb, op);
	event_active(&op->ev, EV_TIMEOUT, 0);
	return 0;
}


/* ---- control requests ---- */

/* Its own small state machine (not dl_chan_open) so that a cancel frees
 * everything at once. */
#define REQ_LINE_MAX 1024

struct dl_chan_req {
	struct event ev;
	struct event_base *base;
	int fd, err;
	enum { RQ_HDR, RQ_REPLY, RQ_LINE, RQ_ANSWER } state;
	size_t off, len;
	struct timeval deadline;
	dl_chan_req_fn cb;
	void *arg;
	uint8_t hdr[DL_CHAN_PREAMBLE_MAX + DL_HDR_LEN];
	size_t hlen;
	uint8_t rep[DL_REPLY_LEN];
	char line[REQ_LINE_MAX]; /* the request, then the answer */
	size_t linelen;
};

static void req_end(struct dl_chan_req *r, int err)
{
	dl_chan_req_fn cb = r->cb;
	void *arg = r->arg;
	char reply[REQ_LINE_MAX];

	snprintf(reply, sizeof(reply), "%s", r->state == RQ_ANSWER ? r->line : "");
	if (!err && !(strncmp(reply, "ok", 2) == 0 && (reply[2] == '\0' || reply[2] == ' ')))
		err = EPROTO; /* the agent's "err ..." line is in reply */
	dl_chan_req_cancel(r);
	cb(reply, err, arg);
}

static void req_cb(evutil_socket_t fd, short what, void *arg);

static void req_arm(struct dl_chan_req *r, short what)
{
	struct timeval now, left = { 0, 0 };

	gettimeofday(&now, NULL);
	if (timercmp(&now, &r->deadline, <))
		timersub(&r->deadline, &now, &left);
	event_del(&r->ev);
	event_assign(&r->ev, r->base, r->fd, what, req_cb, r);
	event_add(&r->ev, &left);
}

/* Send buf[off..len): 1 done, 0 wait (armed), -1 ended. */
static int req_send(struct dl_chan_req *r, const void *buf, size_t len)
{
	while (r->off < len) {
		ssize_t n = send(r->fd, (const char *)buf + r->off, len - r->off, MSG_NOSIGNAL);
		if (n > 0) {
			r->off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			req_arm(r, EV_WRITE);
			return 0;
		} else {
			req_end(r, n < 0 ? errno : EPROTO);
			return -1;
		}
	}
	r->off = 0;
	return 1;
}

static void req_step(struct dl_chan_req *r)
{
	ssize_t n;

	if (r->state == RQ_HDR) {
		if (req_send(r, r->hdr, r->hlen) <= 0)
			return;
		r->state = RQ_REPLY;
	}
	if (r->state == RQ_REPLY) {
		while (r->off < DL_REPLY_LEN) {
			n = recv(r->fd, r->rep + r->off, DL_REPLY_LEN - r->off, 0);
			if (n > 0)
				r->off += (size_t)n;
			else if (n < 0 && errno == EINTR)
				continue;
			else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				req_arm(r, EV_READ);
				return;
			} else {
				req_end(r, n == 0 ? EPROTO : errno); /* closed: header refused */
				return;
			}
		}
		int e = 0;
		if (dl_reply_parse(r->rep, &e) != DL_ST_OK) {
			req_end(r, EPROTO);
			return;
		}
		r->off = 0;
		r->state = RQ_LINE;
	}
	if (r->state == RQ_LINE) {
		if (req_send(r, r->line, r->linelen) <= 0)
			return;
		r->state = RQ_ANSWER;
		r->len = 0;
		r->line[0] = '\0';
	}
	for (;;) {
		if (r->len >= sizeof(r->line) - 1) {
			req_end(r, EMSGSIZE);
			return;
		}
		n = recv(r->fd, r->line + r->len, sizeof(r->line) - 1 - r->len, 0);
		if (n > 0) {
			char *nl = memchr(r->line + r->len, '\n', (size_t)n);
			r->len += (size_t)n;
			r->line[r->len] = '\0';
			if (nl) {
				*nl = '\0';
				if (nl > r->line && nl[-1] == '\r')
					nl[-1] = '\0';
				req_end(r, 0);
				return;
			}
		} else if (n == 0) {
			req_end(r, r->len ? 0 : EPROTO);
			return;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			req_arm(r, EV_READ);
			return;
		} else {
			req_end(r, errno);
			return;
		}
	}
}

static void req_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dl_chan_req *r = arg;

	if (r->err) {
		req_end(r, r->err); /* could not even start */
	} else if (what & EV_TIMEOUT) {
		req_end(r, ETIMEDOUT);
	} else {
		if (r->state == RQ_HDR && r->off == 0) {
			int err = 0;
			socklen_t len = sizeof(err);
			if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
				req_end(r, err);
				return;
			}
		}
		req_step(r);
	}
}

struct dl_chan_req *dl_chan_request(struct event_base *base, const struct dl_chan_cfg *cfg,
				    const char *line, int timeout_ms, dl_chan_req_fn cb, void *arg)
{
	size_t n = strlen(line);
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct timeval now, to = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct dl_chan_req *r;

	if (n == 0 || n >= REQ_LINE_MAX - 1 || memchr(line, '\n', n)) {
		errno = EINVAL;
		return NULL;
	}
	if (!(r = calloc(1, sizeof(*r))))
		return NULL;
	r->base = base;
	r->cb = cb;
	r->arg = arg;
	r->fd = -1;
	memcpy(r->line, line, n);
	r->line[n] = '\n';
	r->linelen = n + 1;
	r->hlen = dl_chan_preamble(cfg, r->hdr);
	if (dl_hdr_encode(r->hdr + r->hlen, cfg->token, "control") < 0) {
		free(r);
		errno = EINVAL;
		return NULL;
	}
	r->hlen += DL_HDR_LEN;
	gettimeofday(&now, NULL);
	timeradd(&now, &to, &r->deadline);
	event_assign(&r->ev, base, -1, 0, req_cb, r);
	if (dl_chan_sockaddr(cfg, &ss, &sslen) < 0 ||
	    (r->fd = dl_socket_nb(ss.ss_family, SOCK_STREAM)) < 0) {
		r->err = errno ? errno : EINVAL;
	} else {
		if (cfg->kind == DL_CHAN_TCP)
			dl_set_nodelay(r->fd);
		if (connect(r->fd, (struct sockaddr *)&ss, sslen) < 0 && errno != EINPROGRESS &&
		    errno != EINTR)
			r->err = errno;
	}
	if (r->err) {
		/* report from the loop, never from in here */
		event_active(&r->ev, EV_TIMEOUT, 0);
		return r;
	}
	req_arm(r, EV_WRITE);
	return r;
}

void dl_chan_req_cancel(struct dl_chan_req *r)
{
	if (!r)
		return;
	event_del(&r->ev);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}
