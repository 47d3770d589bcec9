#include "daemon/relay.h"
#include "daemon/chan.h"
#include "daemon/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#define RELAY_BUF      (64 * 1024)   /* buffer per direction (portable path) */
#define RELAY_BUDGET   (1024 * 1024) /* bytes per direction per wake-up */
#define PIPE_POOL_MAX  128           /* idle pipes kept for reuse */
#define BUF_POOL_MAX   64            /* idle buffers kept for reuse */
#define RELAY_POOL_MAX 256           /* freed relays kept for reuse */
#define PIPE_WANT_SZ   (256 * 1024)

#ifdef __linux__
#define HAVE_SPLICE 1
#endif

struct dir {
	int pipe_r, pipe_w;   /* splice path: -1 when no pipe held */
	char *buf;            /* buffer path */
	size_t off, pending;  /* bytes read from src, not yet written to dst */
	uint64_t bytes;
	unsigned eof : 1, done : 1, nosplice : 1, dst_sock : 1;
};

struct dl_relay {
	struct event_base *base;
	int fd[2];
	struct event rd[2], wr[2];  /* read on fd[i] / write on fd[i] */
	unsigned char rd_on[2], wr_on[2];
	struct dir d[2];            /* d[0]: fd[0] -> fd[1]; d[1]: fd[1] -> fd[0] */
	void (*done)(void *);
	void *arg;
	struct dl_relay *next_free;
};

static int use_splice = 1;
static unsigned long n_active;

void dl_relay_set_splice(int on)
{
	use_splice = on;
}

unsigned long dl_relay_active(void)
{
	return n_active;
}

void dl_relay_bytes(const struct dl_relay *r, uint64_t *ab, uint64_t *ba)
{
	*ab = r->d[0].bytes;
	*ba = r->d[1].bytes;
}

/* ---- pools: no allocation per connection in steady state ---- */

static struct dl_relay *relay_free_list;
static unsigned relay_nfree;
static char *buf_pool[BUF_POOL_MAX];
static unsigned buf_npool;

static char *buf_get(void)
{
	if (buf_npool)
		return buf_pool[--buf_npool];
	return malloc(RELAY_BUF);
}

static void buf_put(char *b)
{
	if (!b)
		return;
	if (buf_npool < BUF_POOL_MAX)
		buf_pool[buf_npool++] = b;
	else
		free(b);
}

#ifdef HAVE_SPLICE
static int pipe_pool[PIPE_POOL_MAX][2];
static unsigned pipe_npool;
static size_t pipe_sz;

static int pipe_get(struct dir *d)
{
	int p[2];

	if (pipe_npool) {
		pipe_npool--;
		d->pipe_r = pipe_pool[pipe_npool][0];
		d->pipe_w = pipe_pool[pipe_npool][1];
		return 0;
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	if (!pipe_sz) {
		int sz = fcntl(p[1], F_SETPIPE_SZ, PIPE_WANT_SZ);
		if (sz < 0)
			sz = fcntl(p[1], F_GETPIPE_SZ);
		pipe_sz = sz > 0 ? (size_t)sz : 65536;
	} else if ((size_t)fcntl(p[1], F_SETPIPE_SZ, (int)pipe_sz) != pipe_sz) {
		/* over the per-user pipe quota: a smaller pipe still works, but
		 * requests are sized by pipe_sz; splice then returns short */
	}
	d->pipe_r = p[0];
	d->pipe_w = p[1];
	return 0;
}

/* Give back an empty pipe; a pipe with bytes in it is closed. */
static void pipe_put(struct dir *d, int empty)
{
	if (d->pipe_r < 0)
		return;
	if (empty && pipe_npool < PIPE_POOL_MAX) {
		pipe_pool[pipe_npool][0] = d->pipe_r;
		pipe_pool[pipe_npool][1] = d->pipe_w;
		pipe_npool++;
	} else {
		close(d->pipe_r);
		close(d->pipe_w);
	}
	d->pipe_r = d->pipe_w = -1;
}
#endif

/* ---- the relay ---- */

static void relay_finish(struct dl_relay *r, int call_done)
{
	void (*done)(void *) = r->done;
	void *arg = r->arg;

	for (int i = 0; i < 2; i++) {
		if (r->rd_on[i])
			event_del(&r->rd[i]);
		if (r->wr_on[i])
			event_del(&r->wr[i]);
		close(r->fd[i]);
#ifdef HAVE_SPLICE
		pipe_put(&r->d[i], r->d[i].pending == 0);
#endif
		buf_put(r->d[i].buf);
	}
	n_active--;
	if (relay_nfree < RELAY_POOL_MAX) {
		r->next_free = relay_free_list;
		relay_free_list = r;
		relay_nfree++;
	} else {
		free(r);
	}
	if (call_done && done)
		done(arg);
}

void dl_relay_free(struct dl_relay *r)
{
	if (r)
		relay_finish(r, 0);
}

static void set_ev(struct event *ev, unsigned char *on, int want)
{
	if (want && !*on)
		event_add(ev, NULL);
	else if (!want && *on)
		event_del(ev);
	*on = (unsigned char)!!want;
}

static int is_again(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK;
}

/* Move bytes in direction k (fd[k] -> fd[1-k]).  Returns -1 when the relay
 * was torn down (r is gone). */
static int pump(struct dl_relay *r, int k)
{
	struct dir *d = &r->d[k];
	int src = r->fd[k], dst = r->fd[1 - k];
	size_t moved = 0;
	ssize_t n;
	int drained = 0; /* the last read came back short: src is likely empty */

	if (d->done)
		return 0;
	for (;;) {

		/* 1. write out what is pending */
		if (d->pending) {
#ifdef HAVE_SPLICE
			if (d->pipe_r >= 0)
				n = splice(d->pipe_r, NULL, dst, NULL, d->pending,
					   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			else
#endif
			if (d->dst_sock)
				n = send(dst, d->buf + d->off, d->pending, MSG_NOSIGNAL);
			else
				n = write(dst, d->buf + d->off, d->pending);
			if (n > 0) {
				d->pending -= (size_t)n;
				d->off += (size_t)n;
				d->bytes += (uint64_t)n;
				moved += (size_t)n;
			} else if (n < 0 && errno == EINTR) {
				continue;
			} else if (n < 0 && is_again(errno)) {
				break;
			} else {
#ifdef HAVE_SPLICE
				if (n < 0 && errno == EINVAL && d->pipe_r >= 0 && !d->buf) {
					/* dst does not splice: move the pipe's bytes to a
					 * buffer and carry on the portable way */
					size_t cap = RELAY_BUF, got = 0;
					d->nosplice = 1;
					d->buf = buf_get();
					if (!d->buf)
						goto fail;
					while (got < d->pending && got < cap) {
						ssize_t m = read(d->pipe_r, d->buf + got, cap - got);
						if (m <= 0)
							break;
						got += (size_t)m;
					}
					if (got < d->pending)
						goto fail; /* cannot happen with a 64 KiB pipe */
					pipe_put(d, 1);
					d->off = 0;
					continue;
				}
#endif
				if (dl_log_enabled(DL_LOG_DEBUG))
					dl_log(DL_LOG_DEBUG, "relay: write: %s",
					       n < 0 ? strerror(errno) : "0 bytes");
				goto fail;
			}
			if (d->pending)
				break; /* short write: dst is full, wait for it */
		}
		/* 2. nothing pending: recycle the pipe, read more */
		d->off = 0;
#ifdef HAVE_SPLICE
		if (d->pipe_r >= 0)
			pipe_put(d, 1);
#endif
		/* a short read drained src; level-triggered events bring us
		 * back if more arrived, which saves an EAGAIN read per wake-up */
		if (d->eof || drained || moved >= RELAY_BUDGET)
			break;
#ifdef HAVE_SPLICE
		if (use_splice && !d->nosplice) {
			if (pipe_get(d) < 0) {
				if (errno == EMFILE || errno == ENFILE) {
					d->nosplice = 1; /* out of fds: degrade, don't fail */
					continue;
				}
				goto fail;
			}
			n = splice(src, NULL, d->pipe_w, NULL, pipe_sz,
				   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (n < 0 && errno == EINVAL) {
				d->nosplice = 1;
				pipe_put(d, 1);
				continue;
			}
			drained = n > 0 && (size_t)n < pipe_sz;
		} else
#endif
		{
			if (!d->buf && !(d->buf = buf_get()))
				goto fail;
			n = read(src, d->buf, RELAY_BUF);
			drained = n > 0 && (size_t)n < RELAY_BUF;
		}
		if (n > 0) {
			d->pending = (size_t)n;
			moved += (size_t)n;
			continue;
		}
		if (n == 0) {
			d->eof = 1;
			break;
		}
		if (errno == EINTR)
			continue;
		if (is_again(errno))
			break;
		if (dl_log_enabled(DL_LOG_DEBUG))
			dl_log(DL_LOG_DEBUG, "relay: read: %s", strerror(errno));
		goto fail;
	}
#ifdef HAVE_SPLICE
	if (!d->pending && d->pipe_r >= 0)
		pipe_put(d, 1);
#endif
	if (!d->pending && d->buf && !d->eof) {
		/* keep idle relays small: the buffer goes back to the pool */
		buf_put(d->buf);
		d->buf = NULL;
	}
	if (d->eof && !d->pending) {
		d->done = 1;
		set_ev(&r->rd[k], &r->rd_on[k], 0);
		set_ev(&r->wr[1 - k], &r->wr_on[1 - k], 0);
		if (r->d[1 - k].done) {
			relay_finish(r, 1);
			return -1;
		}
		shutdown(dst, SHUT_WR);
		return 0;
	}
	set_ev(&r->rd[k], &r->rd_on[k], !d->eof && !d->pending);
	set_ev(&r->wr[1 - k], &r->wr_on[1 - k], d->pending != 0);
	return 0;
fail:
	relay_finish(r, 1);
	return -1;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct dl_relay *r = arg;
	pump(r, fd == r->fd[0] ? 0 : 1);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct dl_relay *r = arg;
	/* fd[i] writable: the direction writing to it is d[1-i] */
	pump(r, fd == r->fd[0] ? 1 : 0);
}

static int is_socket(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

struct dl_relay *dl_relay_new(struct event_base *base, int a, int b,
			      void (*done)(void *), void *arg)
{
	struct dl_relay *r = relay_free_list;
	int sock[2];

	if (r) {
		relay_free_list = r->next_free;
		relay_nfree--;
	} else if (!(r = malloc(sizeof(*r)))) {
		errno = ENOMEM;
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->fd[0] = a;
	r->fd[1] = b;
	r->done = done;
	r->arg = arg;
	sock[0] = is_socket(a);
	sock[1] = is_socket(b);
	for (int i = 0; i < 2; i++) {
		struct dir *d = &r->d[i];
		d->pipe_r = d->pipe_w = -1;
		d->dst_sock = (unsigned)sock[1 - i];
		/* splice only between sockets; anything else takes the buffer */
		d->nosplice = !(sock[0] && sock[1]);
		/* non-blocking: the loop must never block on a relay */
		int fl = fcntl(r->fd[i], F_GETFL);
		if (fl >= 0 && !(fl & O_NONBLOCK))
			fcntl(r->fd[i], F_SETFL, fl | O_NONBLOCK);
		event_assign(&r->rd[i], base, r->fd[i], EV_READ | EV_PERSIST, on_read, r);
		event_assign(&r->wr[i], base, r->fd[i], EV_WRITE | EV_PERSIST, on_write, r);
	}
	n_active++;
	set_ev(&r->rd[0], &r->rd_on[0], 1);
	set_ev(&r->rd[1], &r->rd_on[1], 1);
	return r;
}
