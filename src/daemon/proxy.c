#include "daemon/chanpool.h"
#include "daemon/proxy.h"
#include "daemon/log.h"
#include "daemon/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#define ACCEPT_BATCH     64
#define ACCEPT_BACKOFF_MS 200
#define REFUSE_HEAD_MS   1000 /* wait this long for the request head */
#define REFUSE_WRITE_MS  1000
#define REFUSE_DRAIN_MS  1000 /* lingering close after the answer */
#define REFUSE_HEAD_MAX  4096
#define CONN_POOL_MAX    64
enum { C_OPENING, C_RELAY, C_REFUSE_READ, C_REFUSE_WRITE, C_REFUSE_DRAIN };

struct refuse {
	struct event ev;
	size_t hlen, rlen, roff;
	char head[REFUSE_HEAD_MAX];
	char resp[512];
};

struct pconn {
	struct dl_proxy *p;  /* NULL once the proxy is gone (open in flight) */
	int cfd, state;
	int tries;           /* channel opens attempted */
	const char *reason;  /* for the 503, instead of the proxy's why */
	struct dl_relay *relay;
	struct refuse *rf;
	struct pconn *prev, *next;
};

struct dl_proxy {
	struct event_base *base;
	struct dl_chanpool *pool; /* channels opened ahead */
	const struct dl_chan_cfg *cfg; /* the daemon's, by reference */
	int lfd;
	void (*stall_cb)(void *arg);
	void *stall_arg;
	struct event lev, backoff;
	int vm_up;
	char why[160];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct pconn *conns;
	struct dl_proxy_stats st;
	int emfile_logged;
};

static struct pconn *conn_pool;
static unsigned conn_npool;

static struct pconn *conn_alloc(void)
{
	struct pconn *c = conn_pool;
	if (c) {
		conn_pool = c->next;
		conn_npool--;
	} else if (!(c = malloc(sizeof(*c)))) {
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->cfd = -1;
	return c;
}

static void conn_free(struct pconn *c)
{
	struct dl_proxy *p = c->p;

	if (p) {
		if (c->prev)
			c->prev->next = c->next;
		else
			p->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		p->st.active--;
	}
	if (c->rf) {
		event_del(&c->rf->ev);
		free(c->rf);
	}
	if (c->cfd >= 0)
		close(c->cfd);
	if (conn_npool < CONN_POOL_MAX) {
		c->next = conn_pool;
		conn_pool = c;
		conn_npool++;
	} else {
		free(c);
	}
}

/* ---- the 503 answer ---- */

static void refuse_cb(evutil_socket_t fd, short what, void *arg);

static void refuse_arm(struct pconn *c, short what, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	event_del(&c->rf->ev);
	event_assign(&c->rf->ev, c->p ? c->p->base : event_get_base(&c->rf->ev), c->cfd,
		     what | EV_PERSIST, refuse_cb, c);
	event_add(&c->rf->ev, &tv);
}

static void refuse_build(struct pconn *c)
{
	struct refuse *rf = c->rf;
	const char *body = c->reason ? DL_PROXY_FROZEN_BODY "\n" : DL_PROXY_DOWN_BODY "\n";
	char reason[200] = "";
	int head_only = rf->hlen >= 5 && memcmp(rf->head, "HEAD ", 5) == 0;
	const char *why = c->reason ? c->reason : c->p ? c->p->why : "";

	if (*why) {
		size_t n = 0;
		n = (size_t)snprintf(reason, sizeof(reason), "X-Dlite-Reason: ");
		for (const char *s = why; *s && n < sizeof(reason) - 3; s++)
			reason[n++] = (*s == '\r' || *s == '\n') ? ' ' : *s;
		reason[n++] = '\r';
		reason[n++] = '\n';
		reason[n] = '\0';
	}
	int n = snprintf(rf->resp, sizeof(rf->resp),
			 "HTTP/1.1 503 Service Unavailable\r\n"
			 "Content-Type: application/json\r\n"
			 "Content-Length: %zu\r\n"
			 "%s"
			 "Connection: close\r\n"
			 "\r\n%s",
			 strlen(body), reason, head_only ? "" : body);
	rf->rlen = n > 0 && (size_t)n < sizeof(rf->resp) ? (size_t)n : 0;
	rf->roff = 0;
}

static void refuse_write(struct pconn *c)
{
	struct refuse *rf = c->rf;

	while (rf->roff < rf->rlen) {
		ssize_t n = send(c->cfd, rf->resp + rf->roff, rf->rlen - rf->roff, MSG_NOSIGNAL);
		if (n > 0) {
			rf->roff += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->state != C_REFUSE_WRITE) {
				c->state = C_REFUSE_WRITE;
				refuse_arm(c, EV_WRITE, REFUSE_WRITE_MS);
			}
			return;
		} else {
			conn_free(c);
			return;
		}
	}
	/* answered: half-close and read until the client closes, so unread
	 * bytes do not turn our close into a reset that eats the answer */
	shutdown(c->cfd, SHUT_WR);
	c->state = C_REFUSE_DRAIN;
	refuse_arm(c, EV_READ, REFUSE_DRAIN_MS);
}

static void refuse_read(struct pconn *c)
{
	struct refuse *rf = c->rf;

	for (int iter = 0; iter < 64; iter++) {
		char *dst = c->state == C_REFUSE_READ ? rf->head + rf->hlen : rf->head;
		size_t room = c->state == C_REFUSE_READ ? sizeof(rf->head) - 1 - rf->hlen
							 : sizeof(rf->head);
		ssize_t n = recv(c->cfd, dst, room, 0);
		if (n > 0) {
			if (c->state != C_REFUSE_READ)
				continue; /* draining */
			rf->hlen += (size_t)n;
			rf->head[rf->hlen] = '\0';
			if (strstr(rf->head, "\r\n\r\n") || strstr(rf->head, "\n\n") ||
			    rf->hlen >= sizeof(rf->head) - 1)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* wait for more (event stays armed) */
		if (c->state == C_REFUSE_DRAIN || n < 0) {
			conn_free(c); /* EOF after the answer, or an error */
			return;
		}
		break; /* EOF before a full head: answer anyway */
	}
	if (c->state != C_REFUSE_READ)
		return; /* draining a lot: come back on the next loop turn */
	refuse_build(c);
	refuse_write(c);
}

static void refuse_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pconn *c = arg;

	if (what & EV_TIMEOUT) {
		if (c->state == C_REFUSE_READ) {
			/* no (full) request head: answer with what we have */
			refuse_build(c);
			refuse_write(c);
		} else {
			conn_free(c);
		}
		return;
	}
	if (c->state == C_REFUSE_WRITE)
		refuse_write(c);
	else
		refuse_read(c);
}

static void refuse_start(struct pconn *c, const char *why_log)
{
	struct dl_proxy *p = c->p;

	if (!p || !(c->rf = malloc(sizeof(*c->rf)))) {
		conn_free(c);
		return;
	}
	c->rf->hlen = 0;
	c->rf->head[0] = '\0';
	c->state = C_REFUSE_READ;
	p->st.refused++;
	if (why_log)
		dl_log_rl(DL_LOG_WARN, "docker.sock 503", "docker.sock: %s: answering 503", why_log);
	/* the ev is assigned by refuse_arm; give it a base first */
	event_assign(&c->rf->ev, p->base, -1, 0, refuse_cb, c);
	refuse_arm(c, EV_READ, REFUSE_HEAD_MS);
	/* the head is usually there already */
	refuse_read(c);
}

/* ---- the channel pool ---- */

/* ---- relaying ---- */

static void relay_done(void *arg)
{
	struct pconn *c = arg;
	c->relay = NULL;
	c->cfd = -1; /* closed by the relay */
	conn_free(c);
}

static void on_open(int fd, int err, void *arg)
{
	struct pconn *c = arg;
	char why[200];

	if (!c->p) { /* the proxy went away meanwhile */
		if (fd >= 0)
			close(fd);
		conn_free(c);
		return;
	}
	if (fd < 0 && err == ETIMEDOUT) {
		/* connected (or not even that) but no reply: the VM is frozen or
		 * overloaded; say so rather than make the client wait */
		c->reason = "VM not responding";
		if (c->p->stall_cb)
			c->p->stall_cb(c->p->stall_arg);
		refuse_start(c, "the agent did not answer in time (VM not responding)");
		return;
	}
	if (fd >= 0)
		dl_chanpool_alive(c->p->pool);
	if (fd < 0) {
		/* the VM is up: a failed open is most likely transient (the agent
		 * shedding load, a connection reset in slirp); try once more before
		 * telling the client the engine is unavailable */
		if (c->p->vm_up && ++c->tries < 2) {
			dl_log_rl(DL_LOG_WARN, "docker.sock retry", "docker.sock: channel open failed (%s); retrying",
				  err == EPROTO ? "closed by the agent" : strerror(err));
			if (dl_chan_open(c->p->base, c->p->cfg, "docker", on_open, c) == 0)
				return;
		}
		snprintf(why, sizeof(why), "cannot open the channel to the agent: %s",
			 err == EPROTO ? "rejected (wrong token?)" : strerror(err));
		refuse_start(c, why);
		return;
	}
	c->relay = dl_relay_new(c->p->base, c->cfd, fd, relay_done, c);
	if (!c->relay) {
		close(fd);
		conn_free(c);
		return;
	}
	c->state = C_RELAY;
}

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dl_proxy *p = arg;
	event_add(&p->lev, NULL);
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct dl_proxy *p = arg;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = dl_accept_nb(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* out of fds: stop accepting for a moment instead of
				 * spinning on a listener that stays readable */
				if (!p->emfile_logged++)
					dl_log(DL_LOG_WARN, "docker.sock: accept: %s; backing off",
					       strerror(errno));
				struct timeval tv = { 0, ACCEPT_BACKOFF_MS * 1000 };
				event_del(&p->lev);
				evtimer_add(&p->backoff, &tv);
			}
			return;
		}
		p->emfile_logged = 0;
		struct pconn *c = conn_alloc();
		if (!c) {
			close(fd);
			continue;
		}
		c->p = p;
		c->cfd = fd;
		c->next = p->conns;
		if (p->conns)
			p->conns->prev = c;
		p->conns = c;
		p->st.active++;
		p->st.total++;
		if (!p->vm_up) {
			refuse_start(c, NULL);
			continue;
		}
		c->state = C_OPENING;
		/* a pooled channel only while the agent answered lately: one
		 * opened before the VM froze would take the request and hang; a
		 * fresh open with a short deadline tells a frozen VM (503) */
		int fresh = dl_chanpool_fresh(p->pool, DL_PROXY_ALIVE_MS);
		int cfd = fresh ? dl_chanpool_take(p->pool) : -1;
		if (cfd >= 0) {
			on_open(cfd, 0, c);
			continue;
		}
		if (dl_chan_open_ms(p->base, p->cfg, "docker",
				    fresh ? DL_CHAN_OPEN_TIMEOUT_MS : DL_PROXY_PROBE_MS, on_open, c) < 0)
			refuse_start(c, "cannot open the channel");
	}
}

/* ---- setup ---- */

/* 1: something answers on path, 0: nothing does, -1 error */
static int sock_alive(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = dl_socket_nb(AF_UNIX, SOCK_STREAM), r;

	if (fd < 0)
		return -1;
	memcpy(un.sun_path, path, strlen(path) + 1);
	r = connect(fd, (struct sockaddr *)&un, sizeof(un));
	if (r == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		/* EAGAIN: a full backlog is still a live server */
		close(fd);
		return 1;
	}
	r = errno;
	close(fd);
	errno = r;
	return r == ECONNREFUSED || r == ENOENT ? 0 : -1;
}

struct dl_proxy *dl_proxy_new(struct event_base *base, const char *sock_path,
			      const struct dl_chan_cfg *cfg, struct dl_err *e)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	size_t n = strlen(sock_path);
	struct dl_proxy *p;
	struct stat st;

	if (n == 0 || n >= sizeof(un.sun_path)) {
		dl_fail(e, 0, "docker socket path too long (%zu bytes, at most %zu): %s", n,
			sizeof(un.sun_path) - 1, sock_path);
		return NULL;
	}
	if (lstat(sock_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			dl_fail(e, 0, "%s exists and is not a socket; remove it or choose another --socket",
				sock_path);
			return NULL;
		}
		int alive = sock_alive(sock_path);
		if (alive == 1) {
			dl_fail(e, 0, "%s is served by another process (another dlite or docker?); stop it first",
				sock_path);
			return NULL;
		}
		if (alive < 0) {
			dl_fail(e, errno, "cannot check the existing socket %s", sock_path);
			return NULL;
		}
		if (unlink(sock_path) < 0 && errno != ENOENT) {
			dl_fail(e, errno, "cannot remove the stale socket %s", sock_path);
			return NULL;
		}
		dl_log(DL_LOG_INFO, "docker.sock: removed stale socket %s", sock_path);
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		dl_fail(e, ENOMEM, "docker.sock proxy");
		return NULL;
	}
	p->base = base;
	p->cfg = cfg;
	p->vm_up = 1;
	if (!(p->pool = dl_chanpool_new(base, cfg, "docker"))) {
		free(p);
		dl_fail(e, ENOMEM, "docker.sock proxy");
		return NULL;
	}
	memcpy(p->path, sock_path, n + 1);
	memcpy(un.sun_path, sock_path, n + 1);
	p->lfd = dl_socket_nb(AF_UNIX, SOCK_STREAM);
	if (p->lfd < 0) {
		dl_fail(e, errno, "socket for %s", sock_path);
		goto fail;
	}
	/* nobody can connect before listen(): fix mode and owner in between */
	if (bind(p->lfd, (struct sockaddr *)&un, sizeof(un)) < 0) {
		dl_fail(e, errno, "cannot bind the docker socket %s", sock_path);
		goto fail;
	}
	if (chmod(sock_path, 0660) < 0) {
		dl_fail(e, errno, "chmod 0660 %s", sock_path);
		goto fail_unlink;
	}
	struct group *gr = getgrnam("docker");
	if (gr && chown(sock_path, getuid(), gr->gr_gid) < 0) {
		if (errno == EPERM)
			dl_log(DL_LOG_INFO, "docker.sock: cannot give %s to group docker (not a member); "
			       "only you can use it", sock_path);
		else
			dl_log(DL_LOG_WARN, "docker.sock: chown %s: %s", sock_path, strerror(errno));
	}
	if (listen(p->lfd, 4096) < 0) {
		dl_fail(e, errno, "listen on %s", sock_path);
		goto fail_unlink;
	}
	if (stat(sock_path, &st) == 0) {
		p->dev = st.st_dev;
		p->ino = st.st_ino;
	}
	event_assign(&p->lev, base, p->lfd, EV_READ | EV_PERSIST, accept_cb, p);
	evtimer_assign(&p->backoff, base, backoff_cb, p);
	event_add(&p->lev, NULL);
	return p;
fail_unlink:
	unlink(sock_path);
fail:
	if (p->lfd >= 0)
		close(p->lfd);
	dl_chanpool_free(p->pool);
	free(p);
	return NULL;
}

void dl_proxy_set_state(struct dl_proxy *p, int vm_up, const char *why)
{
	vm_up = !!vm_up;
	if (vm_up != p->vm_up)
		dl_log(DL_LOG_INFO, "docker.sock: VM %s%s%s", vm_up ? "up" : "down",
		       why && *why ? ": " : "", why ? why : "");
	p->vm_up = vm_up;
	snprintf(p->why, sizeof(p->why), "%s", why && !vm_up ? why : "");
	dl_chanpool_set_up(p->pool, vm_up);
}

void dl_proxy_set_stall_cb(struct dl_proxy *p, void (*fn)(void *arg), void *arg)
{
	p->stall_cb = fn;
	p->stall_arg = arg;
}

void dl_proxy_chan_changed(struct dl_proxy *p)
{
	dl_chanpool_reset(p->pool); /* opened to the old address or with the old token */
}

void dl_proxy_stats(const struct dl_proxy *p, struct dl_proxy_stats *st)
{
	*st = p->st;
	st->pooled = dl_chanpool_count(p->pool);
}

void dl_proxy_free(struct dl_proxy *p)
{
	struct stat st;

	if (!p)
		return;
	event_del(&p->lev);
	event_del(&p->backoff);
	dl_chanpool_free(p->pool);
	close(p->lfd);
	if (stat(p->path, &st) == 0 && st.st_dev == p->dev && st.st_ino == p->ino)
		unlink(p->path);
	while (p->conns) {
		struct pconn *c = p->conns;
		p->conns = c->next;
		c->p = NULL;
		if (c->state == C_OPENING) {
			/* the open completes later; on_open frees c */
			continue;
		}
		if (c->relay) {
			dl_relay_free(c->relay); /* closes cfd */
			c->relay = NULL;
			c->cfd = -1;
		}
		conn_free(c);
	}
	free(p);
}
