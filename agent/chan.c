/*
 * The channel server: accept, read the fixed header (with a deadline),
 * check it, connect the target, reply, then relay.
 *
 * Every socket is non-blocking and registered edge-triggered, for reading
 * only: EPOLLOUT is added to an fd only while a direction waits to write to
 * it (a unix socket signals "writable" each time its peer reads, which
 * would wake us once per message for nothing).  An event pumps only the
 * directions it concerns: readable -> the direction reading that fd;
 * writable -> the direction blocked writing to it.
 *
 * A stream direction starts with read(2) into a shared scratch buffer and a
 * direct send(2) (a leftover goes to a per-direction buffer): for the small
 * messages of an API round trip that is two syscalls per hop.  A read that
 * fills the buffer switches the direction to splice(2) through a pipe
 * (zero-copy for bulk) until a splice comes back small.  A short read
 * drains a stream socket: a later arrival raises a new edge, so we skip the
 * read that would only say EAGAIN, except once the fd reported a hang-up
 * (then we read until EOF).  Splice may stop short on a full pipe, so a
 * splicing direction always reads until EAGAIN.  The first EINVAL from
 * splice (vsock) switches a direction to buffers for good.  Half-close:
 * when a direction's source reaches EOF and everything has been written,
 * the destination gets shutdown(SHUT_WR) and the other direction carries on
 * until it ends too.
 */
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A header comes right behind the connect: a silent connection holds a
 * slot for at most a second (see admit.c). */
#define HDR_TIMEOUT_MS 1000
#define CONNECT_TIMEOUT_MS 5000
#define UDP_LINGER_MS 2000 /* replies still relayed after the client's EOF */
#define STREAM_BUF 65536
#define PIPE_SZ (256 * 1024) /* splice pipes (bulk); 64 KiB if refused */
#define BULK_EXIT 16384       /* a splice smaller than this ends bulk mode */
#define UDP_FRAME (2 + DL_UDP_MAX)
#define MAX_CONNS 8192

#define EV_ALL (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)
#define EV_RD (EPOLLIN | EPOLLRDHUP | EPOLLET)

enum dir_kind {
	D_STREAM,   /* bytes -> bytes */
	D_TO_UDP,   /* framed stream -> datagrams */
	D_FROM_UDP, /* datagrams -> framed stream */
};

struct dir {
	int src, dst;
	enum dir_kind kind;
	bool use_splice; /* splice allowed (stream, no EINVAL seen) */
	bool bulk;       /* splicing now (stream) */
	bool hup;        /* src reported a hang-up: read until EOF */
	int pipe[2];
	size_t pipe_sz;
	size_t pending; /* bytes sitting in the pipe */
	char *buf;      /* buffer mode; streams: a leftover of a short send */
	size_t off, len, cap;
	bool eof, done;
};

enum cstate { C_HDR, C_CONNECTING, C_RELAY, C_CONTROL };

struct conn {
	struct watch a; /* the host side */
	struct watch b; /* the target */
	uint32_t a_ev, b_ev; /* epoll interest now */
	enum cstate st;
	struct admit_node adm; /* linked while waiting for the header */
	uint8_t hdr[DL_HDR_LEN];
	size_t got;
	struct dl_target t;
	struct dir up, down; /* up: a -> b, down: b -> a */
	struct timer tm;
	struct ctl *ctl;
	bool closed;
};

struct listener {
	struct watch w;
	const char *what;
};

static unsigned nconns;

/* Rejections are logged, but a flood of them must not flood the console. */
static void log_reject(const char *why)
{
	static uint64_t window;
	static unsigned count, dropped;
	uint64_t now = now_ms();

	if (now - window > 10000) {
		if (dropped)
			logmsg("channel: %u more rejected connections", dropped);
		window = now;
		count = dropped = 0;
	}
	if (count++ < 5)
		logmsg("channel: rejected a connection: %s", why);
	else
		dropped++;
}

static void dir_release(struct dir *d)
{
	if (d->pipe[0] >= 0) {
		close(d->pipe[0]);
		close(d->pipe[1]);
		d->pipe[0] = d->pipe[1] = -1;
	}
	free(d->buf);
	d->buf = NULL;
}

static void conn_close(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	admit_done(&c->adm);
	timer_cancel(&c->tm);
	if (c->ctl)
		ctl_free(c->ctl);
	loop_close(&c->a);
	loop_close(&c->b);
	dir_release(&c->up);
	dir_release(&c->down);
	nconns--;
	loop_defer_free(c);
}

static void ctl_close_cb(void *arg)
{
	conn_close(arg);
}

static bool send_reply(struct conn *c, enum dl_status st, int err)
{
	uint8_t r[DL_REPLY_LEN];

	dl_reply_encode(r, st, err);
	/* A fresh socket always has room for 8 bytes; anything else is a
	 * client that went away. */
	return send(c->a.fd, r, sizeof(r), MSG_NOSIGNAL) == (ssize_t)sizeof(r);
}

static void refuse_target(struct conn *c, int err)
{
	send_reply(c, DL_ST_UNAVAILABLE, err);
	conn_close(c);
}

/* ---- the two directions ----------------------------------------------- */

/* d->hup is kept: it may have been seen before the relay started. */
static void dir_init(struct dir *d, int src, int dst, enum dir_kind kind)
{
	d->src = src;
	d->dst = dst;
	d->kind = kind;
	d->use_splice = kind == D_STREAM;
	d->pipe[0] = d->pipe[1] = -1;
}

static bool dir_alloc(struct dir *d, size_t cap)
{
	if (d->buf)
		return true;
	d->buf = malloc(cap);
	d->cap = cap;
	d->off = d->len = 0;
	return d->buf != NULL;
}

static bool udp_frame_ready(const struct dir *d)
{
	if (d->len - d->off < 2)
		return false;
	const uint8_t *p = (const uint8_t *)d->buf + d->off;
	size_t flen = (size_t)p[0] << 8 | p[1];
	return d->len - d->off >= 2 + flen;
}

static bool dir_pending(const struct dir *d)
{
	if (d->pending > 0)
		return true;
	if (d->kind == D_TO_UDP)
		return d->buf && udp_frame_ready(d);
	return d->buf && d->off < d->len;
}

/* Give up on splice for this direction: whatever sits in the pipe moves to
 * a buffer. */
static int splice_fallback(struct dir *d)
{
	d->use_splice = d->bulk = false;
	free(d->buf); /* nothing in it: only called with the pipe pending */
	d->buf = NULL;
	if (!dir_alloc(d, d->pending > STREAM_BUF ? d->pending : STREAM_BUF))
		return -1;
	while (d->pending > 0) {
		ssize_t n = read(d->pipe[0], d->buf + d->len, d->cap - d->len);
		if (n <= 0)
			return -1;
		d->len += (size_t)n;
		d->pending -= (size_t)n;
	}
	close(d->pipe[0]);
	close(d->pipe[1]);
	d->pipe[0] = d->pipe[1] = -1;
	return 1;
}

/* Move pending bytes to dst: 1 progress, 0 would block, -1 error. */
static int dir_flush(struct dir *d)
{
	ssize_t n;

	if (d->pending > 0) {
		n = splice(d->pipe[0], NULL, d->dst, NULL, d->pending,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			d->pending -= (size_t)n;
			return 1;
		}
		if (n < 0 && errno == EINVAL)
			return splice_fallback(d);
	} else if (d->kind == D_TO_UDP) {
		const uint8_t *p = (const uint8_t *)d->buf + d->off;
		size_t flen = (size_t)p[0] << 8 | p[1];
		n = send(d->dst, p + 2, flen, MSG_NOSIGNAL);
		/* ECONNREFUSED reports an earlier datagram's ICMP error and
		 * clears it: send this one again.  Other errors drop it. */
		if (n < 0 && errno == ECONNREFUSED)
			return 1;
		if (n >= 0 || (errno != EAGAIN && errno != EINTR)) {
			d->off += 2 + flen;
			return 1;
		}
	} else {
		n = send(d->dst, d->buf + d->off, d->len - d->off, MSG_NOSIGNAL);
		if (n > 0) {
			d->off += (size_t)n;
			return 1;
		}
	}
	if (n < 0 && errno == EINTR)
		return 1;
	if (n < 0 && errno == EAGAIN)
		return 0;
	return -1;
}

static int fill_splice(struct dir *d)
{
	if (d->pipe[0] < 0) {
		if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
			d->use_splice = d->bulk = false;
			return 1;
		}
		int sz = fcntl(d->pipe[1], F_SETPIPE_SZ, PIPE_SZ);
		d->pipe_sz = sz > 0 ? (size_t)sz : STREAM_BUF;
	}
	ssize_t n = splice(d->src, NULL, d->pipe[1], NULL, d->pipe_sz,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0) {
		d->pending = (size_t)n;
		if ((size_t)n < BULK_EXIT)
			d->bulk = false; /* back to read/send once this is out */
		return 1;
	}
	if (n == 0) {
		d->eof = true;
		return 1;
	}
	if (errno == EINVAL) /* e.g. a socket family without splice_read */
		return splice_fallback(d);
	if (errno == EINTR)
		return 1;
	return errno == EAGAIN ? 0 : -1;
}

/* Read from src (only called with nothing pending): 1 progress (data or
 * EOF), 0 would block, -1 error. */
static char scratch[STREAM_BUF];

/* A read that moved nothing (n <= 0): 1 = EOF seen or interrupted (call
 * again), 0 = would block, -1 = hard error. */
static int read_end(struct dir *d, ssize_t n)
{
	if (n == 0) {
		d->eof = true;
		return 1;
	}
	if (errno == EINTR)
		return 1;
	return errno == EAGAIN ? 0 : -1;
}

/* Stream, not splicing: read into the scratch buffer and send at once; a
 * leftover goes to d->buf.  *drained: the read came back short. */
static int fill_stream(struct dir *d, bool *drained)
{
	ssize_t n = read(d->src, scratch, sizeof(scratch));

	if (n <= 0)
		return read_end(d, n);
	if ((size_t)n == sizeof(scratch))
		d->bulk = d->use_splice; /* more is likely waiting: splice it */
	else
		*drained = true;
	ssize_t w = send(d->dst, scratch, (size_t)n, MSG_NOSIGNAL);
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		w = 0;
	}
	if (w < n) {
		if (!dir_alloc(d, STREAM_BUF))
			return -1;
		memcpy(d->buf, scratch + w, (size_t)(n - w));
		d->off = 0;
		d->len = (size_t)(n - w);
	}
	return 1;
}

static int dir_fill(struct dir *d, bool *drained)
{
	ssize_t n;

	if (d->kind == D_STREAM)
		return d->bulk ? fill_splice(d) : fill_stream(d, drained);
	switch (d->kind) {
	case D_FROM_UDP:
		if (!dir_alloc(d, UDP_FRAME))
			return -1;
		n = recv(d->src, d->buf + 2, DL_UDP_MAX, 0);
		if (n >= 0) {
			d->buf[0] = (char)((size_t)n >> 8);
			d->buf[1] = (char)(n & 0xff);
			d->off = 0;
			d->len = 2 + (size_t)n;
			return 1;
		}
		if (errno == ECONNREFUSED) /* nobody listening (yet): ignore */
			return 1;
		break;
	case D_TO_UDP:
		if (!dir_alloc(d, 2 * UDP_FRAME))
			return -1;
		if (d->off > 0) { /* keep the partial frame at the front */
			memmove(d->buf, d->buf + d->off, d->len - d->off);
			d->len -= d->off;
			d->off = 0;
		}
		n = read(d->src, d->buf + d->len, d->cap - d->len);
		if (n > 0)
			d->len += (size_t)n;
		break;
	default:
		if (!dir_alloc(d, STREAM_BUF))
			return -1;
		n = read(d->src, d->buf, d->cap);
		if (n > 0) {
			d->off = 0;
			d->len = (size_t)n;
		}
		break;
	}
	return n > 0 ? 1 : read_end(d, n);
}

/* Pump until it would block, is drained or is done; -1 on a hard error. */
static int dir_pump(struct dir *d, bool *moved)
{
	bool drained = false;

	while (!d->done) {
		int r;
		if (dir_pending(d)) {
			r = dir_flush(d);
		} else if (d->eof) {
			if (d->kind == D_STREAM || d->kind == D_FROM_UDP)
				shutdown(d->dst, SHUT_WR);
			d->done = true;
			break;
		} else if (drained && !d->hup) {
			break; /* a short read emptied src: no EAGAIN read */
		} else {
			r = dir_fill(d, &drained);
			if (r > 0)
				*moved = true;
		}
		if (r <= 0)
			return r;
	}
	return 0;
}

static void set_events(struct watch *w, uint32_t *cur, uint32_t want)
{
	if (*cur != want && w->fd >= 0 && loop_mod(w, want) == 0)
		*cur = want;
}

/* After pumping: EPOLLOUT on an fd exactly while a direction waits to write
 * to it; a stream buffer not in use goes back. */
static void relay_settle(struct conn *c)
{
	bool up_w = dir_pending(&c->up) && !c->up.done;
	bool down_w = dir_pending(&c->down) && !c->down.done;

	for (int i = 0; i < 2; i++) {
		struct dir *d = i ? &c->down : &c->up;
		if (d->kind == D_STREAM && d->buf && !dir_pending(d)) {
			free(d->buf);
			d->buf = NULL;
		}
	}
	set_events(&c->b, &c->b_ev, up_w ? EV_ALL : EV_RD);
	set_events(&c->a, &c->a_ev, down_w ? EV_ALL : EV_RD);
}

/* ev: the events of fd a (from_a) or b; 0 for "pump everything". */
static void relay_pump(struct conn *c, bool from_a, uint32_t ev)
{
	bool up_moved = false, down_moved = false;
	bool all = ev == 0 || (ev & (EPOLLERR | EPOLLHUP));
	struct dir *rd = from_a ? &c->up : &c->down;  /* reads this fd */
	struct dir *wr = from_a ? &c->down : &c->up;  /* writes to it */
	bool *rd_moved = from_a ? &up_moved : &down_moved;
	bool *wr_moved = from_a ? &down_moved : &up_moved;

	if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		rd->hup = true;
	if ((all || (ev & (EPOLLIN | EPOLLRDHUP))) && dir_pump(rd, rd_moved) < 0) {
		conn_close(c);
		return;
	}
	if ((all || ((ev & EPOLLOUT) && dir_pending(wr))) && dir_pump(wr, wr_moved) < 0) {
		conn_close(c);
		return;
	}
	if (c->up.done && c->down.done) {
		conn_close(c);
		return;
	}
	relay_settle(c);
	/* UDP never ends by itself: after the client's EOF, keep relaying
	 * replies until the flow has been quiet for a while. */
	if (c->t.kind == DL_TARGET_UDP && c->up.done && (down_moved || !c->tm.armed))
		timer_arm(&c->tm, UDP_LINGER_MS);
}

/* ---- connection setup ---------------------------------------------------- */

static void on_target(struct watch *w, uint32_t ev);

static void start_relay(struct conn *c)
{
	int one = 1;

	timer_cancel(&c->tm);
	if (!send_reply(c, DL_ST_OK, 0)) {
		conn_close(c);
		return;
	}
	if (c->t.kind == DL_TARGET_TCP)
		setsockopt(c->b.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bool udp = c->t.kind == DL_TARGET_UDP;
	dir_init(&c->up, c->a.fd, c->b.fd, udp ? D_TO_UDP : D_STREAM);
	dir_init(&c->down, c->b.fd, c->a.fd, udp ? D_FROM_UDP : D_STREAM);
	c->st = C_RELAY;
	/* Bytes may have arrived right behind the header: edge-triggered
	 * epoll will not announce them again, so pump now. */
	relay_pump(c, true, 0);
}

static void open_target(struct conn *c)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct sockaddr *sa;
	socklen_t salen;
	int type = SOCK_STREAM;

	switch (c->t.kind) {
	case DL_TARGET_FSEVENTS:
		/* file system calls on the share: in a child, never in the loop */
		if (send_reply(c, DL_ST_OK, 0)) {
			pid_t pid = fork();
			if (pid == 0)
				fsev_serve(c->a.fd);
			if (pid < 0)
				logmsg("fsevents: fork: %m");
		}
		conn_close(c);
		return;
	case DL_TARGET_CONTROL:
		c->ctl = ctl_new(&c->a, ctl_close_cb, c);
		if (!c->ctl || !send_reply(c, DL_ST_OK, 0)) {
			conn_close(c);
			return;
		}
		c->st = C_CONTROL;
		/* replies may have to wait for room */
		set_events(&c->a, &c->a_ev, EV_ALL);
		if (!ctl_event(c->ctl))
			conn_close(c);
		return;
	case DL_TARGET_DOCKER:
		if (strlen(g.docker_sock) >= sizeof(un.sun_path)) {
			refuse_target(c, ENAMETOOLONG);
			return;
		}
		strcpy(un.sun_path, g.docker_sock);
		sa = (struct sockaddr *)&un;
		salen = sizeof(un);
		c->b.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		break;
	case DL_TARGET_UDP:
		type = SOCK_DGRAM;
		/* fall through */
	case DL_TARGET_TCP:
	default:
		/* tcp:ADDR:PORT goes straight to a container's address: no
		 * docker-proxy copy in the guest */
		if (c->t.family == AF_INET6) {
			in6.sin6_port = htons(c->t.port);
			memcpy(&in6.sin6_addr, c->t.addr, 16);
			sa = (struct sockaddr *)&in6;
			salen = sizeof(in6);
		} else {
			in.sin_port = htons(c->t.port);
			if (c->t.family == AF_INET)
				memcpy(&in.sin_addr, c->t.addr, 4);
			else
				in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			sa = (struct sockaddr *)&in;
			salen = sizeof(in);
		}
		c->b.fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		break;
	}
	if (c->b.fd < 0) {
		refuse_target(c, errno);
		return;
	}
	c->b.fn = on_target;
	c->b.data = c;
	int r = connect(c->b.fd, sa, salen);
	if (r < 0 && errno != EINPROGRESS) {
		refuse_target(c, errno);
		return;
	}
	/* writability only matters while connecting (and later, while a
	 * direction waits to write: relay_settle) */
	c->b_ev = r == 0 ? EV_RD : EV_ALL;
	if (loop_add(&c->b, c->b_ev) < 0) {
		refuse_target(c, errno);
		return;
	}
	if (r == 0) {
		start_relay(c);
		return;
	}
	c->st = C_CONNECTING;
	timer_arm(&c->tm, CONNECT_TIMEOUT_MS);
}

static void connect_done(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->b.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		refuse_target(c, err);
		return;
	}
	start_relay(c);
}

/* Read exactly DL_HDR_LEN bytes (never more: what follows belongs to the
 * target), then check it. */
static void read_header(struct conn *c)
{
	while (c->got < DL_HDR_LEN) {
		ssize_t n = read(c->a.fd, c->hdr + c->got, DL_HDR_LEN - c->got);
		if (n > 0) {
			c->got += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		log_reject(n == 0 ? "truncated header" : "read error");
		conn_close(c);
		return;
	}
	admit_done(&c->adm);
	timer_cancel(&c->tm);
	int bad = dl_hdr_check(c->hdr, g.token, &c->t);
	memset(c->hdr, 0, sizeof(c->hdr)); /* it holds the token */
	if (bad) {
		log_reject("bad header");
		conn_close(c);
		return;
	}
	open_target(c);
}

static void on_client(struct watch *w, uint32_t ev)
{
	struct conn *c = w->data;

	/* a hang-up seen in any state: the relay then reads until EOF */
	if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->up.hup = true;
	switch (c->st) {
	case C_HDR:
		read_header(c);
		break;
	case C_CONNECTING:
		if (ev & (EPOLLERR | EPOLLHUP))
			conn_close(c);
		break;
	case C_RELAY:
		relay_pump(c, true, ev);
		break;
	case C_CONTROL:
		if (!ctl_event(c->ctl))
			conn_close(c);
		break;
	}
}

static void on_target(struct watch *w, uint32_t ev)
{
	struct conn *c = w->data;

	if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->down.hup = true;
	if (c->st == C_CONNECTING)
		connect_done(c);
	else if (c->st == C_RELAY)
		relay_pump(c, false, ev);
}

static void on_timeout(struct timer *t)
{
	struct conn *c = t->data;

	switch (c->st) {
	case C_HDR:
		log_reject("header timeout");
		conn_close(c);
		break;
	case C_CONNECTING:
		refuse_target(c, ETIMEDOUT);
		break;
	default: /* UDP linger over */
		conn_close(c);
		break;
	}
}

static void conn_new(int fd, uint64_t src)
{
	struct conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails harmlessly on vsock */
	c->a = (struct watch){ .fd = fd, .fn = on_client, .data = c };
	c->b = (struct watch){ .fd = -1, .fn = on_target, .data = c };
	c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
	c->st = C_HDR;
	c->tm.fn = on_timeout;
	c->tm.data = c;
	nconns++;
	c->a_ev = EV_RD;
	if (loop_add(&c->a, c->a_ev) < 0) {
		conn_close(c);
		return;
	}
	timer_arm(&c->tm, HDR_TIMEOUT_MS);
	/* the host sends its header right behind the connect: often it is
	 * already here, and such a connection never waits in the budget */
	read_header(c);
	if (c->closed || c->st != C_HDR)
		return;
	c->adm.src = src;
	struct admit_node *old = admit_add(&c->adm);
	if (old) {
		struct conn *v = (struct conn *)((char *)old - offsetof(struct conn, adm));
		read_header(v); /* a burst accepted before its header was read */
		if (!v->closed && v->st == C_HDR) {
			log_reject("too many connections without a header: dropped the oldest");
			conn_close(v);
		}
	}
}

/* TCP keepalive on every accepted channel connection. The host reaches the
 * agent through QEMU's user networking (libslirp), whose BSD TCP closes a
 * connection the host side has half-closed (the docker CLI does so right
 * after an exec/attach request) once the guest has sent nothing on it for
 * TCP_MAXIDLE = 600 s, checked every 75 s: a quiet `docker exec` (an untar
 * into the share) was cut after 600-675 s, and the CLI, reading the exit
 * code of a command still running, exited 0 (bench/README.md, the 9p
 * count). A probe every 60 s of silence is a segment from the guest, which
 * resets slirp's idle time. On vsock the TCP options just fail. */
#define KEEPALIVE_IDLE_S 60
#define KEEPALIVE_INTVL_S 30
#define KEEPALIVE_CNT 4

static void keepalive_on(int fd)
{
	int one = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_INTVL_S, cnt = KEEPALIVE_CNT;

	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* Out of fds, a level-triggered listener would spin: accept with a spare
 * fd kept for that and close at once (the client sees a plain close). */
static int spare_fd = -1; /* reserved when the first listener opens */

static void shed_one(int lfd)
{
	if (spare_fd >= 0) {
		close(spare_fd);
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void on_accept(struct watch *w, uint32_t ev)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof(ss);
		uint64_t src;
		int fd = accept4(w->fd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				log_reject("out of file descriptors");
				shed_one(w->fd);
				return;
			}
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		if (!admit_peer(&ss, &src)) {
			log_reject("not from the host");
			close(fd);
			continue;
		}
		if (nconns >= MAX_CONNS) {
			log_reject("too many connections");
			close(fd);
			continue;
		}
		keepalive_on(fd);
		conn_new(fd, src);
	}
}

static int listen_on(int fd, const struct sockaddr *sa, socklen_t len, const char *what,
		     const char *dev)
{
	int one = 1;
	struct listener *l;

	if (spare_fd < 0)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* only what arrives on that interface: not a container's connection
	 * through docker0, nor one over lo */
	if (dev && *dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) < 0)
		goto fail;
	if (bind(fd, sa, len) < 0 || listen(fd, 512) < 0)
		goto fail;
	l = calloc(1, sizeof(*l));
	if (!l)
		goto fail;
	l->w = (struct watch){ .fd = fd, .fn = on_accept, .data = l };
	l->what = what;
	if (loop_add(&l->w, EPOLLIN) < 0) {
		free(l);
		goto fail;
	}
	return 0;
fail:
	logmsg("channel: listen on %s: %m", what);
	close(fd);
	return -1;
}

int chan_listen_tcp(const char *host, uint16_t port, const char *dev)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };

	if (inet_pton(AF_INET, host, &in.sin_addr) != 1) {
		logmsg("channel: bad listen address %s", host);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	return listen_on(fd, (struct sockaddr *)&in, sizeof(in), "tcp", dev);
}

int chan_listen_vsock(uint32_t port)
{
	struct sockaddr_vm vm = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		logmsg("channel: vsock socket: %m");
		return -1;
	}
	return listen_on(fd, (struct sockaddr *)&vm, sizeof(vm), "vsock", NULL);
}
